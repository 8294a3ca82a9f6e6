package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSoftphoneDefaults(t *testing.T) {
	cfg, err := Load(writeFile(t, "ari:\n  password: s\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Softphone
	if !slices.Equal(s.ICENetworks, PrivateNetworks()) || len(s.ICENetworkPrefixes()) != len(PrivateNetworks()) {
		t.Errorf("ice_networks = %v, want the private networks", s.ICENetworks)
	}
	if s.TURN.TTL.D() != 24*time.Hour || s.TURN.Secret != "" {
		t.Errorf("turn = %+v", s.TURN)
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("warnings for the defaults: %q", w)
	}
}

// TestSoftphoneErrors: ICE networks and TURN settings are checked, each error at its line.
func TestSoftphoneErrors(t *testing.T) {
	const head = "ari:\n  password: s\nsoftphone:\n"
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"bad networks", "  ice_networks:\n    - 10.0.0.0/8\n    - nope\n    - 10.1.2.3/8\n",
			[]string{":6: softphone.ice_networks[1]:", ":7: softphone.ice_networks[2]:", "did you mean 10.0.0.0/8"}},
		{"no networks", "  ice_networks: []\n", []string{":4: softphone.ice_networks: is empty"}},
		{"turn secret short, url not turn", "  turn:\n    urls: [stun:x.example:3478]\n    secret: short\n",
			[]string{":5: softphone.turn.urls[0]:", ":6: softphone.turn.secret:"}},
		{"turn secret without urls", "  turn:\n    secret: a-long-enough-secret\n", []string{"softphone.turn.urls: needs"}},
		{"turn ttl", "  turn:\n    urls: [turn:x.example:3478]\n    secret: a-long-enough-secret\n    ttl: 10s\n",
			[]string{":7: softphone.turn.ttl:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, head+tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSoftphoneEnvAndWarnings(t *testing.T) {
	p := writeFile(t, `ari:
  password: s
softphone:
  public_ips: [203.0.113.7]
  ice_servers:
    - urls: ["turn:turn.example.net:3478"]
      username: everyone
      credential: same-for-all
  turn:
    urls: ["turns:turn.example.net:5349"]
`)
	t.Setenv("HOTLINE_SOFTPHONE_TURN_SECRET", "from-the-environment")
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Softphone.TURN.Secret != "from-the-environment" {
		t.Errorf("turn secret %q, want the environment's", cfg.Softphone.TURN.Secret)
	}
	w := strings.Join(cfg.Softphone.Warnings(), "\n")
	for _, want := range []string{"softphone.ice_servers[0]: a static TURN credential", "softphone.public_ips is set"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}

	t.Setenv("HOTLINE_SOFTPHONE_ICE_NETWORKS", "0.0.0.0/0, 10.1.0.0/16")
	cfg, err = Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Softphone.ICENetworkPrefixes(); len(got) != 2 || got[1].String() != "10.1.0.0/16" {
		t.Errorf("ice networks from the environment: %v", got)
	}
	w = strings.Join(cfg.Softphone.Warnings(), "\n")
	if !strings.Contains(w, "a /0 network") || strings.Contains(w, "public_ips is set") {
		t.Errorf("warnings %q: want the /0 one, not the public_ips one", w)
	}
}
