package browsertest

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// envInside marks the re-executed test binary that runs inside the namespace.
const envInside = "HOTLINE_BROWSERTEST_NETNS"

// InsideNetNS reports whether this process is the re-executed test in a loopback-only namespace.
func InsideNetNS() bool { return os.Getenv(envInside) == "1" }

// RunInNetNS runs body in a fresh network namespace that has only loopback (up). The first call,
// in the normal test process, re-executes the test binary with -test.run matching exactly this test
// under CLONE_NEWNET and reports its output; in that child, RunInNetNS brings lo up and runs body.
// It skips when not root or when the namespace cannot be made; nothing else in the test should
// run before it (it runs twice: parent and child).
func RunInNetNS(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	if InsideNetNS() {
		if err := loopbackUp(); err != nil {
			t.Fatalf("browsertest: bring lo up: %v", err)
		}
		body(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("browsertest: a network namespace needs root (make test runs as root)")
	}
	if err := netnsSupported(); err != nil {
		t.Skipf("browsertest: no network namespaces here: %v", err)
	}
	args := []string{"-test.run", runPattern(t.Name()), "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout", time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envInside+"=1")
	setNewNetNS(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("in a loopback-only network namespace:\n%s", out.String())
	switch {
	case err != nil:
		t.Fatalf("browsertest: test in network namespace: %v", err)
	case strings.Contains(out.String(), "no tests to run"):
		t.Fatalf("browsertest: -test.run %s matched nothing in the child", runPattern(t.Name()))
	case strings.Contains(out.String(), "--- SKIP: "+t.Name()):
		t.Skip("browsertest: skipped in the network namespace (see log)")
	}
}

// runPattern matches exactly the test (and its parents, for a subtest).
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
