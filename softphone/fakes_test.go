package softphone_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/accounttest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/media"
	"github.com/hotline-cc/hotline/softphone"
)

// deskEvent is one Desk call the fake saw.
type deskEvent struct {
	Op, Agent, Call, Arg string
}

// fakeDesk is the controller as the softphone sees it: calls owned by one agent, legs opened on
// answer and connected to a fake Asterisk.
type fakeDesk struct {
	gw  *softphone.Gateway
	srv *softphone.Server
	// asterisk, if set, connects a freshly opened leg to a fake Asterisk.
	asterisk func(leg *softphone.Leg)
	events   chan deskEvent

	mu    sync.Mutex
	calls map[string]*fakeCall
	// remote is the client the last transfer's context named (what the switchboard audits).
	remote string
}

type fakeCall struct {
	agent, state string
	info         softphone.CallInfo
	leg          *softphone.Leg
}

var testDispositions = []softphone.Disposition{{Code: "resolved", Labels: map[string]string{"ru": "Решено", "en": "Resolved"}},
	{Code: "callback", Labels: map[string]string{"ru": "Перезвонить", "en": "Call back"}}}

func newFakeDesk(t testing.TB, gw *softphone.Gateway) *fakeDesk {
	d := &fakeDesk{gw: gw, events: make(chan deskEvent, 256), calls: map[string]*fakeCall{}}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, c := range d.calls {
			if c.leg != nil {
				c.leg.Close()
			}
		}
	})
	return d
}

func (d *fakeDesk) record(op, agent, call, arg string) {
	select {
	case d.events <- deskEvent{op, agent, call, arg}:
	default:
	}
}

// ring offers a call to agent and pushes the screen pop.
func (d *fakeDesk) ring(agent string, info softphone.CallInfo) {
	d.mu.Lock()
	d.calls[info.ID] = &fakeCall{agent: agent, state: "ringing", info: info}
	d.mu.Unlock()
	d.notify(agent, softphone.StateChanged{State: "ringing"})
	d.notify(agent, softphone.Ringing{Call: info, RingSeconds: 20})
}

func (d *fakeDesk) notify(agent string, m any) {
	if err := d.srv.Notify(agent, m); err != nil {
		panic(err)
	}
}

// call returns agent's call, or the error the controller would give.
func (d *fakeDesk) call(agent, id string) (*fakeCall, error) {
	c, ok := d.calls[id]
	if !ok {
		return nil, fmt.Errorf("call %s: %w", id, softphone.ErrNoSuchCall)
	}
	if c.agent != agent {
		return nil, fmt.Errorf("call %s: %w", id, softphone.ErrNotYourCall)
	}
	return c, nil
}

func (d *fakeDesk) leg(id string) *softphone.Leg {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c := d.calls[id]; c != nil {
		return c.leg
	}
	return nil
}

func (d *fakeDesk) Profile(_ context.Context, acct account.Account) (softphone.Agent, error) {
	d.record("profile", acct.ID, "", "")
	if acct.Role != account.RoleAgent {
		return softphone.Agent{ID: acct.ID, Name: acct.Name, Role: string(acct.Role)}, nil
	}
	return softphone.Agent{ID: acct.ID, Name: "Agent " + acct.ID, Role: string(acct.Role), PauseReasons: []string{"lunch", "training"},
		Dispositions: testDispositions}, nil
}

// testUsers are the accounts of the softphone's tests.
var testUsers = []accounttest.User{
	{ID: "a1", Password: "secret-a"},
	{ID: "b1", Password: "secret-b"},
	{ID: "sup1", Name: "Supervisor", Password: "secret-s", Role: account.RoleSupervisor},
}

// testAccounts is an account service over a fresh real Redis.
func testAccounts(t testing.TB, cfg account.Config) *account.Service {
	t.Helper()
	return accounttest.New(t, redistest.Start(t).Client(t), cfg, nil, testUsers...)
}

func (d *fakeDesk) SetState(_ context.Context, agent string, st softphone.AgentState, reason string) error {
	d.record("state", agent, "", string(st))
	d.mu.Lock()
	onCall := false
	for _, c := range d.calls {
		onCall = onCall || (c.agent == agent && c.state == "connected")
	}
	d.mu.Unlock()
	switch {
	case st == softphone.StatePaused && onCall: // as the server does: a break after the call
		d.notify(agent, softphone.StateChanged{State: "on_call", PauseNext: reason})
	case st != softphone.StateLoggedOut:
		d.notify(agent, softphone.StateChanged{State: string(st), Reason: reason})
	}
	return nil
}

