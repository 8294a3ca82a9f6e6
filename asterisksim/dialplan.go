package asterisksim

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// dialplan is a parsed extensions.conf: contexts of extensions of numbered steps. Only what hotline
// uses is supported: exten =>, same =>, n priorities, labels-free Goto, ${VAR} substitution.
type dialplan struct {
	contexts map[string]*dpContext
}

type dpContext struct {
	exts     map[string]map[int]dpStep // exact extensions
	patterns []dpPattern               // _X. style, in file order
}

type dpPattern struct {
	pattern string
	steps   map[int]dpStep
}

type dpStep struct {
	app, data string
	line      int
}

func parseDialplan(text []byte) (*dialplan, error) {
	p := &dialplan{contexts: map[string]*dpContext{}}
	var cur *dpContext
	var curName string
	var lastExt string
	var lastSteps map[int]dpStep
	lastPrio := 0
	sc := bufio.NewScanner(bytes.NewReader(text))
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if i := strings.IndexByte(line, ';'); i >= 0 && !strings.Contains(line[:i], "\\") {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated context name", lineNo)
			}
			curName = line[1:end]
			cur = nil
			if curName != "general" && curName != "globals" {
				cur = &dpContext{exts: map[string]map[int]dpStep{}}
				p.contexts[curName] = cur
			}
			lastSteps = nil
			continue
		}
		key, val, ok := strings.Cut(line, "=>")
		if !ok {
			key, val, ok = strings.Cut(line, "=")
		}
		if !ok {
			return nil, fmt.Errorf("line %d: expected key => value", lineNo)
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		if cur == nil {
			continue // [general] settings
		}
		var ext, prioStr, rest string
		switch key {
		case "exten":
			parts := strings.SplitN(val, ",", 3)
			if len(parts) < 3 {
				return nil, fmt.Errorf("line %d: exten needs extension,priority,application", lineNo)
			}
			ext, prioStr, rest = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), parts[2]
		case "same":
			if lastSteps == nil {
				return nil, fmt.Errorf("line %d: same => without a preceding exten", lineNo)
			}
			parts := strings.SplitN(val, ",", 2)
			if len(parts) < 2 {
				return nil, fmt.Errorf("line %d: same needs priority,application", lineNo)
			}
			ext, prioStr, rest = lastExt, strings.TrimSpace(parts[0]), parts[1]
		case "include", "switch", "ignorepat":
			continue
		default:
			return nil, fmt.Errorf("line %d: unknown key %q in [%s]", lineNo, key, curName)
		}
		if i := strings.IndexByte(prioStr, '('); i >= 0 { // n(label): labels are ignored
			prioStr = prioStr[:i]
		}
		var prio int
		switch prioStr {
		case "n":
			if ext != lastExt || lastSteps == nil {
				return nil, fmt.Errorf("line %d: priority n without a previous priority", lineNo)
			}
			prio = lastPrio + 1
		default:
			n, err := strconv.Atoi(prioStr)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("line %d: bad priority %q", lineNo, prioStr)
			}
			prio = n
		}
		app, data := splitApp(strings.TrimSpace(rest))
		steps := cur.stepsFor(ext)
		steps[prio] = dpStep{app: app, data: data, line: lineNo}
		lastExt, lastSteps, lastPrio = ext, steps, prio
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *dpContext) stepsFor(ext string) map[int]dpStep {
	if strings.HasPrefix(ext, "_") {
		for _, pt := range c.patterns {
			if pt.pattern == ext {
				return pt.steps
			}
		}
		c.patterns = append(c.patterns, dpPattern{pattern: ext, steps: map[int]dpStep{}})
		return c.patterns[len(c.patterns)-1].steps
	}
	if c.exts[ext] == nil {
		c.exts[ext] = map[int]dpStep{}
	}
	return c.exts[ext]
}

// splitApp splits "App(args)" into its name and argument string.
func splitApp(s string) (string, string) {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return s, ""
	}
	data := s[i+1:]
	data = strings.TrimSuffix(data, ")")
	return s[:i], data
}

// steps finds the extension's steps in context: an exact match first, then the first pattern.
func (p *dialplan) steps(context, exten string) (map[int]dpStep, bool) {
	c := p.contexts[context]
	if c == nil {
		return nil, false
	}
	if st, ok := c.exts[exten]; ok {
		return st, true
	}
	for _, pt := range c.patterns {
		if matchPattern(pt.pattern[1:], exten) {
			return pt.steps, true
		}
	}
	return nil, false
}

func (p *dialplan) exists(context, exten string) bool {
	_, ok := p.steps(context, exten)
	return ok
}

// matchPattern implements Asterisk's X Z N [..] . ! pattern characters.
func matchPattern(pat, s string) bool {
	for len(pat) > 0 {
		c := pat[0]
		switch c {
		case '.':
			return len(s) > 0
		case '!':
			return true
		}
		if len(s) == 0 {
			return false
		}
		d := s[0]
		switch c {
		case 'X', 'x':
			if d < '0' || d > '9' {
				return false
			}
		case 'Z', 'z':
			if d < '1' || d > '9' {
				return false
			}
		case 'N', 'n':
			if d < '2' || d > '9' {
				return false
			}
		case '[':
			end := strings.IndexByte(pat, ']')
			if end < 0 || !inClass(pat[1:end], d) {
				return false
			}
			pat = pat[end:]
		default:
			if c != d {
				return false
			}
		}
		pat, s = pat[1:], s[1:]
	}
	return len(s) == 0
}

func inClass(class string, d byte) bool {
	for i := 0; i < len(class); i++ {
		if i+2 < len(class) && class[i+1] == '-' {
			if d >= class[i] && d <= class[i+2] {
				return true
			}
			i += 2
			continue
		}
		if class[i] == d {
			return true
		}
	}
	return false
}

// contextNames lists the contexts (for errors and tests).
func (p *dialplan) contextNames() []string {
	var names []string
	for n := range p.contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
