package asteriskconfig

import (
	_ "embed"
	"regexp"
	"sort"
	"strings"
	"testing"
)

//go:embed modules.conf
var modulesConf string

// dialplanProviders names the module that provides each application and function the shipped
// dialplan may use ("" for what Asterisk's core has built in). A name missing here fails the test
// below: add it with its module, and load that module in modules.conf.
var dialplanProviders = map[string]string{
	// applications
	"Answer": "", "Goto": "", "GotoIf": "", "Hangup": "", "NoOp": "", "Set": "", "Wait": "",
	"Dial": "app_dial", "Playback": "app_playback", "Stasis": "app_stasis", "Log": "app_verbose",
	// functions
	"CHANNEL": "func_channel", "CALLERID": "func_callerid", "GROUP": "func_groupcount",
	"GROUP_COUNT": "func_groupcount", "GLOBAL": "func_global",
}

var (
	dialplanApp  = regexp.MustCompile(`^(?:exten\s*=>\s*[^,]+,|same\s*=>)\s*[^,]+,\s*([A-Za-z]+)\(`)
	dialplanFunc = regexp.MustCompile(`(?:\$\{|Set\()([A-Z_]+)\(`)
)

// TestDialplanModulesLoaded: every application and function extensions.conf uses comes from a
// module that modules.conf loads (autoload is off). Asterisk starts cleanly without one, and a
// call then fails only when it reaches that line: a Set(GLOBAL(...)) without func_global logs a
// warning and sets nothing, which the simulator, knowing no modules, never shows.
func TestDialplanModulesLoaded(t *testing.T) {
	loaded := map[string]bool{}
	for _, line := range strings.Split(modulesConf, "\n") {
		line, _, _ = strings.Cut(line, ";")
		if mod, ok := strings.CutPrefix(strings.TrimSpace(line), "load =>"); ok {
			loaded[strings.TrimSuffix(strings.TrimSpace(mod), ".so")] = true
		}
	}
	if len(loaded) == 0 {
		t.Fatal("modules.conf loads nothing")
	}
	used := map[string]bool{}
	for _, line := range strings.Split(string(Extensions), "\n") {
		line, _, _ = strings.Cut(line, ";")
		line = strings.TrimSpace(line)
		if m := dialplanApp.FindStringSubmatch(line); m != nil {
			used[m[1]] = true
		}
		for _, m := range dialplanFunc.FindAllStringSubmatch(line, -1) {
			used[m[1]] = true
		}
	}
	for _, want := range []string{"Stasis", "GotoIf", "GROUP_COUNT", "GLOBAL"} {
		if !used[want] {
			t.Errorf("found no %s in extensions.conf: the scan is broken", want)
		}
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		mod, known := dialplanProviders[name]
		switch {
		case !known:
			t.Errorf("extensions.conf uses %s: add it to dialplanProviders with its module", name)
		case mod != "" && !loaded[mod]:
			t.Errorf("extensions.conf uses %s, from %s, which modules.conf does not load", name, mod)
		}
	}
}
