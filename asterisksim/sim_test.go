package asterisksim_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
)

const wait = 10 * time.Second // deadline for anything the tests wait on

func simTarget(t *testing.T, cfg asterisksim.Config) (*aritest.Target, *aritest.Events) {
	t.Helper()
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 0.05
	}
	tg := aritest.NewSimTarget(t, cfg)
	return tg, tg.Connect(t, aritest.App)
}

func do(t *testing.T, tg *aritest.Target, method, path string, body any, wantStatus int) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	st, raw, err := tg.Do(ctx, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	if st != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, wantStatus, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func chanID(ev map[string]any) string {
	ch, _ := ev["channel"].(map[string]any)
	id, _ := ch["id"].(string)
	return id
}

// TestCallerScenario runs the caller-ivr context on every target: greeting, then keys 2 and 1234#.
func TestCallerScenario(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: 0.05}, func(t *testing.T, tg *aritest.Target) {
		ev := tg.Connect(t, tg.App)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		call, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79161234567", Name: "Ivan", Context: "caller-ivr"})
		if err != nil {
			t.Fatal(err)
		}
		start := ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", call.ChannelID))
		if args, _ := start["args"].([]any); len(args) != 2 || args[0] != "inbound" || args[1] != "8800" {
			t.Fatalf("StasisStart args = %v", start["args"])
		}
		do(t, tg, "POST", "/ari/channels/"+call.ChannelID+"/answer", nil, 204)
		do(t, tg, "POST", "/ari/channels/"+call.ChannelID+"/play?media=sound:hello-world&playbackId=greet", nil, 201)
		ev.WaitFor(t, wait, "PlaybackFinished", func(e map[string]any) bool {
			pb, _ := e["playback"].(map[string]any)
			return e["type"] == "PlaybackFinished" && pb["id"] == "greet" && pb["state"] == "done"
		})
		var keys string
		for keys != "21234#" {
			e := ev.WaitFor(t, wait, "ChannelDtmfReceived", aritest.Type("ChannelDtmfReceived", call.ChannelID))
			keys += e["digit"].(string)
			if d := e["duration_ms"].(float64); d != 120 {
				t.Errorf("duration_ms = %v, want 120", d)
			}
		}
		do(t, tg, "DELETE", "/ari/channels/"+call.ChannelID+"?reason=normal", nil, 204)
		ev.WaitFor(t, wait, "StasisEnd", aritest.Type("StasisEnd", call.ChannelID))
		if call.Sim != nil {
			select {
			case <-call.Sim.Done():
			case <-time.After(wait):
				t.Fatal("caller not gone after hangup")
			}
			if p := call.Sim.Prompts(); len(p) != 1 || p[0] != "sound:hello-world" {
				t.Errorf("Prompts = %v", p)
			}
		}
	})
}

