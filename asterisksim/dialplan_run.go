package asterisksim

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// runDialplan executes ch's dialplan from loc until the channel hangs up or the dialplan ends
// (which hangs it up, as Asterisk does). One goroutine per channel that runs dialplan: it is
// blocked on a timer or in Stasis nearly all the time.
func (s *Sim) runDialplan(ch *channel, loc dpLoc) {
	for {
		s.mu.Lock()
		if ch.hungup {
			s.mu.Unlock()
			return
		}
		steps, ok := s.plan.steps(loc.context, loc.exten)
		st, ok2 := steps[loc.priority]
		if !ok || !ok2 {
			s.hangupLocked(ch, causeNormal, hangupSelf)
			s.mu.Unlock()
			return
		}
		data := s.substitute(ch, loc, st.data)
		ch.dp = DialplanCEP{Context: loc.context, Exten: loc.exten, Priority: loc.priority, AppName: st.app, AppData: data}
		if app := ch.subscribedApp(); app != "" {
			s.emitLocked(app, &dialplanEvent{evHead: s.head("ChannelDialplan"), DialplanApp: st.app, DialplanAppData: data, Channel: ch.json()})
		}
		s.mu.Unlock()
		next, more := s.execApp(ch, loc, st.app, data)
		if !more {
			return
		}
		loc = next
	}
}

// substitute expands ${VAR} from the channel's variables and a few built-ins.
func (s *Sim) substitute(ch *channel, loc dpLoc, data string) string {
	var b strings.Builder
	for {
		i := strings.Index(data, "${")
		if i < 0 {
			b.WriteString(data)
			return b.String()
		}
		end := strings.IndexByte(data[i:], '}')
		if end < 0 {
			b.WriteString(data)
			return b.String()
		}
		b.WriteString(data[:i])
		name := data[i+2 : i+end]
		switch name {
		case "EXTEN":
			b.WriteString(loc.exten)
		case "CONTEXT":
			b.WriteString(loc.context)
		case "PRIORITY":
			b.WriteString(strconv.Itoa(loc.priority))
		default:
			v, _ := ch.getVar(name)
			b.WriteString(v)
		}
		data = data[i+end+1:]
	}
}

