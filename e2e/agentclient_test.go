package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/internal/pionloop"
	"github.com/hotline-cc/hotline/media"
)

// agentClient is an agent's page without a browser: it logs in through POST /agent/login, holds the
// signalling WebSocket /agent/ws, and keeps every message the server pushed, in order.
type agentClient struct {
	t    testing.TB
	ID   string
	base string
	conn *websocket.Conn
	seq  atomic.Int64
	// Cookie is the page's session cookie.
	Cookie *http.Cookie

	mu     sync.Mutex
	msgs   []map[string]any
	wake   chan struct{} // closed and replaced on every new message and when the socket ends
	closed bool

	phone *pionPhone // nil until startAudio
}

// connectAgent logs agentID in on the hotline at base (http://host:port) and opens its WebSocket;
// both end with the test.
func connectAgent(t testing.TB, base, agentID, password string) *agentClient {
	t.Helper()
	form := url.Values{"agent": {agentID}, "password": {password}}
	resp := postLogin(t, base+"/agent/login", "application/x-www-form-urlencoded", form.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("log %s in: %s", agentID, resp.Status)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "hotline_agent" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("log %s in: no session cookie", agentID)
	}
	return openAgent(t, base, agentID, cookie)
}

// openAgent opens the agent page's socket with the session cookie of an earlier login.
func openAgent(t testing.TB, base, agentID string, cookie *http.Cookie) *agentClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Cookie", cookie.String())
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/agent/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("%s's websocket: %v", agentID, err)
	}
	conn.SetReadLimit(1 << 20)
	a := &agentClient{t: t, ID: agentID, base: base, conn: conn, wake: make(chan struct{}), Cookie: cookie}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		a.read()
	}()
	t.Cleanup(func() {
		if a.phone != nil {
			a.phone.close()
		}
		conn.Close(websocket.StatusNormalClosure, "")
		<-readerDone
	})
	a.waitFor("hello", 10*time.Second, func(m map[string]any) bool { return m["type"] == "hello" })
	return a
}

func (a *agentClient) read() {
	defer func() {
		a.mu.Lock()
		a.closed = true
		close(a.wake)
		a.mu.Unlock()
	}()
	for {
		_, raw, err := a.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		a.mu.Lock()
		a.msgs = append(a.msgs, m)
		close(a.wake)
		a.wake = make(chan struct{})
		a.mu.Unlock()
	}
}

// find returns the first message received so far that matches.
func (a *agentClient) find(match func(map[string]any) bool) (map[string]any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.msgs {
		if match(m) {
			return m, true
		}
	}
	return nil, false
}

// waitFor returns the first message (received so far or to come) that matches, or fails the test.
func (a *agentClient) waitFor(what string, timeout time.Duration, match func(map[string]any) bool) map[string]any {
	a.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		wake, closed := a.wake, a.closed
		a.mu.Unlock()
		if m, ok := a.find(match); ok {
			return m
		}
		if closed {
			a.t.Fatalf("%s: websocket closed while waiting for %s (got %v)", a.ID, what, a.types())
		}
		select {
		case <-wake:
		case <-deadline.C:
			a.t.Fatalf("%s: timed out after %v waiting for %s (got %v)", a.ID, timeout, what, a.types())
		}
	}
}

// waitClosed waits for the server to close the page's socket.
func (a *agentClient) waitClosed(timeout time.Duration) {
	a.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		wake, closed := a.wake, a.closed
		a.mu.Unlock()
		if closed {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			a.t.Fatalf("%s: the page's socket still open after %v", a.ID, timeout)
		}
	}
}

func (a *agentClient) types() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, m := range a.msgs {
		out = append(out, fmt.Sprint(m["type"]))
	}
	return out
}

// request sends a request of type typ with fields and returns its reply (ack, answer, pong, ...);
// an error reply fails the test.
func (a *agentClient) request(typ string, fields map[string]any) map[string]any {
	a.t.Helper()
	reply := a.try(typ, fields)
	if reply["type"] == "error" {
		a.t.Fatalf("%s: %s failed: %v: %v", a.ID, typ, reply["code"], reply["message"])
	}
	return reply
}

