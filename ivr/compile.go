package ivr

import (
	"fmt"
	"slices"
	"strings"
)

var nodeTypes = []NodeType{NodePlay, NodeMenu, NodeCollect, NodeLookup, NodeSet, NodeQueue, NodeCallback, NodeTransfer, NodeHangup}

// compileMenu checks one menu and its nodes; nil if it is too broken to walk.
func (l *loader) compileMenu(id string, raw *Menu, base Defaults) *menu {
	path := "menus." + id
	if !idRE.MatchString(id) || len(id) > maxIDLen {
		l.errorf(path, "bad menu id %q (letters, digits, _ and -)", id)
	}
	if raw == nil {
		l.errorf(path, "empty menu")
		return nil
	}
	l.checkDefaults(path, raw.Defaults)
	settings := inherit(base, raw.Defaults)
	mn := &menu{id: id, start: raw.Start, nodes: map[string]*node{}}
	if len(raw.Nodes) == 0 {
		l.errorf(join(path, "nodes"), "no nodes")
		return nil
	}
	for _, nid := range sortedKeys(raw.Nodes) {
		npath := path + ".nodes." + nid
		if !idRE.MatchString(nid) || len(nid) > maxIDLen {
			l.errorf(npath, "bad node id %q (letters, digits, _ and -)", nid)
		}
		if raw.Nodes[nid] == nil {
			l.errorf(npath, "empty node")
			continue
		}
		mn.nodes[nid] = l.compileNode(npath, nid, raw.Nodes[nid], settings)
	}
	ref := func(field, target string) {
		if target != "" && mn.nodes[target] == nil && raw.Nodes[target] == nil {
			l.errorf(field, "unknown node %q", target)
		}
	}
	if raw.Start == "" {
		l.errorf(join(path, "start"), "missing: the node a call begins at")
	}
	ref(join(path, "start"), raw.Start)
	ref(join(path, "last_resort"), raw.LastResort)
	ref(join(path, "agent"), raw.Agent)
	for _, nid := range sortedKeys(mn.nodes) {
		n := mn.nodes[nid]
		npath := path + ".nodes." + nid
		for _, e := range n.edges() {
			field := e.field
			if e.inherited {
				continue // checked where it was written
			}
			ref(join(npath, field), e.to)
		}
	}
	l.checkGraph(path, mn)
	return mn
}

// edge is a way out of a node.
type edge struct {
	field     string // the YAML field holding it, relative to the node
	to        string
	inherited bool // from the menu's defaults, not written on the node
	waits     bool // taken only after the caller pressed a key (or stayed silent at a prompt)
}

// edges lists where a node may lead. The built-in agent (an empty target) is not a node.
func (n *node) edges() []edge {
	var out []edge
	add := func(field, to string, inherited, waits bool) {
		if to != "" {
			out = append(out, edge{field: field, to: to, inherited: inherited, waits: waits})
		}
	}
	add("next", n.Next, false, n.Type == NodeMenu || n.Type == NodeCollect)
	for _, k := range sortedKeys(n.Options) {
		add("options."+k, n.Options[k], false, true)
	}
	switch n.Type {
	case NodeMenu, NodeCollect:
		add("last_resort", n.settings.LastResort, n.Node.LastResort == "", true)
		add("agent", n.settings.Agent, n.Node.Agent == "", true)
	}
	add("on_empty", n.OnEmpty, false, true)
	add("not_found", n.NotFound, false, false)
	add("on_error", n.OnError, false, false)
	return out
}

