// Package softphone is hotline's browser softphone: a pion WebRTC gateway that relays each answered
// call's RTP between Asterisk's externalMedia and the agent's browser, the agent's web page (embedded,
// no build step) and the WebSocket signaling that carries the page's actions and the controller's
// pushes.
//
// The agent's PeerConnection lives for the whole shift: answering a call opens a [Leg] (one UDP
// socket that Asterisk's externalMedia talks to) and the gateway splices that leg's audio into the
// existing PeerConnection, so answering costs no ICE negotiation. Audio is PCMU both ways and is
// never transcoded; only RTP headers are rewritten so that each side sees one continuous stream.
//
// # Wiring
//
//	gw, err := softphone.NewGateway(softphone.GatewayConfig{ICEAddr: ..., RTPHost: ..., Registerer: prometheus.DefaultRegisterer}, log)
//	web := softphone.NewServer(gw, desk, softphone.ServerConfig{}, log)
//	mux.Handle("/agent/", web)
//
// The controller (switchboard) implements [Desk], which is what the page's buttons do, and calls
// [Server.Notify] to push what happens: [Ringing] (with the screen pop), [Connected], [Held],
// [Resumed], [Muted], [Unmuted], [Consulting], [Ended], [StateChanged], [WrapUpStarted],
// [WrapUpEnded].
//
// # A call's audio, as the controller drives it
//
//	leg, err := gw.OpenLeg(agentID, callID)       // in Desk.Answer
//	// ARI: POST /channels/externalMedia?app=hotline&external_host=<leg.LocalAddr()>&format=ulaw
//	// ARI: GET the channel's UNICASTRTP_LOCAL_ADDRESS and UNICASTRTP_LOCAL_PORT variables
//	leg.SetRemote(netip.AddrPortFrom(addr, port)) // the leg takes RTP from that address only,
//	                                              // and none before
//	// ARI: add the externalMedia channel to the caller's bridge; web.Notify(agentID, softphone.Connected(callID, &info))
//	...
//	leg.Close()                                   // when the call ends for the agent
//
// # Measurements
//
// Per leg and direction the gateway counts RTP packets, losses and jitter
// (hotline_softphone_rtp_packets_total, _rtp_lost_packets_total, _rtp_jitter_seconds), and the
// time from the leg's opening to its first packet (_leg_first_packet_seconds). The page measures
// answer-to-audio, from the agent's answer (click, key or auto-answer) to the caller's first sound
// in its audio element, and sends it once per call ("call.audio", [AudioReport]); the gateway
// records the later of that and the browser's first packet at the leg in
// hotline_softphone_answer_to_audio_seconds and logs both ([Leg.StartTiming]).
//
// The browser's audio usually skips pion's inbound chain: the gateway, as the DTLS server, derives
// the browser's SRTP keys and decrypts its RTP in the ICE socket's reader (fastpath.go), with a
// replay window per SSRC; until its first packet decrypts, pion relays. [Gateway.FastPathPackets]
// counts what took the fast path; hotline_softphone_rtp_dropped_packets_total counts by reason
// what was refused: replayed, undecryptable, slow_path, wrong_source (a leg's packet from another
// address than Asterisk's).
//
// [GatewayConfig.ICENetworks] limits which of a page's ICE candidates the gateway checks, and
// [GatewayConfig.TURN] gives each agent's page TURN credentials of its own ([TURNREST]).
//
// One agent, one active leg: the browser's audio goes to the agent's newest open leg, and only that
// leg's audio reaches the browser. An attended transfer keeps one leg and moves the externalMedia
// channel between bridges in Asterisk.
package softphone
