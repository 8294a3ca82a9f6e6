package switchboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/media"
)

// fakeFlows greets, waits for one key and queues the caller in "general" with the key as data.
type fakeFlows struct{ keyTimeout time.Duration }

func (f fakeFlows) Run(ctx context.Context, call ivr.Call, in ivr.Inbound) (ivr.Result, error) {
	res := ivr.Result{Lang: "en", Data: map[string]string{}}
	if err := call.Play(ctx, "en", "sound:hello-world"); err != nil {
		return res, err
	}
	d, err := call.NextDigit(ctx, f.keyTimeout)
	if err != nil && err != ivr.ErrTimeout {
		return res, err
	}
	res.Outcome, res.Queue, res.Priority = ivr.OutcomeQueue, "general", 1
	res.Data["key"] = string(d)
	return res, nil
}

// fakeACD is an in-memory ACD with agents that are free or not. It is shared by the switchboards of
// a restart test, standing in for Redis.
type fakeACD struct {
	mu       sync.Mutex
	free     map[string]bool
	queue    []QueuedCall
	calls    map[string]*QueuedCall
	offers   chan Offer
	finished []string
	abandons []string
	changed  chan struct{} // closed and replaced on every change, for waitFor

	announceEvery time.Duration
	overdue       []Overflow // handed out once by the next Overdue
	exits         []string
	consults      map[string]string   // call → colleague reserved for a consultation
	released      []string            // colleagues freed by EndConsult, in order
	handovers     []string            // "from>to" for each HandOver
	owner         string              // the instance that enqueues (rig.start sets it)
	ringAll       bool                // Dispatch offers a call to every free agent, as a ring-all queue
	rung          map[string][]string // call → the agents its offer rings, until one accepts
	accepted      map[string]string   // call → the agent whose Accept took it
	claims        []string            // "call:from>to" for each Claim
	unanswered    []string            // calls whose callback number did not answer (CallbackNoAnswer)
	holds         []string            // "call agent true|false" for each Hold
	dispatchBugs  atomic.Int32        // Dispatch panics this many more times (a bug of ours)
}

// bump wakes waitFor; called with mu held after every change.
func (a *fakeACD) bump() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// waitFor waits until cond (called with mu held) is true.
func (a *fakeACD) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		a.mu.Lock()
		ok, changed := cond(), a.changed
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newFakeACD(agents ...string) *fakeACD {
	a := &fakeACD{free: map[string]bool{}, calls: map[string]*QueuedCall{}, offers: make(chan Offer, 16), changed: make(chan struct{})}
	for _, id := range agents {
		a.free[id] = true
	}
	return a
}

func (a *fakeACD) Enqueue(_ context.Context, c QueuedCall) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	c.Owner = a.owner
	a.queue = append(a.queue, c)
	a.calls[c.CallID] = &c
	return nil
}

func (a *fakeACD) Alive(context.Context, time.Duration) error { return nil }

// callbackOf is the number a callback was asked to for call ("" if none).
func (a *fakeACD) callbackOf(call string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.calls[call]; c != nil {
		return c.Data["callback"]
	}
	return ""
}

// queueOf is the queue call was enqueued in ("" if never).
func (a *fakeACD) queueOf(call string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.calls[call]; c != nil {
		return c.Queue
	}
	return ""
}

// CallbackNoAnswer frees the agent and takes the call out of the queue, as the real ACD does until
// its retry time (which the fake never reaches).
func (a *fakeACD) CallbackNoAnswer(_ context.Context, id, agent string) (time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	a.unanswered = append(a.unanswered, id)
	a.free[agent] = true
	return time.Now().Add(10 * time.Minute), nil
}

func (a *fakeACD) Claim(_ context.Context, id, owner string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	c := a.calls[id]
	if c == nil {
		return ErrStale
	}
	a.claims = append(a.claims, id+":"+c.Owner+">"+owner)
	c.Owner = owner
	return nil
}

func (a *fakeACD) Abandon(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	a.abandons = append(a.abandons, id)
	a.drop(id)
	return nil
}

func (a *fakeACD) drop(id string) {
	if c := a.calls[id]; c != nil && c.Agent != "" {
		a.free[c.Agent] = true
	}
	delete(a.calls, id)
	for i, q := range a.queue {
		if q.CallID == id {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			break
		}
	}
}

