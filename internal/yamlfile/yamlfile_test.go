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