// TestNativeClient drives the simulator with the ari/v5 native client, which sends JSON bodies.
func TestNativeClient(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	cl := native.New(&native.Options{Application: "hotline", URL: tg.ARIURL(), Username: tg.User, Password: tg.Password})
	caller, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Number: "100", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", caller.ChannelID()))
	key := ari.NewKey(ari.ChannelKey, caller.ChannelID())
	if err := cl.Channel().Answer(key); err != nil {
		t.Fatalf("answer: %v", err)
	}
	ev.WaitFor(t, wait, "ChannelStateChange", aritest.Type("ChannelStateChange", caller.ChannelID()))
	if _, err := cl.Channel().Play(key, "pb-native", "sound:beep"); err != nil {
		t.Fatalf("play: %v", err)
	}
	ev.WaitFor(t, wait, "PlaybackStarted", func(e map[string]any) bool {
		pb, _ := e["playback"].(map[string]any)
		return e["type"] == "PlaybackStarted" && pb["id"] == "pb-native"
	})
	br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br-native"), "mixing", "native")
	if err != nil {
		t.Fatalf("bridge create: %v", err)
	}
	if err := br.AddChannel(caller.ChannelID()); err != nil {
		t.Fatalf("addChannel: %v", err)
	}
	ev.WaitFor(t, wait, "ChannelEnteredBridge", aritest.Type("ChannelEnteredBridge", caller.ChannelID()))
	udp := listenUDP(t)
	em, err := cl.Channel().ExternalMedia(nil, ari.ExternalMediaOptions{ChannelID: "em-native", App: "hotline", ExternalHost: udp.LocalAddr().String(), Format: "ulaw", Encapsulation: "rtp", Transport: "udp", Direction: "both"})
	if err != nil {
		t.Fatalf("externalMedia: %v", err)
	}
	port, err := cl.Channel().GetVariable(em.Key(), "UNICASTRTP_LOCAL_PORT")
	if err != nil || port == "" {
		t.Fatalf("UNICASTRTP_LOCAL_PORT = %q, %v", port, err)
	}
	data, err := cl.Channel().Data(ari.NewKey(ari.ChannelKey, "em-native"))
	if err != nil || !strings.HasPrefix(data.Name, "UnicastRTP/") {
		t.Fatalf("channel data: %+v, %v", data, err)
	}
	vars := map[string]string{"HOTLINE_CALL": "c-1"}
	if _, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "Local/agent@agent-sim", App: "hotline", AppArgs: "agent,1001", ChannelID: "agent-native", Variables: vars}); err != nil {
		t.Fatalf("originate: %v", err)
	}
	if v, err := cl.Channel().GetVariable(ari.NewKey(ari.ChannelKey, "agent-native"), "HOTLINE_CALL"); err != nil || v != "c-1" {
		t.Fatalf("originate variables: %q, %v", v, err)
	}
}

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestExternalMediaRTP checks audio both ways by content: the caller's 440 Hz arrives as RTP, and
// 1000 Hz sent as RTP reaches the caller.
func TestExternalMediaRTP(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	caller, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.SendTone(440), asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	id := caller.ChannelID()
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", id))
	do(t, tg, "POST", "/ari/channels/"+id+"/answer", nil, 204)
	udp := listenUDP(t)
	em := do(t, tg, "POST", "/ari/channels/externalMedia", map[string]any{
		"app": "hotline", "channelId": "em-1", "external_host": udp.LocalAddr().String(),
		"format": "ulaw", "encapsulation": "rtp", "transport": "udp", "direction": "both",
	}, 200)
	vars, _ := em["channelvars"].(map[string]any)
	if vars["UNICASTRTP_LOCAL_ADDRESS"] != "127.0.0.1" || vars["UNICASTRTP_LOCAL_PORT"] == "" {
		t.Fatalf("channelvars = %v", vars)
	}
	// The leg joins a bridge once it is in the app, which comes after the reply (as in Asterisk).
	ev.WaitFor(t, wait, "StasisStart em-1", aritest.Type("StasisStart", "em-1"))
	do(t, tg, "POST", "/ari/bridges?type=mixing&bridgeId=b1", nil, 200)
	do(t, tg, "POST", "/ari/bridges/b1/addChannel", map[string]any{"channel": id + ",em-1"}, 204)

	// Caller → RTP: collect 25 packets (0.5 s) and look for 440 Hz.
	var pcm []int16
	var prev []byte
	buf := make([]byte, 1500)
	var simAddr *net.UDPAddr
	for len(pcm) < 25*160 {
		_ = udp.SetReadDeadline(time.Now().Add(wait))
		n, from, err := udp.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no RTP from the simulator: %v", err)
		}
		simAddr = from
		p := buf[:n]
		if n != 172 || p[0] != 0x80 || p[1]&0x7f != 0 {
			t.Fatalf("RTP packet len %d header % x", n, p[:2])
		}
		if prev != nil {
			if binary.BigEndian.Uint16(p[2:])-binary.BigEndian.Uint16(prev[2:]) != 1 ||
				binary.BigEndian.Uint32(p[4:])-binary.BigEndian.Uint32(prev[4:]) != 160 ||
				binary.BigEndian.Uint32(p[8:]) != binary.BigEndian.Uint32(prev[8:]) {
				t.Fatalf("RTP sequence/timestamp/ssrc: prev % x, now % x", prev[:12], p[:12])
			}
		}
		prev = append(prev[:0], p...)
		pcm = media.DecodePCMU(pcm, p[12:])
	}
	if d := media.ToneDominance(pcm[len(pcm)-2000:], 440, 8000); d < 10 {
		t.Fatalf("440 Hz dominance in RTP = %.1f, want >= 10", d)
	}

	// RTP → caller: send 1000 Hz every 20 ms until the caller hears it.
	tone := media.Tone{Freq: 1000, Amplitude: 8000}
	frame := make([]int16, 160)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	var seq uint16
	for {
		tone.Next(frame)
		pkt := make([]byte, 12, 172)
		pkt[0] = 0x80
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		pkt = media.EncodePCMU(pkt, frame)
		if _, err := udp.WriteToUDP(pkt, simAddr); err != nil {
			t.Fatal(err)
		}
		if h := caller.Heard(200 * time.Millisecond); len(h) == 1600 && media.ToneDominance(h, 1000, 8000) > 10 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the caller never heard the 1000 Hz sent over RTP")
		}
	}
}

