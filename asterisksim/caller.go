package asterisksim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// CallerSpec describes a simulated caller placing a call to a DID.
type CallerSpec struct {
	DID    string // dialled number: the Stasis side runs <DID>@Context
	Number string // caller number (CALLERID(num))
	Name   string // caller name
	// Context is where the DID is dialled; default "from-pstn", which sends it to Stasis.
	Context string
	// Script runs once the call is answered, step after step; the caller hangs up when the
	// script ends unless its last step is Hold.
	Script []Step
	// Dialplan, when set, makes the caller side run s@<Dialplan> of the dialplan once answered
	// (a caller context of extensions.conf) instead of Script: exactly what a real Asterisk does
	// for POST /channels?endpoint=Local/<DID>@from-pstn&context=<Dialplan>&extension=s.
	Dialplan string
	// HeardBuffer is how much of what the caller hears is kept for Heard (default 2 s).
	HeardBuffer time.Duration
	// NoAudio keeps nothing of what the caller hears (benchmarks with thousands of callers).
	NoAudio bool
	// Timeline records when the call was answered, each key reached the app and each playback or
	// hold music started and ended (Caller.Timeline), for latency measurements.
	Timeline bool
}

// MarkKind says what a Mark records.
type MarkKind string

const (
	MarkUp       MarkKind = "up"       // the call was answered
	MarkKey      MarkKind = "key"      // a key the caller pressed reached the app (ChannelDtmfReceived)
	MarkStarted  MarkKind = "started"  // a playback to the caller started (PlaybackStarted)
	MarkFinished MarkKind = "finished" // a playback played to its end, or failed at once
	MarkStopped  MarkKind = "stopped"  // a playback was stopped (DELETE /playbacks/{id})
	MarkMOH      MarkKind = "moh"      // hold music started on the caller's channel
	MarkDigit    MarkKind = "digit"    // a DTMF digit sent to the caller arrived (POST /channels/{id}/dtmf)
)

// Mark is one timed event of a caller's call (CallerSpec.Timeline).
type Mark struct {
	Kind MarkKind
	At   time.Time // when the simulator did it
	// Due is when a playback that played to its end was due to end (its start plus its scaled
	// duration): At is later by the simulator's own timer and lock delays.
	Due   time.Time
	Value string // the key, or the playback's media URIs joined with ","
}

// Step is one action of a caller's script. Exactly one field is meaningful; the constructors
// below build them.
type Step struct {
	Wait   time.Duration // pause (scaled by Config.TimeScale)
	Keys   string        // DTMF keys to press
	Tone   float64       // start sending a tone (Hz)
	PCM    []int16       // send these 8 kHz samples once
	Stop   bool          // stop sending audio
	Hangup bool          // hang up
	Hold   bool          // stay on the line until hung up from the other side
	KeyLen time.Duration // DTMF duration (default 120 ms)
	KeyGap time.Duration // pause after each key (default 250 ms)
}

// Pause waits d.
func Pause(d time.Duration) Step { return Step{Wait: d} }

// Press presses keys, 120 ms each with 250 ms between, as SendDTMF(keys,250,120).
func Press(keys string) Step { return Step{Keys: keys} }

// SendTone starts a continuous tone of freq Hz.
func SendTone(freq float64) Step { return Step{Tone: freq} }

// SendPCM sends samples (8 kHz linear) once.
func SendPCM(pcm []int16) Step { return Step{PCM: pcm} }

// StopAudio stops the caller's tone or samples.
func StopAudio() Step { return Step{Stop: true} }

// HangUp hangs up.
func HangUp() Step { return Step{Hangup: true} }

// Hold keeps the caller on the line until the other side hangs up.
func Hold() Step { return Step{Hold: true} }

// Caller is a simulated caller: the ;1 half of a Local pair driven from Go.
type Caller struct {
	s    *Sim
	spec CallerSpec
	one  *channel // guarded by s.mu
	two  *channel
	id   string // the Stasis side's id
	done chan struct{}
	up   chan struct{}

	mu      sync.Mutex
	heard   []int16 // ring buffer
	hpos    int
	hfull   bool
	prompts []string
	digits  string
	ended   bool
	marks   []Mark
}

// ErrHungUp is returned by caller actions once the call is over.
var ErrHungUp = errors.New("asterisksim: caller hung up")

