package server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/config"
)

// The demo center's agents' hash (acd/default-center.yaml).
const demoHash = "$2a$10$/hKlOAVvsmkdJm7nVxjlZe660psrxYLur3Yi24wVaEcnAnD.RF1ym"

func hashOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// TestUnsafeDemoPasswords: an agent's or a supervisor's hash in the center file made from the
// published demo password is refused at its line (issue 10, finding 1), each occurrence reported;
// other hashes pass.
func TestUnsafeDemoPasswords(t *testing.T) {
	dir := t.TempDir()
	own := hashOf(t, "not the demo one")
	center := strings.ReplaceAll(string(acd.DefaultCenter), demoHash, own)
	// The third group (social) keeps the demo password; nothing else does.
	i := strings.Index(center, "    count: 20\n") // the social group's
	j := i + strings.Index(center[i:], own)
	center = center[:j] + demoHash + center[j+len(own):]
	line := 1 + strings.Count(center[:j], "\n")
	// So does the administrator.
	k := strings.Index(center, "role: administrator\n    password_hash: ") + len("role: administrator\n    password_hash: ")
	center = center[:k] + demoHash + center[k+len(own):]
	adminLine := 1 + strings.Count(center[:k], "\n")
	centerFile := filepath.Join(dir, "center.yaml")
	os.WriteFile(centerFile, []byte(center), 0o600)

	cfgFile := filepath.Join(dir, "hotline.yaml")
	os.WriteFile(cfgFile, []byte("ari:\n  password: x\nacd:\n  center_file: "+centerFile+"\nivr:\n  lookup_url: http://tracking.internal/api\n"), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	err = Unsafe(cfg)
	want := []string{centerFile + ":" + itoa(line) + ": groups[2].password_hash: is the hash of the published demo password",
		centerFile + ":" + itoa(adminLine) + ": supervisors[1].password_hash: is the hash of the published demo password"}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Unsafe = %v\nwant it to say %q", err, w)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != len(want) {
		t.Errorf("Unsafe reported %d problems, want %d: %v", n, len(want), err)
	}
	if err := Check(cfg); err == nil || !strings.Contains(err.Error(), "groups[2].password_hash") {
		t.Errorf("Check = %v, want the demo password reported", err)
	}

	os.WriteFile(centerFile, []byte(strings.ReplaceAll(center, demoHash, own)), 0o600)
	if err := Unsafe(cfg); err != nil {
		t.Errorf("no demo setting left, yet: %v", err)
	}
	cfg.InsecureDemo = true
	cfg.ACD.CenterFile = ""
	if err := Check(cfg); err != nil {
		t.Errorf("Check with insecure_demo: %v", err)
	}
	if err := Unsafe(cfg); err == nil || !strings.Contains(err.Error(), "acd.center_file") {
		t.Errorf("Unsafe ignores insecure_demo: it should still list the built-in center: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
