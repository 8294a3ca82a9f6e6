package yamlfile

import (
	"errors"
	"strings"
	"testing"
)

type queue struct {
	Name   string `yaml:"name"`
	Wrapup int    `yaml:"wrapup"`
}

type center struct {
	Title  string  `yaml:"title"`
	Queues []queue `yaml:"queues"`
}

const src = `title: demo
queues:
  - name: general
    wrapup: 10
  - name: claims
    wrapup: -1
`

func TestErrorfPointsAtLine(t *testing.T) {
	var c center
	doc, err := Decode("center.yaml", []byte(src), &c)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{"queues[1].wrapup", "center.yaml:6: queues[1].wrapup: must be ≥ 0"},
		{"queues[1].missing", "center.yaml:5: queues[1].missing: must be ≥ 0"},
		{"title", "center.yaml:1: title: must be ≥ 0"},
	}
	for _, tc := range tests {
		if got := doc.Errorf(tc.path, "must be ≥ 0").Error(); got != tc.want {
			t.Errorf("Errorf(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
		line            int
	}{
		{"unknown field", "title: x\nqueus: []\n", "unknown field", 2},
		{"wrong type", "title: x\nqueues:\n  - name: a\n    wrapup: ten\n", "wrapup", 4},
		{"syntax", "title: x\nqueues: [\n", "", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c center
			_, err := Decode("c.yaml", []byte(tc.src), &c)
			var ye *Error
			if !errors.As(err, &ye) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ye.File != "c.yaml" || ye.Line != tc.line {
				t.Errorf("at %s:%d, want c.yaml:%d (%v)", ye.File, ye.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestAliasBombRefused(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	var v map[string]any
	_, err := Decode("bomb.yaml", []byte(src), &v)
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

// TestDecodeReportsEveryMistake: three mistakes in one file are reported together, each at its line
// in plain words; the rest of the document is decoded, and the bad fields are known as dropped.
func TestDecodeReportsEveryMistake(t *testing.T) {
	src := `title: demo
queues:
  - name: general
    wrapup: ten
  - name: claims
    wrapp: 5
  - name: social
    wrapup: 20
extra: [1]
`
	c := center{Title: "default"}
	doc, err := Decode("c.yaml", []byte(src), &c)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		"c.yaml:4: queues[0].wrapup: must be a whole number (got text)",
		`c.yaml:6: queues[1].wrapp: unknown field "wrapp"`,
		`c.yaml:9: extra: unknown field "extra"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("errors:\n%v\nwant %d", err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want it to start %q", i, lines[i], w)
		}
	}
	if doc == nil || !doc.Dropped("queues[0].wrapup") || doc.Dropped("queues[2].wrapup") || doc.Dropped("title") {
		t.Errorf("dropped fields wrong: %+v", doc)
	}
	if c.Title != "demo" || len(c.Queues) != 3 || c.Queues[2].Wrapup != 20 || c.Queues[0].Name != "general" {
		t.Errorf("the rest decoded as %+v", c)
	}
}

func TestPlainWordsAndIndentation(t *testing.T) {
	type inner struct {
		X int  `yaml:"x"`
		Y int  `yaml:"y"`
		B bool `yaml:"b"`
	}
	type doc struct {
		S  inner    `yaml:"s"`
		L  []string `yaml:"l"`
		Qs []inner  `yaml:"qs"`
	}
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"a word for a number", "s:\n  x: many\n", 2, "s.x: must be a whole number"},
		{"a word for true/false", "s:\n  b: perhaps\n", 2, "s.b: must be true or false"},
		{"text for a list", "l: one\n", 1, "l: must be a list"},
		{"a list for fields", "s: [1]\n", 1, "s: must be a set of fields"},
		{"indented too far", "s:\n  x: 1\n   y: 2\n", 3, "indentation does not line up"},
		{"indented too little", "s:\n  x: 1\n y: 2\n", 3, "indentation does not line up"},
		{"an item's field", "qs:\n  - x: 1\n   y: 2\n", 3, "indentation does not line up"},
		{"a tab", "s:\n\tx: 1\n", 2, "a tab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			_, err := Decode("f.yaml", []byte(tc.src), &d)
			var ye *Error
			if !errors.As(err, &ye) || ye.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want line %d and %q", err, tc.line, tc.want)
			}
		})
	}
}