// TestBridgeAudio checks what callers hear: each other in a mixing bridge, music in a holding
// bridge with MOH, and a tone: playback.
func TestBridgeAudio(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	dial := func(freq float64) *asterisksim.Caller {
		c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.SendTone(freq), asterisksim.Hold()}})
		if err != nil {
			t.Fatal(err)
		}
		ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
		do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/answer", nil, 204)
		return c
	}
	a, b, c := dial(440), dial(700), dial(0)
	do(t, tg, "POST", "/ari/bridges?type=mixing&bridgeId=mix", nil, 200)
	do(t, tg, "POST", "/ari/bridges/mix/addChannel?channel="+a.ChannelID()+","+b.ChannelID(), nil, 204)
	do(t, tg, "POST", "/ari/bridges?type=holding&bridgeId=hold", nil, 200)
	do(t, tg, "POST", "/ari/bridges/hold/addChannel?channel="+c.ChannelID(), nil, 204)
	do(t, tg, "POST", "/ari/bridges/hold/moh?mohClass=default", nil, 204)

	until(t, "A hears B's 700 Hz", func() bool { return dominant(a.Heard(200*time.Millisecond), 700) })
	until(t, "B hears A's 440 Hz", func() bool { return dominant(b.Heard(200*time.Millisecond), 440) })
	until(t, "C hears music on hold", func() bool {
		h := c.Heard(time.Second)
		return len(h) == 8000 && media.Energy(h) > 1e5 && !dominant(h, 440) && !dominant(h, 700)
	})
	do(t, tg, "DELETE", "/ari/bridges/hold/moh", nil, 204)
	do(t, tg, "POST", "/ari/bridges/hold/play?media=tone:1200", nil, 201)
	until(t, "C hears the 1200 Hz bridge playback", func() bool { return dominant(c.Heard(200*time.Millisecond), 1200) })
	if p := c.Prompts(); len(p) != 1 || p[0] != "tone:1200" {
		t.Errorf("Prompts = %v", p)
	}
}

func dominant(pcm []int16, freq float64) bool {
	return len(pcm) >= 800 && media.ToneDominance(pcm, freq, 8000) > 10
}

// until waits for cond, checking every 20 ms (one media frame), failing after the deadline.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// TestEmit sends events the simulator never makes itself; ari/v5 does not know the first two.
func TestEmit(t *testing.T) {
	tests := []map[string]any{
		{"type": "ChannelToneDetected", "channel": map[string]any{"id": "x"}, "application": "hotline"},
		{"type": "ChannelTransfer", "refer_to": map[string]any{}, "application": "hotline"},
		{"type": "ApplicationReplaced", "application": "hotline"},
		{"type": "SomethingNew", "whatever": 1},
	}
	tg, ev := simTarget(t, asterisksim.Config{})
	for _, tc := range tests {
		t.Run(tc["type"].(string), func(t *testing.T) {
			if err := tg.Sim.Emit(tc); err != nil {
				t.Fatal(err)
			}
			ev.WaitFor(t, wait, tc["type"].(string), func(e map[string]any) bool { return e["type"] == tc["type"] })
		})
	}
}

