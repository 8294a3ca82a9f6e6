package dashboard

import (
	"slices"
	"time"
)

// View is the center as a supervisor sees it at one moment. The Source fills Queues, Agents,
// Announcement and Totals.Refused; the Server computes the rest of Totals and each queue's
// ServiceLevel from the counts, so every page shows the same arithmetic.
//
// A View holds moments (Since), not durations, so that it changes only when the center does.
type View struct {
	Queues       []Queue      `json:"queues"`
	Groups       []Group      `json:"groups,omitempty"` // in the center's order
	Agents       []Agent      `json:"agents"`
	Announcement Announcement `json:"announcement"`
	Totals       Totals       `json:"totals"`
}

// Queue is one queue: who waits in it and how it did today.
type Queue struct {
	Name   string            `json:"name"`
	Titles map[string]string `json:"titles,omitempty"` // display name by language ("ru", "en"); Name when missing

	// Calls waiting, in the order they will be offered (head first).
	Calls []WaitingCall `json:"calls"`

	// Today's counts, since the center's midnight.
	Offered  int `json:"offered"`
	Answered int `json:"answered"`
	// AnsweredInTarget counts the answered calls that waited at most TargetSeconds.
	AnsweredInTarget int `json:"answeredInTarget"`
	Abandoned        int `json:"abandoned"`

	// The queue's service-level target: TargetPercent % answered within TargetSeconds.
	TargetPercent float64 `json:"targetPercent"`
	TargetSeconds int     `json:"targetSeconds"`

	// Retries are callbacks whose number did not answer, waiting out of the queue to be dialled
	// again; they come back at its head.
	Retries int `json:"retries"`
	// Stranded are calls whose controller stopped and nobody has taken over: out of the queue
	// until it comes back or another controller claims them.
	Stranded int `json:"stranded"`

	// Staffing is the Erlang C advice for the queue's target; nil when the Source gives none.
	Staffing *Staffing `json:"staffing,omitempty"`

	// Computed by the Server; the Source may leave them zero.
	Waiting      int       `json:"waiting"`
	OldestSince  time.Time `json:"oldestSince,omitzero"` // the longest waiting call's start
	ServiceLevel *float64  `json:"serviceLevel"`         // percent; nil before any call ended
}

// Staffing is how many agents a queue's service-level target needs now, by Erlang C, beside those it
// has: the rates are the queue's arrivals of the last 15 and 30 minutes.
type Staffing struct {
	CallsPerHour15 float64 `json:"callsPerHour15"`
	CallsPerHour30 float64 `json:"callsPerHour30"`
	HandleSeconds  int     `json:"handleSeconds"` // talk as measured, plus the queue's wrap-up
	Needed15       int     `json:"needed15"`
	Needed30       int     `json:"needed30"`
	LoggedIn       int     `json:"loggedIn"`  // agents who serve the queue and are not offline
	Available      int     `json:"available"` // of those, free for a call now
}

// WaitingCall is a call waiting in a queue.
type WaitingCall struct {
	ID       string    `json:"id"`
	Caller   string    `json:"caller"` // the caller's number as presented
	Since    time.Time `json:"since"`  // when it entered the queue (its place, kept across a callback)
	Priority int       `json:"priority"`
	Lang     string    `json:"lang,omitempty"`
	// What the caller gave in the IVR, for the page to word in its language: the kind of caller
	// ("private", "business") and the numbers entered by field ("tracking", "claim", "contract").
	CallerType string            `json:"callerType,omitempty"`
	Entered    map[string]string `json:"entered,omitempty"`
}

// Agent is one agent and what they are doing.
type Agent struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Group  string     `json:"group"`
	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"` // why paused ("break", "no answer", "forced by sup1")
	Since  time.Time  `json:"since"`            // when State began
	CallID string     `json:"callId,omitempty"` // ringing, on call or in wrap-up for this call
	Queue  string     `json:"queue,omitempty"`  // the queue CallID came from
	Caller string     `json:"caller,omitempty"` // the caller's number on CallID, while it lasts
}

