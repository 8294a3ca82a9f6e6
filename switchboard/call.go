package switchboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/ivr"
)

// call is one caller's goroutine and everything it owns: the caller's channel, and once an agent
// answers, a mixing bridge, an externalMedia channel and the gateway's leg. Only this goroutine
// touches these fields; agents' actions arrive as commands.
type call struct {
	sb      *Switchboard
	id      string // the caller's channel id: unique, and what Redis knows the call by
	channel string
	caller  CallerID
	did     string
	log     *slog.Logger
	inbox   *inbox
	cmds    chan command
	done    chan struct{} // closed when the goroutine ends
	// up: the caller's channel is answered already (a caller taken back from the IVR of a
	// controller that died, adoptIVR), so run does not answer it again: on Asterisk an answer
	// waits behind the dead controller's playback still running on the channel.
	up bool

	ivr    ivr.Result
	player *ivrCall // plays prompts and collects keys, in the IVR and while waiting
	left   bool     // the caller left the ACD another way than hanging up (callback, overflow message)
	// callbackTo is the number dialled back for a callback (see callback.go); empty for inbound calls.
	callbackTo string
	// callbackRefused is a number a callback was asked to and the rules refused: not asked again.
	callbackRefused string
	calledBack      bool          // the number dialled back answered
	survey          surveyState   // the post-call survey (survey.go)
	endedBy         string        // EndAgent once the agent hung up; EndCaller otherwise
	consult         *consultation // an attended transfer in progress (consult.go)
	mon             *monitor      // a supervisor listening, whispering or barging in (monitor.go)
	awayMOH         bool          // the caller hears music while the agent's audio is away (away.go)
	// transferred is the channel the caller was handed to by an attended transfer: the agent has
	// left, and the goroutine stays until the caller or the target hangs up.
	transferred string
	queued      QueuedCall
	since       time.Time // when the caller joined the queue
	agent       string    // the agent talking, or the first of those ringing
	ringing     bool
	rung        []string // while ringing: every agent whose page rings (several for a ring-all queue)
	talking     bool
	held        bool
	bridge      string
	em          string // the externalMedia channel
	leg         Leg
	rec         *Recording // the segment being recorded (recording.go), nil when none

	// pub is what other goroutines may read of the call (the desk, the dashboard).
	pub atomic.Pointer[published]
	// offered holds the agents of an offer handed to the goroutine and not yet rung (LiveCalls), so
	// an offer on its way is not taken for a lost ring.
	offered atomic.Pointer[[]string]
}

// published is a snapshot of a call's agent-facing state.
type published struct {
	agent   string
	rung    []string // the agents ringing, agent among them
	talking bool
	card    CallCard
	// consultAgent is a colleague consulted on the call (ringing, or talking once consultTalking).
	consultAgent   string
	consultTalking bool
}

// publish refreshes the snapshot; called after every change of agent, ringing, talking or
// consultation.
func (c *call) publish() {
	p := &published{agent: c.agent, rung: c.rung, talking: c.talking, card: c.card()}
	if cs := c.consult; cs != nil && cs.agent != "" {
		p.consultAgent, p.consultTalking = cs.agent, cs.answered
	}
	// Stored under the switchboard's lock so that the agent index always matches the snapshots.
	c.sb.mu.Lock()
	defer c.sb.mu.Unlock()
	if _, ok := c.sb.calls[c.id]; ok {
		c.sb.reindex(c, c.pub.Load(), p)
	}
	c.pub.Store(p)
}

func (c *call) snapshot() published {
	if p := c.pub.Load(); p != nil {
		return *p
	}
	return published{}
}

type commandKind int

const (
	cmdOffer commandKind = iota
	cmdAnswer
	cmdReject
	cmdHangup
	cmdHold
	cmdResume
	cmdDTMF
	cmdTransfer
	cmdOverflow // the call waited its queue's maximum
	cmdConsult
	cmdComplete
	cmdCancel
	cmdMonitor // a supervisor steps in: checked against the call's state, not its agent
	cmdAway    // the agent's audio went away or came back (arg "away" or "back")
)

type command struct {
	kind     commandKind
	agent    string
	agents   []string // cmdOffer: the agents to ring
	queue    string
	arg      string
	target   Target
	overflow Overflow
	remote   string // the client address of the request that sent it, for the audit
	reply    chan error
}

