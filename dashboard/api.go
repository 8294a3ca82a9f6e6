package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// maxBody bounds an action's JSON body; the largest real one is a pause reason.
const maxBody = 16 << 10

// actionFunc runs one supervisor action. supervisor is the session's id ("" with open access
// and no session); decode reads the JSON body. It returns what to log about the action (the audit
// trail) and the Actions error.
type actionFunc func(ctx context.Context, supervisor string, decode func(v any) error) (attrs []any, err error)

type callRequest struct {
	Supervisor string `json:"supervisor"` // only read with open access and no session
	Call       string `json:"call"`
}

type moveRequest struct {
	Call  string `json:"call"`
	Queue string `json:"queue"`
}

type agentStateRequest struct {
	Agent  string     `json:"agent"`
	State  AgentState `json:"state"`
	Reason string     `json:"reason"`
}

type announcementRequest struct {
	Kind Announcement `json:"kind"`
}

// httpError is a request the client got wrong; reason is shown to it.
type httpError struct {
	status int
	reason string
}

func (e *httpError) Error() string { return e.reason }

func badRequest(reason string) error { return &httpError{http.StatusBadRequest, reason} }

func (s *Server) actionTable() map[string]actionFunc {
	snoop := func(do func(ctx context.Context, supervisorID, callID string) error) actionFunc {
		return func(ctx context.Context, supervisor string, decode func(any) error) ([]any, error) {
			var req callRequest
			if err := decode(&req); err != nil {
				return nil, err
			}
			if supervisor == "" {
				supervisor = req.Supervisor
			}
			attrs := []any{"supervisor", supervisor, "call", req.Call}
			switch {
			case supervisor == "":
				return attrs, badRequest("supervisor: required (log in or send it)")
			case req.Call == "":
				return attrs, badRequest("call: required")
			}
			return attrs, do(ctx, supervisor, req.Call)
		}
	}
	return map[string]actionFunc{
		"listen":  snoop(s.act.Listen),
		"whisper": snoop(s.act.Whisper),
		"barge":   snoop(s.act.Barge),
		"leave":   snoop(s.act.Leave),
		"move": func(ctx context.Context, supervisor string, decode func(any) error) ([]any, error) {
			var req moveRequest
			if err := decode(&req); err != nil {
				return nil, err
			}
			attrs := []any{"supervisor", supervisor, "call", req.Call, "queue", req.Queue}
			switch {
			case req.Call == "":
				return attrs, badRequest("call: required")
			case req.Queue == "":
				return attrs, badRequest("queue: required")
			}
			return attrs, s.act.MoveCall(ctx, req.Call, req.Queue)
		},
		"agent-state": func(ctx context.Context, supervisor string, decode func(any) error) ([]any, error) {
			var req agentStateRequest
			if err := decode(&req); err != nil {
				return nil, err
			}
			attrs := []any{"supervisor", supervisor, "agent", req.Agent, "state", req.State, "reason", req.Reason}
			switch {
			case req.Agent == "":
				return attrs, badRequest("agent: required")
			case req.State != StatePaused && req.State != StateOffline && req.State != StateAvailable:
				return attrs, badRequest(fmt.Sprintf("state: %q: want paused, offline or available", req.State))
			case len(req.Reason) > 200:
				return attrs, badRequest("reason: longer than 200 bytes")
			}
			return attrs, s.act.SetAgentState(ctx, req.Agent, req.State, req.Reason)
		},
		"announcement": func(ctx context.Context, supervisor string, decode func(any) error) ([]any, error) {
			var req announcementRequest
			if err := decode(&req); err != nil {
				return nil, err
			}
			attrs := []any{"supervisor", supervisor, "announcement", req.Kind}
			if !req.Kind.valid() {
				return attrs, badRequest(fmt.Sprintf("kind: %q: want holiday, outage or none", req.Kind))
			}
			return attrs, s.act.SetAnnouncement(ctx, req.Kind)
		},
	}
}

// handleAction runs POST /supervisor/api/{action} and logs it: the log is the audit trail of who
// listened to or moved what.
func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("action")
	do, ok := s.actions[name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown action %q", name))
		return
	}
	supervisor := ""
	if ss, ok := s.currentSession(r); ok {
		supervisor = ss.supervisor
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	attrs, err := do(ctx, supervisor, func(v any) error { return decodeJSON(w, r, v) })
	attrs = append([]any{"action", name}, attrs...)
	if err != nil {
		status, reason := s.statusOf(err)
		level := slog.LevelWarn
		switch {
		case status >= 500:
			level = slog.LevelError
		case status != http.StatusNotFound && status != http.StatusConflict:
			level = slog.LevelDebug // a malformed request is the client's bug, not an event
		}
		s.log.Log(r.Context(), level, "dashboard: action failed", append(attrs, "status", status, "err", err)...)
		writeError(w, status, reason)
		return
	}
	s.log.Info("dashboard: action", attrs...)
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
}

// statusOf maps an action's error to a status and the reason shown to the supervisor. Internal
// errors are not shown: they may name hosts and channels; the log has them.
func (s *Server) statusOf(err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.reason
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, ErrNotAllowed):
		return http.StatusConflict, err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "the controller did not answer in time"
	default:
		return http.StatusInternalServerError, "internal error"
	}
}

// viewResponse is the body of GET /api/view and of each feed message. Now is the server's clock,
// so the page can count waits without trusting the browser's.
type viewResponse struct {
	Type string    `json:"type,omitempty"`
	Now  time.Time `json:"now"`
	View *View     `json:"view"`
}

func (s *Server) handleView(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	v, err := s.hub.view(ctx)
	if err != nil {
		s.log.Error("dashboard: snapshot", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the center's state is unavailable")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Now  time.Time       `json:"now"`
		View json.RawMessage `json:"view"`
	}{time.Now().UTC(), v})
}

// decodeJSON reads one strict JSON object into v; a mistake is an *httpError.
// Requiring application/json also keeps cross-site HTML forms out: they cannot send it.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &httpError{http.StatusUnsupportedMediaType, "Content-Type: want application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &httpError{http.StatusRequestEntityTooLarge, "body too large"}
		}
		return badRequest("bad JSON: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("bad JSON: data after the object")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, reason string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{reason})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "no such endpoint")
}
