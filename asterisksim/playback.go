package asterisksim

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// playback is an ARI playback on a channel or a bridge. Guarded by Sim.mu.
type playback struct {
	id      string
	media   []string
	lang    string
	ch      *channel
	br      *bridge
	state   string // queued, playing, paused, done, failed
	src     source
	timer   *time.Timer
	dur     time.Duration // scaled, what remains when paused
	started time.Time
	frame   frameBuf
	bogus   bool // unknown scheme: never progresses, vanishes silently on hangup

	// offsets[i] is when media[i] starts, scaled; noted counts the items already told to the
	// caller's Prompts, so a playback stopped by a key lists only what began.
	offsets []time.Duration
	noted   int
}

func (p *playback) targetURI() string {
	if p.br != nil {
		return "bridge:" + p.br.id
	}
	return "channel:" + p.ch.id
}

// json reports the last media item as media_uri, as Asterisk 22 does for a list of media.
func (p *playback) json() PlaybackJSON {
	return PlaybackJSON{ID: p.id, MediaURI: p.media[len(p.media)-1], TargetURI: p.targetURI(), Language: p.lang, State: p.state}
}

func (s *Sim) evPlaybackLocked(p *playback, typ string) {
	ev := &playbackEvent{evHead: s.head(typ), Playback: p.json()}
	if p.ch != nil {
		if app := p.ch.subscribedApp(); app != "" {
			s.emitLocked(app, ev)
		}
		return
	}
	for _, app := range s.hub.appNames() {
		e := *ev
		s.emitLocked(app, &e)
	}
}

// queuePlaybackLocked adds p to its target's queue and starts it if nothing else plays.
func (s *Sim) queuePlaybackLocked(p *playback) {
	s.playbacks[p.id] = p
	if p.ch != nil {
		p.ch.playbacks = append(p.ch.playbacks, p)
		if len(p.ch.playbacks) == 1 {
			s.startPlaybackLocked(p)
		}
		return
	}
	p.br.playbacks = append(p.br.playbacks, p)
	if len(p.br.playbacks) == 1 {
		s.startPlaybackLocked(p)
	}
}

// startPlaybackLocked resolves the media and runs the playback for their total real duration.
// A sound that cannot be found fails the playback after PlaybackStarted, as Asterisk does; an
// unknown scheme starts and then never progresses (recorded behaviour of Asterisk 22.10.1).
func (s *Sim) startPlaybackLocked(p *playback) {
	p.state = "playing"
	p.started = time.Now()
	var items []source
	var total time.Duration
	forever, bogus := false, false
	p.offsets = make([]time.Duration, len(p.media))
	for i, uri := range p.media {
		p.offsets[i] = total
		src, d, ok, known := s.resolveMedia(uri, p.lang)
		if !known {
			bogus = true
			continue
		}
		if !ok {
			continue
		}
		if d < 0 {
			forever = true
			items = append(items, src)
			break
		}
		sd := s.scaled(d)
		items = append(items, &limitSource{src: src, n: int(sd.Seconds() * rate)})
		total += sd
	}
	if p.br != nil && p.br.typ == "mixing" {
		p.br.announcers = 1
		if len(p.br.members) >= 1 {
			for _, m := range p.br.members {
				s.setVarLocked(m, "BRIDGEPEER", s.peersOf(p.br, m))
			}
		}
	}
	s.evPlaybackLocked(p, "PlaybackStarted")
	s.notePromptsLocked(p, 0)
	s.markPlaybackLocked(p, Mark{Kind: MarkStarted, At: p.started})
	switch {
	case len(items) == 0 && bogus && len(p.media) == 1:
		p.src = &pcmSource{} // plays nothing, never finishes
		p.bogus = true
	case len(items) == 0:
		s.markPlaybackLocked(p, Mark{Kind: MarkFinished, At: p.started, Due: p.started})
		s.finishPlaybackLocked(p, "failed")
	case forever:
		p.src = &seqSource{items: items}
	default:
		p.src = &seqSource{items: items}
		p.dur = total
		p.timer = time.AfterFunc(total, func() { s.playbackTimerFired(p) })
	}
	if p.ch != nil {
		s.updateSinkLocked(p.ch)
	}
}

func (s *Sim) playbackTimerFired(p *playback) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.state == "playing" {
		s.notePromptsLocked(p, math.MaxInt64)
		s.markPlaybackLocked(p, Mark{Kind: MarkFinished, At: time.Now(), Due: p.started.Add(p.dur)})
		s.finishPlaybackLocked(p, "done")
	}
}

// resolveMedia turns a media URI into audio. d < 0 means it plays until stopped. known is false
// for a scheme Asterisk does not have.
func (s *Sim) resolveMedia(uri, lang string) (src source, d time.Duration, ok, known bool) {
	scheme, arg, _ := strings.Cut(uri, ":")
	var files []string
	switch scheme {
	case "sound":
		files = []string{arg}
	case "digits":
		files = sayDigits(arg)
	case "characters":
		files = sayDigits(strings.ToLower(arg))
	case "number":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return nil, 0, false, true
		}
		files = sayNumber(n)
	case "tone":
		freq := toneFreq(arg)
		if freq <= 0 {
			return nil, 0, false, true
		}
		if arg == "ring" || strings.HasPrefix(arg, "ring;") {
			return newRingback(), -1, true, true
		}
		return newTone(freq), -1, true, true
	case "recording":
		snd, found := soundFile(s.recordingPath(arg))
		if !found {
			return nil, 0, false, true
		}
		return s.soundSource(snd), snd.dur, true, true
	default:
		return nil, 0, false, false
	}
	if len(files) == 0 {
		return nil, 0, false, true
	}
	var items []source
	for _, f := range files {
		snd, found := s.resolveSound(f, lang)
		if !found {
			return nil, 0, false, true
		}
		items = append(items, &limitSource{src: s.soundSource(snd), n: int(s.scaled(snd.dur).Seconds() * rate)})
		d += snd.dur
	}
	if len(items) == 1 {
		return items[0], d, true, true
	}
	return &seqSource{items: items}, d, true, true
}

