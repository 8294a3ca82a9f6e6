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
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("ari:\n  password: x\nweb:\n  listen: nowhere\n"), 0o600)
	err := checkConfig([]string{bad})
	if err == nil || !strings.Contains(err.Error(), bad+":4: web.listen") {
		t.Fatalf("bad config error = %v", err)
	}
}