func (a *fakeACD) Accept(_ context.Context, id, agent string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	if c := a.calls[id]; c != nil {
		c.Talking = true
	}
	for _, o := range a.rung[id] {
		if o != agent {
			a.free[o] = true // a ring-all queue's other agents: released, as the real ACD does
		}
	}
	delete(a.rung, id)
	if a.accepted == nil {
		a.accepted = map[string]string{}
	}
	a.accepted[id] = agent
	return nil
}

func (a *fakeACD) RingNoAnswer(_ context.Context, id, agent string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	a.free[agent] = true
	if rest := slices.DeleteFunc(a.rung[id], func(o string) bool { return o == agent }); len(rest) > 0 {
		a.rung[id] = rest // others of a ring-all queue still ring
		return nil
	}
	delete(a.rung, id)
	if c := a.calls[id]; c != nil {
		c.Agent = ""
		a.queue = append([]QueuedCall{*c}, a.queue...)
	}
	return nil
}

// Finish sends the agent to wrap-up, as the real ACD does: not free until the test says so.
func (a *fakeACD) Finish(_ context.Context, id, agent string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	a.finished = append(a.finished, id)
	if c := a.calls[id]; c != nil {
		c.Agent = ""
	}
	a.drop(id)
	return nil
}

func (a *fakeACD) Dispatch(ctx context.Context) (int, error) {
	if a.dispatchBugs.Add(-1) >= 0 {
		panic("a bug in dispatch")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for len(a.queue) > 0 {
		var agent string
		for id, free := range a.free {
			if free {
				agent = id
				break
			}
		}
		if agent == "" {
			return n, nil
		}
		agents := []string{agent}
		if a.ringAll {
			agents = agents[:0]
			for id, free := range a.free {
				if free {
					agents = append(agents, id)
				}
			}
			slices.Sort(agents)
		}
		c := a.queue[0]
		a.queue = a.queue[1:]
		for _, id := range agents {
			a.free[id] = false
		}
		a.calls[c.CallID].Agent = agents[0]
		if a.rung == nil {
			a.rung = map[string][]string{}
		}
		a.rung[c.CallID] = agents
		select {
		case a.offers <- Offer{CallID: c.CallID, Agents: agents, Queue: c.Queue}:
		case <-ctx.Done():
			return n, ctx.Err()
		}
		n++
	}
	return n, nil
}

func (a *fakeACD) Offers(ctx context.Context, owner string) <-chan Offer {
	out := make(chan Offer)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case o := <-a.offers:
				a.mu.Lock()
				if c := a.calls[o.CallID]; c != nil && c.Data["callback"] != "" {
					o.Callback = c.Data["callback"]
				}
				a.mu.Unlock()
				select {
				case out <- o:
				case <-ctx.Done():
					a.offers <- o // not taken: the next switchboard gets it
					return
				}
			}
		}
	}()
	return out
}

