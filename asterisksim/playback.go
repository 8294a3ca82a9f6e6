package asterisksim

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
)

// playback is an ARI playback on a channel or a bridge: a list of media played one item after the
// other, as play_on_channel in res/res_stasis_playback.c does. Each item begins with
// PlaybackStarted; an item that played (or failed) ends with PlaybackContinuing unless it is the
// last, whose end is PlaybackFinished (done or failed). An item of a scheme Asterisk does not
// play is passed over after its PlaybackStarted; when it is the last, the playback ends without
// an event. Guarded by Sim.mu.
type playback struct {
	id    string
	media []string
	index int // the item playing (media_index)
	lang  string
	ch    *channel
	br    *bridge
	state string // queued, playing, continuing, paused, done, failed
	src   source // the item's audio
	timer *time.Timer
	gen   int           // bumped whenever the item's timer is replaced, so a stale one does nothing
	left  time.Duration // scaled, what remains of the item (when paused: from pausing)
	since time.Time     // when the item last started or resumed
	begun time.Time     // when the playback started
	frame frameBuf
	noted int // items already told to the Go caller's Prompts
}

func (p *playback) targetURI() string {
	if p.br != nil {
		return "bridge:" + p.br.id
	}
	return "channel:" + p.ch.id
}

// json is the playback as Asterisk shows it: media_uri is the item playing, next_media_uri the
// one after it (absent for the last).
func (p *playback) json() PlaybackJSON {
	j := PlaybackJSON{ID: p.id, MediaURI: p.media[p.index], TargetURI: p.targetURI(), Language: p.lang, State: p.state}
	if p.index < len(p.media)-1 {
		j.NextMediaURI = &p.media[p.index+1]
	}
	return j
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

// startPlaybackLocked starts p's first item.
func (s *Sim) startPlaybackLocked(p *playback) {
	p.begun = time.Now()
	p.index = 0
	if p.br != nil && p.br.typ == "mixing" {
		p.br.announcers = 1
		for _, m := range p.br.members {
			s.setVarLocked(m, "BRIDGEPEER", s.peersOf(p.br, m))
		}
	}
	s.markPlaybackLocked(p, Mark{Kind: MarkStarted, At: p.begun})
	s.playItemLocked(p)
}

// playItemLocked plays item p.index: PlaybackStarted, then its audio for its real (scaled) length.
// A sound that cannot be found fails the item at once; a scheme Asterisk does not have passes
// over it.
func (s *Sim) playItemLocked(p *playback) {
	for {
		p.state = "playing"
		p.since = time.Now()
		p.gen++
		s.evPlaybackLocked(p, "PlaybackStarted")
		s.notePromptsLocked(p)
		src, d, ok, known := s.resolveMedia(p.media[p.index], p.lang)
		switch {
		case !known && p.index == len(p.media)-1:
			s.dropPlaybackLocked(p)
			return
		case !known:
			p.index++
			continue
		case !ok:
			s.itemEndedLocked(p, "failed", time.Now())
			return
		case d < 0:
			p.src, p.left = src, -1 // plays until stopped
		default:
			p.left = s.scaled(d)
			p.src = &limitSource{src: src, n: int(p.left.Seconds() * rate)}
			s.armItemTimerLocked(p)
		}
		s.updateSinksLocked(p)
		return
	}
}

// armItemTimerLocked ends the item when what remains of it has played.
func (s *Sim) armItemTimerLocked(p *playback) {
	gen, due := p.gen, p.since.Add(max(p.left, 0))
	p.timer = time.AfterFunc(max(p.left, 0), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if p.gen == gen && p.state == "playing" {
			s.itemEndedLocked(p, "done", due)
		}
	})
}

func (s *Sim) stopItemTimerLocked(p *playback) {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.gen++
}

// itemEndedLocked ends the item playing (due is when it was due to end): the last one finishes
// the playback with state; any other is followed by PlaybackContinuing and the next item.
func (s *Sim) itemEndedLocked(p *playback, state string, due time.Time) {
	s.stopItemTimerLocked(p)
	if p.index == len(p.media)-1 {
		s.markPlaybackLocked(p, Mark{Kind: MarkFinished, At: time.Now(), Due: due})
		s.finishPlaybackLocked(p, state)
		return
	}
	p.state = "continuing"
	s.evPlaybackLocked(p, "PlaybackContinuing")
	p.index++
	s.playItemLocked(p)
}

