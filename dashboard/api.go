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
	"strconv"
	"time"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/audit"
)

// maxBody bounds an action's JSON body; the largest real one is a pause reason.
const maxBody = 16 << 10

// actionFunc runs one supervisor action as the authenticated account who (the session's: never an
// id from the body); decode reads the JSON body. It returns what the action was about (the audit's
// target and detail) and the Actions error.
type actionFunc func(ctx context.Context, who account.Account, decode func(v any) error) (target string, detail map[string]string, err error)

// callRequest names the call to step into. There is no "supervisor" field: the session says who
// listens, and a body that names one is refused as an unknown field (400).
type callRequest struct {
	Call string `json:"call"`
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
		return func(ctx context.Context, who account.Account, decode func(any) error) (string, map[string]string, error) {
			var req callRequest
			if err := decode(&req); err != nil {
				return "", nil, err
			}
			if req.Call == "" {
				return "", nil, badRequest("call: required")
			}
			// The call's audio goes to who's own softphone, by construction.
			return req.Call, nil, do(ctx, who.ID, req.Call)
		}
	}
	return map[string]actionFunc{
		"listen":  snoop(s.act.Listen),
		"whisper": snoop(s.act.Whisper),
		"barge":   snoop(s.act.Barge),
		"leave":   snoop(s.act.Leave),
		"move": func(ctx context.Context, _ account.Account, decode func(any) error) (string, map[string]string, error) {
			var req moveRequest
			if err := decode(&req); err != nil {
				return "", nil, err
			}
			detail := map[string]string{"queue": req.Queue}
			switch {
			case req.Call == "":
				return "", detail, badRequest("call: required")
			case req.Queue == "":
				return req.Call, detail, badRequest("queue: required")
			}
			return req.Call, detail, s.act.MoveCall(ctx, req.Call, req.Queue)
		},
		"agent-state": func(ctx context.Context, _ account.Account, decode func(any) error) (string, map[string]string, error) {
			var req agentStateRequest
			if err := decode(&req); err != nil {
				return "", nil, err
			}
			detail := map[string]string{"state": string(req.State), "reason": req.Reason}
			switch {
			case req.Agent == "":
				return "", detail, badRequest("agent: required")
			case req.State != StatePaused && req.State != StateOffline && req.State != StateAvailable:
				return req.Agent, detail, badRequest(fmt.Sprintf("state: %q: want paused, offline or available", req.State))
			case len(req.Reason) > 200:
				detail["reason"] = req.Reason[:200]
				return req.Agent, detail, badRequest("reason: longer than 200 bytes")
			}
			return req.Agent, detail, s.act.SetAgentState(ctx, req.Agent, req.State, req.Reason)
		},
		"announcement": func(ctx context.Context, _ account.Account, decode func(any) error) (string, map[string]string, error) {
			var req announcementRequest
			if err := decode(&req); err != nil {
				return "", nil, err
			}
			if !req.Kind.valid() {
				return string(req.Kind), nil, badRequest(fmt.Sprintf("kind: %q: want holiday, outage or none", req.Kind))
			}
			return string(req.Kind), nil, s.act.SetAnnouncement(ctx, req.Kind)
		},
	}
}

// handleAction runs POST /supervisor/api/{action} as the session's account, checks the account's
// role for it, and audits it whatever the outcome: who listened to or moved what, from where.
func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("action")
	do, ok := s.actions[name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown action %q", name))
		return
	}
	who := actor(r)
	entry := audit.Entry{Action: name}
	var err error
	if !allowed(name, who.Role) {
		err = &httpError{http.StatusForbidden, name + ": administrators only"}
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
		entry.Target, entry.Detail, err = do(ctx, who, func(v any) error { return decodeJSON(w, r, v) })
		cancel()
	}
	if err != nil {
		status, reason := s.statusOf(err)
		entry.Outcome = "refused"
		if status >= 500 {
			entry.Outcome = "failed"
		}
		if entry.Detail == nil {
			entry.Detail = map[string]string{}
		}
		entry.Detail["status"], entry.Detail["error"] = strconv.Itoa(status), reason
		s.audit(r, who, entry)
		level := slog.LevelWarn
		switch {
		case status >= 500:
			level = slog.LevelError
		case status != http.StatusNotFound && status != http.StatusConflict && status != http.StatusForbidden:
			level = slog.LevelDebug // a malformed request is the client's bug, not an event
		}
		s.log.Log(r.Context(), level, "dashboard: action failed", "action", name, "actor", who.ID, "target", entry.Target, "status", status, "err", err)
		writeError(w, status, reason)
		return
	}
	s.audit(r, who, entry)
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
	}{true})
}

// audit records an action with the authenticated actor and the client's address, through the
// account service's recorder (the same stream as the logins).
func (s *Server) audit(r *http.Request, who account.Account, e audit.Entry) {
	if s.cfg.Accounts != nil {
		s.cfg.Accounts.Record(r.Context(), r, who, e)
	}
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
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, err.Error()
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