// simple runs op on agent's call if it is in one of states, then moves it to next and pushes msgs.
func (d *fakeDesk) simple(op, agent, id, arg string, states []string, next string, msgs ...any) error {
	d.record(op, agent, id, arg)
	d.mu.Lock()
	c, err := d.call(agent, id)
	if err == nil {
		ok := false
		for _, s := range states {
			ok = ok || c.state == s
		}
		if !ok {
			err = fmt.Errorf("%s in state %s: %w", op, c.state, softphone.ErrInvalidState)
		} else if next != "" {
			c.state = next
		}
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	for _, m := range msgs {
		d.notify(agent, m)
	}
	return nil
}

func (d *fakeDesk) Answer(_ context.Context, agent, id string) error {
	d.record("answer", agent, id, "")
	d.mu.Lock()
	c, err := d.call(agent, id)
	if err == nil && c.state != "ringing" {
		err = softphone.ErrInvalidState
	}
	if err != nil {
		d.mu.Unlock()
		return err
	}
	leg, err := d.gw.OpenLeg(agent, id)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	c.state, c.leg = "connected", leg
	info := c.info
	d.mu.Unlock()
	if d.asterisk != nil {
		d.asterisk(leg)
	}
	d.notify(agent, softphone.StateChanged{State: "on_call"})
	d.notify(agent, softphone.Connected(id, &info))
	return nil
}

func (d *fakeDesk) Reject(_ context.Context, agent, id string) error {
	return d.simple("reject", agent, id, "", []string{"ringing"}, "gone", softphone.Ended{CallID: id, Reason: "rejected"})
}

func (d *fakeDesk) Hangup(_ context.Context, agent, id string) error {
	err := d.simple("hangup", agent, id, "", []string{"connected", "held", "consulting"}, "wrapup")
	if err != nil {
		return err
	}
	if leg := d.leg(id); leg != nil {
		leg.Close()
	}
	d.notify(agent, softphone.Ended{CallID: id, Reason: "agent"})
	d.notify(agent, softphone.StateChanged{State: "wrapup"})
	d.notify(agent, softphone.WrapUpStarted{CallID: id, Seconds: 30, Dispositions: testDispositions})
	return nil
}

func (d *fakeDesk) Hold(_ context.Context, agent, id string) error {
	return d.simple("hold", agent, id, "", []string{"connected"}, "held", softphone.Held(id))
}

func (d *fakeDesk) Resume(_ context.Context, agent, id string) error {
	return d.simple("resume", agent, id, "", []string{"held"}, "connected", softphone.Resumed(id))
}

func (d *fakeDesk) Mute(_ context.Context, agent, id string) error {
	return d.simple("mute", agent, id, "", []string{"connected"}, "", softphone.Muted(id))
}

func (d *fakeDesk) Unmute(_ context.Context, agent, id string) error {
	return d.simple("unmute", agent, id, "", []string{"connected"}, "", softphone.Unmuted(id))
}

func (d *fakeDesk) SendDTMF(_ context.Context, agent, id, digits string) error {
	return d.simple("dtmf", agent, id, digits, []string{"connected"}, "")
}

func (d *fakeDesk) BlindTransfer(ctx context.Context, agent, id string, tg softphone.Target) error {
	d.mu.Lock()
	d.remote = audit.RemoteFrom(ctx)
	d.mu.Unlock()
	return d.simple("transfer", agent, id, string(tg.Kind)+":"+tg.Value, []string{"connected", "held"}, "")
}

func (d *fakeDesk) Consult(_ context.Context, agent, id string, tg softphone.Target) error {
	return d.simple("consult", agent, id, string(tg.Kind)+":"+tg.Value, []string{"connected", "held"}, "consulting",
		softphone.Consulting{CallID: id, Target: tg})
}

func (d *fakeDesk) CompleteTransfer(_ context.Context, agent, id string) error {
	return d.simple("complete", agent, id, "", []string{"consulting"}, "")
}

func (d *fakeDesk) CancelConsult(_ context.Context, agent, id string) error {
	return d.simple("cancel", agent, id, "", []string{"consulting"}, "connected", softphone.Resumed(id))
}

func (d *fakeDesk) WrapUp(_ context.Context, agent, id, disposition, note string) error {
	err := d.simple("wrapup", agent, id, disposition+"|"+note, []string{"wrapup"}, "done", softphone.WrapUpEnded(id))
	if err == nil {
		d.notify(agent, softphone.StateChanged{State: "available"})
	}
	return err
}

func (d *fakeDesk) ExtendWrapUp(_ context.Context, agent, id string, by time.Duration) (time.Duration, error) {
	d.record("wrapup.extend", agent, id, by.String())
	return by + 10*time.Second, nil
}

func (d *fakeDesk) CallsToday(_ context.Context, agent string) ([]softphone.CallSummary, error) {
	d.record("calls_today", agent, "", "")
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []softphone.CallSummary
	for id, c := range d.calls {
		if c.agent == agent && c.state == "done" {
			out = append(out, softphone.CallSummary{CallID: id, CallerNumber: c.info.CallerNumber, Queue: c.info.Queue, QueueTitle: c.info.QueueTitle,
				StartedAt: time.Now().UTC().Format(time.RFC3339), TalkSeconds: 42, Disposition: "resolved"})
		}
	}
	return out, nil
}

// expect waits for the desk to see op (skipping others) before the deadline.
func (d *fakeDesk) expect(t testing.TB, op string, timeout time.Duration) deskEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-d.events:
			if e.Op == op {
				return e
			}
		case <-deadline:
			t.Fatalf("desk never saw %q within %v", op, timeout)
		}
	}
}

