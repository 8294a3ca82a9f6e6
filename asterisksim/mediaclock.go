package asterisksim

import (
	"time"
)

// The media clock: one goroutine for the whole simulator moves audio every 20 ms. Audio is pulled
// from the channels that need it (sinks: externalMedia legs, Go callers, recorded bridges) through
// memoised per-tick frames, so a channel nobody listens to costs nothing and a thousand calls cost
// one goroutine.

func (s *Sim) clock() {
	defer s.wg.Done()
	t := time.NewTicker(framePeriod * time.Millisecond)
	defer t.Stop()
	var out []rtpPacket
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		out = s.step(out[:0])
		for _, p := range out {
			p.leg.send(p.buf)
		}
	}
}

// step computes one 20 ms frame for every sink and returns the RTP packets to send.
func (s *Sim) step(out []rtpPacket) []rtpPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick++
	for ch := range s.sinks {
		if ch.hungup {
			continue
		}
		switch {
		case ch.rtp != nil:
			if ch.state != "Up" {
				continue
			}
			out = append(out, rtpPacket{leg: ch.rtp, buf: ch.rtp.packet(s.deliver(ch))})
		case ch.callerH != nil:
			// From the start: a caller hears ringing and early media before the answer.
			ch.callerH.hear(s.talk(ch))
		}
	}
	for _, b := range s.bridges {
		if b.rec != nil {
			var mix [frameLen]int16
			for _, m := range b.members {
				mixInto(mix[:], s.talk(m))
			}
			if p := activePlayback(b.playbacks); p != nil {
				mixInto(mix[:], s.playbackFrame(p))
			}
			b.rec.write(mix[:])
		}
	}
	return out
}

// updateSinkLocked keeps ch in the sink set when its audio has a consumer.
func (s *Sim) updateSinkLocked(ch *channel) {
	if ch.hungup {
		delete(s.sinks, ch)
		return
	}
	if ch.rtp != nil || (ch.callerH != nil && !ch.callerH.spec.NoAudio) {
		s.sinks[ch] = struct{}{}
	}
}

func activePlayback(list []*playback) *playback {
	if len(list) > 0 && list[0].state == "playing" {
		return list[0]
	}
	return nil
}

var silence [frameLen]int16

func (s *Sim) playbackFrame(p *playback) []int16 {
	fb := &p.frame
	if fb.tick != s.tick {
		fb.tick = s.tick
		if p.src == nil || !p.src.next(fb.pcm[:]) {
			clear(fb.pcm[:])
		}
	}
	return fb.pcm[:]
}

// deliver is the frame written to ch this tick: what it hears.
func (s *Sim) deliver(ch *channel) []int16 {
	fb := &ch.hearBuf
	if fb.tick == s.tick {
		if fb.busy {
			return silence[:]
		}
		return fb.pcm[:]
	}
	fb.tick, fb.busy = s.tick, true
	frame := fb.pcm[:]
	switch p := activePlayback(ch.playbacks); {
	case ch.muteOut:
		clear(frame)
	case p != nil:
		copy(frame, s.playbackFrame(p))
	case ch.moh:
		ch.mohSource().next(frame)
	case ch.bridge != nil:
		s.bridgeFrame(ch.bridge, ch, frame)
	case ch.dialed != nil:
		copy(frame, s.talk(ch.dialed))
	case ch.gen != nil:
		if !ch.gen.next(frame) {
			ch.gen = nil
		}
	case ch.echo:
		copy(frame, s.talk(ch))
	case ch.ringing:
		ch.ringSource().next(frame)
	default:
		clear(frame)
	}
	for _, sn := range ch.snoops {
		if w := sn.snoop.whisper; w == "out" || w == "both" {
			mixInto(frame, s.deliver(sn))
		}
	}
	fb.busy = false
	return frame
}

// talk is the frame ch sends this tick: what the others in its bridge hear from it.
func (s *Sim) talk(ch *channel) []int16 {
	fb := &ch.talkBuf
	if fb.tick == s.tick {
		if fb.busy {
			return silence[:]
		}
		return fb.pcm[:]
	}
	fb.tick, fb.busy = s.tick, true
	frame := fb.pcm[:]
	switch {
	case ch.muteIn:
		clear(frame)
	case ch.hold:
		ch.mohSource().next(frame)
	case ch.kind == kindLocal1 || ch.kind == kindLocal2:
		if ch.peer != nil {
			copy(frame, s.deliver(ch.peer))
		} else {
			clear(frame)
		}
	case ch.kind == kindExternal && ch.rtp != nil:
		ch.rtp.pop(frame)
	case ch.kind == kindSnoop:
		clear(frame)
		t := ch.snoop.target
		if sp := ch.snoop.spy; sp == "in" || sp == "both" {
			mixInto(frame, s.talk(t))
		}
		if sp := ch.snoop.spy; sp == "out" || sp == "both" {
			mixInto(frame, s.deliver(t))
		}
	case ch.gen != nil:
		if !ch.gen.next(frame) {
			ch.gen = nil
		}
	default:
		clear(frame)
	}
	if ch.snoop == nil {
		for _, sn := range ch.snoops {
			if w := sn.snoop.whisper; w == "in" || w == "both" {
				mixInto(frame, s.deliver(sn))
			}
		}
	}
	fb.busy = false
	return frame
}

// bridgeFrame fills frame with what member ch hears from bridge b.
func (s *Sim) bridgeFrame(b *bridge, ch *channel, frame []int16) {
	clear(frame)
	if p := activePlayback(b.playbacks); p != nil {
		copy(frame, s.playbackFrame(p))
		if b.typ == "holding" {
			return
		}
	} else if b.moh {
		fb := &b.mixBuf
		if fb.tick != s.tick {
			fb.tick = s.tick
			b.mohSource().next(fb.pcm[:])
		}
		copy(frame, fb.pcm[:])
		if b.typ == "holding" {
			return
		}
	}
	if b.typ == "holding" {
		return
	}
	for _, m := range b.members {
		if m != ch {
			mixInto(frame, s.talk(m))
		}
	}
}