func (a *fakeACD) Waiting(_ context.Context, owner string) ([]QueuedCall, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []QueuedCall
	for _, c := range a.calls {
		if owner == "" || c.Owner == owner {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (a *fakeACD) setFree(agent string, free bool) {
	a.mu.Lock()
	a.free[agent] = free
	a.mu.Unlock()
}

func (a *fakeACD) wasFinished(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.finished {
		if f == id {
			return true
		}
	}
	return false
}

// fakePhones opens real UDP legs that send a 1000 Hz tone as PCMU RTP and collect what they hear.
// It keeps every event pushed to any agent's page, in order.
type fakePhones struct {
	latest *fakeLeg           // the leg opened last; read by the test after nextLeg
	tones  map[string]float64 // what each agent's leg sends; 1000 Hz when absent
	t      *testing.T
	legs   chan *fakeLeg

	mu      sync.Mutex
	log     []notified
	changed chan struct{}  // closed and replaced on every event
	cursor  int            // next's place in log
	cursors map[string]int // nextFor's place in log, per agent
}

// notified is one push to an agent's page.
type notified struct {
	agent string
	ev    AgentEvent
}

func newFakePhones(t *testing.T) *fakePhones {
	return &fakePhones{t: t, legs: make(chan *fakeLeg, 8), tones: map[string]float64{},
		changed: make(chan struct{}), cursors: map[string]int{}}
}

func (p *fakePhones) OpenLeg(_ context.Context, agentID, callID string) (Leg, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	tone := p.tones[agentID]
	if tone == 0 {
		tone = 1000
	}
	l := &fakeLeg{agent: agentID, conn: conn, tone: tone, remote: make(chan netip.AddrPort, 1), heard440: make(chan struct{}), stop: make(chan struct{})}
	go l.receive()
	go l.send()
	p.legs <- l
	return l, nil
}

func (p *fakePhones) Notify(agentID string, msg AgentEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, notified{agent: agentID, ev: msg})
	close(p.changed)
	p.changed = make(chan struct{})
}

// next returns the next event of type want pushed to any agent, skipping others.
func (p *fakePhones) next(t *testing.T, want AgentEventType) AgentEvent {
	t.Helper()
	return p.take(t, "", want)
}

// nextFor returns the next event of type want pushed to agent, skipping others (its own cursor:
// next does not consume what nextFor has not seen, nor the other way round).
func (p *fakePhones) nextFor(t *testing.T, agent string, want AgentEventType) AgentEvent {
	t.Helper()
	return p.take(t, agent, want)
}

func (p *fakePhones) take(t *testing.T, agent string, want AgentEventType) AgentEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		i := p.cursor
		if agent != "" {
			i = p.cursors[agent]
		}
		for ; i < len(p.log); i++ {
			n := p.log[i]
			if n.ev.Type == want && (agent == "" || n.agent == agent) {
				break
			}
		}
		found := i < len(p.log)
		var ev AgentEvent
		if found {
			ev = p.log[i].ev
			i++
		}
		if agent == "" {
			p.cursor = i
		} else {
			p.cursors[agent] = i
		}
		changed := p.changed
		p.mu.Unlock()
		if found {
			return ev
		}
		select {
		case <-changed:
		case <-deadline:
			if agent == "" {
				agent = "the agent"
			}
			t.Fatalf("no %s event for %s", want, agent)
		}
	}
}

type fakeLeg struct {
	agent    string
	tone     float64 // what the "browser" sends
	mu       sync.Mutex
	recent   []int16 // the last half second heard
	conn     *net.UDPConn
	remote   chan netip.AddrPort
	heard440 chan struct{}
	stop     chan struct{}
	once     sync.Once
}

func (l *fakeLeg) LocalAddr() netip.AddrPort                           { return l.conn.LocalAddr().(*net.UDPAddr).AddrPort() }
func (l *fakeLeg) SetRemote(_ context.Context, a netip.AddrPort) error { l.remote <- a; return nil }
func (l *fakeLeg) Close() error {
	l.once.Do(func() { close(l.stop); l.conn.Close() })
	return nil
}

// receive decodes RTP and closes heard440 once half a second of it carries the caller's 440 Hz tone.
func (l *fakeLeg) receive() {
	buf := make([]byte, 1500)
	var pcm []int16
	closed440 := false
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			return
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != media.PayloadTypePCMU {
			continue
		}
		pcm = media.DecodePCMU(pcm, p.Payload)
		l.mu.Lock()
		l.recent = media.DecodePCMU(l.recent, p.Payload)
		if n := len(l.recent); n > 4000 {
			l.recent = append(l.recent[:0], l.recent[n-4000:]...)
		}
		l.mu.Unlock()
		if closed440 {
			continue
		}
		if len(pcm) >= 4000 {
			if media.ToneDominance(pcm, 440, media.SampleRate) > 20 {
				close(l.heard440)
				closed440 = true
			}
			pcm = pcm[:0]
		}
	}
}

// hears says whether freq dominates the last half second the leg received.
func (l *fakeLeg) hears(freq float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent) >= 4000 && media.ToneDominance(l.recent, freq, media.SampleRate) > 20
}

// has says whether freq stands out in the last half second, even mixed with other tones.
func (l *fakeLeg) has(freq float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent) >= 4000 && hasTone(l.recent, freq)
}

// hasTone says whether freq is present in pcm well above a frequency no test sends.
func hasTone(pcm []int16, freq float64) bool {
	return media.Power(pcm, freq, media.SampleRate) > 100*media.Power(pcm, 2750, media.SampleRate)+1
}

