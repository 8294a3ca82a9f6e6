package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/records"
)

// Recordings finds call recordings (package records' Store) and opens a recording's audio on the
// Asterisk that holds it.
type Recordings interface {
	Search(ctx context.Context, q records.RecordingQuery) ([]records.Recording, error)
	// Audio opens recording id's file: ErrNoRecording when there is none (or no longer a file).
	Audio(ctx context.Context, id int64) (records.Recording, *Audio, error)
}

// Audio is a recording's file on its way from Asterisk.
type Audio struct {
	Body        io.ReadCloser
	ContentType string
	Length      int64 // -1 unknown
}

// ErrNoRecording: no recording, or its file is gone (retention).
var ErrNoRecording = errors.New("no such recording")

// ErrRecordingElsewhere: the recording is on another node's Asterisk, and that node's controller,
// through which this one reads it, does not answer.
var ErrRecordingElsewhere = errors.New("the recording is on another node")

// ActionListenRecording is the audit action of playing a recording.
const ActionListenRecording = "recording.listen"

// recordingNameRE is what an agent id or a queue name may be in a search (acd's names).
var recordingNameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// numberRE is a part of a caller's number: digits, with a + in front.
var numberRE = regexp.MustCompile(`^\+?[0-9]{3,20}$`)

// recordingResult is one search result as the page gets it.
type recordingResult struct {
	records.Recording
	Audio string `json:"audio"` // the URL of its audio, relative to the page
}

// handleRecordings answers GET api/recordings?number=&agent=&queue=&from=&to= with the recordings
// that match, newest first (at most 200). from and to are dates (to inclusive) or RFC 3339 instants.
func (s *Server) handleRecordings(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Recordings == nil {
		writeError(w, http.StatusNotFound, "recordings need the records database (records.postgres)")
		return
	}
	q, err := s.recordingQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	found, err := s.cfg.Recordings.Search(ctx, q)
	if err != nil {
		s.log.Error("dashboard: recordings", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the records database is unavailable")
		return
	}
	out := make([]recordingResult, 0, len(found))
	for _, rec := range found {
		out = append(out, recordingResult{rec, "api/recordings/" + strconv.FormatInt(rec.ID, 10) + "/audio"})
	}
	writeJSON(w, http.StatusOK, struct {
		Recordings []recordingResult `json:"recordings"`
	}{out})
}

func (s *Server) recordingQuery(r *http.Request) (records.RecordingQuery, error) {
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "number", "agent", "queue", "from", "to":
		default:
			return records.RecordingQuery{}, fmt.Errorf("%s: unknown parameter (want number, agent, queue, from, to)", k)
		}
	}
	q := records.RecordingQuery{Agent: v.Get("agent"), Queue: v.Get("queue")}
	if n := strings.ReplaceAll(v.Get("number"), " ", ""); n != "" {
		if !numberRE.MatchString(n) {
			return q, fmt.Errorf("number: %q is not 3 to 20 digits of a phone number", v.Get("number"))
		}
		q.Number = strings.TrimPrefix(n, "+")
	}
	for name, val := range map[string]string{"agent": q.Agent, "queue": q.Queue} {
		if val != "" && !recordingNameRE.MatchString(val) {
			return q, fmt.Errorf("%s: %q is not an id (letters, digits, '_', '.', '@', '-')", name, val)
		}
	}
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	var err error
	if raw := v.Get("from"); raw != "" {
		if q.From, err = reportTime(raw, loc, false); err != nil {
			return q, fmt.Errorf("from: %w", err)
		}
	}
	if raw := v.Get("to"); raw != "" {
		if q.To, err = reportTime(raw, loc, true); err != nil {
			return q, fmt.Errorf("to: %w", err)
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, errors.New("from: must be before to")
	}
	return q, nil
}

// handleRecordingAudio streams GET api/recordings/{id}/audio from the Asterisk that holds it. The
// id is the row's number, never a name or a path; every listen is audited, refused or not.
func (s *Server) handleRecordingAudio(w http.ResponseWriter, r *http.Request) {
	who := actor(r)
	raw := r.PathValue("id")
	entry := audit.Entry{Action: ActionListenRecording, Target: raw}
	fail := func(status int, reason string, err error) {
		entry.Outcome = "refused"
		if status >= 500 {
			entry.Outcome = "failed"
		}
		entry.Detail = map[string]string{"status": strconv.Itoa(status), "error": reason}
		s.audit(r, who, entry)
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "dashboard: recording refused", "actor", who.ID, "recording", raw, "status", status, "err", err)
		writeError(w, status, reason)
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		fail(http.StatusBadRequest, "id: not a recording's number", err)
		return
	}
	if s.cfg.Recordings == nil {
		fail(http.StatusNotFound, "recordings need the records database (records.postgres)", nil)
		return
	}
	// The audio may take a while to send; its opening may not.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	openCtx, stopOpen := context.WithTimeout(ctx, s.cfg.Timeout)
	defer stopOpen()
	rec, audio, err := s.cfg.Recordings.Audio(openCtx, id)
	switch {
	case errors.Is(err, ErrNoRecording):
		fail(http.StatusNotFound, "no such recording", err)
		return
	case errors.Is(err, ErrRecordingElsewhere):
		fail(http.StatusBadGateway, fmt.Sprintf("the recording is on node %s, whose controller does not answer", rec.Node), err)
		return
	case err != nil:
		fail(http.StatusBadGateway, "the recording could not be fetched from Asterisk", err)
		return
	}
	defer audio.Body.Close()
	entry.Outcome = "ok"
	entry.Detail = map[string]string{"call": rec.CallID, "agent": rec.Agent, "queue": rec.Queue, "node": rec.Node}
	s.audit(r, who, entry)
	ct := audio.ContentType
	if !strings.HasPrefix(ct, "audio/") {
		ct = "audio/wav"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="recording-%d.%s"`, rec.ID, rec.Format))
	if audio.Length >= 0 {
		h.Set("Content-Length", strconv.FormatInt(audio.Length, 10))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, audio.Body); err != nil && ctx.Err() == nil {
		s.log.Warn("dashboard: recording cut short", "recording", id, "err", err)
	}
}
