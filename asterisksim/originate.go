package asterisksim

import (
	"fmt"
	"strings"
	"time"
)

// originateReq is POST /channels (and /channels/{id}).
type originateReq struct {
	endpoint, app, appArgs    string
	context, extension        string
	priority                  int
	callerID                  string
	timeout                   time.Duration // before scaling
	channelID, otherChannelID string
	variables                 map[string]string
}

// apiError is a REST failure: status and body.
type apiError struct {
	status int
	body   any
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %v", e.status, e.body) }

func msgErr(status int, msg string) *apiError { return &apiError{status, errorBody{msg}} }

var errAllocation = &apiError{500, map[string]string{"error": "Allocation failed"}}

// parseCallerID reads `"Name" <number>`, `Name <number>` or `number`.
func parseCallerID(s string) CallerID {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		j := strings.IndexByte(s[i:], '>')
		num := s[i+1:]
		if j >= 0 {
			num = s[i+1 : i+j]
		}
		name := strings.Trim(strings.TrimSpace(s[:i]), `"`)
		return CallerID{Name: name, Number: strings.TrimSpace(num)}
	}
	return CallerID{Number: s}
}

// originateLocked creates the channel(s) of an originate and returns the one the response shows.
func (s *Sim) originateLocked(r originateReq) (*channel, error) {
	if r.endpoint == "" {
		return nil, msgErr(400, "Endpoint must be specified")
	}
	if r.app == "" && r.extension == "" && r.context == "" {
		return nil, msgErr(400, "Application or extension must be specified")
	}
	// Asterisk reads otherChannelId only beside channelId: alone, the second channel gets an id of
	// its own making.
	if r.channelID == "" {
		r.otherChannelID = ""
	}
	// Asterisk finds a requested id taken when any channel's id starts with it, in any case, and the
	// pair's first half exists by the time the second is checked.
	if r.channelID != "" && r.otherChannelID != "" && hasPrefixFold(r.channelID, r.otherChannelID) {
		return nil, msgErr(409, "Channel with given unique ID already exists")
	}
	for _, id := range []string{r.channelID, r.otherChannelID} {
		if id != "" && s.idTakenLocked(id) {
			return nil, msgErr(409, "Channel with given unique ID already exists")
		}
	}
	tech, resource, ok := strings.Cut(r.endpoint, "/")
	if !ok {
		return nil, errAllocation
	}
	switch strings.ToUpper(tech) {
	case "LOCAL":
		return s.originateLocalLocked(r, resource)
	case "PJSIP", "SIP":
		return s.originateOutboundLocked(r, tech, resource)
	}
	return nil, errAllocation
}

// originateLocalLocked makes a Local pair. The ;2 half runs <exten>@<context> of the endpoint; the
// ;1 half goes into the app (app=) or, once answered, runs context/extension/priority.
func (s *Sim) originateLocalLocked(r originateReq, resource string) (*channel, error) {
	resource, _, _ = strings.Cut(resource, "/") // drop Local options (/n)
	exten, context, ok := strings.Cut(resource, "@")
	if !ok {
		context = "default"
	}
	if !s.plan.exists(context, exten) {
		return nil, errAllocation
	}
	one, two := s.newLocalPairLocked(exten, context, r.channelID, r.otherChannelID, parseCallerID(r.callerID))
	for k, v := range r.variables {
		one.vars[k] = v
	}
	dial := exten + "@" + context
	if r.app != "" {
		one.app, one.sticky = r.app, true
		two.app, two.sticky = r.app, true
		s.emitLocked(r.app, &callerIDEvent{evHead: s.head("ChannelCallerId"), CallerPresentationTxt: "Presentation Allowed, Not Screened", Channel: two.json()})
		s.evChannelLocked(two, "ChannelConnectedLine")
		s.evDialLocked(r.app, one, "", dial)
		args := splitArgs(r.appArgs)
		one.onUp = func() {
			s.evDialLocked(r.app, one, "ANSWER", dial)
			// The answer reaches ;2 before ;1 enters the app.
			if two.state != "Up" && !two.hungup {
				s.answerLocked(two)
			}
			s.enterStasisOriginatedLocked(one, r.app, args, true)
		}
	} else {
		loc := dpLoc{r.context, r.extension, max(r.priority, 1)}
		if loc.context == "" {
			loc.context = "default"
		}
		if loc.extension() == "" {
			loc.exten = "s"
		}
		one.onUp = func() { s.goTracked(func() { s.runDialplan(one, loc) }) }
	}
	s.armTimeoutLocked(one, r.timeout)
	s.goTracked(func() { s.runDialplan(two, dpLoc{context, exten, 1}) })
	return one, nil
}