// Group is a team of agents and what the pages call it.
type Group struct {
	Name   string            `json:"name"`
	Titles map[string]string `json:"titles,omitempty"` // by language ("ru", "en"); Name when missing
}

// AgentState is what an agent is doing.
type AgentState string

const (
	StateOffline   AgentState = "offline"
	StateAvailable AgentState = "available"
	StateRinging   AgentState = "ringing"
	StateOnCall    AgentState = "on_call"
	StateConsult   AgentState = "consult" // reserved for a colleague's consultation (attended transfer)
	StateWrapUp    AgentState = "wrap_up"
	StatePaused    AgentState = "paused"
)

// agentStates lists the states in the order the page counts them.
var agentStates = []AgentState{StateAvailable, StateRinging, StateOnCall, StateConsult, StateWrapUp, StatePaused, StateOffline}

// Announcement is the center's calendar message that callers hear before the menu.
type Announcement string

const (
	AnnouncementNone    Announcement = "none"
	AnnouncementHoliday Announcement = "holiday"
	AnnouncementOutage  Announcement = "outage"
)

func (a Announcement) valid() bool {
	return a == AnnouncementNone || a == AnnouncementHoliday || a == AnnouncementOutage
}

// Totals sum the center.
type Totals struct {
	Waiting          int       `json:"waiting"`
	OldestSince      time.Time `json:"oldestSince,omitzero"`
	Offered          int       `json:"offered"`
	Answered         int       `json:"answered"`
	AnsweredInTarget int       `json:"answeredInTarget"`
	Abandoned        int       `json:"abandoned"`
	// Refused counts today's carrier calls that a node turned away, full at its HOTLINE_MAX_CALLS,
	// before any queue: callers who heard busy. The Source gives it; it is in no queue's counts.
	Refused      int                `json:"refused"`
	ServiceLevel *float64           `json:"serviceLevel"`
	Agents       map[AgentState]int `json:"agents"` // how many agents are in each state
}

// ServiceLevel is the share of ended calls answered within the target, in percent:
// answeredInTarget / (answered + abandoned). Calls still waiting do not count yet. It is nil when
// no call has ended, so a quiet morning does not show 0 %.
func ServiceLevel(answeredInTarget, answered, abandoned int) *float64 {
	ended := answered + abandoned
	if ended <= 0 {
		return nil
	}
	sl := 100 * float64(answeredInTarget) / float64(ended)
	return &sl
}

// complete fills what the Server computes: per-queue waiting counts, oldest waits and service
// levels, and the center's totals. It writes to a copy of the queues, so a Source may hand out
// slices it keeps.
func (v *View) complete() {
	v.Queues = slices.Clone(v.Queues)
	t := Totals{Refused: v.Totals.Refused, Agents: make(map[AgentState]int, len(agentStates))}
	for _, s := range agentStates {
		t.Agents[s] = 0
	}
	for i := range v.Queues {
		q := &v.Queues[i]
		if q.Calls == nil {
			q.Calls = []WaitingCall{}
		}
		q.Waiting = len(q.Calls)
		q.OldestSince = time.Time{}
		for _, c := range q.Calls {
			if q.OldestSince.IsZero() || c.Since.Before(q.OldestSince) {
				q.OldestSince = c.Since
			}
		}
		q.ServiceLevel = ServiceLevel(q.AnsweredInTarget, q.Answered, q.Abandoned)

		t.Waiting += q.Waiting
		if !q.OldestSince.IsZero() && (t.OldestSince.IsZero() || q.OldestSince.Before(t.OldestSince)) {
			t.OldestSince = q.OldestSince
		}
		t.Offered += q.Offered
		t.Answered += q.Answered
		t.AnsweredInTarget += q.AnsweredInTarget
		t.Abandoned += q.Abandoned
	}
	t.ServiceLevel = ServiceLevel(t.AnsweredInTarget, t.Answered, t.Abandoned)
	for _, a := range v.Agents {
		t.Agents[a.State]++
	}
	if v.Queues == nil {
		v.Queues = []Queue{}
	}
	if v.Agents == nil {
		v.Agents = []Agent{}
	}
	if v.Announcement == "" {
		v.Announcement = AnnouncementNone
	}
	v.Totals = t
}