func (l *loader) compileNode(path, id string, raw *Node, inherited Defaults) *node {
	n := &node{Node: raw, id: id}
	n.settings = inherit(inherited, raw.Defaults)
	if !slices.Contains(nodeTypes, raw.Type) {
		l.errorf(join(path, "type"), "unknown type %q (want one of %v)", raw.Type, nodeTypes)
		return n
	}
	if len(raw.Prompt) > maxPromptsPerNode {
		l.errorf(join(path, "prompt"), "more than %d prompts", maxPromptsPerNode)
	}
	for i, p := range raw.Prompt {
		l.checkPrompt(fmt.Sprintf("%s.prompt[%d]", path, i), p)
	}
	l.checkDefaults(path, raw.Defaults)
	for _, lang := range sortedKeys(raw.Label) {
		switch text := raw.Label[lang]; {
		case !slices.Contains(storyLangs[:], lang):
			l.errorf(join(path, "label."+lang), "unknown language %q: the agent's page speaks %v", lang, storyLangs)
		case strings.TrimSpace(text) == "" || len(text) > maxLabel:
			l.errorf(join(path, "label."+lang), "want a name of 1 to %d bytes", maxLabel)
		}
	}
	for k := range raw.Set {
		if !idRE.MatchString(k) {
			l.errorf(join(path, "set."+k), "bad data key %q", k)
		}
	}

	// Fields that only some types use: a misplaced one is almost always a typo in the type.
	only := func(field string, set bool, types ...NodeType) {
		if set && !slices.Contains(types, raw.Type) {
			l.errorf(join(path, field), "does not apply to a %s node", raw.Type)
		}
	}
	only("options", len(raw.Options) > 0, NodeMenu)
	only("field", raw.Field != "", NodeCollect, NodeLookup, NodeCallback)
	only("min", raw.Min != 0, NodeCollect)
	only("max", raw.Max != 0, NodeCollect)
	only("terminator", raw.Terminator != "", NodeCollect)
	only("first_timeout", raw.FirstTimeout != 0, NodeCollect)
	only("inter_timeout", raw.InterTimeout != 0, NodeCollect)
	only("validator", raw.Validator != "", NodeCollect)
	only("pattern", raw.Pattern != "", NodeCollect)
	only("on_empty", raw.OnEmpty != "", NodeCollect)
	only("lookup", raw.Lookup != "", NodeLookup)
	only("not_found", raw.NotFound != "", NodeLookup)
	only("on_error", raw.OnError != "", NodeLookup)
	only("lang", raw.Lang != "", NodeSet)
	only("priority", raw.Priority != 0, NodeSet, NodeQueue, NodeCallback)
	only("queue", raw.Queue != "", NodeQueue, NodeCallback)
	only("number", raw.Number != "", NodeTransfer)
	only("retries", raw.Retries != 0, NodeMenu, NodeCollect)
	only("timeout", raw.Timeout != 0, NodeMenu)
	only("timeout_prompt", raw.TimeoutPrompt != "", NodeMenu, NodeCollect)
	only("invalid_prompt", raw.InvalidPrompt != "", NodeMenu, NodeCollect)
	only("last_resort", raw.LastResort != "", NodeMenu, NodeCollect)
	only("agent", raw.Agent != "", NodeMenu, NodeCollect)
	if raw.Type == NodeMenu || raw.Type == NodeCollect {
		// Every question has its answers to silence and to a wrong key; an omission is a typo in defaults.
		if n.settings.TimeoutPrompt == "" {
			l.errorf(join(path, "timeout_prompt"), "missing: set it here, in the menu or in defaults")
		}
		if n.settings.InvalidPrompt == "" {
			l.errorf(join(path, "invalid_prompt"), "missing: set it here, in the menu or in defaults")
		}
	}

	switch raw.Type {
	case NodePlay, NodeSet, NodeCollect, NodeLookup:
		if raw.Next == "" {
			l.errorf(join(path, "next"), "missing: a %s node must say where to go next", raw.Type)
		}
	default:
		only("next", raw.Next != "")
	}

	switch raw.Type {
	case NodePlay:
		if len(raw.Prompt) == 0 {
			l.errorf(join(path, "prompt"), "missing: a play node plays something")
		}
	case NodeMenu:
		if len(raw.Prompt) == 0 {
			l.errorf(join(path, "prompt"), "missing: a menu must say its options")
		}
		if len(raw.Options) == 0 {
			l.errorf(join(path, "options"), "missing: a menu offers at least one key")
		}
		for _, k := range sortedKeys(raw.Options) {
			if !isDTMFKey(k) {
				l.errorf(join(path, "options."+k), "%q is not a key (0-9, * or #)", k)
			}
		}
	case NodeCollect:
		l.compileCollect(path, n)
	case NodeLookup:
		if _, ok := lookupStatuses[raw.Lookup]; !ok {
			l.errorf(join(path, "lookup"), "unknown lookup %q (want tracking or claim)", raw.Lookup)
		} else {
			for _, p := range sayPrompts(raw.Lookup) {
				l.checkPrompt(join(path, "lookup"), p)
			}
		}
		l.checkPrompt(join(path, "lookup"), promptLookupFailed)
		if raw.Field == "" {
			l.errorf(join(path, "field"), "missing: the data key holding the number to look up")
		}
	case NodeSet:
		if raw.Lang != "" && !slices.Contains(l.langs, raw.Lang) {
			l.errorf(join(path, "lang"), "%q is not among langs %v", raw.Lang, l.langs)
		}
	case NodeQueue, NodeCallback:
		if raw.Queue == "" {
			l.errorf(join(path, "queue"), "missing")
		} else {
			l.checkQueue(join(path, "queue"), raw.Queue)
		}
	case NodeTransfer:
		if raw.Number == "" || !validDialString(raw.Number) {
			l.errorf(join(path, "number"), "missing or not a phone number: %q", raw.Number)
		} else if l.cfg.checkNumber != nil {
			if err := l.cfg.checkNumber(raw.Number); err != nil {
				l.errorf(join(path, "number"), "%q is not dialled here: %v", raw.Number, err)
			}
		}
	}
	if raw.Priority < 0 {
		l.errorf(join(path, "priority"), "must not be negative")
	}
	return n
}

