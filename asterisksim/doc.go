// Package asterisksim simulates the part of Asterisk 22 that hotline drives: ARI over HTTP and the
// /ari/events WebSocket with Asterisk's JSON shapes and event order, a small dialplan interpreter
// (asterisk-config/extensions.conf), scriptable callers, timed media (playbacks, MOH, mixing and
// holding bridges, snoop) and real RTP for externalMedia.
//
// Ground truth is shared/ari-transcripts (sessions recorded from Asterisk 22.10.1); the
// conformance test replays them against the simulator (and, through internal/aritest, against a
// real Asterisk when one is configured).
//
// Placing a caller and checking what it hears:
//
//	sim, _ := asterisksim.New(asterisksim.Config{User: "hotline", Password: "hotline", TimeScale: 0.05})
//	defer sim.Close()
//	http.Handle("/ari/", sim)
//	c, _ := sim.Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161234567",
//		Script: []asterisksim.Step{asterisksim.Pause(2 * time.Second), asterisksim.Press("1"),
//			asterisksim.SendTone(440), asterisksim.Hold()}})
//	// the controller gets StasisStart for c.ChannelID(), answers, plays, bridges...
//	media.ToneDominance(c.Heard(200*time.Millisecond), 425, 8000)
//
// Known differences from Asterisk are listed in README.md beside this file.
package asterisksim
