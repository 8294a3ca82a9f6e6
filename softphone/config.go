package softphone

import (
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
)

// GatewayConfig is how the gateway meets the network.
type GatewayConfig struct {
	// ICEAddr is where the single ICE UDP socket listens, shared by every agent's PeerConnection
	// (one firewall rule). Port 0 picks a free one (tests). The zero value listens on all
	// addresses, port 0.
	ICEAddr netip.AddrPort
	// NAT1To1IPs are public addresses that replace the host candidates' addresses, for a gateway
	// behind a 1:1 NAT (a cloud VM with a floating IP).
	NAT1To1IPs []string
	// ICENetworks are the networks agents' browsers (and the TURN relays they use) may be in: a
	// remote candidate elsewhere is never checked, nor a peer-reflexive one learned from a check
	// from elsewhere, so a page cannot make the gateway send to any address it names. Empty
	// checks every candidate.
	ICENetworks []netip.Prefix
	// ICEServers are STUN/TURN servers sent to the browser; the gateway itself needs none.
	ICEServers []ICEServer
	// TURN, if set, adds a TURN server with credentials made for each agent when their page
	// connects (after login), expiring after its TTL.
	TURN *TURNREST
	// RTPHost is the address legs bind their UDP sockets to, the address Asterisk's externalMedia
	// sends to. Zero means 127.0.0.1 (Asterisk on the same host).
	RTPHost netip.Addr
	// IncludeLoopback offers the loopback address too, beside the host's own: for the demo, whose
	// browser runs on the same machine (and may have no other address).
	IncludeLoopback bool
	// LoopbackOnly keeps only loopback ICE candidates: mDNS off, UDP4 only, loopback included,
	// every other interface filtered out. For tests, whose traffic must stay on loopback.
	LoopbackOnly bool
	// OnAudio, if set, is told when an agent's audio comes up (their PeerConnection connected) and
	// goes away (it failed, dropped, or their page left), so the controller can put the caller on
	// hold music meanwhile. It is called from the gateway's goroutines and must not block.
	OnAudio func(agentID string, up bool)
	// Registerer registers the gateway's metrics; nil registers nothing (tests make many gateways).
	Registerer prometheus.Registerer
}

// ICEServer is a STUN or TURN server as the browser's RTCPeerConnection takes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}
