package asterisksim

import (
	"cmp"
	"context"
	"fmt"
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

// substitute expands ${VAR} from the channel's variables, a few built-ins and the dialplan's
// [globals] (a channel variable of the same name wins, as in Asterisk), then evaluates $[...].
func (s *Sim) substitute(ch *channel, loc dpLoc, data string) string {
	return s.expressions(s.variables(ch, loc, data))
}

func (s *Sim) variables(ch *channel, loc dpLoc, data string) string {
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
			if group, ok := strings.CutPrefix(name, "GROUP_COUNT("); ok && strings.HasSuffix(group, ")") {
				b.WriteString(strconv.Itoa(s.groupCountLocked(strings.TrimSuffix(group, ")"))))
				break
			}
			v, ok := ch.getVar(name)
			if !ok {
				v = s.plan.globals[name]
			}
			b.WriteString(v)
		}
		data = data[i+end+1:]
	}
}

// groupCountLocked is GROUP_COUNT(group): the channels whose GROUP() is group.
func (s *Sim) groupCountLocked(group string) int {
	n := 0
	for _, ch := range s.channels {
		if ch.group == group {
			n++
		}
	}
	return n
}

// expressions replaces each $[...] in data with its value.
func (s *Sim) expressions(data string) string {
	for {
		i := strings.Index(data, "$[")
		if i < 0 {
			return data
		}
		depth, end := 0, -1
		for j := i + 1; j < len(data) && end < 0; j++ {
			switch data[j] {
			case '[':
				depth++
			case ']':
				depth--
				if depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return data
		}
		v, err := evalExpr(data[i+2 : end])
		if err != nil {
			// Asterisk logs the syntax error and substitutes nothing.
			s.log.Warn("dialplan expression not understood", "expr", data[i:end+1], "err", err)
		}
		data = data[:i] + v + data[end+1:]
	}
}

// evalExpr evaluates the part of Asterisk's expression language hotline's dialplan uses: a single
// operand, two compared with = (==), !=, <, >, <= or >=, or two numbers added with +. As in
// Asterisk, a quoted operand keeps its quotes (so "" = "" holds) and two numbers compare as
// numbers, anything else as text.
func evalExpr(expr string) (string, error) {
	var toks []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			j := strings.IndexByte(expr[i+1:], '"')
			if j < 0 {
				return "", fmt.Errorf("unterminated quote in %q", expr)
			}
			toks = append(toks, expr[i:i+j+2])
			i += j + 2
		case strings.HasPrefix(expr[i:], "!="), strings.HasPrefix(expr[i:], "=="),
			strings.HasPrefix(expr[i:], "<="), strings.HasPrefix(expr[i:], ">="):
			toks = append(toks, expr[i:i+2])
			i += 2
		case c == '=' || c == '<' || c == '>' || c == '+':
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(expr) && !strings.ContainsRune(" \t\"=!<>+", rune(expr[j])) {
				j++
			}
			if j == i {
				return "", fmt.Errorf("unsupported operator at %q", expr[i:])
			}
			toks = append(toks, expr[i:j])
			i = j
		}
	}
	switch len(toks) {
	case 0:
		return "", nil
	case 1:
		return toks[0], nil
	case 3:
	default:
		return "", fmt.Errorf("only a comparison of two operands is simulated, not %q", expr)
	}
	a, op, b := toks[0], toks[1], toks[2]
	var order int
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if op == "+" {
		if errA != nil || errB != nil {
			return "", fmt.Errorf("+ of what is not a number in %q", expr)
		}
		return strconv.FormatFloat(x+y, 'f', -1, 64), nil
	}
	if errA == nil && errB == nil {
		order = cmp.Compare(x, y)
	} else {
		order = strings.Compare(a, b)
	}
	var holds bool
	switch op {
	case "=", "==":
		holds = order == 0
	case "!=":
		holds = order != 0
	case "<":
		holds = order < 0
	case ">":
		holds = order > 0
	case "<=":
		holds = order <= 0
	case ">=":
		holds = order >= 0
	default:
		return "", fmt.Errorf("unsupported operator %q", op)
	}
	if holds {
		return "1", nil
	}
	return "0", nil
}

