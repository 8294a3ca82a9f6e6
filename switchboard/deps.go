package switchboard

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/hotline-cc/hotline/ivr"
)

// The switchboard drives the other packages through these small interfaces, so each can be replaced
// by a fake in a test and none of them needs to know ARI.

// Flows runs an IVR session on a call (ivr.Flows, or ivr.Reloader for hot reload).
type Flows interface {
	Run(ctx context.Context, call ivr.Call, in ivr.Inbound) (ivr.Result, error)
}

// Phones is the agents' side: the softphone gateway's media legs and the pushes to agents' pages.
// The agent's page and gateway may be on another controller than the call: then OpenLeg and the
// leg's SetRemote and Close are requests to it, bounded by ctx (Close by its own timeout).
type Phones interface {
	OpenLeg(ctx context.Context, agentID, callID string) (Leg, error)
	Notify(agentID string, msg AgentEvent)
}

// Leg is one call's RTP path between Asterisk's externalMedia channel and an agent's browser.
// LocalAddr is where Asterisk sends the agent's audio (the gateway's, on whichever controller).
type Leg interface {
	LocalAddr() netip.AddrPort
	SetRemote(ctx context.Context, addr netip.AddrPort) error
	Close() error
}

// Distributor is the ACD: who waits, which agent takes whom. Its state lives in Redis, shared by every
// controller instance; the switchboard owns only the calls whose channels are on its Asterisk.
type Distributor interface {
	Enqueue(ctx context.Context, call QueuedCall) error
	Abandon(ctx context.Context, callID string) error
	Accept(ctx context.Context, callID, agentID string) error
	RingNoAnswer(ctx context.Context, callID, agentID string) error
	Finish(ctx context.Context, callID, agentID string) error
	// CallbackNoAnswer records that the number dialled back for a callback did not answer: the agent
	// is free at once; the call is tried again at retryAt, or (zero) no more.
	CallbackNoAnswer(ctx context.Context, callID, agentID string) (retryAt time.Time, err error)
	// Dispatch pairs waiting calls with free agents and says how many; offers reach their owners
	// through Offers.
	Dispatch(ctx context.Context) (int, error)
	// Offers delivers the offers for calls that owner holds, until ctx ends.
	Offers(ctx context.Context, owner string) <-chan Offer
	// Waiting lists the calls owner holds (every owner's when owner is "") that wait in a queue,
	// ring an agent or talk, to take them back after a restart.
	Waiting(ctx context.Context, owner string) ([]QueuedCall, error)
	// Alive is this controller's heartbeat, sent every third of ttl: a controller silent for longer
	// has its waiting calls taken out of their queues (nobody would connect them) until it beats
	// again or another controller claims them.
	Alive(ctx context.Context, ttl time.Duration) error
	// Claim makes owner the owner of a call: the controller that now holds its channel takes it
	// over from one that stopped for good under another instance name.
	Claim(ctx context.Context, callID, owner string) error
	// Position says where a waiting call stands, for the caller's periodic announcement.
	Position(ctx context.Context, callID string) (Position, error)
	// RequestCallback keeps a waiting call's place: its offer comes back with Callback set.
	RequestCallback(ctx context.Context, callID, number string) error
	// Overdue lists owner's calls that waited their queue's maximum, with where each goes now.
	Overdue(ctx context.Context, owner string) ([]Overflow, error)
	// Move sends a waiting call to another queue, keeping its place in time.
	Move(ctx context.Context, callID, queue string) error
	// Exit takes a waiting call out of the ACD for a reason other than a hangup.
	Exit(ctx context.Context, callID, reason string) error
	// Unpause makes an agent available again (after a ring lost to a controller restart).
	Unpause(ctx context.Context, agentID string) error
	// Direct offers a waiting call to one named agent if they are available (a transfer to them).
	Direct(ctx context.Context, callID, agentID string) error
	// Consult reserves a colleague for a consultation on a talking call (an attended transfer to
	// an agent or a queue): the named agent, or the one the queue would offer its next call to. It
	// returns who, or ErrTargetBusy at once when nobody is available: a consultation never waits.
	// Nothing else is routed to them until EndConsult or HandOver.
	Consult(ctx context.Context, callID, fromAgent string, to Target) (string, error)
	// EndConsult frees the colleague when the consultation ends without a transfer: available
	// again, not in wrap-up. talked says whether they answered.
	EndConsult(ctx context.Context, callID, agentID string, talked bool) error
	// HandOver completes the transfer: the call is toAgent's now, fromAgent goes to wrap-up.
	HandOver(ctx context.Context, callID, fromAgent, toAgent string) error
	// Hold records that the agent put the caller on hold (on) or took them back, for the reports'
	// hold time; Finish ends a hold the call ended in.
	Hold(ctx context.Context, callID, agentID string, on bool) error
}