// TestTimeScale: a 20 s prompt at TimeScale 0.01 finishes (done) in a fraction of a second.
func TestTimeScale(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{TimeScale: 0.01, Sounds: map[string]time.Duration{"hotline/long": 20 * time.Second}})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/play?media=sound:hotline/long&playbackId=long", nil, 201)
	e := ev.WaitFor(t, wait, "PlaybackFinished", func(e map[string]any) bool { return e["type"] == "PlaybackFinished" })
	if pb := e["playback"].(map[string]any); pb["state"] != "done" {
		t.Fatalf("playback state %v, want done", pb["state"])
	}
}

// TestPlaybackFailures: a missing sound and a bogus scheme answer 201; the sound fails later.
func TestPlaybackFailures(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/play?media=sound:no-such-sound", nil, 201)
	e := ev.WaitFor(t, wait, "PlaybackFinished", func(e map[string]any) bool { return e["type"] == "PlaybackFinished" })
	if pb := e["playback"].(map[string]any); pb["state"] != "failed" {
		t.Fatalf("state %v, want failed", pb["state"])
	}
}

func TestAuth(t *testing.T) {
	tg, _ := simTarget(t, asterisksim.Config{})
	tests := []struct {
		name       string
		path       string
		user, pass string
		want       int
	}{
		{"basic", "/ari/asterisk/ping", tg.User, tg.Password, 200},
		{"wrong password", "/ari/asterisk/ping", tg.User, "nope", 401},
		{"api_key", "/ari/asterisk/ping?api_key=" + tg.User + ":" + tg.Password, "", "", 200},
		{"bad api_key", "/ari/asterisk/ping?api_key=" + tg.User + ":x", "", "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tg.BaseURL+tc.path, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 401 {
				var body map[string]string
				_ = json.NewDecoder(resp.Body).Decode(&body)
				if body["message"] != "Authentication required" {
					t.Fatalf("body %v", body)
				}
			}
		})
	}
}

// TestBadRequests: malformed input is a 4xx with a message, never a crash.
func TestBadRequests(t *testing.T) {
	tg, _ := simTarget(t, asterisksim.Config{})
	tests := []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/ari/channels", "not an object", 400},
		{"POST", "/ari/channels?endpoint=Local/nowhere@nothing&app=hotline", nil, 500},
		{"POST", "/ari/channels?endpoint=Local/8800@from-pstn&app=hotline&timeout=abc", nil, 400},
		{"POST", "/ari/bridges?type=weird", nil, 400},
		{"POST", "/ari/channels/externalMedia?app=hotline&external_host=127.0.0.1:1&format=slin", nil, 422},
		{"GET", "/ari/nothing-here", nil, 404},
		{"DELETE", "/ari/channels/none?reason=bogus", nil, 404},
		{"GET", "/ari/sounds/no-such-sound", nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			body := do(t, tg, tc.method, tc.path, tc.body, tc.want)
			if body["message"] == nil && body["error"] == nil {
				t.Fatalf("no error message: %v", body)
			}
		})
	}
}

// TestDropConnections: events sockets close, calls stay, a new connection gets new events.
func TestDropConnections(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	tg.Sim.DropConnections()
	for range ev.C { // drains until the socket is closed
	}
	ev2 := tg.Connect(t, tg.App)
	do(t, tg, "GET", "/ari/channels/"+c.ChannelID(), nil, 200)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	ev2.WaitFor(t, wait, "StasisEnd", aritest.Type("StasisEnd", c.ChannelID()))
}