// toneSink keeps the last second of received PCMU, decoded, to look for a tone in it.
type toneSink struct {
	got chan struct{} // a signal per received packet (coalesced)
	mu  sync.Mutex
	pcm []int16
}

func newToneSink() *toneSink { return &toneSink{got: make(chan struct{}, 1)} }

func (s *toneSink) add(payload []byte) {
	s.mu.Lock()
	s.pcm = media.DecodePCMU(s.pcm, payload)
	if over := len(s.pcm) - media.SampleRate; over > 0 {
		s.pcm = append(s.pcm[:0], s.pcm[over:]...)
	}
	s.mu.Unlock()
	select {
	case s.got <- struct{}{}:
	default:
	}
}

// reset forgets what was received.
func (s *toneSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pcm = s.pcm[:0]
}

// waitTone waits until at least half a second was received and it is dominated by freq.
func (s *toneSink) waitTone(ctx context.Context, freq, minDominance float64) (float64, error) {
	best := 0.0
	for {
		s.mu.Lock()
		if len(s.pcm) >= media.SampleRate/2 {
			if d := media.ToneDominance(s.pcm, freq, media.SampleRate); d > best {
				best = d
			}
		}
		s.mu.Unlock()
		if best >= minDominance {
			return best, nil
		}
		select {
		case <-s.got:
		case <-ctx.Done():
			return best, fmt.Errorf("tone %v Hz: best dominance %.1f: %w", freq, best, ctx.Err())
		}
	}
}

// waitQuiet waits until half a second of silence was received.
func (s *toneSink) waitQuiet(ctx context.Context) error {
	for {
		s.mu.Lock()
		quiet := len(s.pcm) >= media.SampleRate/2 && media.Energy(s.pcm) == 0
		s.mu.Unlock()
		if quiet {
			return nil
		}
		select {
		case <-s.got:
		case <-ctx.Done():
			return fmt.Errorf("silence: %w", ctx.Err())
		}
	}
}

// rtpPeer is a fake Asterisk externalMedia endpoint: it sends a PCMU tone every 20 ms and keeps
// the last second of what it receives, decoded.
type rtpPeer struct {
	*toneSink
	conn *net.UDPConn

	mu       sync.Mutex
	packets  int
	ssrcs    map[uint32]bool
	lastSeq  uint16
	seqJumps int // sequence numbers that did not follow on by one
}

func newRTPPeer(t testing.TB) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{toneSink: newToneSink(), conn: conn, ssrcs: map[uint32]bool{}}
	go p.readLoop()
	t.Cleanup(func() { conn.Close() })
	return p
}

func (p *rtpPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *rtpPeer) readLoop() {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		if p.packets > 0 && pkt.SequenceNumber != p.lastSeq+1 {
			p.seqJumps++
		}
		p.lastSeq = pkt.SequenceNumber
		p.packets++
		p.ssrcs[pkt.SSRC] = true
		p.mu.Unlock()
		p.add(pkt.Payload)
	}
}

// send paces a PCMU tone at freq to dst until ctx ends.
func (p *rtpPeer) send(ctx context.Context, dst netip.AddrPort, freq float64) {
	sendTone(ctx, freq, func(pkt *rtp.Packet) error {
		b, _ := pkt.Marshal()
		_, err := p.conn.WriteToUDPAddrPort(b, dst)
		return err
	})
}

// sendTone paces 20 ms packets of a PCMU tone at freq into write until ctx ends or write fails.
func sendTone(ctx context.Context, freq float64, write func(*rtp.Packet) error) {
	tone := media.Tone{Freq: freq, Amplitude: 10000}
	pcm := make([]int16, media.FrameSamples)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		tone.Next(pcm)
		pkt.Payload = media.EncodePCMU(pkt.Payload[:0], pcm)
		if err := write(&pkt); err != nil {
			return
		}
		pkt.SequenceNumber++
		pkt.Timestamp += media.FrameSamples
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *rtpPeer) counts() (packets, ssrcs, seqJumps int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.packets, len(p.ssrcs), p.seqJumps
}