// Surveys is the post-call survey: which callers are offered it, and where their answers go.
type Surveys interface {
	// Offer says whether a caller entering queue is offered the survey: the queue's share of its
	// callers, drawn at random.
	Offer(queue string) bool
	// Record keeps a surveyed caller's answer, or that they gave none.
	Record(ctx context.Context, r SurveyResult) error
}

// Refusals keeps the center's count of carrier calls its nodes refused at HOTLINE_MAX_CALLS.
// Those calls never reach a controller; each node counts them in its dialplan, and the switchboard
// reports that count as it reads it.
type Refusals interface {
	// Seen reports the count that the node run named node (Asterisk's entity id and start time:
	// a restarted Asterisk is a new run, counting from 0) holds now. The implementation adds what is
	// new since the last report of that run, by whichever controller, to the center's totals.
	Seen(ctx context.Context, node string, count int64) error
}

// SurveyResult is one caller's answer to the post-call survey.
type SurveyResult struct {
	CallID, Agent, Queue, Lang string
	// Score is 0..10 when Answered; a caller who agreed and then hung up or pressed nothing gave
	// none.
	Score    int
	Answered bool
	Time     time.Time
}

// Position is a waiting caller's place, the estimated wait, and how often the queue announces them.
type Position struct {
	Place     int // 1 = next
	Wait      time.Duration
	WaitKnown bool
	Every     time.Duration // 0: the queue makes no announcements
}

// OverflowAction is what happens to a caller who waited their queue's maximum.
type OverflowAction string

const (
	OverflowQueue    OverflowAction = "queue"    // move to Queue
	OverflowCallback OverflowAction = "callback" // offer to call back, keeping the place
	OverflowMessage  OverflowAction = "message"  // play Message and say goodbye
)

// Overflow is a call past its queue's maximum wait.
type Overflow struct {
	CallID  string
	Action  OverflowAction
	Queue   string
	Message string
}

// ErrStale is what a Distributor returns when the call or agent is no longer in the state the
// request assumes (already finished, abandoned elsewhere): retrying cannot help.
var ErrStale = errors.New("acd state moved on")

// QueuedCall is a caller handed to the ACD.
type QueuedCall struct {
	CallID   string
	Queue    string
	Priority int
	Data     map[string]string
	// Agent is set when the call is on its way to or talking with an agent (after a restart).
	Agent string
	// Ringing are the agents ringing (after a restart): Agent alone, or a ring-all queue's agents.
	Ringing []string
	// Talking is true once an agent answered.
	Talking bool
	// Since is when the caller joined the queue (for the screen pop's wait after a restart).
	Since time.Time
	// Consult is the colleague reserved for a consultation on the talking call (after a restart).
	Consult string
	// Owner is the instance that holds the call's channel (Waiting's answer).
	Owner string
}

// Offer says agents were reserved for a call: one, or every free agent of a ring-all queue, where
// the first to answer takes it.
type Offer struct {
	CallID string
	Agents []string
	Queue  string
	// Callback is the number to call: the caller hung up after asking to be called back.
	Callback string
	Data     map[string]string
}

