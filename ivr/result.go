package ivr

// Outcome is how an IVR session ended. Values are bounded and used as a metric label.
type Outcome string

const (
	// OutcomeQueue: the caller waits for an agent in Result.Queue with Result.Priority.
	OutcomeQueue Outcome = "queue"
	// OutcomeHangup: the menu ended the call (a hangup node) without self-service.
	OutcomeHangup Outcome = "hangup"
	// OutcomeResolved: a self-service lookup answered the caller and the call then ended (by the
	// caller hanging up or a hangup node) without asking for an agent.
	OutcomeResolved Outcome = "resolved"
	// OutcomeTransfer: the call goes to Result.Number outside the center.
	OutcomeTransfer Outcome = "transfer"
	// OutcomeCallback: the center calls Result.Number back from Result.Queue; this call may end.
	OutcomeCallback Outcome = "callback"
	// OutcomeAbandoned: the caller hung up in the IVR before reaching any outcome.
	OutcomeAbandoned Outcome = "abandoned"
)

// Result is how an IVR session ended.
type Result struct {
	Outcome  Outcome
	Queue    string // for OutcomeQueue / OutcomeCallback; for OutcomeTransfer, where to wait if it fails
	Priority int
	Number   string            // for OutcomeTransfer (where to) / OutcomeCallback (whom)
	Lang     string            // "ru" or "en"
	Menu     string            // the menu that ran (its id in the file)
	Node     string            // the node where the session ended
	Data     map[string]string // what the caller gave: caller_type, tracking, claim, contract, ...
	Path     []Step            // nodes visited, keys pressed, lookups and their answers
	Story    []Text            // Path told for the agent's screen, in the nodes' labels
}

// Event names a kind of Step. The set is closed so an event stream and a screen pop can switch on it.
type Event string

const (
	EventNode       Event = "node"        // entered Node
	EventKey        Event = "key"         // a menu key (Value) was pressed
	EventTimeout    Event = "timeout"     // no key came in time
	EventInvalid    Event = "invalid"     // a key (Value) that the menu does not offer, or a number that failed its check
	EventInput      Event = "input"       // a number (Value) was entered and accepted into Data[Field]
	EventAgentKey   Event = "agent_key"   // the global agent key was pressed
	EventLastResort Event = "last_resort" // retries exhausted
	EventLookup     Event = "lookup"      // a lookup answered: Value is its status, "not_found" or "error"
	EventLang       Event = "lang"        // the language changed to Value
	EventHangup     Event = "hangup"      // the caller hung up here
	EventEnd        Event = "end"         // the session ended with outcome Value
)

// Step is one thing that happened in a session, in order. Values come from the caller (keys, numbers)
// and are meant for the agent's screen, not for metric labels.
type Step struct {
	Node  string `json:"node"`
	Event Event  `json:"event"`
	Field string `json:"field,omitempty"` // the Data key for input and lookups
	Value string `json:"value,omitempty"`
}
