package switchboard

import (
	"context"
	"net/netip"

	"github.com/hotline-cc/hotline/ivr"
)

// The switchboard drives the other packages through these small interfaces, so each can be replaced
// by a fake in a test and none of them needs to know ARI.

// Flows runs an IVR session on a call (ivr.Flows, or ivr.Reloader for hot reload).
type Flows interface {
	Run(ctx context.Context, call ivr.Call, in ivr.Inbound) (ivr.Result, error)
}

// Phones is the agents' side: the softphone gateway's media legs and the pushes to agents' pages.
type Phones interface {
	OpenLeg(agentID, callID string) (Leg, error)
	Notify(agentID string, msg AgentEvent)
}

// Leg is one call's RTP path between Asterisk's externalMedia channel and an agent's browser.
type Leg interface {
	LocalAddr() netip.AddrPort
	SetRemote(netip.AddrPort)
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
	// Dispatch pairs waiting calls with free agents; offers reach their owners through Offers.
	Dispatch(ctx context.Context) error
	// Offers delivers the offers for calls that owner holds, until ctx ends.
	Offers(ctx context.Context, owner string) <-chan Offer
	// Waiting lists the calls owner holds that wait in a queue or ring an agent, to take them back
	// after a restart.
	Waiting(ctx context.Context, owner string) ([]QueuedCall, error)
}

// QueuedCall is a caller handed to the ACD.
type QueuedCall struct {
	CallID   string
	Queue    string
	Priority int
	Data     map[string]string
	// Agent is set when the call is on its way to or talking with an agent (after a restart).
	Agent string
	// Talking is true once an agent answered.
	Talking bool
}

// Offer says an agent was reserved for a call.
type Offer struct {
	CallID  string
	AgentID string
	Queue   string
}

// Agents is the agents' side of the ACD: who may log in, and their state.
type Agents interface {
	// Authenticate checks an agent's password and returns their profile.
	Authenticate(ctx context.Context, agentID, password string) (AgentProfile, error)
	SetState(ctx context.Context, agentID, state, reason string) error
}

// AgentProfile is what the agent's page shows of the agent.
type AgentProfile struct {
	ID, Name, Group string
}

// AgentEvent is pushed to an agent's page.
type AgentEvent struct {
	Type AgentEventType
	Call CallCard
}

// AgentEventType names what happened to the agent's call.
type AgentEventType string

const (
	EventRing          AgentEventType = "ring"           // a call offered: the page rings with the screen pop
	EventRingCancelled AgentEventType = "ring_cancelled" // the caller left or the ring timed out
	EventConnected     AgentEventType = "connected"      // two-way audio
	EventHeld          AgentEventType = "held"
	EventResumed       AgentEventType = "resumed"
	EventEnded         AgentEventType = "ended" // the call is over: wrap-up begins
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
	Path         []string          `json:"path"`
}