// AgentEvent is pushed to an agent's page.
type AgentEvent struct {
	Type   AgentEventType
	Call   CallCard
	Target Target // for EventConsulting: whom the agent is consulting
	// Agent is, for EventConsulting, the colleague reserved (a consultation with an agent or a
	// queue); for EventConsultRing, EventConsultConnected and EventConsultReleased, the agent who
	// consults.
	Agent string
	// Answered is, for EventConsulting, whether the colleague has answered.
	Answered bool
	// Reason says, for EventEnded, who ended the call: EndAgent, EndCaller or EndTransferred; why
	// a consultation ended (EventConsultEnded, EventConsultReleased): cancelled,
	// rejected, no_answer, hung_up, caller_hung_up; or why ringing stopped (EventRingCancelled):
	// the RingEnd* reasons.
	Reason string
}

// AgentEventType names what happened to the agent's call.
type AgentEventType string

const (
	EventRing          AgentEventType = "ring"           // a call offered: the page rings with the screen pop
	EventRingCancelled AgentEventType = "ring_cancelled" // the caller left or the ring timed out
	EventConnected     AgentEventType = "connected"      // two-way audio
	EventHeld          AgentEventType = "held"
	EventResumed       AgentEventType = "resumed"
	EventConsulting    AgentEventType = "consulting" // the caller holds while the agent talks to a transfer target
	EventEnded         AgentEventType = "ended"      // the call is over: wrap-up begins
	// EventCallbackUnanswered: the number dialled back did not answer; the agent is available again
	// (nothing to wrap up) and the ACD tries again later, or gives up after its last attempt.
	EventCallbackUnanswered AgentEventType = "callback_unanswered"

	// A consultation seen from the colleague consulted (an attended transfer to an agent or a
	// queue). After a completed transfer the colleague gets EventConnected: the call is theirs.
	EventConsultRing      AgentEventType = "consult_ring"      // a colleague consults: the page rings with the screen pop
	EventConsultConnected AgentEventType = "consult_connected" // talking with the colleague; the caller holds
	EventConsultReleased  AgentEventType = "consult_released"  // the consultation is over without a transfer: available again
	// EventConsultEnded tells the consulting agent the colleague rejected, did not answer or hung
	// up: they are back with the caller.
	EventConsultEnded AgentEventType = "consult_ended"
)

// Who ended a call the agent talked on (AgentEvent.Reason of EventEnded).
const (
	EndAgent       = "agent"       // the agent hung up (the caller may stay for the survey)
	EndCaller      = "caller"      // the caller hung up, or their line was lost
	EndTransferred = "transferred" // the agent handed the caller on
	EndRefused     = "refused"     // a callback's number may not be dialled: the call ends unplaced
)

// Reasons an agent's ringing stops without their answer (AgentEvent.Reason of EventRingCancelled).
const (
	RingEndTimeout           = "timeout"            // nobody answered in time
	RingEndRejected          = "rejected"           // the agent declined
	RingEndCallerLeft        = "caller"             // the caller hung up or left the queue
	RingEndAnsweredElsewhere = "answered_elsewhere" // a colleague rung with them (ring-all) answered first
)

// Reasons a consultation ends without a transfer (AgentEvent.Reason).
const (
	ConsultCancelled    = "cancelled"      // the consulting agent went back to the caller
	ConsultRejected     = "rejected"       // the colleague declined
	ConsultNoAnswer     = "no_answer"      // the colleague let it ring out
	ConsultHungUp       = "hung_up"        // the colleague hung up while talking
	ConsultCallerHungUp = "caller_hung_up" // the caller hung up during the consultation
)

// CallCard is the screen pop: who calls and what they told the IVR.
type CallCard struct {
	ID           string            `json:"id"`
	CallerNumber string            `json:"caller_number"`
	CallerName   string            `json:"caller_name"`
	Queue        string            `json:"queue"`
	Lang         string            `json:"lang"`
	WaitedSec    int               `json:"waited_sec"`
	Data         map[string]string `json:"data"`
	Path         []ivr.Text        `json:"path"` // the caller's way through the IVR, told in ru and en
	// Survey: the caller agreed to rate the call once the agent hangs up.
	Survey bool `json:"survey,omitempty"`
}
