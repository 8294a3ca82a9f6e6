package ivr

import "strings"

// checkGraph reports nodes nothing reaches from the start, and loops a call could go round without
// the caller ever being asked for a key (which would spin the flow without end).
func (l *loader) checkGraph(path string, mn *menu) {
	if mn.nodes[mn.start] == nil {
		return // already reported; reachability would only add noise
	}
	seen := map[string]bool{mn.start: true}
	queue := []string{mn.start}
	for len(queue) > 0 {
		n := mn.nodes[queue[0]]
		queue = queue[1:]
		if n == nil {
			continue
		}
		for _, e := range n.edges() {
			if !seen[e.to] {
				seen[e.to] = true
				queue = append(queue, e.to)
			}
		}
	}
	for _, id := range sortedKeys(mn.nodes) {
		if !seen[id] {
			l.errorf(path+".nodes."+id, "no path from start %q reaches this node", mn.start)
		}
	}

	// Depth-first search over edges taken without input; a back edge closes a loop.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		stack = append(stack, id)
		if n := mn.nodes[id]; n != nil {
			for _, e := range n.edges() {
				if e.waits || mn.nodes[e.to] == nil {
					continue
				}
				switch color[e.to] {
				case white:
					visit(e.to)
				case grey:
					loop := append(stackFrom(stack, e.to), e.to)
					l.errorf(path+".nodes."+e.to, "loop with no input: %s (a menu or collect node must break it)", strings.Join(loop, " → "))
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
	}
	for _, id := range sortedKeys(mn.nodes) {
		if color[id] == white {
			visit(id)
		}
	}
}

func stackFrom(stack []string, id string) []string {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i] == id {
			return append([]string(nil), stack[i:]...)
		}
	}
	return nil
}
