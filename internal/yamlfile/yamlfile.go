// Package yamlfile decodes a YAML document strictly and reports every mistake as "file:line: field: message",
// so an operator editing a config, a menu or a center file is sent straight to the line to fix.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Doc is a parsed YAML document that can point validation errors at their line.
type Doc struct {
	Name    string // the file name used in messages
	file    *ast.File
	dropped []string // fields Decode set aside for a mistake it reported
}

// Error is one mistake in a document. Tests and tools branch on its fields; its text is what people read.
type Error struct {
	File  string
	Line  int    // 1-based; 0 when the field is absent from the document
	Field string // dotted path such as "queues[2].wrapup"; empty for syntax errors
	Msg   string

	tk *token.Token // where the decoder stopped, when known
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadFile reads and decodes the file at path into v (see Decode).
func ReadFile(path string, v any) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return Decode(path, data, v)
}

// maxErrors bounds the mistakes one Decode reports: past it, the rest can wait for the next run.
const maxErrors = 25

// Decode parses data strictly into v: unknown fields, wrong types and duplicate keys are errors
// that carry name, line and field, in plain words. It reports every such mistake, not only the
// first: each bad field is set aside and the rest decoded again, so v holds everything else and the
// returned Doc (non-nil whenever the document parses) says which fields were set aside (Dropped),
// letting a caller validate the rest in the same pass. A syntax error stops at once, with a hint
// when it is an indentation mistake.
func Decode(name string, data []byte, v any) (*Doc, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		e := fromYAML(name, nil, err)
		if ye, ok := e.(*Error); ok && strings.Contains(ye.Msg, "not allowed in this context") {
			if line := misindented(data); line > 0 {
				ye.Line = line
				ye.Msg = "the indentation does not line up with the lines above: indent a field exactly as its siblings, with spaces, two more than its parent"
			}
		}
		return nil, e
	}
	if err := checkAliases(name, f); err != nil {
		return nil, err
	}
	doc := &Doc{Name: name, file: f}
	rv := reflect.ValueOf(v).Elem()
	initial := reflect.New(rv.Type()).Elem()
	initial.Set(rv) // the defaults the caller put in v, for each retry
	var errs []error
	for len(errs) < maxErrors {
		err := yaml.UnmarshalWithOptions(data, v, yaml.Strict(), yaml.DisallowUnknownField())
		if err == nil {
			break
		}
		e := fromYAML(name, f, err)
		errs = append(errs, e)
		ye, ok := e.(*Error)
		if !ok || ye.Line == 0 {
			return nil, errors.Join(errs...)
		}
		cut, ok := setAside(data, ye)
		if !ok {
			return nil, errors.Join(errs...)
		}
		if _, err := parser.ParseBytes(cut, 0); err != nil {
			// Setting the field aside broke the syntax (a flow list over several lines): what
			// follows would be our mistake, not the file's.
			return nil, errors.Join(errs...)
		}
		data = cut
		doc.dropped = append(doc.dropped, ye.Field)
		rv.Set(initial)
	}
	if len(errs) > 0 {
		return doc, errors.Join(errs...)
	}
	return doc, nil
}

// setAside rewrites data so that the decoder goes on past the mistake e, keeping every other
// line, column and list index where it was: a bad value becomes null ("~", padded to its width);
// an unknown field on a line of its own is commented out with the lines under it. Anything else
// (an unknown field in a flow mapping or starting a list item, a value spanning lines) cannot be
// set aside so cleanly, and Decode stops there.
func setAside(data []byte, e *Error) ([]byte, bool) {
	tk := e.tk
	lines := bytes.Split(data, []byte("\n"))
	if e.Line < 1 || e.Line > len(lines) {
		return nil, false
	}
	line := []rune(string(lines[e.Line-1]))
	indent := 0
	for indent < len(line) && line[indent] == ' ' {
		indent++
	}
	if tk == nil || tk.Position == nil || tk.Position.Line != e.Line {
		return nil, false
	}
	col := tk.Position.Column - 1
	if col < 0 || col >= len(line) {
		return nil, false
	}
	if strings.HasPrefix(e.Msg, "unknown field") {
		if col != indent {
			return nil, false
		}
		return blankBlock(lines, e.Line), true
	}
	end := scalarEnd(line, col)
	if end <= col {
		return nil, false
	}
	for i := col; i < end; i++ {
		line[i] = ' '
	}
	line[col] = '~'
	lines[e.Line-1] = []byte(string(line))
	return bytes.Join(lines, []byte("\n")), true
}