// TestOutbound: PJSIP originate answered or rejected by the scripted far end.
func TestOutbound(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{Outbound: func(endpoint string) asterisksim.Outbound {
		if strings.Contains(endpoint, "busy") {
			return asterisksim.Outbound{AnswerAfter: time.Second, Reject: true}
		}
		return asterisksim.Outbound{AnswerAfter: 2 * time.Second, Tone: 500}
	}})
	do(t, tg, "POST", "/ari/channels?endpoint=PJSIP/1001&app=hotline&appArgs=agent&channelId=out-1", nil, 200)
	start := ev.WaitFor(t, wait, "StasisStart out-1", aritest.Type("StasisStart", "out-1"))
	if start["channel"].(map[string]any)["state"] != "Up" {
		t.Fatalf("answered channel state %v", start["channel"])
	}
	do(t, tg, "POST", "/ari/channels?endpoint=PJSIP/busy&app=hotline&channelId=out-2", nil, 200)
	gone := ev.WaitFor(t, wait, "ChannelDestroyed out-2", aritest.Type("ChannelDestroyed", "out-2"))
	if gone["cause"].(float64) != 17 {
		t.Fatalf("cause %v, want 17", gone["cause"])
	}
}

// TestRecording: a bridge recording writes a WAV of the mix.
func TestRecording(t *testing.T) {
	dir := t.TempDir()
	tg, ev := simTarget(t, asterisksim.Config{RecordingDir: dir})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.SendTone(440), asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/answer", nil, 204)
	do(t, tg, "POST", "/ari/bridges?bridgeId=rec", nil, 200)
	do(t, tg, "POST", "/ari/bridges/rec/addChannel?channel="+c.ChannelID(), nil, 204)
	do(t, tg, "POST", "/ari/bridges/rec/record?name=call-1&format=wav", nil, 201)
	ev.WaitFor(t, wait, "RecordingStarted", func(e map[string]any) bool { return e["type"] == "RecordingStarted" })
	until(t, "some audio recorded", func() bool {
		return len(c.Heard(100*time.Millisecond)) == 800 // the caller is up and audio flows
	})
	do(t, tg, "POST", "/ari/recordings/live/call-1/stop", nil, 204)
	ev.WaitFor(t, wait, "RecordingFinished", func(e map[string]any) bool { return e["type"] == "RecordingFinished" })
	fi, err := os.Stat(filepath.Join(dir, "call-1.wav"))
	if err != nil || fi.Size() <= 44 {
		t.Fatalf("recording file: %v, %v", fi, err)
	}
}

// TestApplicationReplaced: a second connection for the app takes it over; the first is told.
func TestApplicationReplaced(t *testing.T) {
	tg, first := simTarget(t, asterisksim.Config{})
	second := tg.Connect(t, tg.App)
	first.WaitFor(t, wait, "ApplicationReplaced", func(e map[string]any) bool { return e["type"] == "ApplicationReplaced" })
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	second.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
}

// TestSnoopSpy: a spy snoop on the caller, bridged with an externalMedia leg, carries the
// caller's voice as RTP (how a supervisor listens in).
func TestSnoopSpy(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.SendTone(600), asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/answer", nil, 204)
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/snoop?app=hotline&appArgs=snoop,1001&snoopId=spy-1&spy=in", nil, 200)
	ev.WaitFor(t, wait, "StasisStart spy-1", aritest.Type("StasisStart", "spy-1"))
	udp := listenUDP(t)
	do(t, tg, "POST", "/ari/channels/externalMedia?app=hotline&channelId=em-spy&format=ulaw&external_host="+udp.LocalAddr().String(), nil, 200)
	ev.WaitFor(t, wait, "StasisStart em-spy", aritest.Type("StasisStart", "em-spy"))
	do(t, tg, "POST", "/ari/bridges?bridgeId=sup", nil, 200)
	do(t, tg, "POST", "/ari/bridges/sup/addChannel?channel=spy-1,em-spy", nil, 204)
	var pcm []int16
	buf := make([]byte, 1500)
	for {
		_ = udp.SetReadDeadline(time.Now().Add(wait))
		n, _, err := udp.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no RTP: %v", err)
		}
		pcm = media.DecodePCMU(pcm, buf[12:n])
		if len(pcm) >= 1600 && dominant(pcm[len(pcm)-1600:], 600) {
			return
		}
		if len(pcm) > 8000*5 {
			t.Fatal("the supervisor leg never carried the caller's 600 Hz")
		}
	}
}

