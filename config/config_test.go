package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadGood(t *testing.T) {
	p := writeFile(t, `center: moscow
ari:
  url: http://10.0.0.5:8088/ari
  password: secret
  ring_timeout: 15s
redis:
  addr: 10.0.0.6:6379
softphone:
  public_ips: [203.0.113.7]
`)
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Center != "moscow" || cfg.ARI.RingTimeout.D() != 15*time.Second || cfg.ARI.App != "hotline" {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg.Softphone.PublicIPs[0] != "203.0.113.7" {
		t.Errorf("public ips = %v", cfg.Softphone.PublicIPs)
	}
}

func TestLoadErrorsNameFileLineField(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"unknown field", "center: x\nari:\n  pasword: s\n", []string{":3:", "pasword"}},
		{"bad duration", "ari:\n  password: s\n  ring_timeout: soon\n", []string{":3:", "ari.ring_timeout", "not a duration"}},
		{"bad url", "ari:\n  url: ftp://x\n  password: s\n", []string{":2: ari.url:"}},
		{"missing password", "center: x\n", []string{"ari.password: is empty"}},
		{"two at once", "ari:\n  password: s\nredis:\n  addr: nowhere\nweb:\n  listen: 8080\n", []string{":4: redis.addr:", ":6: web.listen:"}},
		{"bad list item", "ari:\n  password: s\nsoftphone:\n  public_ips:\n    - 1.2.3.4\n    - nope\n", []string{":6: softphone.public_ips[1]:"}},
		{"syntax", "ari: [\n", []string{"hotline.yaml"}},
		{"old supervisor hash", "ari:\n  password: s\nweb:\n  supervisor_password_hash: $2a$10$x\n", []string{":4: web.supervisor_password_hash:", "center file"}},
		{"bad trusted proxy", "ari:\n  password: s\nweb:\n  trusted_proxies: [10.0.0.0/8, proxy.local]\n", []string{":4: web.trusted_proxies[1]:"}},
		{"bad account limits", "ari:\n  password: s\naccounts:\n  max_failures: 0\n  session_idle: 24h\n  session_recheck: 0s\n",
			[]string{":4: accounts.max_failures:", ":5: accounts.session_idle: 24h0m0s is longer than session_lifetime", ":6: accounts.session_recheck:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.body)
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	p := writeFile(t, "ari:\n  password: fromfile\n")
	t.Setenv("HOTLINE_ARI_PASSWORD", "fromenv")
	t.Setenv("HOTLINE_REDIS_ADDR", "127.0.0.1:7000")
	t.Setenv("HOTLINE_SOFTPHONE_PUBLIC_IPS", "198.51.100.1, 198.51.100.2")
	t.Setenv("HOTLINE_ARI_RING_TIMEOUT", "7s")
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ARI.Password != "fromenv" || cfg.Redis.Addr != "127.0.0.1:7000" || len(cfg.Softphone.PublicIPs) != 2 || cfg.ARI.RingTimeout.D() != 7*time.Second {
		t.Errorf("cfg = %+v", cfg)
	}
	t.Setenv("HOTLINE_ARI_RING_TIMEOUT", "later")
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "HOTLINE_ARI_RING_TIMEOUT") {
		t.Errorf("bad env value error = %v", err)
	}
}

func TestEnvNames(t *testing.T) {
	names := strings.Join(EnvNames(), " ")
	for _, w := range []string{"HOTLINE_ARI_PASSWORD", "HOTLINE_REDIS_ADDR", "HOTLINE_WEB_LISTEN", "HOTLINE_SIMULATOR_TIME_SCALE"} {
		if !strings.Contains(names, w) {
			t.Errorf("EnvNames lacks %s", w)
		}
	}
}