func splitArgs(data string) []string {
	if data == "" {
		return nil
	}
	parts := strings.Split(data, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func seconds(arg string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func millis(arg string, def int) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil || n < 0 {
		n = def
	}
	return time.Duration(n) * time.Millisecond
}

// execApp runs one dialplan application. It returns where to go next, or false when the channel
// is gone.
func (s *Sim) execApp(ch *channel, loc dpLoc, app, data string) (dpLoc, bool) {
	ctx := ch.ctx
	next := dpLoc{loc.context, loc.exten, loc.priority + 1}
	args := splitArgs(data)
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch strings.ToLower(app) {
	case "noop", "verbose", "log", "progress":
	case "answer":
		s.mu.Lock()
		s.answerLocked(ch)
		s.mu.Unlock()
	case "ringing":
		s.mu.Lock()
		if ch.state == "Down" {
			ch.state = "Ring"
			s.evChannelLocked(ch, "ChannelStateChange")
		}
		s.mu.Unlock()
	case "wait":
		if sleep(ctx, s.scaled(seconds(arg(0)))) != nil {
			return next, false
		}
	case "hangup":
		cause := causeNormal
		if n, err := strconv.Atoi(arg(0)); err == nil && n > 0 {
			cause = n
		}
		s.mu.Lock()
		s.hangupLocked(ch, cause, hangupSelf)
		s.mu.Unlock()
		return next, false
	case "set":
		name, val, _ := strings.Cut(data, "=")
		s.mu.Lock()
		s.setVarLocked(ch, strings.TrimSpace(name), val)
		s.mu.Unlock()
	case "goto":
		switch len(args) {
		case 1:
			next = dpLoc{loc.context, loc.exten, atoiDef(args[0], 1)}
		case 2:
			next = dpLoc{loc.context, args[0], atoiDef(args[1], 1)}
		case 3:
			next = dpLoc{args[0], args[1], atoiDef(args[2], 1)}
		}
	case "playtones":
		s.mu.Lock()
		ch.gen = newTone(toneFreq(arg(0)))
		s.mu.Unlock()
	case "stopplaytones":
		s.mu.Lock()
		ch.gen = nil
		s.mu.Unlock()
	case "playback", "background":
		return next, s.dialplanPlayback(ctx, ch, arg(0))
	case "senddtmf":
		between := millis(arg(1), 100)
		dur := millis(arg(2), 250)
		for _, d := range arg(0) {
			if sleep(ctx, s.scaled(dur)) != nil {
				return next, false
			}
			s.mu.Lock()
			s.dtmfToLocked(ch, string(d), int(dur/time.Millisecond))
			s.mu.Unlock()
			if sleep(ctx, s.scaled(between)) != nil {
				return next, false
			}
		}
	case "echo":
		s.mu.Lock()
		ch.echo = true
		s.mu.Unlock()
		<-ctx.Done()
		return next, false
	case "musiconhold":
		s.mu.Lock()
		ch.moh = true
		s.mu.Unlock()
		d := seconds(arg(1))
		if d == 0 {
			<-ctx.Done()
			return next, false
		}
		if sleep(ctx, s.scaled(d)) != nil {
			return next, false
		}
		s.mu.Lock()
		ch.moh = false
		s.mu.Unlock()
	case "stasis":
		return s.dialplanStasis(ctx, ch, next, args)
	default:
		s.log.Warn("dialplan application not simulated: hanging up", "app", app, "channel", ch.name)
		s.mu.Lock()
		s.hangupLocked(ch, causeNormal, hangupSelf)
		s.mu.Unlock()
		return next, false
	}
	return next, true
}

func atoiDef(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

// dialplanPlayback plays files (a&b) to the channel for their duration, as Playback() does.
func (s *Sim) dialplanPlayback(ctx context.Context, ch *channel, files string) bool {
	for _, f := range strings.Split(files, "&") {
		s.mu.Lock()
		snd, ok := s.resolveSound(strings.TrimSpace(f), ch.lang)
		if !ok {
			s.setVarLocked(ch, "PLAYBACKSTATUS", "FAILED")
			s.mu.Unlock()
			continue
		}
		d := s.scaled(snd.dur)
		ch.gen = &limitSource{src: s.soundSource(snd), n: int(d.Seconds() * rate)}
		s.mu.Unlock()
		if sleep(ctx, d) != nil {
			return false
		}
		s.mu.Lock()
		ch.gen = nil
		s.mu.Unlock()
	}
	return true
}

// dialplanStasis hands the channel to an app and blocks until the app lets it go (continue) or it
// hangs up. An app with no WebSocket fails Stasis(), and the dialplan goes on.
func (s *Sim) dialplanStasis(ctx context.Context, ch *channel, next dpLoc, args []string) (dpLoc, bool) {
	if len(args) == 0 || !s.hub.registered(args[0]) {
		s.mu.Lock()
		ch.vars["STASISSTATUS"] = "FAILED"
		s.mu.Unlock()
		return next, true
	}
	s.mu.Lock()
	ch.fromDialplan = true
	s.enterStasisLocked(ch, args[0], args[1:])
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return next, false
	case to := <-ch.stasisCh:
		if to.context == "" {
			return next, true
		}
		return to, true
	}
}

// dtmfToLocked sends a DTMF digit into ch: it comes out of the other half of a Local pair, which
// reports ChannelDtmfReceived (or a Go caller records it).
func (s *Sim) dtmfToLocked(ch *channel, digit string, durMS int) {
	peer := ch.peer
	if peer == nil || peer.hungup {
		return
	}
	if peer.callerH != nil {
		peer.callerH.addDigit(digit)
	}
	if app := peer.subscribedApp(); app != "" {
		s.emitLocked(app, &dtmfEvent{evHead: s.head("ChannelDtmfReceived"), Digit: digit, DurationMS: durMS, Channel: peer.json()})
	}
}