// TestSoundsDir: a prompt found in SoundsDir plays its WAV content for its duration.
func TestSoundsDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "ru", "hotline"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "ru", "hotline", "greeting.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if err := media.ToneWAV(f, 1000, 2, 8000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tg, ev := simTarget(t, asterisksim.Config{TimeScale: 1, SoundsDir: dir})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/answer", nil, 204)
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/play", map[string]any{"media": []string{"sound:hotline/greeting"}, "lang": "ru"}, 201)
	until(t, "the caller hears the WAV's 1000 Hz", func() bool { return dominant(c.Heard(200*time.Millisecond), 1000) })
	e := ev.WaitFor(t, wait, "PlaybackFinished", func(e map[string]any) bool { return e["type"] == "PlaybackFinished" })
	if pb := e["playback"].(map[string]any); pb["state"] != "done" {
		t.Fatalf("state %v, want done", pb["state"])
	}
}

// TestSendDTMFPacing: POST /channels/{id}/dtmf answers at once and the digits reach the caller
// one by one, "between" and a "w" (500 ms) apart, as Asterisk plays them.
func TestSendDTMFPacing(t *testing.T) {
	const scale = 0.1
	tg, ev := simTarget(t, asterisksim.Config{TimeScale: scale})
	c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Timeline: true, Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", c.ChannelID()))
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/dtmf?dtmf=1&between=-1", nil, 400)
	sent := time.Now()
	do(t, tg, "POST", "/ari/channels/"+c.ChannelID()+"/dtmf?dtmf=12w3&duration=100&between=400", nil, 204)
	waitfor.True(t, "digits 123 at the caller", wait, func() bool { return c.Digits() == "123" })
	var at []time.Time
	for _, m := range c.Timeline() {
		if m.Kind == asterisksim.MarkDigit {
			at = append(at, m.At)
		}
	}
	if len(at) != 3 {
		t.Fatalf("%d digit marks, want 3", len(at))
	}
	// Lower bounds only: 100 ms of digit + 400 ms between; then that again plus the 500 ms pause.
	scaled := func(ms float64) time.Duration { return time.Duration(ms * scale * float64(time.Millisecond)) }
	if gap := at[1].Sub(at[0]); gap < scaled(500) {
		t.Errorf("1 → 2 after %v, want at least %v", gap, scaled(500))
	}
	if gap := at[2].Sub(at[1]); gap < scaled(1000) {
		t.Errorf("2 → 3 after %v, want at least %v", gap, scaled(1000))
	}
	if at[0].Before(sent) {
		t.Errorf("the first digit arrived before the request was sent")
	}
}

// TestInfoOnly: GET /asterisk/info?only= answers the sections named and no other; a name Asterisk
// does not know is skipped, not refused. The switchboard names a node run by system and status. On
// the simulator and on a real Asterisk.
func TestInfoOnly(t *testing.T) {
	aritest.Run(t, asterisksim.Config{}, func(t *testing.T, tg *aritest.Target) {
		for _, tc := range []struct {
			only string
			want []string
		}{
			{"", []string{"build", "config", "status", "system"}},
			{"system,status", []string{"status", "system"}},
			{"Status", []string{"status"}},
			{"status,nonsense", []string{"status"}},
			{"nonsense", []string{}},
		} {
			path := "/ari/asterisk/info"
			if tc.only != "" {
				path += "?only=" + tc.only
			}
			body := do(t, tg, http.MethodGet, path, nil, http.StatusOK)
			got := slices.Sorted(maps.Keys(body))
			if !slices.Equal(got, tc.want) {
				t.Errorf("only=%q: sections %v, want %v", tc.only, got, tc.want)
			}
			if st, ok := body["status"].(map[string]any); ok && st["startup_time"] == "" {
				t.Errorf("only=%q: no startup_time: %v", tc.only, st)
			}
		}
	})
}