// scalarEnd is where the value starting at col on line ends: its closing bracket for a flow
// collection, else the next "," "}" "]" in a flow context or the end of the line (a comment aside).
// col when it cannot tell.
func scalarEnd(line []rune, col int) int {
	switch line[col] {
	case '[', '{':
		depth := 0
		for i := col; i < len(line); i++ {
			switch line[i] {
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return col // continues on the next line
	case '"', '\'':
		for i := col + 1; i < len(line); i++ {
			if line[i] == line[col] {
				return i + 1
			}
		}
		return col
	}
	inFlow := strings.ContainsAny(string(line[:col]), "{[")
	for i := col; i < len(line); i++ {
		if inFlow && (line[i] == ',' || line[i] == '}' || line[i] == ']') {
			return i
		}
		if line[i] == '#' && i > 0 && line[i-1] == ' ' {
			return i - 1
		}
	}
	return len(line)
}

// blankBlock comments out line (1-based) and the lines indented under it, keeping every line's
// number.
func blankBlock(lines [][]byte, line int) []byte {
	indent := func(l []byte) int { return len(l) - len(bytes.TrimLeft(l, " ")) }
	at := indent(lines[line-1])
	out := make([][]byte, len(lines))
	copy(out, lines)
	out[line-1] = []byte("#")
	for i := line; i < len(lines); i++ {
		t := bytes.TrimSpace(lines[i])
		if len(t) > 0 && t[0] != '#' && indent(lines[i]) <= at {
			break
		}
		out[i] = []byte("#")
	}
	return bytes.Join(out, []byte("\n"))
}

// Dropped reports whether the field at path, or a field containing it, was set aside by Decode
// for a mistake already reported: a check of it would only repeat the mistake.
func (d *Doc) Dropped(path string) bool {
	if d == nil {
		return false
	}
	for _, p := range d.dropped {
		if p == "" || path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// Errorf returns an *Error for the field at path ("queues[2].wrapup", or "" for the whole document),
// with the line where that field stands, or the nearest enclosing one present.
func (d *Doc) Errorf(path, format string, args ...any) error {
	return &Error{File: d.Name, Line: d.Line(path), Field: path, Msg: fmt.Sprintf(format, args...)}
}

// Line returns the line of the field at path, falling back to its parents; 0 if none is found.
func (d *Doc) Line(path string) int {
	if d == nil || d.file == nil {
		return 0
	}
	for p := path; ; p = parent(p) {
		if n := d.node(p); n != nil {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				return tk.Position.Line
			}
		}
		if p == "" {
			return 0
		}
	}
}

// Has reports whether the document sets the field at path itself (not only a parent of it).
func (d *Doc) Has(path string) bool { return d != nil && d.file != nil && d.node(path) != nil }

// node finds the key node for path, so that a field's line is its key's, not its value's.
func (d *Doc) node(path string) ast.Node {
	expr := "$"
	if path != "" {
		expr = "$." + path
	}
	p, err := yaml.PathString(expr)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(d.file)
	if err != nil || n == nil {
		return nil
	}
	return n
}

func parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i > 0 {
		return path[:i]
	}
	return ""
}

// NodeError is what a custom field type's UnmarshalYAML(ast.Node) returns for a bad value, so the
// mistake is reported at the value's line and field like any other.
func NodeError(n ast.Node, format string, args ...any) error {
	return &nodeError{tk: n.GetToken(), msg: fmt.Sprintf(format, args...)}
}

type nodeError struct {
	tk  *token.Token
	msg string
}

func (e *nodeError) Error() string          { return e.msg }
func (e *nodeError) GetToken() *token.Token { return e.tk }
func (e *nodeError) GetMessage() string     { return e.msg }

func fromYAML(name string, f *ast.File, err error) error {
	var ye interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if !errors.As(err, &ye) {
		// time.Duration fields fail with time's own error, which names the value but no place:
		// find the value in the document.
		if m := badDuration.FindStringSubmatch(err.Error()); m != nil {
			if tk := findValue(f, m[1]); tk != nil {
				return &Error{File: name, Line: tk.Position.Line, Field: fieldAt(f, tk), tk: tk,
					Msg: fmt.Sprintf("%q is not a duration such as 20s, 5m or 1h30m", m[1])}
			}
		}
		return &Error{File: name, Msg: err.Error()}
	}
	e := &Error{File: name, Msg: plainWords(ye.GetMessage())}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		e.tk = tk
		e.Line = tk.Position.Line
		e.Field = fieldAt(f, tk)
	}
	return e
}

// fieldAt names the field whose value is tk, since the decoder's messages name Go types, not YAML paths.
func fieldAt(f *ast.File, tk *token.Token) string {
	if f == nil {
		return ""
	}
	var found string
	for _, doc := range f.Docs {
		ast.Walk(visitFunc(func(n ast.Node) bool {
			if found == "" && samePlace(n.GetToken(), tk) {
				found = strings.TrimPrefix(strings.TrimPrefix(n.GetPath(), "$"), ".")
			}
			return found == ""
		}), doc)
	}
	return found
}

func samePlace(a, b *token.Token) bool {
	return a != nil && a.Position != nil && a.Position.Line == b.Position.Line && a.Position.Column == b.Position.Column
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n != nil && f(n) {
		return f
	}
	return nil
}

var badDuration = regexp.MustCompile(`time: invalid duration "(.*)"$`)

// findValue returns the first scalar token whose value is v.
func findValue(f *ast.File, v string) *token.Token {
	if f == nil {
		return nil
	}
	var found *token.Token
	for _, doc := range f.Docs {
		ast.Walk(visitFunc(func(n ast.Node) bool {
			if found != nil {
				return false
			}
			if _, scalar := n.(ast.ScalarNode); scalar {
				if tk := n.GetToken(); tk != nil && tk.Value == v && tk.Position != nil {
					found = tk
				}
			}
			return found == nil
		}), doc)
	}
	return found
}
