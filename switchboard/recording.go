package switchboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Call recording. A queue that records (Recordings.Records) has every agent's conversation recorded
// by Asterisk on the call's mixing bridge, one recording per segment: from the moment the caller
// joins an agent's bridge until the bridge goes (hangup, transfer), or the call passes to a colleague
// (an attended transfer). The caller hears the notice once, before the hold music.
//
// Recordings hears of each one twice, when it starts and when it ends (the server writes both to
// the center's "recording" stream, which the records copy to PostgreSQL). The start entry makes
// the recording known the moment its file exists, whatever happens to this controller afterwards;
// the end entry adds how long it lasted. The recording's name is also kept on the caller's channel
// (variable HOTLINE_RECORDING): Asterisk holds it exactly as long as the call, so a controller that
// takes a talking call back after a restart stops the recording at the end and reports it, without
// anything new in the ACD's Redis state.
//
// A recording that fails to start, stop or be reported is logged and counted
// (hotline_recording_failures_total): the call goes on unrecorded, never dropped nor delayed beyond
// the ARI request's timeout.

// Recordings decides which calls are recorded and hears of every recording.
type Recordings interface {
	// Records says whether calls of queue are recorded.
	Records(queue string) bool
	// Recorded hears of a recording when it starts (Ended zero) and when it ends. It must not block
	// for long: the call waits for it. An error is logged and counted.
	Recorded(ctx context.Context, r Recording) error
}

// Recording is one segment of a call recorded on Asterisk.
type Recording struct {
	Name         string // Asterisk's stored recording name (hotline/YYYY/MM/DD/<call>-<n>)
	Format       string // "wav"
	Node         string // the controller instance whose Asterisk holds the file
	CallID       string
	Agent        string
	Queue        string
	CallerNumber string
	Started      time.Time
	Ended        time.Time // zero when the recording starts
}

// RecordingFormat is the format of every recording: what browsers play without a plugin.
const RecordingFormat = "wav"

// recordingVar is the caller's channel variable holding the name of the recording in progress.
const recordingVar = "HOTLINE_RECORDING"

// RecordingNotice is the prompt a caller hears, once, before waiting in a queue that records.
const RecordingNotice = "sound:hotline/recording_notice"

// recordingName names a call's recording: by its start date (so Asterisk's recording directory
// stays browsable), the call, and a per-segment suffix (the time in base 36: new for every
// segment, also across controllers).
func recordingName(callID string, at time.Time) string {
	return "hotline/" + at.UTC().Format("2006/01/02") + "/" + callID + "-" + strconv.FormatInt(at.UnixNano(), 36)
}

// records says whether this call's conversation is recorded.
func (c *call) records() bool {
	return c.sb.recordings != nil && c.queued.Queue != "" && c.sb.recordings.Records(c.queued.Queue)
}

// startRecording records the call's bridge from now on, if its queue records. Failures are logged
// and counted; the call goes on.
func (c *call) startRecording(ctx context.Context) {
	if c.rec != nil || c.bridge == "" || !c.records() {
		return
	}
	now := time.Now()
	rec := &Recording{
		Name: recordingName(c.id, now), Format: RecordingFormat, Node: c.sb.cfg.Instance, CallID: c.id,
		Agent: c.agent, Queue: c.queued.Queue, CallerNumber: c.caller.Number, Started: now,
	}
	if err := c.sb.ari.recordBridge(ctx, c.bridge, rec.Name, rec.Format); err != nil {
		c.sb.metrics.Load().recordingFailed("start")
		c.log.Warn("recording did not start; the call goes on unrecorded", "bridge", c.bridge, "name", rec.Name, "err", err)
		return
	}
	c.rec = rec
	if err := c.sb.ari.setVar(ctx, c.channel, recordingVar, rec.Name); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("keep the recording's name on the caller's channel", "name", rec.Name, "err", err)
	}
	c.report(ctx, *rec)
	c.log.Info("recording", "name", rec.Name, "agent", rec.Agent)
}

// stopRecording ends the segment being recorded (before its bridge goes, or when the call passes
// to a colleague) and reports it.
func (c *call) stopRecording(ctx context.Context) {
	rec := c.rec
	if rec == nil {
		return
	}
	c.rec = nil
	ctx = context.WithoutCancel(ctx)
	if err := c.sb.ari.stopRecording(ctx, rec.Name); err != nil && !errors.Is(err, ErrGone) {
		// Destroying the bridge ends it all the same.
		c.sb.metrics.Load().recordingFailed("stop")
		c.log.Warn("stop the recording", "name", rec.Name, "err", err)
	}
	if err := c.sb.ari.setVar(ctx, c.channel, recordingVar, ""); err != nil && !errors.Is(err, ErrGone) {
		c.log.Debug("clear the recording's name on the caller's channel", "err", err)
	}
	rec.Ended = time.Now()
	c.report(ctx, *rec)
	c.log.Info("recording ended", "name", rec.Name, "seconds", rec.Ended.Sub(rec.Started).Seconds())
}

