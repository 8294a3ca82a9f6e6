package acd

import (
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Strategy is how a queue picks among the agents free to take its next caller.
type Strategy string

const (
	LongestIdle Strategy = "longest-idle" // the agent free for the longest time (default)
	LeastCalls  Strategy = "least-calls"  // the agent who answered the fewest calls since the center started
	BestSkill   Strategy = "best-skill"   // the highest level in the queue's skill, then longest idle
	RingAll     Strategy = "ring-all"     // every free eligible agent rings; the first to accept takes it
	Linear      Strategy = "linear"       // always in the order agents are listed in the center file
)

var strategies = []Strategy{LongestIdle, LeastCalls, BestSkill, RingAll, Linear}

// AgentState is where an agent stands. Redis holds it; Go only reads it.
type AgentState string

const (
	Offline   AgentState = "offline"
	Available AgentState = "available"
	Ringing   AgentState = "ringing"
	OnCall    AgentState = "oncall"
	WrapUp    AgentState = "wrapup"
	Paused    AgentState = "paused"
	// Consulting: reserved for a colleague's consultation (an attended transfer), ringing or talking
	// with them while their caller holds; no call is routed to the agent meanwhile.
	Consulting AgentState = "consult"
)

// AgentStates lists every state, in the order dashboards show them.
var AgentStates = []AgentState{Offline, Available, Ringing, OnCall, Consulting, WrapUp, Paused}

// Stage is where a call stands inside the ACD.
type Stage string

const (
	StageWaiting Stage = "waiting"
	StageRinging Stage = "ringing"
	StageOnCall  Stage = "oncall"
	// StageDeferred: a callback nobody answered, waiting to be tried again (Callbacks.RetryAfter).
	StageDeferred Stage = "deferred"
	// StageParked: a call whose owner's heartbeat stopped (Center.Alive), out of its queue until
	// the owner comes back or another instance claims it.
	StageParked Stage = "parked"
)

// ReasonNoAnswer is the pause reason given to an agent who let an offered call ring out.
const ReasonNoAnswer = "no answer"

// Model is the static shape of a center: its skills, queues and agents. Load builds it from YAML;
// New writes it to Redis so the Lua scripts can route without Go.
type Model struct {
	Name      string
	Skills    []string
	Weights   Weights
	Callbacks Callbacks
	Queues    []Queue
	Groups    []string
	// GroupTitles are what the pages call each group, by language ("ru", "en"); the name when missing.
	GroupTitles map[string]map[string]string
	Agents      []Agent
	// Supervisors are the accounts that watch the center and step into calls; the ACD never routes
	// a call to them.
	Supervisors []Supervisor
	queueIdx    map[string]int
	agentIdx    map[string]int
}

// Supervisor roles.
const (
	RoleSupervisor    = "supervisor"
	RoleAdministrator = "administrator" // also switches what every caller hears
)

// Supervisor is a supervisor's or an administrator's account.
type Supervisor struct {
	ID           string
	Name         string
	Role         string // RoleSupervisor or RoleAdministrator
	PasswordHash string // bcrypt
	Disabled     bool
}

// Callbacks say how often the center tries to call back a caller who asked for it and does not
// answer: Attempts dials in all, RetryAfter apart. Between tries the call waits outside its queue
// (StageDeferred), then comes back at its head.
type Callbacks struct {
	Attempts   int
	RetryAfter time.Duration
}

const (
	defaultCallbackAttempts   = 3
	defaultCallbackRetryAfter = 10 * time.Minute
	maxCallbackAttempts       = 10
)

// Weights turn priorities into seconds of waiting for cross-queue fairness (see ROUTING.md).
type Weights struct {
	QueuePriority  time.Duration // added to a caller's wait per point of their queue's priority
	CallerPriority time.Duration // added per point of the caller's own priority
}

// Queue is one queue's configuration.
type Queue struct {
	Name          string
	Title         map[string]string // what the pages call the queue, by language ("ru", "en"); Name when missing
	Priority      int
	Strategy      Strategy
	ServiceLevel  ServiceLevel
	WrapUp        time.Duration
	MaxWait       time.Duration // 0: callers wait forever
	Overflow      Overflow      // where a caller goes after MaxWait
	AnnounceEvery time.Duration // how often the controller tells a caller their position and wait
	Skill         string
	MinLevel      int
	HandleTime    time.Duration // initial guess of the average handle time, before calls teach the estimator
	RingTimeout   time.Duration // how long the controller lets an offer ring before RingNoAnswer
	// SurveyShare is the share of the queue's callers (0..1) offered the post-call survey: they
	// press a key while waiting to agree, and rate the call 0–10 after the agent hangs up.
	SurveyShare float64
	Record      bool // agents' calls are recorded (the caller hears a notice first)
}

// ServiceLevel is a target such as 80% of calls answered within 20 s.
type ServiceLevel struct {
	Percent int
	Within  time.Duration
}

// OverflowKind says what happens to a caller who waited MaxWait.
type OverflowKind string

const (
	OverflowQueue    OverflowKind = "queue"    // move to Overflow.Queue, keeping the place in time
	OverflowCallback OverflowKind = "callback" // offer a callback that keeps the place
	OverflowMessage  OverflowKind = "message"  // play Overflow.Message and hang up
)

// Overflow is a queue's after-max-wait destination.
type Overflow struct {
	Kind    OverflowKind
	Queue   string
	Message string // a media URI such as "sound:hotline/busy"
}

// Agent is one agent's configuration.
type Agent struct {
	ID           string
	Name         string
	Group        string
	Skills       map[string]int // skill → level 1..10
	PasswordHash string         // bcrypt
	Disabled     bool           // cannot log in
	queues       []string       // queues this agent may serve, in model order
}

// ErrBadPassword is returned by CheckPassword when the password does not match.
var ErrBadPassword = errors.New("acd: wrong password")

// CheckPassword compares a softphone login password with the agent's bcrypt hash.
func (a Agent) CheckPassword(password string) error {
	if a.PasswordHash == "" {
		return ErrBadPassword
	}
	if err := bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)); err != nil {
		return ErrBadPassword
	}
	return nil
}

// Queues returns the queues the agent may serve: those whose skill the agent has at or above the
// queue's minimum level.
func (a Agent) Queues() []string { return append([]string(nil), a.queues...) }

// Queue returns the named queue.
func (m *Model) Queue(name string) (Queue, bool) {
	i, ok := m.queueIdx[name]
	if !ok {
		return Queue{}, false
	}
	return m.Queues[i], true
}

// Agent returns the agent with that id.
func (m *Model) Agent(id string) (Agent, bool) {
	i, ok := m.agentIdx[id]
	if !ok {
		return Agent{}, false
	}
	return m.Agents[i], true
}

// index builds lookups and each agent's eligible queues. Load calls it after validation.
func (m *Model) index() {
	m.queueIdx = make(map[string]int, len(m.Queues))
	for i, q := range m.Queues {
		m.queueIdx[q.Name] = i
	}
	m.agentIdx = make(map[string]int, len(m.Agents))
	for i := range m.Agents {
		a := &m.Agents[i]
		m.agentIdx[a.ID] = i
		a.queues = a.queues[:0]
		for _, q := range m.Queues {
			if lvl, ok := a.Skills[q.Skill]; ok && lvl >= q.MinLevel {
				a.queues = append(a.queues, q.Name)
			}
		}
	}
}
