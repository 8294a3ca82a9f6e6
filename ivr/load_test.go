package ivr_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-cc/hotline/internal/yamlfile"
	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/prompts"
)

var testCatalog = prompts.Catalog{
	"hello":   {"ru": "Здравствуйте", "en": "Hello"},
	"menu":    {"ru": "Меню", "en": "Menu"},
	"only_ru": {"ru": "Только по-русски"},
	"bye":     {"ru": "До свидания", "en": "Bye"},
}

func loadTest(src string, opts ...ivr.LoadOption) (*ivr.Menus, error) {
	opts = append([]ivr.LoadOption{ivr.WithCatalog(testCatalog)}, opts...)
	return ivr.Load("m.yaml", []byte(src), opts...)
}

// Lines: a node's own mistakes point at the field's line; mistakes about a whole node (unreachable, in a
// loop) point at the node's first line, where yamlfile finds its mapping.

// yamlErrors flattens an errors.Join of *yamlfile.Error.
func yamlErrors(t *testing.T, err error) []*yamlfile.Error {
	t.Helper()
	var out []*yamlfile.Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var ye *yamlfile.Error
		if !errors.As(err, &ye) {
			t.Errorf("not a *yamlfile.Error: %v", err)
			return
		}
		out = append(out, ye)
	}
	walk(err)
	return out
}

const goodMenu = `langs: [ru, en]
queues: [general, claims]
defaults: {timeout_prompt: hello, invalid_prompt: menu}
dids:
  "100": main
menus:
  main:
    start: greet
    nodes:
      greet:
        type: menu
        prompt: [hello, menu]
        options: {"1": claims, "2": bye}
      claims:
        type: queue
        queue: claims
      bye:
        type: hangup
        prompt: [bye]
`

func TestLoadGood(t *testing.T) {
	m, err := loadTest(goodMenu)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := m.MenuFor("100"); !ok || id != "main" {
		t.Errorf("MenuFor(100) = %q, %v", id, ok)
	}
	if _, ok := m.MenuFor("999"); ok {
		t.Errorf("MenuFor(999) found a menu without default_menu")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts []ivr.LoadOption
		want []string // each "line: field: message-part", all must be reported
	}{
		{
			name: "unknown node",
			src:  strings.Replace(goodMenu, `"2": bye}`, `"2": byee}`, 1),
			want: []string{`m.yaml:13: menus.main.nodes.greet.options.2: unknown node "byee"`, `m.yaml:18: menus.main.nodes.bye: no path from start`},
		},
		{
			name: "labels: a language the agent's page does not speak, an empty one",
			src:  strings.Replace(goodMenu, "        type: queue\n", "        type: queue\n        label: {kk: Шағым, en: \"  \"}\n", 1),
			want: []string{`m.yaml:16: menus.main.nodes.claims.label.en: want a name of 1 to 120 bytes`,
				`m.yaml:16: menus.main.nodes.claims.label.kk: unknown language "kk": the agent's page speaks [ru en]`},
		},
		{
			name: "unknown queue from the file's list",
			src:  strings.Replace(goodMenu, "queue: claims", "queue: claimz", 1),
			want: []string{`m.yaml:16: menus.main.nodes.claims.queue: unknown queue "claimz"`},
		},
		{
			name: "unknown queue from the option",
			src:  goodMenu,
			opts: []ivr.LoadOption{ivr.WithQueues("general", "tracking")},
			want: []string{`m.yaml:16: menus.main.nodes.claims.queue: unknown queue "claims"`},
		},
		{
			name: "prompt missing in a language",
			src:  strings.Replace(goodMenu, "[hello, menu]", "[hello, only_ru]", 1),
			want: []string{`m.yaml:12: menus.main.nodes.greet.prompt[1]: prompt "only_ru" is not in the catalog in en`},
		},
		{
			name: "prompt missing everywhere",
			src:  strings.Replace(goodMenu, "prompt: [bye]", "prompt: [ciao]", 1),
			want: []string{`m.yaml:19: menus.main.nodes.bye.prompt[0]: prompt "ciao" is not in the catalog in ru, en`},
		},
		{
			name: "unreachable node",
			src:  goodMenu + "      orphan:\n        type: hangup\n",
			want: []string{`m.yaml:21: menus.main.nodes.orphan: no path from start "greet" reaches this node`},
		},
		{
			name: "loop with no input",
			src: goodMenu + `      a:
        type: play
        prompt: [hello]
        next: b
      b:
        type: set
        next: a
`,
			want: []string{"m.yaml:21: menus.main.nodes.a: loop with no input: a → b → a", "m.yaml:21: menus.main.nodes.a: no path from start", "m.yaml:25: menus.main.nodes.b: no path"},
		},
		{
			name: "unknown field (strict decoding)",
			src:  strings.Replace(goodMenu, "queue: claims", "queue: claims\n        queu: x", 1),
			want: []string{`m.yaml:17:`},
		},
		{
			name: "unknown DID menu, bad key, missing start",
			src: strings.NewReplacer(`"100": main`, `"100": mian`, `"2": bye`, `"x": bye`,
				"start: greet", "start: nowhere").Replace(goodMenu),
			want: []string{
				`m.yaml:5: dids.100: unknown menu "mian"`,
				`m.yaml:8: menus.main.start: unknown node "nowhere"`,
				`m.yaml:13: menus.main.nodes.greet.options.x: "x" is not a key`,
			},
		},
		{
			name: "collect mistakes",
			src: strings.Replace(goodMenu, `"1": claims`, `"1": num`, 1) + `      num:
        type: collect
        prompt: [menu]
        field: number
        validator: isbn
        min: 5
        max: 3
        next: claims
`,
			want: []string{
				"m.yaml:26: menus.main.nodes.num.max: must be between min",
				`m.yaml:24: menus.main.nodes.num.validator: unknown validator "isbn"`,
			},
		},
		{
			name: "wrong field for the type",
			src:  strings.Replace(goodMenu, "queue: claims", "queue: claims\n        options: {\"1\": bye}", 1),
			want: []string{"m.yaml:17: menus.main.nodes.claims.options: does not apply to a queue node"},
		},
		{
			name: "no timeout or invalid prompt anywhere",
			src:  strings.Replace(goodMenu, "defaults: {timeout_prompt: hello, invalid_prompt: menu}\n", "", 1),
			want: []string{
				"m.yaml:10: menus.main.nodes.greet.timeout_prompt: missing",
				"m.yaml:10: menus.main.nodes.greet.invalid_prompt: missing",
			},
		},
		{
			name: "syntax error",
			src:  "menus: [\n",
			want: []string{"m.yaml:"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadTest(tc.src, tc.opts...)
			if err == nil {
				t.Fatal("loaded; want errors")
			}
			errs := yamlErrors(t, err)
			text := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, e := range errs {
				if e.File != "m.yaml" {
					t.Errorf("error without file: %v", e)
				}
			}
		})
	}
}