func (s *Sim) soundSource(snd sound) source {
	if snd.pcm != nil {
		return &pcmSource{pcm: snd.pcm}
	}
	return newSpeech()
}

// toneFreq reads the first frequency of an Asterisk tone string ("440", "440+480/2000", "ring").
func toneFreq(arg string) float64 {
	arg, _, _ = strings.Cut(arg, ";")
	switch arg {
	case "ring", "dial", "busy", "congestion":
		return 425
	}
	arg = strings.TrimPrefix(arg, "!")
	end := strings.IndexFunc(arg, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end >= 0 {
		arg = arg[:end]
	}
	f, err := strconv.ParseFloat(arg, 64)
	if err != nil || f <= 0 || f >= rate/2 || math.IsNaN(f) {
		return 0
	}
	return f
}

// finishPlaybackLocked ends p with PlaybackFinished and starts the target's next playback.
func (s *Sim) finishPlaybackLocked(p *playback, state string) {
	if p.state == "done" || p.state == "failed" {
		return
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	if !p.started.IsZero() {
		s.notePromptsLocked(p, time.Since(p.started)) // a stopped playback lists only what began
	}
	p.state = state
	delete(s.playbacks, p.id)
	var next *playback
	if p.ch != nil {
		p.ch.playbacks = removePlayback(p.ch.playbacks, p)
		if len(p.ch.playbacks) > 0 {
			next = p.ch.playbacks[0]
		}
	} else {
		p.br.playbacks = removePlayback(p.br.playbacks, p)
		if len(p.br.playbacks) > 0 {
			next = p.br.playbacks[0]
		} else if p.br.announcers > 0 {
			p.br.announcers = 0
		}
	}
	s.evPlaybackLocked(p, "PlaybackFinished")
	if next != nil && next.state == "queued" {
		s.startPlaybackLocked(next)
	}
	if p.ch != nil {
		s.updateSinkLocked(p.ch)
	}
}

func removePlayback(list []*playback, p *playback) []*playback {
	for i, q := range list {
		if q == p {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// stopChannelPlaybacksLocked ends a hung-up channel's playbacks: the playing one fails, queued
// ones and ones of unknown schemes vanish without events.
func (s *Sim) stopChannelPlaybacksLocked(ch *channel) {
	list := ch.playbacks
	ch.playbacks = nil
	for _, p := range list {
		if p.timer != nil {
			p.timer.Stop()
		}
		delete(s.playbacks, p.id)
		if p.state == "playing" && !p.bogus || p.state == "paused" {
			p.state = "failed"
			s.evPlaybackLocked(p, "PlaybackFinished")
		}
	}
}

func (s *Sim) stopBridgePlaybacksLocked(b *bridge, state string) {
	list := b.playbacks
	b.playbacks = nil
	b.announcers = 0
	for _, p := range list {
		if p.timer != nil {
			p.timer.Stop()
		}
		delete(s.playbacks, p.id)
		if p.state == "playing" || p.state == "paused" {
			p.state = state
			s.evPlaybackLocked(p, "PlaybackFinished")
		}
	}
}

// controlPlaybackLocked implements POST /playbacks/{id}/control.
func (s *Sim) controlPlaybackLocked(p *playback, op string) (int, string) {
	if p.state == "queued" {
		return 409, "Playback not started"
	}
	switch op {
	case "pause":
		if p.state == "playing" && p.timer != nil {
			p.timer.Stop()
			p.dur -= time.Since(p.started)
			p.state = "paused"
		}
	case "unpause":
		if p.state == "paused" {
			p.state = "playing"
			p.started = time.Now()
			p.timer = time.AfterFunc(max(p.dur, 0), func() { s.playbackTimerFired(p) })
		}
	case "restart":
		if p.timer != nil {
			p.timer.Stop()
		}
		p.state = "queued"
		s.startPlaybackLocked(p)
	case "reverse", "forward":
	default:
		return 400, "Invalid operation " + op
	}
	return 204, ""
}

// markPlaybackLocked adds m to the timeline of the Go caller a channel playback plays to.
func (s *Sim) markPlaybackLocked(p *playback, m Mark) {
	if p.ch == nil || p.ch.kind != kindLocal2 || p.ch.peer == nil || p.ch.peer.callerH == nil || !p.ch.peer.callerH.spec.Timeline {
		return
	}
	m.Value = strings.Join(p.media, ",")
	p.ch.peer.callerH.mark(m)
}

// notePromptsLocked records for Go callers (Caller.Prompts) the media of p that had begun by upTo
// into the playback.
func (s *Sim) notePromptsLocked(p *playback, upTo time.Duration) {
	end := p.noted
	for end < len(p.offsets) && p.offsets[end] <= upTo {
		end++
	}
	if end == p.noted {
		return
	}
	media := p.media[p.noted:end]
	p.noted = end
	note := func(ch *channel) {
		if ch.kind == kindLocal2 && ch.peer != nil && ch.peer.callerH != nil {
			ch.peer.callerH.addPrompts(media)
		}
	}
	if p.ch != nil {
		note(p.ch)
		return
	}
	for _, m := range p.br.members {
		note(m)
	}
}