// updateSinksLocked recomputes who hears a channel playback.
func (s *Sim) updateSinksLocked(p *playback) {
	if p.ch != nil {
		s.updateSinkLocked(p.ch)
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

// finishPlaybackLocked ends p with PlaybackFinished (the item playing as media_uri) and starts the
// target's next playback.
func (s *Sim) finishPlaybackLocked(p *playback, state string) {
	if p.state == "done" || p.state == "failed" {
		return
	}
	s.stopItemTimerLocked(p)
	p.state = state
	s.evPlaybackLocked(p, "PlaybackFinished")
	s.removePlaybackLocked(p)
}

// dropPlaybackLocked ends p without an event, as Asterisk ends a playback whose last item has a
// scheme it does not play.
func (s *Sim) dropPlaybackLocked(p *playback) {
	s.stopItemTimerLocked(p)
	now := time.Now()
	s.markPlaybackLocked(p, Mark{Kind: MarkFinished, At: now, Due: now})
	p.state = "done"
	s.removePlaybackLocked(p)
}

// removePlaybackLocked takes an ended p off its target and starts the target's next playback.
func (s *Sim) removePlaybackLocked(p *playback) {
	delete(s.playbacks, p.id)
	var next *playback
	if p.ch != nil {
		p.ch.playbacks = removePlayback(p.ch.playbacks, p)
		if len(p.ch.playbacks) > 0 {
			next = p.ch.playbacks[0]
		} else if p.ch.idle != nil {
			close(p.ch.idle)
			p.ch.idle = nil
		}
	} else {
		p.br.playbacks = removePlayback(p.br.playbacks, p)
		if len(p.br.playbacks) > 0 {
			next = p.br.playbacks[0]
		} else if p.br.announcers > 0 {
			p.br.announcers = 0
		}
	}
	if next != nil && next.state == "queued" {
		s.startPlaybackLocked(next)
	}
	s.updateSinksLocked(p)
}

func removePlayback(list []*playback, p *playback) []*playback {
	for i, q := range list {
		if q == p {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// stopChannelPlaybacksLocked ends a hung-up channel's playbacks: the one playing fails, queued
// ones vanish without events.
func (s *Sim) stopChannelPlaybacksLocked(ch *channel) {
	list := ch.playbacks
	ch.playbacks = nil
	for _, p := range list {
		s.stopItemTimerLocked(p)
		delete(s.playbacks, p.id)
		if p.state == "playing" || p.state == "paused" {
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
		s.stopItemTimerLocked(p)
		delete(s.playbacks, p.id)
		if p.state == "playing" || p.state == "paused" {
			p.state = state
			s.evPlaybackLocked(p, "PlaybackFinished")
		}
	}
}

// controlPlaybackLocked implements POST /playbacks/{id}/control. pause, unpause and restart act
// on the item playing (restart plays it again from its start); Asterisk sends no event for them.
func (s *Sim) controlPlaybackLocked(p *playback, op string) (int, string) {
	if p.state == "queued" {
		return 409, "Playback not started"
	}
	switch op {
	case "pause":
		if p.state == "playing" && p.timer != nil {
			s.stopItemTimerLocked(p)
			p.left -= time.Since(p.since)
			p.state = "paused"
		}
	case "unpause":
		if p.state == "paused" {
			p.state = "playing"
			p.since = time.Now()
			s.armItemTimerLocked(p)
		}
	case "restart":
		s.stopItemTimerLocked(p)
		s.restartItemLocked(p)
	case "reverse", "forward":
	default:
		return 400, "Invalid operation " + op
	}
	return 204, ""
}

// restartItemLocked plays the item again from its start, without events.
func (s *Sim) restartItemLocked(p *playback) {
	src, d, ok, known := s.resolveMedia(p.media[p.index], p.lang)
	p.state = "playing"
	p.since = time.Now()
	switch {
	case !known || !ok:
	case d < 0:
		p.src, p.left = src, -1
	default:
		p.left = s.scaled(d)
		p.src = &limitSource{src: src, n: int(p.left.Seconds() * rate)}
		s.armItemTimerLocked(p)
	}
	s.updateSinksLocked(p)
}

// markPlaybackLocked adds m to the timeline of the Go caller a channel playback plays to.
func (s *Sim) markPlaybackLocked(p *playback, m Mark) {
	if p.ch == nil || p.ch.kind != kindLocal2 || p.ch.peer == nil || p.ch.peer.callerH == nil || !p.ch.peer.callerH.spec.Timeline {
		return
	}
	m.Value = strings.Join(p.media, ",")
	p.ch.peer.callerH.mark(m)
}

// notePromptsLocked records for Go callers (Caller.Prompts) the items of p that have begun: a
// playback stopped by a key lists only what began.
func (s *Sim) notePromptsLocked(p *playback) {
	end := p.index + 1
	if end <= p.noted {
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

// waitIdleLocked holds a synchronous command on ch until its playbacks are over. Asterisk runs a
// Stasis channel's commands one after the other on the channel's own thread, and a playback
// occupies that thread to its end: a variable set or a bridge joined during a prompt is done, and
// answered, only after it (recorded: a controller killed mid-prompt, whose successor's addChannel
// waited for the rest of the prompt). s.mu is held, and released while waiting. False when the
// request gave up first or the channel hung up meanwhile.
func (s *Sim) waitIdleLocked(ctx context.Context, ch *channel) bool {
	for len(ch.playbacks) > 0 {
		if ch.idle == nil {
			ch.idle = make(chan struct{})
		}
		idle := ch.idle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
		}
		s.mu.Lock()
		if ctx.Err() != nil || ch.hungup {
			return false
		}
	}
	return true
}