func TestLoadReportsEveryMistake(t *testing.T) {
	src := strings.NewReplacer("queue: claims", "queue: nope", "[bye]", "[ciao]", `"2": bye`, `"2": gone`).Replace(goodMenu)
	_, err := loadTest(src)
	if n := len(yamlErrors(t, err)); n < 4 { // queue, prompt, unknown node, unreachable bye
		t.Errorf("%d errors, want ≥ 4:\n%v", n, err)
	}
}

func TestLoadFileMissing(t *testing.T) {
	if _, err := ivr.LoadFile(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestDefaultCenterAgainstQueues(t *testing.T) {
	queues := []string{"general", "tracking", "claims", "international", "business", "business_claims", "payouts", "social"}
	m, err := ivr.LoadDefault(ivr.WithQueues(queues...))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := m.MenuFor("8800"); !ok || id != "postal" {
		t.Errorf("8800 → %q", id)
	}
	if _, err := ivr.LoadDefault(ivr.WithQueues("general")); err == nil {
		t.Error("default center loaded with only the general queue")
	}
}

func TestLoadRefusesAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9)+fmt.Sprintf("*a%d", i-1))
	}
	b.WriteString(goodMenu)
	_, err := loadTest(b.String())
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("err = %v, want the alias bomb refused", err)
	}
	// Plain aliases, as an operator might use them, still load.
	src := strings.Replace(goodMenu, "prompt: [bye]", "prompt: &p [bye]", 1) + "      bye2:\n        type: hangup\n        prompt: *p\n"
	src = strings.Replace(src, `"2": bye}`, `"2": bye, "3": bye2}`, 1)
	if _, err := loadTest(src); err != nil {
		t.Fatalf("aliases: %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodMenu))
	f.Add(ivr.DefaultCenter)
	f.Add([]byte("menus: {a: {start: x, nodes: {x: {type: play, next: x, prompt: [hello]}}}}"))
	f.Add([]byte("menus:\n  a:\n    nodes:\n      b: ~\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := loadTest(string(data))
		if err == nil && m == nil {
			t.Fatal("nil menus without error")
		}
		if err != nil {
			_ = err.Error()
		}
	})
}
