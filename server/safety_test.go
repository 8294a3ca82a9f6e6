package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
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
	os.WriteFile(cfgFile, []byte("ari:\n  password: "+ariPassword+"\nweb:\n  hosts: [hotline.example.org]\nacd:\n  center_file: "+centerFile+"\nivr:\n  lookup_url: http://tracking.internal/api\n"), 0o600)
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

// ariPassword is a password production accepts.
const ariPassword = "pP8sFq2vXk9LmZr4TbW7"

// TestUnsafeSettings: production refuses, each at its line, the shipped ARI password or a short one,
// pages in plain HTTP to other machines, and pages that answer any Host; a config without any of
// them passes. Session cookies are Secure wherever the browser reaches the pages over TLS.
func TestUnsafeSettings(t *testing.T) {
	dir := t.TempDir()
	own := hashOf(t, "not the demo one")
	centerFile := filepath.Join(dir, "center.yaml")
	os.WriteFile(centerFile, []byte(strings.ReplaceAll(string(acd.DefaultCenter), demoHash, own)), 0o600)
	const rest = "acd:\n  center_file: %s\nivr:\n  lookup_url: http://tracking.internal/api\n"
	for _, tc := range []struct {
		name, yaml string
		want       string // "file:line: field" ending; "" for none
		secure     bool   // session cookies marked Secure
	}{
		{"loopback with hosts", "ari:\n  password: " + ariPassword + "\nweb:\n  hosts: [localhost]\n", "", false},
		{"the shipped ARI password", "ari:\n  password: change-me\nweb:\n  hosts: [localhost]\n", ":2: ari.password: is the shipped", false},
		{"a short ARI password", "ari:\n  password: hotline123\nweb:\n  hosts: [localhost]\n", ":2: ari.password: has 10 characters", false},
		{"plain HTTP on every interface", "ari:\n  password: " + ariPassword + "\nweb:\n  listen: 0.0.0.0:8080\n  hosts: [hotline.example.org]\n",
			":4: web.listen: 0.0.0.0:8080 serves the pages over plain HTTP", false},
		{"plain HTTP on a name", "ari:\n  password: " + ariPassword + "\nweb:\n  listen: hotline.example.org:80\n  hosts: [hotline.example.org]\n",
			":4: web.listen", false},
		{"TLS on every interface", "ari:\n  password: " + ariPassword + "\nweb:\n  listen: 0.0.0.0:8443\n  self_signed: true\n  hosts: [hotline.example.org]\n", "", true},
		{"behind a TLS proxy", "ari:\n  password: " + ariPassword + "\nweb:\n  listen: 10.0.0.4:8080\n  trusted_proxies: [10.0.0.2]\n  hosts: [hotline.example.org]\n", "", true},
		{"no hosts", "ari:\n  password: " + ariPassword + "\n", "web.hosts: is empty", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "hotline.yaml")
			os.WriteFile(p, []byte(tc.yaml+fmt.Sprintf(rest, centerFile)), 0o600)
			cfg, err := config.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			err = Unsafe(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Unsafe = %v, want nothing", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || len(err.(interface{ Unwrap() []error }).Unwrap()) != 1):
				t.Errorf("Unsafe = %v, want only %q", err, tc.want)
			}
			if got := secureCookies(cfg.Web); got != tc.secure {
				t.Errorf("secure cookies: %v, want %v", got, tc.secure)
			}
		})
	}
}

// TestDemoPasswordRefusedAtLogin: an operator's center file outside a demo never logs in with the
// published demo password, whatever its hash (here one made anew, which no start-up check
// recognises); as a demo, or on the built-in center, it does.
func TestDemoPasswordRefusedAtLogin(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	center := strings.ReplaceAll(string(acd.DefaultCenter), demoHash, hashOf(t, DemoPassword))
	file := filepath.Join(t.TempDir(), "center.yaml")
	os.WriteFile(file, []byte(center), 0o600)
	model, err := acd.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		centerFile string
		demo       bool
		refused    bool
	}{
		{"an operator's center file", file, false, true},
		{"an operator's center file as a demo", file, true, false},
		{"the built-in center", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.ACD.CenterFile, cfg.InsecureDemo = tc.centerFile, tc.demo
			accounts, err := newAccounts(rdb, "{"+t.Name()+"}:", model, cfg, audit.NewMemory(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, err = accounts.Login(context.Background(), httptest.NewRequest("POST", "/agent/login", nil), account.PageAgent, "p001", DemoPassword)
			if got := errors.Is(err, account.ErrBadCredentials); got != tc.refused || (!tc.refused && err != nil) {
				t.Errorf("login with the demo password: %v, want refused: %v", err, tc.refused)
			}
		})
	}
}
