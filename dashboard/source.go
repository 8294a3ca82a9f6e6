package dashboard

import (
	"context"
	"errors"
)

// Source gives the dashboard the center's live state. The controller implements it over the ACD
// state in Redis. Snapshot is called by one poller per Server (once per Config.Interval while a
// supervisor is connected) and by GET /supervisor/api/view only when the hub's latest view is
// older than Config.Interval; it must be safe for concurrent use and should answer well within
// Config.Timeout.
type Source interface {
	Snapshot(ctx context.Context) (View, error)
}

// Actions is what a supervisor may do. The controller implements it over ARI (snoop channels for
// listen, whisper and barge) and the ACD. Each method returns when the action has been accepted;
// an error wrapping ErrNotFound (no such call, agent or queue) becomes 404, one wrapping
// ErrNotAllowed (the call is no longer in a queue, the agent is on a call that cannot be
// interrupted, the supervisor is already listening) becomes 409, and the error's text is shown
// to the supervisor.
type Actions interface {
	// Listen connects the supervisor's WebRTC session to the call, hearing both sides, unheard.
	Listen(ctx context.Context, supervisorID, callID string) error
	// Whisper lets the supervisor speak to the agent only; the caller does not hear.
	Whisper(ctx context.Context, supervisorID, callID string) error
	// Barge joins the supervisor to the call: all three hear each other.
	Barge(ctx context.Context, supervisorID, callID string) error
	// Leave takes the supervisor out of a call they listen to, whisper into or barged into.
	Leave(ctx context.Context, supervisorID, callID string) error
	// MoveCall moves a waiting call to another queue, keeping its original wait time.
	MoveCall(ctx context.Context, callID, toQueue string) error
	// SetAgentState forces an agent's state: StatePaused (with a reason), StateOffline (log out)
	// or StateAvailable (end a pause). The dashboard rejects other states before calling.
	SetAgentState(ctx context.Context, agentID string, state AgentState, reason string) error
	// SetAnnouncement switches the message callers hear before the menu.
	SetAnnouncement(ctx context.Context, kind Announcement) error
}

// Sentinel errors that Actions wrap so that the dashboard can answer with the right status.
var (
	ErrNotFound   = errors.New("not found")
	ErrNotAllowed = errors.New("not allowed")
	// ErrUnavailable: what the action needs does not answer now (another controller); try again.
	ErrUnavailable = errors.New("unavailable")
)
