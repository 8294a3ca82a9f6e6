package ivr

import "time"

// File is a menu file as written: global settings, the DID map and the menus. Field names are the YAML
// keys; see default-center.yaml for a worked example and README.md for the format.
type File struct {
	// DefaultLang is the language a call starts in ("ru"); Langs every language prompts must exist in.
	DefaultLang string   `yaml:"default_lang"`
	Langs       []string `yaml:"langs"`
	// AgentKey sends the caller to an agent from any menu or play node ("0"; "" turns it off). It is
	// not honoured while collecting digits, where it is a digit.
	AgentKey *string `yaml:"agent_key"`
	// LastResortQueue is where a caller goes when a node names no last_resort or agent ("general").
	LastResortQueue string `yaml:"last_resort_queue"`
	// LookupTimeout bounds every self-service lookup (2s).
	LookupTimeout time.Duration `yaml:"lookup_timeout"`
	// Queues the menus may name; the loader's Queues option, when given, takes precedence.
	Queues []string `yaml:"queues"`
	// Defaults for every menu and collect node.
	Defaults Defaults `yaml:"defaults"`
	// DIDs maps a dialled number to the menu that answers it; DefaultMenu answers any other.
	DIDs        map[string]string `yaml:"dids"`
	DefaultMenu string            `yaml:"default_menu"`
	Menus       map[string]*Menu  `yaml:"menus"`
}

// Defaults are retry and prompt settings inherited file → menu → node.
type Defaults struct {
	Retries       int           `yaml:"retries"`        // attempts at a menu or collect node (3)
	Timeout       time.Duration `yaml:"timeout"`        // wait for a menu key after its prompt (5s)
	TimeoutPrompt string        `yaml:"timeout_prompt"` // played when no key came, before asking again
	InvalidPrompt string        `yaml:"invalid_prompt"` // played for a key the menu does not offer
	LastResort    string        `yaml:"last_resort"`    // node after the last retry (menu or node level only)
	Agent         string        `yaml:"agent"`          // node for the agent key (menu or node level only)
}

// Menu is one IVR tree.
type Menu struct {
	Start    string           `yaml:"start"`
	Defaults `yaml:",inline"` // retries, timeout, prompts, last_resort and agent for this menu
	Nodes    map[string]*Node `yaml:"nodes"`
}

// NodeType says what a node does.
type NodeType string

const (
	NodePlay     NodeType = "play"     // play prompts, go to next (a key pressed during them stays buffered)
	NodeMenu     NodeType = "menu"     // play prompts, wait for a key, go to options[key]
	NodeCollect  NodeType = "collect"  // play prompts, collect a number, validate it into data[field]
	NodeLookup   NodeType = "lookup"   // look data[field] up (tracking, claim), speak the answer
	NodeSet      NodeType = "set"      // set language, priority, data; go to next
	NodeQueue    NodeType = "queue"    // end: wait for an agent in queue
	NodeCallback NodeType = "callback" // end: call back data[field] (or the caller's number) from queue
	NodeTransfer NodeType = "transfer" // end: transfer to number
	NodeHangup   NodeType = "hangup"   // end: play prompts and hang up
)

// Node is one step of a menu. Which fields apply depends on Type; the loader refuses the others.
type Node struct {
	Type   NodeType          `yaml:"type"`
	Prompt []string          `yaml:"prompt"` // prompt ids, played in order
	Set    map[string]string `yaml:"set"`    // data set on entering the node (any type)
	Next   string            `yaml:"next"`
	// Label is what the agent's screen calls the node, per language of the agent's page ("ru",
	// "en"): "Меню частных клиентов". The node id when missing.
	Label map[string]string `yaml:"label"`

	// Retry settings (menu, collect) override the menu's; last_resort and agent apply to menu and play.
	Defaults `yaml:",inline"`

	// menu
	Options map[string]string `yaml:"options"` // key → node

	// collect and lookup
	Field string `yaml:"field"` // the data key the number goes to / is read from

	// collect
	Min          int           `yaml:"min"`
	Max          int           `yaml:"max"`
	Terminator   string        `yaml:"terminator"`    // "#" by default; "none" for none
	FirstTimeout time.Duration `yaml:"first_timeout"` // for the first digit (after the prompt) (8s)
	InterTimeout time.Duration `yaml:"inter_timeout"` // between digits (4s)
	Validator    string        `yaml:"validator"`     // tracking, domestic, s10, claim, contract, digits, regex
	Pattern      string        `yaml:"pattern"`       // for validator: regex
	OnEmpty      string        `yaml:"on_empty"`      // node when nothing is entered (optional input)

	// lookup
	Lookup   string `yaml:"lookup"`    // tracking or claim
	NotFound string `yaml:"not_found"` // node when the backend does not know the number
	OnError  string `yaml:"on_error"`  // node when the backend fails (default: the agent, after lookup_failed)

	// set
	Lang     string `yaml:"lang"`
	Priority int    `yaml:"priority"` // set: the call's priority from now on; queue/callback: at least this

	// queue, callback
	Queue string `yaml:"queue"`
	// transfer
	Number string `yaml:"number"`
}
