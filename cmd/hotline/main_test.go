package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/config"
)

// TestCheckConfig: the example config, as shipped, names the settings it leaves to the operator
// (the center file with its accounts, the lookup backend, the ARI password) at their lines, and
// checks once insecure_demo allows them; a bad menu file (a transfer the dialing rules refuse among
// them) and a bad field are reported with file:line: field.
func TestCheckConfig(t *testing.T) {
	const example = "../../hotline.example.yaml"
	err := checkConfig([]string{example})
	for _, w := range []string{example + ":", "acd.center_file: is empty", example + ":14: ari.password: is the shipped"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("the example config's check = %v, want it to say %q", err, w)
		}
	}
	t.Setenv("HOTLINE_INSECURE_DEMO", "true")
	if err := checkConfig([]string{example}); err != nil {
		t.Fatalf("the example config with insecure_demo does not check: %v", err)
	}
	dir := t.TempDir()
	menus := filepath.Join(dir, "menus.yaml")
	os.WriteFile(menus, []byte("default_lang: ru\nlangs: [ru]\nqueues: [general]\ndids: {\"8800\": m}\nmenus:\n  m:\n    start: a\n    nodes:\n      a: {type: queue, queue: nowhere}\n"), 0o600)
	withMenus := filepath.Join(dir, "with-menus.yaml")
	os.WriteFile(withMenus, []byte("ari:\n  password: x\nivr:\n  menus: "+menus+"\n"), 0o600)
	if err := checkConfig([]string{withMenus}); err == nil || !strings.Contains(err.Error(), menus+":") {
		t.Fatalf("a bad menu file named by the config: %v, want its errors", err)
	}
	// A transfer the dialing rules refuse: refused in the menu file, not when a caller reaches it.
	os.WriteFile(menus, []byte("default_lang: ru\nlangs: [ru]\nqueues: [general]\ndids: {\"8800\": m}\nmenus:\n  m:\n    start: a\n    nodes:\n      a: {type: transfer, number: \"88095550100\"}\n"), 0o600)
	if err := checkConfig([]string{withMenus}); err == nil || !strings.Contains(err.Error(), menus+":9: menus.m.nodes.a.number") || !strings.Contains(err.Error(), "premium") {
		t.Fatalf("a menu transferring to a premium-rate number: %v, want it refused at its line", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("ari:\n  password: x\nweb:\n  listen: nowhere\n"), 0o600)
	err = checkConfig([]string{bad})
	if err == nil || !strings.Contains(err.Error(), bad+":4: web.listen") {
		t.Fatalf("bad config error = %v", err)
	}
}

// TestRunRefusesDemoSettings: `hotline run` stops on every demo setting at once (issue 10,
// finding 1), each at its file, line and field; insecure_demo lets them through.
func TestRunRefusesDemoSettings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	os.WriteFile(p, []byte("ari:\n  simulate: true\nredis:\n  embedded: true\nacd:\n  center_file: \"\"\nivr:\n  lookup_url: \"\"\nrecords:\n  embedded: true\n"), 0o600)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	err = refuseDemo(cfg)
	for _, w := range []string{":2: ari.simulate", ":4: redis.embedded", ":6: acd.center_file", ":8: ivr.lookup_url", ":10: records.embedded", "insecure_demo"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("refusal %v does not say %q", err, w)
		}
	}
	cfg.InsecureDemo = true
	if err := refuseDemo(cfg); err != nil {
		t.Errorf("insecure_demo: %v", err)
	}
}

// TestHashPassword: a piped password's hash, at cost 12 at least, that matches it.
func TestHashPassword(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("correct horse\n")
	w.Close()
	var out, errOut bytes.Buffer
	if err := hashPassword(r, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	h := strings.TrimSpace(out.String())
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost < 12 {
		t.Fatalf("hash %q: cost %d, %v", h, cost, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("correct horse")) != nil {
		t.Fatal("the hash does not match the password")
	}
	if errOut.Len() != 0 {
		t.Errorf("a pipe was prompted: %q", errOut.String())
	}
	if _, err := makeHash(""); err == nil {
		t.Error("an empty password was hashed")
	}
}
