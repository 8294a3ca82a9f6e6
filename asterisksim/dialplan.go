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
// uses is supported: exten =>, same =>, n priorities and their labels, [globals], ${VAR}
// substitution (and GROUP_COUNT) and $[a op b] comparisons.
type dialplan struct {
	contexts map[string]*dpContext
	// globals are [globals] variables. Asterisk reads every [globals] section in file order, so a
	// later one (the test callers' include) overrides an earlier one.
	globals map[string]string
}

type dpContext struct {
	exts     map[string]*dpExten // exact extensions
	patterns []dpPattern         // _X. style, in file order
}

// dpExten is one extension's steps and the labels of its priorities (n(closed) → 9).
type dpExten struct {
	steps  map[int]dpStep
	labels map[string]int
}

type dpPattern struct {
	pattern string
	ext     *dpExten
}

type dpStep struct {
	app, data string
	line      int
}

func parseDialplan(text []byte) (*dialplan, error) {
	p := &dialplan{contexts: map[string]*dpContext{}, globals: map[string]string{}}
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
				cur = &dpContext{exts: map[string]*dpExten{}}
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
			if curName == "globals" {
				p.globals[key] = val
			}
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
		label := ""
		if i := strings.IndexByte(prioStr, '('); i >= 0 { // n(label) or 1(label)
			label = strings.TrimSpace(strings.TrimSuffix(prioStr[i+1:], ")"))
			prioStr = strings.TrimSpace(prioStr[:i])
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
		e := cur.extFor(ext)
		e.steps[prio] = dpStep{app: app, data: data, line: lineNo}
		if label != "" {
			e.labels[label] = prio
		}
		lastExt, lastSteps, lastPrio = ext, e.steps, prio
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *dpContext) extFor(ext string) *dpExten {
	if strings.HasPrefix(ext, "_") {
		for _, pt := range c.patterns {
			if pt.pattern == ext {
				return pt.ext
			}
		}
		c.patterns = append(c.patterns, dpPattern{pattern: ext, ext: newExten()})
		return c.patterns[len(c.patterns)-1].ext
	}
	if c.exts[ext] == nil {
		c.exts[ext] = newExten()
	}
	return c.exts[ext]
}

func newExten() *dpExten {
	return &dpExten{steps: map[int]dpStep{}, labels: map[string]int{}}
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
	e := p.find(context, exten)
	if e == nil {
		return nil, false
	}
	return e.steps, true
}

// find is the extension exten of context matches, or nil.
func (p *dialplan) find(context, exten string) *dpExten {
	c := p.contexts[context]
	if c == nil {
		return nil
	}
	if e, ok := c.exts[exten]; ok {
		return e
	}
	for _, pt := range c.patterns {
		if matchPattern(pt.pattern[1:], exten) {
			return pt.ext
		}
	}
	return nil
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

// target resolves a Goto or GotoIf destination, [[context,]exten,]priority, from loc. The priority
// is a number or a label of the destination's extension, as in Asterisk.
func (p *dialplan) target(loc dpLoc, dest string) (dpLoc, error) {
	parts := strings.Split(dest, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	to := loc
	var prio string
	switch len(parts) {
	case 1:
		prio = parts[0]
	case 2:
		to.exten, prio = parts[0], parts[1]
	case 3:
		to.context, to.exten, prio = parts[0], parts[1], parts[2]
	default:
		return loc, fmt.Errorf("bad destination %q", dest)
	}
	if n, err := strconv.Atoi(prio); err == nil && n > 0 {
		to.priority = n
		return to, nil
	}
	if e := p.find(to.context, to.exten); e != nil {
		if n, ok := e.labels[prio]; ok {
			to.priority = n
			return to, nil
		}
	}
	return loc, fmt.Errorf("priority %q must be a number > 0 or a label of %s@%s", prio, to.exten, to.context)
}