// report tells Recordings of a recording's start or end.
func (c *call) report(ctx context.Context, rec Recording) {
	if err := c.sb.recordings.Recorded(ctx, rec); err != nil {
		c.sb.metrics.Load().recordingFailed("report")
		c.log.Warn("report the recording", "name", rec.Name, "ended", !rec.Ended.IsZero(), "err", err)
	}
}

// resumeRecording finds, after a restart, the recording the previous controller started on the
// talking call, so that it is stopped and reported at the end. The start was reported then.
func (c *call) resumeRecording(ctx context.Context) {
	if c.sb.recordings == nil {
		return
	}
	name, err := c.sb.ari.getVar(ctx, c.channel, recordingVar)
	if err != nil || name == "" {
		return
	}
	if err := c.sb.ari.liveRecording(ctx, name); err != nil {
		return // it ended with its bridge, or never started
	}
	c.rec = &Recording{
		Name: name, Format: RecordingFormat, Node: c.sb.cfg.Instance, CallID: c.id, Agent: c.agent,
		Queue: c.queued.Queue, CallerNumber: c.caller.Number, Started: recordingStart(name),
	}
	c.log.Info("the recording goes on after a restart", "name", name)
}

// recordingStart reads a recording's start back from its name's suffix (zero if it is not one).
func recordingStart(name string) time.Time {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '-' {
			if n, err := strconv.ParseInt(name[i+1:], 36, 64); err == nil {
				return time.Unix(0, n)
			}
			break
		}
	}
	return time.Time{}
}

// recordBridge starts recording a bridge's mix to a new stored recording; a name in use fails
// (409 while it records, 422 once stored) instead of overwriting anything.
func (r *rest) recordBridge(ctx context.Context, bridge, name, format string) error {
	q := url.Values{"name": {name}, "format": {format}, "ifExists": {"fail"}, "beep": {"false"}, "terminateOn": {"none"}}
	return r.call(ctx, "record bridge "+bridge, name, http.MethodPost, bridgePath(bridge)+"/record", q, nil, nil)
}

func (r *rest) stopRecording(ctx context.Context, name string) error {
	return r.call(ctx, "stop recording", name, http.MethodPost, "/recordings/live/"+url.PathEscape(name)+"/stop", nil, nil, nil)
}

func (r *rest) liveRecording(ctx context.Context, name string) error {
	return r.call(ctx, "live recording", name, http.MethodGet, "/recordings/live/"+url.PathEscape(name), nil, nil, nil)
}

func (r *rest) setVar(ctx context.Context, ch, name, value string) error {
	q := url.Values{"variable": {name}, "value": {value}}
	return r.call(ctx, "set variable "+name, ch, http.MethodPost, chanPath(ch)+"/variable", q, nil, nil)
}

// setVarWait is setVar bound by ctx alone: Asterisk answers it only once the channel has done the
// commands before it, a playback among them (see settle).
func (r *rest) setVarWait(ctx context.Context, ch, name, value string) error {
	q := url.Values{"variable": {name}, "value": {value}}
	return r.callWithin(ctx, settleTimeout, "set variable "+name, ch, http.MethodPost, chanPath(ch)+"/variable", q, nil, nil)
}

// ErrNoRecording means Asterisk has no stored recording of that name.
var ErrNoRecording = errors.New("no such recording")

// RecordingAudio is a stored recording's file as Asterisk serves it.
type RecordingAudio struct {
	Body          io.ReadCloser
	ContentType   string
	ContentLength int64 // -1 when Asterisk did not say
}

// StoredRecording opens a stored recording's file on this controller's Asterisk (GET
// /recordings/stored/{name}/file); the caller closes Body. ctx bounds the whole transfer.
func (sb *Switchboard) StoredRecording(ctx context.Context, name string) (*RecordingAudio, error) {
	r := sb.ari
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/recordings/stored/"+url.PathEscape(name)+"/file", nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(r.user, r.password)
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", name, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("recording %s: %w", name, ErrNoRecording)
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, fmt.Errorf("recording %s: %w", name, &ariError{status: resp.StatusCode})
	}
	return &RecordingAudio{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), ContentLength: resp.ContentLength}, nil
}

// DeleteRecording deletes a stored recording from this controller's Asterisk; one already gone is
// ErrNoRecording.
func (sb *Switchboard) DeleteRecording(ctx context.Context, name string) error {
	err := sb.ari.call(ctx, "delete recording", name, http.MethodDelete, "/recordings/stored/"+url.PathEscape(name), nil, nil, nil)
	if errors.Is(err, ErrGone) {
		return fmt.Errorf("recording %s: %w", name, ErrNoRecording)
	}
	return err
}

// Instance is the name of this controller among those sharing the center: the node of its
// recordings.
func (sb *Switchboard) Instance() string { return sb.cfg.Instance }