func (l dpLoc) extension() string { return l.exten }

// newLocalPairLocked creates Local/<exten>@<context>-XXXXXXXX;1 (Down) and ;2 (Ring).
func (s *Sim) newLocalPairLocked(exten, context, id1, id2 string, cid CallerID) (*channel, *channel) {
	seq := s.nextLocalSeqLocked()
	base := "Local/" + exten + "@" + context + "-" + seq
	one := s.newChannelLocked(id1, base+";1", kindLocal1)
	two := s.newChannelLocked(id2, base+";2", kindLocal2)
	one.peer, two.peer = two, one
	one.caller, one.connected = cid, cid
	two.caller, two.connected = cid, cid
	one.dp = DialplanCEP{Context: context, Exten: exten, Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
	two.state = "Ring"
	two.dp = DialplanCEP{Context: context, Exten: exten, Priority: 1}
	return one, two
}

// armTimeoutLocked hangs up an originated channel nobody answered within timeout (default 30 s).
func (s *Sim) armTimeoutLocked(ch *channel, timeout time.Duration) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := s.scaled(timeout)
	s.goTracked(func() {
		if sleep(ch.ctx, d) != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !ch.hungup && ch.state != "Up" {
			s.hangupLocked(ch, causeNoAnswer, hangupLocal)
		}
	})
}

// originateOutboundLocked simulates a call out through a SIP trunk: the far end answers (or not)
// as Config.Outbound says.
func (s *Sim) originateOutboundLocked(r originateReq, tech, resource string) (*channel, error) {
	ob := Outbound{AnswerAfter: time.Second}
	if s.cfg.Outbound != nil {
		ob = s.cfg.Outbound(tech + "/" + resource)
	}
	peerName, _, _ := strings.Cut(resource, "@")
	ch := s.newChannelLocked(r.channelID, fmt.Sprintf("%s/%s-%s", tech, peerName, s.nextLocalSeqLocked()), kindOutbound)
	ch.caller = parseCallerID(r.callerID)
	ch.connected = ch.caller
	ch.dp = DialplanCEP{Context: "default", Exten: "s", Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
	for k, v := range r.variables {
		ch.vars[k] = v
	}
	if ob.Tone > 0 {
		ch.gen = newTone(ob.Tone)
	}
	if r.app != "" {
		ch.app, ch.sticky = r.app, true
		s.evDialLocked(r.app, ch, "", resource)
	}
	args := splitArgs(r.appArgs)
	loc := dpLoc{r.context, r.extension, max(r.priority, 1)}
	s.armTimeoutLocked(ch, r.timeout)
	s.goTracked(func() {
		if sleep(ch.ctx, s.scaled(ob.AnswerAfter)) != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if ch.hungup {
			return
		}
		if ob.Reject {
			cause := ob.Cause
			if cause == 0 {
				cause = causeBusy
			}
			if ch.app != "" {
				s.evDialLocked(ch.app, ch, "BUSY", resource)
			}
			s.hangupLocked(ch, cause, hangupLocal)
			return
		}
		s.answerLocked(ch)
		if ch.app != "" {
			s.evDialLocked(ch.app, ch, "ANSWER", resource)
			s.enterStasisOriginatedLocked(ch, ch.app, args, true)
			return
		}
		if loc.context != "" {
			if loc.exten == "" {
				loc.exten = "s"
			}
			s.goTracked(func() { s.runDialplan(ch, loc) })
		}
	})
	return ch, nil
}

// idTakenLocked: Asterisk looks a requested id up as a prefix of the ids in use, ignoring case
// (recorded: "alph" and "ALPHA" are taken while "alpha" exists; "alphabet" is not).
func (s *Sim) idTakenLocked(id string) bool {
	for other := range s.channels {
		if hasPrefixFold(other, id) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
