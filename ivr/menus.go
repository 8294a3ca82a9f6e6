package ivr

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Menus is a loaded, checked menu file. It is immutable: a reload builds a new one, so a call keeps
// the Menus it started with.
type Menus struct {
	name            string
	lang            string
	langs           []string
	agentKey        rune // 0: no agent key
	lastResortQueue string
	lookupTimeout   time.Duration
	dids            map[string]string
	defaultMenu     string
	menus           map[string]*menu
}

// MenuSource gives the menus a new call should run. *Menus is one (itself); so is *Reloader.
type MenuSource interface {
	Current() *Menus
}

// Current returns m, so a fixed *Menus can be used where a MenuSource is expected.
func (m *Menus) Current() *Menus { return m }

// Name is the file the menus came from.
func (m *Menus) Name() string { return m.name }

// MenuIDs returns the ids of the menus, sorted.
func (m *Menus) MenuIDs() []string { return sortedKeys(m.menus) }

// MenuFor returns the id of the menu that answers did, and whether there is one.
func (m *Menus) MenuFor(did string) (string, bool) {
	if id, ok := m.dids[did]; ok {
		return id, true
	}
	return m.defaultMenu, m.defaultMenu != ""
}

// NodeIDs returns the node ids of menu id, sorted (for dashboards and metric pre-registration).
func (m *Menus) NodeIDs(id string) []string {
	mn := m.menus[id]
	if mn == nil {
		return nil
	}
	return sortedKeys(mn.nodes)
}

// menu is one compiled menu.
type menu struct {
	id    string
	start string
	nodes map[string]*node
}

// node is a Node with everything inherited resolved and its validator built.
type node struct {
	*Node
	id       string
	settings Defaults // retries, timeout, prompts, last_resort, agent after inheritance
	validate validator
	term     rune
	first    time.Duration
	inter    time.Duration
	maxLen   int
	minLen   int
}

func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K { return slices.Sorted(maps.Keys(m)) }
