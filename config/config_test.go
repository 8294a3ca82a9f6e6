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
		{"bad web edges", "ari:\n  password: s\n  request_timeout: 0s\nweb:\n  ops_listen: nowhere\n  max_conns_per_ip: 0\n  idle_timeout: 0s\n  hosts: [\"h:80\"]\n",
			[]string{":3: ari.request_timeout:", ":5: web.ops_listen:", ":6: web.max_conns_per_ip:", ":7: web.idle_timeout:", "web.hosts[0]"}},
		{"old supervisor hash", "ari:\n  password: s\nweb:\n  supervisor_password_hash: $2a$10$x\n", []string{":4: web.supervisor_password_hash:", "center file"}},
		{"dial endpoint injection", "ari:\n  password: s\n  callback_endpoint: PJSIP/%s@trunk&Local/666@evil\n  transfer_context: \"x,1\"\n",
			[]string{":3: ari.callback_endpoint:", ":4: ari.transfer_context:"}},
		{"dial endpoint without the number", "ari:\n  password: s\n  callback_endpoint: PJSIP/trunk\n", []string{":3: ari.callback_endpoint:"}},
		{"dial endpoint with a second verb", "ari:\n  password: s\n  callback_endpoint: PJSIP/%s@%d\n", []string{":3: ari.callback_endpoint:"}},
		{"every mistake at once", "ari:\n  password: s\n  ring_timeout: soon\n  pasword: x\nweb:\n  max_conns_per_ip: 0\n  listen: [8080]\n",
			[]string{":3: ari.ring_timeout", ":4: ari.pasword: unknown field", ":6: web.max_conns_per_ip:", ":7: web.listen: must be text"}},
		{"negative recording retention", "ari:\n  password: s\nrecords:\n  recording_retention_days: -1\n", []string{":4: records.recording_retention_days: must be 0"}},
		{"a crew on real lines", "ari:\n  password: s\nsimulator:\n  crew: 5\n", []string{":4: simulator.crew:"}},
		{"bad trusted proxy", "ari:\n  password: s\nweb:\n  trusted_proxies: [10.0.0.0/8, proxy.local]\n", []string{":4: web.trusted_proxies[1]:"}},
		{"bad account limits", "ari:\n  password: s\naccounts:\n  max_failures: 0\n  session_idle: 24h\n  session_recheck: 0s\n",
			[]string{":4: accounts.max_failures:", ":5: accounts.session_idle: 24h0m0s is longer than session_lifetime", ":6: accounts.session_recheck:"}},
		{"fewer failures everywhere than from one address", "ari:\n  password: s\naccounts:\n  max_failures: 10\n  max_failures_total: 5\n",
			[]string{":5: accounts.max_failures_total: 5: must be max_failures (10) to 100000"}},
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
	t.Setenv("HOTLINE_RECORDS_RECORDING_RETENTION_DAYS", "30")
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Records.RecordingRetentionDays != 30 {
		t.Errorf("recording retention %d days, want 30 from the environment", cfg.Records.RecordingRetentionDays)
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

// TestWarningsOps: metrics and health on the pages' listener, reachable from other machines,
// load but check-config warns; on loopback, or on a listener of their own, it does not.
func TestWarningsOps(t *testing.T) {
	for _, tc := range []struct {
		listen, ops string
		warn        bool
	}{
		{"127.0.0.1:8080", "", false},
		{"localhost:8080", "", false},
		{"[::1]:8080", "", false},
		{"0.0.0.0:8443", "", true},
		{":8443", "", true},
		{"hotline.example.org:8443", "", true},
		{"0.0.0.0:8443", "10.0.0.4:9090", false},
	} {
		cfg := Default()
		cfg.Web.Listen, cfg.Web.OpsListen = tc.listen, tc.ops
		w := cfg.Warnings()
		if got := len(w) == 1 && strings.Contains(w[0], "web.ops_listen"); got != tc.warn || (!tc.warn && len(w) != 0) {
			t.Errorf("listen %q, ops_listen %q: warnings %q, want the ops warning: %v", tc.listen, tc.ops, w, tc.warn)
		}
	}
}

// TestDialingRules: the dialling section's defaults (no premium, no international), its errors at
// their lines, and the rules it makes.
func TestDialingRules(t *testing.T) {
	cfg, err := Load(writeFile(t, "ari:\n  password: s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Dialing.Rules().Check("88095550100"); err == nil {
		t.Error("the default rules dial a premium-rate number")
	}
	if _, err := cfg.Dialing.Rules().Check("+49301234567"); err == nil {
		t.Error("the default rules dial abroad")
	}
	if n, err := cfg.Dialing.Rules().Check("8 916 123-45-67"); err != nil || n.Canonical != "+79161234567" {
		t.Errorf("the default rules refuse a mobile number: %v %v", n, err)
	}

	p := writeFile(t, "ari:\n  password: s\ndialing:\n  classes: [mobile, premium_rate]\n  allow_prefixes:\n    - \"+375\"\n    - \"+7 809\"\n  deny_prefixes: [x]\n  extension_length: 9\n")
	_, err = Load(p)
	for _, w := range []string{":4: dialing.classes[1]", ":7: dialing.allow_prefixes[1]", ":8: dialing.deny_prefixes[0]", ":9: dialing.extension_length"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}

	// Extensions with no PBX route: refused at start, naming the line, rather than sent to the carrier.
	_, err = Load(writeFile(t, "ari:\n  password: s\ndialing:\n  extension_length: 4\n"))
	if err == nil || !strings.Contains(err.Error(), ":4: dialing.extension_length: 4 needs ari.internal_endpoint") {
		t.Errorf("extensions without ari.internal_endpoint: %v", err)
	}
	_, err = Load(writeFile(t, "ari:\n  password: s\n  internal_endpoint: PJSIP/%s@pbx,60\n"))
	if err == nil || !strings.Contains(err.Error(), ":3: ari.internal_endpoint") {
		t.Errorf("an internal endpoint with a comma: %v", err)
	}

	cfg, err = Load(writeFile(t, "ari:\n  password: s\n  internal_endpoint: PJSIP/%s@pbx\ndialing:\n  classes: [mobile, international]\n  deny_prefixes: [\"+88216\"]\n  extension_length: 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Dialing.Rules()
	if _, err := r.Check("+49301234567"); err != nil {
		t.Errorf("international allowed, yet: %v", err)
	}
	if _, err := r.Check("+88216000000"); err == nil {
		t.Error("a denied prefix was allowed")
	}
	if _, err := r.Check("84951234567"); err == nil {
		t.Error("geographic not among the classes, yet allowed")
	}
	if _, err := r.Check("2345"); err == nil {
		t.Error("internal not among the classes, yet allowed")
	}
}

// TestSetAsideFieldReportedOnce: a field of the wrong type is reported by the decoder, and the check
// that it is set is not made on top ("ari.password: is empty" would send the operator astray).
func TestSetAsideFieldReportedOnce(t *testing.T) {
	_, err := Load(writeFile(t, "ari:\n  password: [secret]\n"))
	if err == nil || !strings.Contains(err.Error(), ":2: ari.password: must be text") || strings.Contains(err.Error(), "is empty") {
		t.Fatalf("err = %v", err)
	}
}
