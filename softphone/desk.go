package softphone

import (
	"context"
	"time"

	"github.com/hotline-cc/hotline/account"
)

// Desk is what the agent page's buttons do. The controller (switchboard) implements it; every
// method gets the authenticated agent's id from the session, never from the page's message, and
// must refuse (ErrNotYourCall) to act on another agent's call.
//
// Passwords are not the Desk's business: the account service checks them (throttled, one cost for
// every id) and the Desk is told who logged in.
//
// Methods return the sentinels ErrNotYourCall, ErrNoSuchCall and ErrInvalidState
// (wrapped is fine) for what the page should explain; any other error shows as a generic failure.
// Results the page sees later (connected, held, ended) come through Server.Notify.
type Desk interface {
	// Profile is what the page shows of an authenticated account: an agent's pause reasons and
	// dispositions, or a supervisor's monitoring softphone. It does not make an agent available:
	// SetState does.
	Profile(ctx context.Context, acct account.Account) (Agent, error)
	// SetState makes the agent available, paused (with a reason) or logged out.
	SetState(ctx context.Context, agentID string, state AgentState, reason string) error

	// Answer takes a ringing call. The controller opens a leg with Gateway.OpenLeg, bridges the
	// caller with an externalMedia channel pointed at it, and notifies Connected.
	Answer(ctx context.Context, agentID, callID string) error
	// Reject declines a ringing call: it goes back to its queue.
	Reject(ctx context.Context, agentID, callID string) error
	// Hangup ends a call; the agent goes to wrap-up.
	Hangup(ctx context.Context, agentID, callID string) error
	// Hold puts the caller on hold music; Resume brings them back.
	Hold(ctx context.Context, agentID, callID string) error
	Resume(ctx context.Context, agentID, callID string) error
	// Mute stops the agent's audio reaching the caller; Unmute restores it.
	Mute(ctx context.Context, agentID, callID string) error
	Unmute(ctx context.Context, agentID, callID string) error
	// SendDTMF sends digits (0-9, *, #, A-D) to the far end (an IVR the agent called, for instance).
	SendDTMF(ctx context.Context, agentID, callID, digits string) error
	// BlindTransfer hands the caller to target and ends the agent's part.
	BlindTransfer(ctx context.Context, agentID, callID string, target Target) error
	// Consult holds the caller and calls target; CompleteTransfer joins the caller with target and
	// drops the agent; CancelConsult hangs up on target and resumes the caller.
	Consult(ctx context.Context, agentID, callID string, target Target) error
	CompleteTransfer(ctx context.Context, agentID, callID string) error
	CancelConsult(ctx context.Context, agentID, callID string) error
	// WrapUp closes after-call work with a disposition code and a free note.
	WrapUp(ctx context.Context, agentID, callID, disposition, note string) error
	// ExtendWrapUp gives the call's wrap-up by more time and returns how long it now lasts from now.
	ExtendWrapUp(ctx context.Context, agentID, callID string, by time.Duration) (time.Duration, error)
	// CallsToday lists the agent's calls since midnight, newest first.
	CallsToday(ctx context.Context, agentID string) ([]CallSummary, error)
}

// Agent is who logged in, and what the page needs to know of them.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Role is the account's: "agent" has the desk; "supervisor" and "administrator" have a
	// softphone for monitoring only.
	Role         string        `json:"role"`
	Lang         string        `json:"lang,omitempty"` // "ru" or "en": the page's first language
	AutoAnswer   bool          `json:"auto_answer,omitempty"`
	PauseReasons []string      `json:"pause_reasons,omitempty"`
	Dispositions []Disposition `json:"dispositions,omitempty"`
}

// Disposition is a wrap-up code the agent picks, and what the page calls it in each language.
type Disposition struct {
	Code   string            `json:"code"`
	Labels map[string]string `json:"labels"` // "ru", "en"; Code when missing
}

// AgentState is what the agent asks to be.
type AgentState string

// Agent states the page can ask for. The controller pushes the others (ringing, on_call, wrapup)
// in StateChanged.
const (
	StateAvailable AgentState = "available"
	StatePaused    AgentState = "paused"
	StateLoggedOut AgentState = "logged_out"
)

// TargetKind is where a transfer goes.
type TargetKind string

// Transfer target kinds.
const (
	TargetQueue  TargetKind = "queue"
	TargetAgent  TargetKind = "agent"
	TargetNumber TargetKind = "number"
)

// Target is a transfer's destination.
type Target struct {
	Kind  TargetKind `json:"kind"`
	Value string     `json:"value"`
}

// CallSummary is one line of the agent's calls today.
type CallSummary struct {
	CallID       string `json:"call"`
	CallerNumber string `json:"caller_number"`
	Queue        string `json:"queue"`
	// QueueTitle is what people call Queue, by language; the page shows Queue without it.
	QueueTitle  map[string]string `json:"queue_title,omitempty"`
	StartedAt   string            `json:"started_at"` // RFC 3339
	TalkSeconds int               `json:"talk_seconds"`
	Disposition string            `json:"disposition,omitempty"`
	Note        string            `json:"note,omitempty"` // the agent's wrap-up note
}