// checkCondition is Asterisk's pbx_checkcondition: blank is false, a number is its truth, any
// other text is true.
func checkCondition(cond string) bool {
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return false
	}
	if n, err := strconv.Atoi(cond); err == nil {
		return n != 0
	}
	return true
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
	case "goto", "gotoif":
		dest := data
		if strings.EqualFold(app, "gotoif") {
			// GotoIf(condition?iftrue:iffalse): an empty branch goes on to the next priority.
			cond, branches, _ := strings.Cut(data, "?")
			iftrue, iffalse, _ := strings.Cut(branches, ":")
			dest = iffalse
			if checkCondition(cond) {
				dest = iftrue
			}
			if strings.TrimSpace(dest) == "" {
				break
			}
		}
		to, err := s.plan.target(loc, dest)
		if err != nil {
			// Asterisk logs it and hangs the channel up.
			s.log.Warn("dialplan goto failed: hanging up", "channel", ch.name, "err", err)
			s.mu.Lock()
			s.hangupLocked(ch, causeNormal, hangupSelf)
			s.mu.Unlock()
			return next, false
		}
		next = to
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
	case "dial":
		return s.dialplanDial(ctx, ch, next, args)
	default:
		s.log.Warn("dialplan application not simulated: hanging up", "app", app, "channel", ch.name)
		s.mu.Lock()
		s.hangupLocked(ch, causeNormal, hangupSelf)
		s.mu.Unlock()
		return next, false
	}
	return next, true
}

// dialplanPlayback plays files (a&b) to the channel in its language for their duration, as
// Playback() does: it answers first, and sets PLAYBACKSTATUS to FAILED if any file was missing.
// A Go caller on the other half of a Local pair sees each file in Caller.Prompts as sound:<file>.
func (s *Sim) dialplanPlayback(ctx context.Context, ch *channel, files string) bool {
	s.mu.Lock()
	s.answerLocked(ch)
	s.mu.Unlock()
	status := "SUCCESS"
	for _, f := range strings.Split(files, "&") {
		f = strings.TrimSpace(f)
		s.mu.Lock()
		snd, ok := s.resolveSound(f, ch.lang)
		if !ok {
			status = "FAILED"
			s.mu.Unlock()
			continue
		}
		if ch.kind == kindLocal2 && ch.peer != nil && ch.peer.callerH != nil {
			ch.peer.callerH.addPrompts([]string{"sound:" + f})
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
	s.mu.Lock()
	s.setVarLocked(ch, "PLAYBACKSTATUS", status)
	s.mu.Unlock()
	return true
}

// dialplanDial is Dial(Local/exten@context[&...][,timeout]) for one Local destination: the ;2 half
// runs exten@context with the caller's number; when it answers, Dial answers the caller and the
// two hear each other until one hangs up, which ends the other (Dial without the g option). Not
// answered within the timeout (seconds; none without), or gone first: DIALSTATUS says so and the
// dialplan goes on. A technology other than Local is unavailable here (CHANUNAVAIL), as a driver
// that is not loaded is in Asterisk.
func (s *Sim) dialplanDial(ctx context.Context, ch *channel, next dpLoc, args []string) (dpLoc, bool) {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	status := func(v string) {
		s.mu.Lock()
		s.setVarLocked(ch, "DIALSTATUS", v)
		s.mu.Unlock()
	}
	dest, more, _ := strings.Cut(arg(0), "&")
	if more != "" {
		s.log.Warn("Dial to several destinations not simulated: dialling the first", "channel", ch.name, "dial", arg(0))
	}
	tech, resource, _ := strings.Cut(dest, "/")
	resource, _, _ = strings.Cut(resource, "/") // Local options (/n)
	exten, context, ok := strings.Cut(resource, "@")
	if !ok {
		context = "default"
	}
	if !strings.EqualFold(tech, "Local") || !s.plan.exists(context, exten) {
		status("CHANUNAVAIL")
		return next, true
	}
	answered := make(chan struct{})
	s.mu.Lock()
	if ch.hungup {
		s.mu.Unlock()
		return next, false
	}
	one, two := s.newLocalPairLocked(exten, context, "", "", ch.caller)
	one.onUp = func() { close(answered) }
	s.goTracked(func() { s.runDialplan(two, dpLoc{context, exten, 1}) })
	s.mu.Unlock()

	var timeout <-chan time.Time
	if d := seconds(arg(1)); d > 0 {
		t := time.NewTimer(s.scaled(d))
		defer t.Stop()
		timeout = t.C
	}
	hangupOne := func() {
		s.mu.Lock()
		s.hangupLocked(one, causeNormal, hangupLocal)
		s.mu.Unlock()
	}
	select {
	case <-ctx.Done(): // the caller hung up while it rang
		hangupOne()
		return next, false
	case <-timeout:
		hangupOne()
		status("NOANSWER")
		return next, true
	case <-one.ctx.Done():
		status("NOANSWER")
		return next, true
	case <-answered:
	}
	s.mu.Lock()
	s.answerLocked(ch)
	ch.dialed, one.dialed = one, ch
	s.setVarLocked(ch, "DIALSTATUS", "ANSWER")
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		hangupOne()
	case <-one.ctx.Done():
		s.mu.Lock()
		s.hangupLocked(ch, causeNormal, hangupSelf)
		s.mu.Unlock()
	}
	s.mu.Lock()
	ch.dialed = nil
	s.mu.Unlock()
	return next, false
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
