package asterisksim

import (
	"slices"
	"testing"
)

// TestSeparateArgs: play's media query parameter splits as ast_app_separate_args splits.
func TestSeparateArgs(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                    {""},
		"sound:a":                             {"sound:a"},
		"sound:a,number:42":                   {"sound:a", "number:42"},
		"a,":                                  {"a", ""},
		"a,,b":                                {"a", "", "b"},
		`sound:"a,b",c`:                       {"sound:a,b", "c"},
		`sound:a\,b,c`:                        {"sound:a,b", "c"},
		"tone:(440,480),b":                    {"tone:(440,480)", "b"},
		"x[1,2],y":                            {"x[1,2]", "y"},
		" sound:a , sound:b":                  {" sound:a ", " sound:b"},
		"sound:hello-world,digits/1,digits:7": {"sound:hello-world", "digits/1", "digits:7"},
	} {
		if got := separateArgs(in); !slices.Equal(got, want) {
			t.Errorf("separateArgs(%q) = %q, want %q", in, got, want)
		}
	}
}
