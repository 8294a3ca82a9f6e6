package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	if err := checkConfig([]string{"../../hotline.example.yaml"}); err != nil {
		t.Fatalf("the example config does not check: %v", err)
	}
	dir := t.TempDir()
	menus := filepath.Join(dir, "menus.yaml")
	os.WriteFile(menus, []byte("default_lang: ru\nlangs: [ru]\nqueues: [general]\ndids: {\"8800\": m}\nmenus:\n  m:\n    start: a\n    nodes:\n      a: {type: queue, queue: nowhere}\n"), 0o600)
	withMenus := filepath.Join(dir, "with-menus.yaml")
	os.WriteFile(withMenus, []byte("ari:\n  password: x\nivr:\n  menus: "+menus+"\n"), 0o600)
	if err := checkConfig([]string{withMenus}); err == nil || !strings.Contains(err.Error(), menus+":") {
		t.Fatalf("a bad menu file named by the config: %v, want its errors", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("ari:\n  password: x\nweb:\n  listen: nowhere\n"), 0o600)
	err := checkConfig([]string{bad})
	if err == nil || !strings.Contains(err.Error(), bad+":4: web.listen") {
		t.Fatalf("bad config error = %v", err)
	}
}
