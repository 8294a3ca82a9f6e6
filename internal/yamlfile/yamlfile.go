// Package yamlfile decodes a YAML document strictly and reports every mistake as "file:line: field: message",
// so an operator editing a config, a menu or a center file is sent straight to the line to fix.
package yamlfile

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Doc is a parsed YAML document that can point validation errors at their line.
type Doc struct {
	Name string // the file name used in messages
	file *ast.File
}

// Error is one mistake in a document. Tests and tools branch on its fields; its text is what people read.
type Error struct {
	File  string
	Line  int    // 1-based; 0 when the field is absent from the document
	Field string // dotted path such as "queues[2].wrapup"; empty for syntax errors
	Msg   string
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

// Decode parses data strictly into v: unknown fields, wrong types and duplicate keys are errors
// that carry name, line and field.
func Decode(name string, data []byte, v any) (*Doc, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fromYAML(name, nil, err)
	}
	if err := checkAliases(name, f); err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, fromYAML(name, f, err)
	}
	return &Doc{Name: name, file: f}, nil
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
		return &Error{File: name, Msg: err.Error()}
	}
	e := &Error{File: name, Msg: ye.GetMessage()}
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
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