// Dial places a call as a trunk would: a Local pair whose ;2 half runs <DID>@from-pstn (and
// enters Stasis there) while the ;1 half is this Caller. The script starts when the call is
// answered.
func (s *Sim) Dial(ctx context.Context, spec CallerSpec) (*Caller, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec.Context == "" {
		spec.Context = "from-pstn"
	}
	if spec.HeardBuffer <= 0 {
		spec.HeardBuffer = 2 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if !s.plan.exists(spec.Context, spec.DID) {
		return nil, fmt.Errorf("asterisksim: no extension %s@%s in the dialplan", spec.DID, spec.Context)
	}
	one, two := s.newLocalPairLocked(spec.DID, spec.Context, "", "", CallerID{Name: spec.Name, Number: spec.Number})
	c := &Caller{s: s, spec: spec, one: one, two: two, id: two.id, done: make(chan struct{}), up: make(chan struct{})}
	one.callerH = c
	s.updateSinkLocked(one)
	one.onUp = func() {
		c.mark(Mark{Kind: MarkUp, At: time.Now()})
		close(c.up)
		if spec.Dialplan != "" {
			s.goTracked(func() { s.runDialplan(one, dpLoc{spec.Dialplan, "s", 1}) })
			return
		}
		s.goTracked(c.run)
	}
	s.goTracked(func() { s.runDialplan(two, dpLoc{spec.Context, spec.DID, 1}) })
	s.log.Debug("caller dialled", "did", spec.DID, "number", spec.Number, "channel", two.id)
	return c, nil
}

// ChannelID is the id of the channel the app controls (the ;2 half, in Stasis).
func (c *Caller) ChannelID() string { return c.id }

// Done is closed when the caller's call is over.
func (c *Caller) Done() <-chan struct{} { return c.done }

// Answered is closed when the call is answered.
func (c *Caller) Answered() <-chan struct{} { return c.up }

func (c *Caller) run() {
	ctx := c.one.ctx
	for _, st := range c.spec.Script {
		if err := c.do(ctx, st); err != nil {
			return
		}
		if st.Hold {
			<-ctx.Done()
			return
		}
	}
	if len(c.spec.Script) > 0 {
		_ = c.Hangup()
	}
}

func (c *Caller) do(ctx context.Context, st Step) error {
	switch {
	case st.Wait > 0:
		return sleep(ctx, c.s.scaled(st.Wait))
	case st.Keys != "":
		return c.press(ctx, st.Keys, st.KeyLen, st.KeyGap)
	case st.Tone > 0:
		return c.setGen(newTone(st.Tone))
	case st.PCM != nil:
		return c.setGen(&pcmSource{pcm: st.PCM})
	case st.Stop:
		return c.setGen(nil)
	case st.Hangup:
		_ = c.Hangup()
		return ErrHungUp
	}
	return nil
}

func (c *Caller) setGen(src source) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.one.hungup {
		return ErrHungUp
	}
	c.one.gen = src
	return nil
}

// Press presses keys now (120 ms each, 250 ms apart, scaled); the Stasis side receives
// ChannelDtmfReceived for each.
func (c *Caller) Press(keys string) error { return c.press(c.one.ctx, keys, 0, 0) }

func (c *Caller) press(ctx context.Context, keys string, length, gap time.Duration) error {
	if length <= 0 {
		length = 120 * time.Millisecond
	}
	if gap <= 0 {
		gap = 250 * time.Millisecond
	}
	for _, k := range keys {
		if err := sleep(ctx, c.s.scaled(length)); err != nil {
			return ErrHungUp
		}
		c.s.mu.Lock()
		if c.one.hungup {
			c.s.mu.Unlock()
			return ErrHungUp
		}
		c.s.dtmfToLocked(c.one, string(k), int(length/time.Millisecond))
		c.mark(Mark{Kind: MarkKey, At: time.Now(), Value: string(k)})
		c.s.mu.Unlock()
		if err := sleep(ctx, c.s.scaled(gap)); err != nil {
			return ErrHungUp
		}
	}
	return nil
}

// SendTone makes the caller send a continuous tone.
func (c *Caller) SendTone(freq float64) error { return c.setGen(newTone(freq)) }

// SendPCM makes the caller send samples (8 kHz linear) once.
func (c *Caller) SendPCM(pcm []int16) error {
	return c.setGen(&pcmSource{pcm: append([]int16(nil), pcm...)})
}

// StopAudio silences the caller.
func (c *Caller) StopAudio() error { return c.setGen(nil) }

// Hangup hangs the caller up (cause 16): the Stasis side gets ChannelHangupRequest and StasisEnd.
func (c *Caller) Hangup() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.one.hungup {
		return nil
	}
	c.s.hangupLocked(c.one, causeNormal, hangupSelf)
	return nil
}

// Heard returns the last d of audio that reached the caller (8 kHz linear), oldest first.
func (c *Caller) Heard(d time.Duration) []int16 {
	n := int(d.Seconds() * rate)
	c.mu.Lock()
	defer c.mu.Unlock()
	size := len(c.heard)
	if !c.hfull {
		size = c.hpos
	}
	n = min(n, size)
	out := make([]int16, n)
	start := c.hpos - n
	if start >= 0 {
		copy(out, c.heard[start:c.hpos])
	} else {
		k := copy(out, c.heard[len(c.heard)+start:])
		copy(out[k:], c.heard[:c.hpos])
	}
	return out
}

// Prompts returns the media URIs played to the caller so far (channel and bridge playbacks).
func (c *Caller) Prompts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.prompts...)
}

// Digits returns the DTMF keys sent to the caller (POST /channels/{id}/dtmf).
func (c *Caller) Digits() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.digits
}

func (c *Caller) hear(pcm []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heard == nil {
		c.heard = make([]int16, int(c.spec.HeardBuffer.Seconds()*rate)/frameLen*frameLen+frameLen)
	}
	n := copy(c.heard[c.hpos:], pcm)
	c.hpos += n
	if c.hpos == len(c.heard) {
		c.hpos = 0
		c.hfull = true
		copy(c.heard, pcm[n:])
		c.hpos = len(pcm) - n
	}
}

// Timeline returns what happened on the call and when (only with CallerSpec.Timeline).
func (c *Caller) Timeline() []Mark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Mark(nil), c.marks...)
}

func (c *Caller) mark(m Mark) {
	if !c.spec.Timeline {
		return
	}
	c.mu.Lock()
	c.marks = append(c.marks, m)
	c.mu.Unlock()
}

func (c *Caller) addPrompts(media []string) {
	c.mu.Lock()
	c.prompts = append(c.prompts, media...)
	c.mu.Unlock()
}

func (c *Caller) addDigit(d string) {
	c.mark(Mark{Kind: MarkDigit, At: time.Now(), Value: d})
	c.mu.Lock()
	c.digits += d
	c.mu.Unlock()
}

func (c *Caller) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		c.ended = true
		close(c.done)
	}
}
