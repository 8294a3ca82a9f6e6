package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/dashboard"
	"github.com/hotline-cc/hotline/records"
	"github.com/hotline-cc/hotline/switchboard"
)

// recordingStream is the center's "recording" stream, under the center's prefix: the switchboard
// reports each recording's start and end to it, and the records copy it to PostgreSQL.
const recordingStream = "recording"

// recordingsOf decides from the center file which queues record, and writes each recording's
// start and end to the recording stream (switchboard.Recordings).
type recordingsOf struct {
	model  *acd.Model
	rdb    redis.UniversalClient
	key    string
	maxLen int64
}

var _ switchboard.Recordings = recordingsOf{}

func (r recordingsOf) Records(queue string) bool {
	q, ok := r.model.Queue(queue)
	return ok && q.Record
}

// Recorded writes one entry, with all the metadata, so either entry alone makes the recording's
// row. Bounded in time: the call waits for it.
func (r recordingsOf) Recorded(ctx context.Context, rec switchboard.Recording) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	event := "started"
	values := []any{
		records.RecName, rec.Name, records.RecNode, rec.Node, records.RecCall, rec.CallID, records.RecAgent, rec.Agent,
		records.RecQueue, rec.Queue, records.RecCaller, rec.CallerNumber, records.RecFormat, rec.Format,
		records.RecStarted, strconv.FormatInt(rec.Started.UnixMilli(), 10),
	}
	if !rec.Ended.IsZero() {
		event = "finished"
		values = append(values, records.RecEnded, strconv.FormatInt(rec.Ended.UnixMilli(), 10))
	}
	return r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.key, MaxLen: r.maxLen, Approx: true,
		Values: append([]any{records.RecEvent, event}, values...)}).Err()
}

// recordingFiles answers the supervisors' page: the search from the records, the audio from this
// controller's Asterisk, or through the controller of the node that recorded it (recordingRelay).
type recordingFiles struct {
	store *records.Store
	sb    *switchboard.Switchboard
	relay *recordingRelay
}

func (f recordingFiles) Search(ctx context.Context, q records.RecordingQuery) ([]records.Recording, error) {
	return f.store.Recordings(ctx, q)
}

func (f recordingFiles) Audio(ctx context.Context, id int64) (records.Recording, *dashboard.Audio, error) {
	rec, err := f.store.Recording(ctx, id)
	switch {
	case errors.Is(err, records.ErrNoRecording):
		return rec, nil, dashboard.ErrNoRecording
	case err != nil:
		return rec, nil, err
	case rec.Node != f.sb.Instance():
		a, err := f.relay.open(ctx, rec.Node, rec.Name)
		switch {
		case errors.Is(err, switchboard.ErrNoRecording):
			return rec, nil, fmt.Errorf("%w: %w", dashboard.ErrNoRecording, err)
		case errors.Is(err, cluster.ErrNoAnswer):
			return rec, nil, fmt.Errorf("%w: %w", dashboard.ErrRecordingElsewhere, err)
		}
		return rec, a, err
	}
	a, err := f.sb.StoredRecording(ctx, rec.Name)
	if errors.Is(err, switchboard.ErrNoRecording) {
		return rec, nil, fmt.Errorf("%w: %w", dashboard.ErrNoRecording, err)
	}
	if err != nil {
		return rec, nil, err
	}
	return rec, &dashboard.Audio{Body: a.Body, ContentType: a.ContentType, Length: a.ContentLength}, nil
}

// pruneRecordings deletes, once an hour, this node's recordings older than
// records.recording_retention_days from its Asterisk, and marks their rows.
func (s *Server) pruneRecordings(ctx context.Context) error {
	keep := time.Duration(s.cfg.Records.RecordingRetentionDays) * 24 * time.Hour
	del := func(ctx context.Context, name string) error {
		if err := s.sb.DeleteRecording(ctx, name); err != nil && !errors.Is(err, switchboard.ErrNoRecording) {
			return err
		}
		return nil
	}
	for {
		next := time.Hour
		// At a first start the tables may not be there yet: the recorder makes them beside this.
		// Migrate takes turns with it and does nothing once they are.
		n, err := 0, s.records.Migrate(ctx)
		if err == nil {
			n, err = s.records.PruneRecordings(ctx, s.cfg.Instance, keep, time.Now(), del)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			next = time.Minute // PostgreSQL away
			s.log.Warn("records: recording retention; retrying in a minute", "deleted", n, "err", err)
		case n > 0:
			s.log.Info("records: recordings past retention deleted", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next):
		}
	}
}