func (sb *Switchboard) newCall(channel string, caller CallerID, did string) *call {
	c := &call{
		sb: sb, id: channel, channel: channel, caller: caller, did: did,
		log:   sb.log.With("call", channel, "channel", channel),
		inbox: newInbox(), cmds: make(chan command, 8), done: make(chan struct{}),
	}
	c.player = &ivrCall{c: c}
	return c
}

// send hands a command to the call's goroutine; false if the call has ended.
func (c *call) send(ctx context.Context, cmd command) bool {
	select {
	case c.cmds <- cmd:
		return true
	case <-c.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// fallbackQueue takes a caller the IVR sent to an agent without naming a queue.
const fallbackQueue = "general"

// errHungUp ends a call's goroutine when its caller is gone.
var errHungUp = errors.New("caller hung up")

// errLeft ends a call's goroutine when the caller left the queue but not the ACD's care: they asked
// for a callback, or heard the overflow message.
var errLeft = errors.New("caller left the queue")

// run serves a new call from the first ring: answer, IVR, then whatever the IVR decided. The call
// is counted in the IVR (enterIVR) when it starts, until the caller is in Redis's care (queued) or
// gone: a draining controller waits for that (drain.go).
func (c *call) run(ctx context.Context) {
	defer close(c.done)
	inIVR := true
	leaveIVR := func() {
		if inIVR {
			inIVR = false
			c.sb.leaveIVR()
		}
	}
	defer leaveIVR()
	if !c.up {
		if err := c.sb.ari.answer(ctx, c.channel); err != nil {
			c.log.Warn("answer failed", "err", err)
			return
		}
	}
	res, err := c.sb.flows.Run(ctx, c.player, ivr.Inbound{CallID: c.id, DID: c.did, CallerNumber: c.caller.Number})
	c.ivr = res
	switch {
	case errors.Is(err, ivr.ErrHangup):
		c.log.Info("caller hung up in the ivr")
		return
	case ctx.Err() != nil:
		return
	case err != nil:
		// Our bug must not drop the caller: send them to an agent with what they gave, in the
		// menus' last resort queue.
		c.log.Error("ivr failed; sending the caller to an agent", "queue", res.Queue, "err", err)
		res.Outcome = ivr.OutcomeQueue
	}
	if res.Outcome == ivr.OutcomeTransfer {
		if c.transferFromIVR(ctx, res) {
			return
		}
		res.Outcome = ivr.OutcomeQueue // the menu's last resort queue, with what the caller gave
	}
	if res.Outcome == ivr.OutcomeQueue && res.Queue == "" {
		res.Queue = fallbackQueue // an IVR that gave none (its own fakes, a flow of another kind)
	}
	switch res.Outcome {
	case ivr.OutcomeQueue, ivr.OutcomeCallback:
		// A callback the menu offered takes a place in its queue like any caller, then leaves it
		// for the callback at once (below), as the waiting caller's callback key does.
		c.queued = QueuedCall{CallID: c.id, Queue: res.Queue, Priority: res.Priority, Data: c.callData(res)}
		if err := c.sb.acd.Enqueue(ctx, c.queued); err != nil {
			c.log.Error("enqueue failed; the caller keeps waiting while we retry", "queue", res.Queue, "err", err)
			if !c.retry(ctx, func() error { return c.sb.acd.Enqueue(ctx, c.queued) }) {
				return
			}
		}
		c.since = time.Now()
		c.sb.kickDispatch()
		c.log.Info("caller queued", "queue", res.Queue, "priority", res.Priority)
		if res.Outcome == ivr.OutcomeCallback {
			if err := c.leaveForCallback(ctx, res.Number); err != nil {
				leaveIVR()
				c.end(ctx, err)
				return
			}
			// Not a number the rules allow, or the ACD did not take it: the caller waits instead.
		}
		if c.records() {
			// Once, before the hold music. An offer that comes meanwhile waits for its end.
			c.player.digits = nil
			if err := c.player.Play(ctx, c.lang(), RecordingNotice); errors.Is(err, ivr.ErrHangup) {
				c.end(ctx, errHungUp)
				return
			} else if err != nil {
				c.log.Warn("the recording notice did not play", "err", err)
			}
		}
		c.drawSurvey()
		leaveIVR()
		c.serve(ctx)
	default:
		if err := c.sb.ari.hangup(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("hangup after ivr failed", "err", err)
		}
	}
}

// resume serves a call taken back after a restart, from the stage Redis says it is in.
func (c *call) resume(ctx context.Context) {
	defer close(c.done)
	c.since = c.queued.Since
	if c.since.IsZero() {
		c.since = time.Now()
	}
	c.resumeSurvey(ctx)
	if c.queued.Talking && c.queued.Agent != "" {
		c.agent, c.talking = c.queued.Agent, true
		c.publish()
		c.bridge = c.talkingBridge(ctx)
		c.em = c.sb.ari.staleLeg(ctx, c.bridge, c.channel) // hung up once the new leg is in
		c.resumeRecording(ctx)
		// The old process's RTP leg died with it; a new one joins the bridge that kept the caller.
		if err := c.reattachLeg(ctx); err != nil {
			c.log.Warn("reattach the agent's audio after a restart failed", "agent", c.agent, "err", err)
		}
		c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConnected, Call: c.card()})
		if b := c.queued.Consult; b != "" {
			// A consultation does not survive its controller (the colleague's leg died with it): the
			// colleague is freed, and the caller, still on hold music, waits for the agent's resume.
			c.persist(ctx, "end a consultation after a restart", func() error { return c.sb.acd.EndConsult(ctx, c.id, b, true) })
			c.sb.phones.Notify(b, AgentEvent{Type: EventConsultReleased, Call: c.card(), Agent: c.agent, Reason: ConsultCancelled})
		}
		c.dropConsultations(ctx)
		if members, ok := c.sb.ari.bridgeMembers(ctx, c.bridge); ok && !slices.Contains(members, c.channel) {
			// On hold when the old process stopped (or consulting): the caller hears music until the
			// agent resumes.
			c.held = true
			c.sb.phones.Notify(c.agent, AgentEvent{Type: EventHeld, Call: c.card()})
		}
	} else {
		c.settle(ctx)
	}
	if !c.talking && c.queued.Agent != "" {
		// It was ringing when the old process stopped: put it back at the head of its queue, and the
		// agents back to available: the lost ring was not theirs to answer.
		rung := c.queued.Ringing
		if len(rung) == 0 {
			rung = []string{c.queued.Agent}
		}
		for _, a := range rung {
			if err := c.sb.acd.RingNoAnswer(ctx, c.id, a); err != nil {
				c.log.Warn("return a ringing call to its queue after a restart", "agent", a, "err", err)
			} else if err := c.sb.acd.Unpause(ctx, a); err != nil {
				c.log.Warn("make the agent available again after a restart", "agent", a, "err", err)
			}
		}
		c.sb.kickDispatch()
	}
	c.serve(ctx)
}

