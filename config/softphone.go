package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// PrivateNetworks are where agents' browsers are by default: the private IPv4 ranges (RFC 1918),
// shared address space (RFC 6598: carrier NAT, and VPNs such as Tailscale), loopback, and IPv6
// unique-local and loopback. A browser on the internet reaches the gateway from a public address
// (its server-reflexive candidate, or its TURN relay's), which must be listed to be checked.
func PrivateNetworks() []string {
	return []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "fc00::/7", "::1/128"}
}

// TURN is a TURN server whose credentials hotline makes for each agent (coturn's use-auth-secret
// with static-auth-secret): they name the agent and expire.
type TURN struct {
	URLs []string `yaml:"urls"`
	// Secret is coturn's static-auth-secret; better from HOTLINE_SOFTPHONE_TURN_SECRET.
	Secret string `yaml:"secret"`
	// TTL is how long a credential lasts: longer than a shift, for the agent's PeerConnection
	// refreshes its allocation with the credential it started with.
	TTL Duration `yaml:"ttl"`
}

const (
	minTURNSecret = 16
	minTURNTTL    = time.Minute
)

// ICENetworkPrefixes returns ICENetworks parsed; validate has checked them.
func (s Softphone) ICENetworkPrefixes() []netip.Prefix {
	var ps []netip.Prefix
	for _, n := range s.ICENetworks {
		if p, err := netip.ParsePrefix(strings.TrimSpace(n)); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

func (s Softphone) validate(bad func(field, format string, args ...any)) {
	if len(s.ICENetworks) == 0 {
		bad("softphone.ice_networks", "is empty: list the networks agents' browsers are in (0.0.0.0/0 for anywhere)")
	}
	for i, n := range s.ICENetworks {
		field := fmt.Sprintf("softphone.ice_networks[%d]", i)
		p, err := netip.ParsePrefix(strings.TrimSpace(n))
		switch {
		case err != nil:
			bad(field, "%q is not a network such as 10.20.0.0/16", n)
		case p != p.Masked():
			bad(field, "%q has host bits set: did you mean %s?", n, p.Masked())
		}
	}
	t := s.TURN
	if t.Secret == "" && len(t.URLs) == 0 {
		return
	}
	if len(t.URLs) == 0 {
		bad("softphone.turn.urls", "needs at least one turn: or turns: URL when a secret is set")
	}
	for i, u := range t.URLs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			bad(fmt.Sprintf("softphone.turn.urls[%d]", i), "%q is not a turn: or turns: URL", u)
		}
	}
	if len(t.Secret) < minTURNSecret {
		bad("softphone.turn.secret", "needs at least %d characters (coturn's static-auth-secret; HOTLINE_SOFTPHONE_TURN_SECRET)", minTURNSecret)
	}
	if t.TTL.D() < minTURNTTL {
		bad("softphone.turn.ttl", "%v is too short: at least %v, and longer than a shift", t.TTL.D(), minTURNTTL)
	}
}

// Warnings are what check-config reports in the softphone's config that works but should not be
// left so.
func (s Softphone) Warnings() []string {
	var w []string
	for i, srv := range s.ICEServers {
		if srv.Username == "" && srv.Credential == "" {
			continue
		}
		for _, u := range srv.URLs {
			if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
				w = append(w, fmt.Sprintf("softphone.ice_servers[%d]: a static TURN credential goes to every agent's page and never expires; prefer softphone.turn (credentials per agent, expiring)", i))
				break
			}
		}
	}
	any, public := false, false
	for _, p := range s.ICENetworkPrefixes() {
		if p.Bits() == 0 {
			any = true
		}
		if !p.Addr().IsPrivate() && !p.Addr().IsLoopback() && !isShared(p) {
			public = true
		}
	}
	if any {
		w = append(w, "softphone.ice_networks: a /0 network lets any page make the gateway send connectivity checks to any address; list the agents' networks instead")
	}
	if len(s.PublicIPs) > 0 && !public {
		w = append(w, "softphone.ice_networks: only private networks, yet softphone.public_ips is set: browsers reaching the gateway from the internet are outside ice_networks and cannot connect")
	}
	return w
}

// isShared reports whether p is within RFC 6598's shared address space.
func isShared(p netip.Prefix) bool {
	return netip.MustParsePrefix("100.64.0.0/10").Contains(p.Addr()) && p.Bits() >= 10
}