// try sends a request and returns its reply, an error reply included.
func (a *agentClient) try(typ string, fields map[string]any) map[string]any {
	a.t.Helper()
	id := a.post(typ, fields)
	return a.waitFor("the reply to "+typ, 15*time.Second, func(m map[string]any) bool { return m["id"] == id })
}

// setState sets the agent's state (available, paused, logged_out).
func (a *agentClient) setState(state string) {
	a.t.Helper()
	a.request("state.set", map[string]any{"state": state})
}

// waitRinging waits for a call.ringing push for callID ("" for any) and returns the call's id.
func (a *agentClient) waitRinging(callID string, timeout time.Duration) string {
	a.t.Helper()
	m := a.waitFor("call.ringing "+callID, timeout, func(m map[string]any) bool {
		return m["type"] == "call.ringing" && (callID == "" || ringingCall(m) == callID)
	})
	return ringingCall(m)
}

func ringingCall(m map[string]any) string {
	c, _ := m["call"].(map[string]any)
	id, _ := c["id"].(string)
	return id
}

// isPush matches a push of type typ about callID (the "call" field of call events).
func isPush(typ, callID string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ && m["call"] == callID }
}

// pionPhone is the agent's browser audio: a pion PeerConnection on loopback negotiated through the
// page's WebSocket, sending a tone as the microphone and keeping the last second it hears.
type pionPhone struct {
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticRTP
	freq      atomic.Uint64 // math.Float64bits of the tone sent
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu         sync.Mutex
	heard      []int16 // the last second, oldest first
	heardTotal int     // samples heard since the start
}

// startAudio negotiates the agent's audio with the gateway (an offer over the WebSocket, as the
// page does) and starts sending a tone of freq Hz.
func (a *agentClient) startAudio(freq float64) *pionPhone {
	a.t.Helper()
	t := a.t
	pc, track := browsertest.PionPeer(t, "agent-"+a.ID)
	p := &pionPhone{pc: pc, track: track, stop: make(chan struct{})}
	p.freq.Store(math.Float64bits(freq))
	a.phone = p
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var pkt rtp.Packet
		buf := make([]byte, 1500)
		var pcm []int16
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			pcm = media.DecodePCMU(pcm[:0], pkt.Payload)
			p.hear(pcm)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := pionloop.Connect(ctx, pc, func(_ context.Context, offer string) (string, error) {
		sdp, _ := a.request("offer", map[string]any{"sdp": offer})["sdp"].(string)
		return sdp, nil
	}); err != nil {
		t.Fatalf("%s: %v", a.ID, err)
	}
	p.wg.Add(1)
	go p.sendTone()
	return p
}

// sendTone plays the microphone: 20 ms of PCMU every 20 ms (a media clock, not synchronisation).
func (p *pionPhone) sendTone() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	tone := media.Tone{Amplitude: 8000}
	pcm := make([]int16, 160)
	var payload []byte
	var seq uint16
	var ts uint32
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		tone.Freq = math.Float64frombits(p.freq.Load())
		tone.Next(pcm)
		payload = media.EncodePCMU(payload[:0], pcm)
		seq++
		ts += 160
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts}, Payload: payload}
		_ = p.track.WriteRTP(pkt)
	}
}

// setTone changes the frequency the microphone sends.

func (p *pionPhone) hear(pcm []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heard = append(p.heard, pcm...)
	p.heardTotal += len(pcm)
	if over := len(p.heard) - media.SampleRate; over > 0 {
		p.heard = append(p.heard[:0], p.heard[over:]...)
	}
}

// Heard returns the last d of what the agent heard.
func (p *pionPhone) Heard(d time.Duration) []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(int(d.Seconds()*media.SampleRate), len(p.heard))
	return append([]int16(nil), p.heard[len(p.heard)-n:]...)
}

// HeardFor is how much audio the agent has heard since the phone started.
func (p *pionPhone) HeardFor() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.heardTotal) * time.Second / media.SampleRate
}

func (p *pionPhone) close() {
	p.closeOnce.Do(func() {
		close(p.stop)
		p.wg.Wait()
		p.pc.Close()
	})
}