// ownerVar names, on the caller's channel, the controller that holds the call.
const ownerVar = "HOTLINE_CONTROLLER"

// settleTimeout bounds settle: longer than any prompt.
const settleTimeout = time.Minute

// settle waits, after a restart, until Asterisk has done what the old controller left running on a
// waiting caller's channel. A process killed mid-prompt cannot stop its playback, and Asterisk runs
// a Stasis channel's commands one after the other: an agent's answer (adding the caller to a bridge)
// would wait behind the rest of the prompt and fail on its request timeout. Setting a variable is such a
// command, so its reply comes once the channel is free; it also names the new owner.
func (c *call) settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if err := c.sb.ari.setVarWait(ctx, c.channel, ownerVar, c.sb.cfg.Instance); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("wait for the channel after a restart", "err", err)
	}
}

// reattachLeg opens the agent's audio again for a call taken back after a restart, trying a few
// times over about 8 s: a controller that restarts takes back every talking call at once, and an
// Asterisk busy with all of them (or with the rest of its load) may answer a request late; one
// failure must not leave the agent without the caller's voice for the rest of the call. A caller
// who hung up meanwhile (ErrGone) ends the tries; serve then hears of it.
func (c *call) reattachLeg(ctx context.Context) error {
	err := c.attachLeg(ctx)
	for wait := 250 * time.Millisecond; err != nil && !errors.Is(err, ErrGone) && wait <= 4*time.Second; wait *= 2 {
		c.log.Warn("reattach the agent's audio after a restart failed; trying again", "agent", c.agent, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		err = c.attachLeg(ctx)
	}
	return err
}

// serve waits in the queue, rings, talks: until the caller hangs up or ctx ends.
func (c *call) serve(ctx context.Context) {
	if !c.talking {
		if err := c.sb.ari.moh(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("hold music failed", "err", err)
		}
	}
	var ringTimer <-chan time.Time
	announce := c.nextAnnouncement(ctx)
	surveyOffer := c.surveyOfferDue()
	for {
		select {
		case <-ctx.Done():
			return // leave the caller where they are: the next controller takes over
		case <-c.inbox.ready:
			for {
				ev, ok := c.inbox.take()
				if !ok {
					break
				}
				if err := c.onEvent(ctx, ev); err != nil {
					c.end(ctx, err)
					return
				}
			}
		case cmd := <-c.cmds:
			err := c.onCommand(audit.WithRemote(ctx, cmd.remote), cmd)
			if errors.Is(err, errSurvey) {
				agent := c.agent
				c.releaseForSurvey(ctx)
				cmd.reply <- nil
				c.runSurvey(ctx, agent)
				return
			}
			if cmd.kind == cmdOffer && err == nil {
				ringTimer = time.After(c.sb.cfg.RingTimeout)
			}
			if cmd.reply != nil {
				cmd.reply <- err
			}
			if errors.Is(err, errHungUp) || errors.Is(err, errLeft) {
				c.end(ctx, err)
				return
			}
		case <-announce:
			if err := c.announce(ctx); err != nil {
				c.end(ctx, err)
				return
			}
			announce = c.nextAnnouncement(ctx)
		case <-surveyOffer:
			surveyOffer = nil
			if err := c.offerSurvey(ctx); err != nil {
				c.end(ctx, err)
				return
			}
		case <-ringTimer:
			ringTimer = nil
			if c.ringing {
				c.log.Info("agent did not answer", "agent", c.agent)
				c.unring(ctx, true)
			}
		case <-c.consultRing():
			c.consult.ring = nil
			c.consultFailed(ctx, ConsultNoAnswer)
		}
		if !c.ringing {
			ringTimer = nil
		}
	}
}

func (c *call) onEvent(ctx context.Context, ev Event) error {
	if id := ev.channelID(); id != c.channel && id != "" {
		switch {
		case c.consult != nil && id == c.consult.channel:
			return c.onConsultEvent(ctx, ev)
		case id == c.transferred && isHangup(ev.Type):
			return errHungUp
		}
		return nil
	}
	switch ev.Type {
	case "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest":
		return errHungUp
	case "ChannelDtmfReceived":
		switch {
		case ev.Digit == callbackKey && c.waiting():
			return c.leaveForCallback(ctx, c.caller.Number)
		case ev.Digit == surveyKey:
			// Thanked while waiting; while an agent's page rings, the answer must not wait for it.
			if c.agreeSurvey(ctx) && c.waiting() {
				return c.sayOverMusic(ctx, "sound:hotline/survey_agreed")
			}
		}
	case "StasisStart":
		if c.callbackTo != "" {
			return c.answeredBack(ctx)
		}
	}
	return nil
}

// waiting says the caller is in a queue: not ringing an agent, not talking.
func (c *call) waiting() bool { return !c.ringing && !c.talking && c.queued.Queue != "" }

func (c *call) onCommand(ctx context.Context, cmd command) error {
	if cs := c.consult; cs != nil && cs.agent != "" && cmd.agent == cs.agent && cmd.kind != cmdMonitor {
		return c.onConsultedCommand(ctx, cmd)
	}
	switch cmd.kind {
	case cmdOffer:
		if c.ringing || c.talking {
			c.offered.Store(nil)
			return fmt.Errorf("call %s already has agent %s", c.id, c.agent)
		}
		c.ring(cmd.agents, cmd.queue)
		return nil
	case cmdAnswer:
		if !c.ringing || !slices.Contains(c.rung, cmd.agent) {
			return ErrNotYourCall
		}
		// The first to answer takes it; the ACD's Accept stops the others' ringing. Until connect
		// succeeds every agent rung still rings (and the ring timeout still applies).
		c.agent = cmd.agent
		return c.connect(ctx)
	case cmdReject:
		if !c.ringing || !slices.Contains(c.rung, cmd.agent) {
			return ErrNotYourCall
		}
		c.unringAgent(ctx, cmd.agent)
		return nil
	case cmdMonitor:
		return c.startMonitor(ctx, cmd.agent, MonitorMode(cmd.arg))
	case cmdAway:
		return c.away(ctx, cmd.agent, cmd.arg == "away")
	case cmdOverflow:
		if !c.waiting() {
			return nil // an agent took the call meanwhile
		}
		return c.overflow(ctx, cmd.overflow)
	}
	if !c.talking || cmd.agent != c.agent {
		return ErrNotYourCall
	}
	switch cmd.kind {
	case cmdHangup:
		if c.survey == surveyAgreed && c.callbackTo == "" && c.transferred == "" {
			return errSurvey
		}
		if err := c.sb.ari.hangup(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
			return err
		}
		c.endedBy = EndAgent
		return errHungUp
	case cmdHold:
		return c.hold(ctx)
	case cmdResume:
		return c.unhold(ctx)
	case cmdDTMF:
		return c.sb.ari.sendDTMF(ctx, c.channel, cmd.arg)
	case cmdTransfer:
		return c.transfer(ctx, cmd.target)
	case cmdConsult:
		return c.startConsult(ctx, cmd.target)
	case cmdComplete:
		return c.completeConsult(ctx)
	case cmdCancel:
		return c.cancelConsult(ctx)
	}
	return fmt.Errorf("unknown command %d", cmd.kind)
}

// ring rings the agents the ACD reserved for the call: one, or every free agent of a ring-all queue.
func (c *call) ring(agents []string, queue string) {
	c.rung = slices.Clone(agents)
	c.agent, c.ringing = c.rung[0], true
	c.publish()
	c.offered.Store(nil)
	c.log.Info("ringing", "agents", c.rung, "queue", queue)
	for _, a := range c.rung {
		c.sb.phones.Notify(a, AgentEvent{Type: EventRing, Call: c.card()})
	}
}

// unring stops every agent's ringing (no answer in time, or a single agent declined): the call goes
// back to the head of its queue.
func (c *call) unring(ctx context.Context, timedOut bool) {
	rung := c.rung
	c.agent, c.ringing, c.rung = "", false, nil
	c.publish()
	reason := RingEndRejected
	if timedOut {
		reason = RingEndTimeout
	}
	for _, agent := range rung {
		c.stopRinging(ctx, agent, reason)
	}
	c.log.Info("call back to the head of its queue", "agents", rung, "timed_out", timedOut)
	c.sb.kickDispatch()
}

// unringAgent takes one agent's decline: the others of a ring-all queue ring on; the last one's
// sends the call back to its queue.
func (c *call) unringAgent(ctx context.Context, agent string) {
	if len(c.rung) == 1 {
		c.unring(ctx, false)
		return
	}
	c.rung = slices.DeleteFunc(slices.Clone(c.rung), func(a string) bool { return a == agent })
	c.agent = c.rung[0]
	c.publish()
	c.stopRinging(ctx, agent, RingEndRejected)
	c.log.Info("declined; the others ring on", "agent", agent, "ringing", c.rung)
}

// stopRinging ends one agent's ringing: their page, and the ACD (RingNoAnswer), which puts the call
// back at the head of its queue once nobody rings for it any more.
func (c *call) stopRinging(ctx context.Context, agent, reason string) {
	c.sb.phones.Notify(agent, AgentEvent{Type: EventRingCancelled, Call: c.card(), Reason: reason})
	if err := c.sb.acd.RingNoAnswer(ctx, c.id, agent); err != nil {
		c.log.Warn("the ACD did not take the end of the ringing", "agent", agent, "err", err)
	}
}

// end runs once the caller is gone (why: errHungUp) or has left the queue otherwise (errLeft).
func (c *call) end(ctx context.Context, why error) {
	if ctx.Err() != nil {
		// The controller is stopping, and a prompt it cut short looks like a hangup. Leave the call
		// as Redis has it: the next controller takes it back, or closes it if the caller is gone
		// (adopt). Abandoning it here dropped a waiting caller who heard an announcement then: out
		// of the queue, still on the line, held by no controller.
		c.log.Info("stopping: the call is left to the next controller", "why", why)
		return
	}
	ctx = context.WithoutCancel(ctx)
	if errors.Is(why, errLeft) {
		c.log.Info("caller left the queue", "callback", c.left)
		return
	}
	if c.consult != nil && c.consult.agent != "" {
		// The colleague hears of it and is free again before the agent's wrap-up begins.
		c.endConsult(ctx, ConsultCallerHungUp)
	}
	if c.transferred != "" {
		// The agent finished when the transfer completed; end the other side too.
		for _, ch := range []string{c.channel, c.transferred} {
			if err := c.sb.ari.hangup(ctx, ch); err != nil && !errors.Is(err, ErrGone) {
				c.log.Warn("hang up after a transferred call ended", "channel", ch, "err", err)
			}
		}
		c.forgetChannel(c.transferred)
		c.teardown(ctx)
		c.log.Info("transferred call ended")
		return
	}
	if c.callbackTo != "" && c.talking && !c.calledBack {
		c.callbackUnanswered(ctx, "no answer")
		return
	}
	agent, talking, ringing, rung := c.agent, c.talking, c.ringing, c.rung
	c.teardown(ctx)
	switch {
	case talking:
		by := c.endedBy
		if by == "" {
			by = EndCaller
		}
		c.finished(ctx, agent, by)
	default:
		if ringing {
			for _, a := range rung {
				c.sb.phones.Notify(a, AgentEvent{Type: EventRingCancelled, Call: c.card(), Reason: RingEndCallerLeft})
			}
		}
		c.persist(ctx, "abandon", func() error { return c.sb.acd.Abandon(ctx, c.id) })
		c.log.Info("caller left the queue")
	}
	c.sb.kickDispatch()
}

// finished puts the agent who talked on the call in wrap-up: recorded before the page hears of
// it, so the page's next "available" finds the agent in wrap-up, not still on the call.
func (c *call) finished(ctx context.Context, agent, by string) {
	c.persist(ctx, "finish", func() error { return c.sb.acd.Finish(ctx, c.id, agent) })
	c.sb.phones.Notify(agent, AgentEvent{Type: EventEnded, Call: c.card(), Reason: by})
	c.log.Info("call ended", "agent", agent, "by", by)
}

// persist records the end of a call in the ACD, retrying through a Redis blip for up to a minute:
// an agent left "on call" in Redis would never be offered a call again.
func (c *call) persist(ctx context.Context, what string, f func() error) {
	wait := 100 * time.Millisecond
	for deadline := time.Now().Add(time.Minute); ; wait = min(wait*2, 5*time.Second) {
		err := f()
		if err == nil || errors.Is(err, ErrStale) {
			return
		}
		if time.Now().After(deadline) {
			c.log.Error("gave up recording the call's end in the ACD", "what", what, "err", err)
			return
		}
		c.log.Warn("recording the call's end in the ACD failed; retrying", "what", what, "err", err, "in", wait)
		time.Sleep(wait) // a backoff between retries, not synchronisation
	}
}

// retry repeats f with backoff while the caller is still there (a Redis blip must not drop them).
func (c *call) retry(ctx context.Context, f func() error) bool {
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 2*time.Second) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		for {
			ev, ok := c.inbox.take()
			if !ok {
				break
			}
			if c.onEvent(ctx, ev) != nil {
				return false
			}
		}
		if err := f(); err == nil {
			return true
		} else {
			c.log.Warn("still retrying", "err", err)
		}
	}
}

func (c *call) callData(res ivr.Result) map[string]string {
	data := map[string]string{"caller_number": c.caller.Number, "caller_name": c.caller.Name, "did": c.did, "lang": res.Lang}
	for k, v := range res.Data {
		data[k] = v
	}
	return data
}

func (c *call) card() CallCard {
	card := CallCard{
		ID: c.id, CallerNumber: c.caller.Number, CallerName: c.caller.Name, Queue: c.queued.Queue,
		Lang: c.ivr.Lang, Data: c.queued.Data, Path: c.ivr.Story, Survey: c.survey == surveyAgreed,
	}
	if !c.since.IsZero() {
		card.WaitedSec = int(time.Since(c.since).Seconds())
	}
	return card
}

func isHangup(typ string) bool {
	return typ == "StasisEnd" || typ == "ChannelDestroyed" || typ == "ChannelHangupRequest"
}