func (l *loader) compileCollect(path string, n *node) {
	raw := n.Node
	if raw.Field == "" || !idRE.MatchString(raw.Field) {
		l.errorf(join(path, "field"), "missing or bad: the data key the number goes to")
	}
	n.minLen, n.maxLen = raw.Min, raw.Max
	if n.minLen == 0 {
		n.minLen = 1
	}
	if n.maxLen == 0 {
		n.maxLen = maxCollect
	}
	if raw.Min < 0 || n.minLen > maxCollect {
		l.errorf(join(path, "min"), "must be between 1 and %d", maxCollect)
	}
	if raw.Max < 0 || n.maxLen > maxCollect || n.maxLen < n.minLen {
		l.errorf(join(path, "max"), "must be between min and %d", maxCollect)
	}
	switch t := raw.Terminator; {
	case t == "":
		n.term = rune(defaultTerminator[0])
	case t == noTerminator:
	case t == "#" || t == "*":
		n.term = rune(t[0])
	default:
		l.errorf(join(path, "terminator"), "%q: want #, * or none", t)
	}
	if n.first = raw.FirstTimeout; n.first == 0 {
		n.first = defaultFirstTimeout
	}
	if n.inter = raw.InterTimeout; n.inter == 0 {
		n.inter = defaultInterTimeout
	}
	if raw.FirstTimeout < 0 {
		l.errorf(join(path, "first_timeout"), "must not be negative")
	}
	if raw.InterTimeout < 0 {
		l.errorf(join(path, "inter_timeout"), "must not be negative")
	}
	v, err := newValidator(raw.Validator, raw.Pattern)
	if err != nil {
		l.errorf(join(path, "validator"), "%v", err)
	}
	n.validate = v
}

func validDialString(s string) bool {
	if len(s) > 32 {
		return false
	}
	if s[0] == '+' {
		s = s[1:]
	}
	return allDigits(s)
}