func (l *fakeLeg) send() {
	var remote netip.AddrPort
	select {
	case remote = <-l.remote:
	case <-l.stop:
		return
	}
	tone := media.Tone{Freq: l.tone, Amplitude: 8000}
	pcm := make([]int16, media.FrameSamples)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x1234}}
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		tone.Next(pcm)
		p.Payload = media.EncodePCMU(p.Payload[:0], pcm)
		b, _ := p.Marshal()
		l.conn.WriteToUDPAddrPort(b, remote)
		p.SequenceNumber++
		p.Timestamp += media.FrameSamples
	}
}

func (p *fakePhones) nextLeg(t *testing.T) *fakeLeg {
	t.Helper()
	select {
	case l := <-p.legs:
		p.latest = l
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("no audio leg opened")
		return nil
	}
}

func (a *fakeACD) Position(_ context.Context, id string) (Position, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, q := range a.queue {
		if q.CallID == id {
			return Position{Place: i + 1, Wait: time.Duration(i+1) * time.Minute, WaitKnown: true, Every: a.announceEvery}, nil
		}
	}
	return Position{Every: a.announceEvery}, nil
}

func (a *fakeACD) RequestCallback(_ context.Context, id, number string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	if c := a.calls[id]; c != nil {
		if c.Data == nil {
			c.Data = map[string]string{}
		}
		c.Data["callback"] = number
	}
	return nil
}

func (a *fakeACD) Overdue(context.Context, string) ([]Overflow, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.overdue
	a.overdue = nil
	return out, nil
}

func (a *fakeACD) Move(_ context.Context, id, queue string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	if c := a.calls[id]; c != nil {
		c.Queue = queue
	}
	return nil
}

func (a *fakeACD) Exit(_ context.Context, id, reason string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	a.exits = append(a.exits, id)
	a.drop(id)
	return nil
}

func (a *fakeACD) Direct(_ context.Context, id, agent string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	if !a.free[agent] {
		return errors.New("agent busy")
	}
	for i, q := range a.queue {
		if q.CallID == id {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			a.free[agent] = false
			a.calls[id].Agent = agent
			a.offers <- Offer{CallID: id, Agents: []string{agent}, Queue: q.Queue}
			return nil
		}
	}
	return errors.New("not waiting")
}

func (a *fakeACD) Unpause(_ context.Context, agent string) error {
	a.setFree(agent, true)
	return nil
}

// Consult reserves the named agent, or for a queue the free agent whose id sorts first.
func (a *fakeACD) Consult(_ context.Context, id, from string, to Target) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	b := to.ID
	if to.Kind == TargetQueue {
		b = ""
		for id, free := range a.free {
			if free && (b == "" || id < b) {
				b = id
			}
		}
		if b == "" {
			return "", fmt.Errorf("%w: nobody free in %s", ErrTargetBusy, to.ID)
		}
	}
	if !a.free[b] {
		return "", fmt.Errorf("%w: %s is busy", ErrTargetBusy, b)
	}
	a.free[b] = false
	if a.consults == nil {
		a.consults = map[string]string{}
	}
	a.consults[id] = b
	return b, nil
}

func (a *fakeACD) EndConsult(_ context.Context, id, agent string, talked bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	if a.consults[id] != agent {
		return fmt.Errorf("%w: %s is not consulting on %s", ErrStale, agent, id)
	}
	delete(a.consults, id)
	a.free[agent] = true
	a.released = append(a.released, agent)
	return nil
}

// HandOver makes the call the colleague's; the agent who leaves stays busy (wrap-up).
func (a *fakeACD) Hold(_ context.Context, id, agent string, on bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	a.holds = append(a.holds, fmt.Sprintf("%s %s %v", id, agent, on))
	return nil
}

func (a *fakeACD) HandOver(_ context.Context, id, from, to string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.bump()
	if a.consults[id] != to {
		return fmt.Errorf("%w: %s is not consulting on %s", ErrStale, to, id)
	}
	delete(a.consults, id)
	if c := a.calls[id]; c != nil {
		c.Agent = to
	}
	a.handovers = append(a.handovers, from+">"+to)
	return nil
}

func (a *fakeACD) isFree(agent string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.free[agent]
}
