package asterisksim

import (
	"context"
	"strings"
	"time"
)

type chanKind int

const (
	kindLocal1   chanKind = iota // ;1 half of a Local pair
	kindLocal2                   // ;2 half of a Local pair
	kindExternal                 // UnicastRTP (externalMedia)
	kindSnoop
	kindOutbound // PJSIP/SIP far end simulated by Config.Outbound
)

// dpLoc is a place in the dialplan.
type dpLoc struct {
	context, exten string
	priority       int
}

// channel is one simulated Asterisk channel. Every field is guarded by Sim.mu.
type channel struct {
	id, name  string
	kind      chanKind
	state     string // Down, Ring, Up
	caller    CallerID
	connected CallerID
	dp        DialplanCEP
	created   time.Time
	lang      string
	group     string // GROUP(), which GROUP_COUNT counts across channels
	vars      map[string]string

	peer *channel // the other half of a Local pair
	// dialed is the other end of a Dial() once it answered: the two hear each other.
	dialed *channel

	app      string // the Stasis application subscribed to this channel
	inStasis bool
	sticky   bool // originated into app: the app keeps its events after StasisEnd
	everIn   bool // has been in Stasis (for STASISSTATUS)
	stasisCh chan dpLoc
	// fromDialplan: entered Stasis through Stasis() in its dialplan (continue resumes it there).
	fromDialplan bool
	// origDP is the originate-time location, shown again once an originated channel leaves Stasis.
	origDP *DialplanCEP

	bridge      *bridge
	connectedTo string // name of the bridge peer last announced with ChannelConnectedLine
	playbacks   []*playback
	idle        chan struct{} // closed when playbacks empties; nil when nobody waits (waitIdleLocked)
	moh         bool
	silence     bool
	ringing     bool
	hold        bool
	muteIn      bool // what the channel sends is muted
	muteOut     bool // what the channel hears is muted

	hungup bool
	ctx    context.Context
	cancel context.CancelFunc

	// onUp runs (once, with mu held) when the channel is answered: starts the ;1 half's script.
	onUp func()

	// media
	gen     source // what the channel itself produces (caller tone, dialplan Playtones/Playback)
	echo    bool   // Echo(): produces what it hears
	talkBuf frameBuf
	hearBuf frameBuf
	callerH *Caller // the Go caller driving this ;1 half, if any
	rtp     *rtpLeg
	snoop   *snoopSpec
	snoops  []*channel // snoop channels on this channel
	mohSrc  source
	ringSrc source
}

type snoopSpec struct {
	target       *channel
	spy, whisper string // none, in, out, both
}

func (ch *channel) json() ChannelJSON {
	j := ChannelJSON{
		ID: ch.id, Name: ch.name, State: ch.state,
		Caller: ch.caller, Connected: ch.connected,
		Dialplan: ch.dp, CreationTime: stamp(ch.created), Language: ch.lang,
	}
	return j
}

// subscribedApp is the app that gets this channel's events now, or "".
func (ch *channel) subscribedApp() string {
	if ch.app != "" && (ch.inStasis || ch.sticky) {
		return ch.app
	}
	return ""
}

func (s *Sim) newChannelLocked(id, name string, kind chanKind) *channel {
	if id == "" {
		id = s.newUniqueIDLocked()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	ch := &channel{
		id: id, name: name, kind: kind, state: "Down", created: time.Now(), lang: "en",
		vars: map[string]string{}, ctx: ctx, cancel: cancel, stasisCh: make(chan dpLoc, 1),
	}
	s.channels[id] = ch
	return ch
}

// Event helpers: each sends only if an app is subscribed to the channel.

func (s *Sim) evChannelLocked(ch *channel, typ string) {
	if app := ch.subscribedApp(); app != "" {
		s.emitLocked(app, &channelEvent{evHead: s.head(typ), Channel: ch.json()})
	}
}

func (s *Sim) evVarsetLocked(ch *channel, name, value string) {
	if app := ch.subscribedApp(); app != "" {
		s.emitLocked(app, &varsetEvent{Variable: name, Value: value, evHead: s.head("ChannelVarset"), Channel: ch.json()})
	}
}

func (s *Sim) evDialLocked(app string, peer *channel, status, dialstring string) {
	s.emitLocked(app, &dialEvent{evHead: s.head("Dial"), DialStatus: status, DialString: dialstring, Peer: peer.json()})
}

func (s *Sim) evHangupRequestLocked(ch *channel, cause int, soft bool) {
	if app := ch.subscribedApp(); app != "" {
		ev := &hangupRequestEvent{Cause: cause, evHead: s.head("ChannelHangupRequest"), Channel: ch.json()}
		if soft {
			t := true
			ev.Soft = &t
		}
		s.emitLocked(app, ev)
	}
}

// setVarLocked sets a channel variable and reports it as ChannelVarset.
func (s *Sim) setVarLocked(ch *channel, name, value string) {
	// Writing a dialplan function changes the channel itself and, as in Asterisk, raises no ChannelVarset.
	switch strings.ToUpper(name) {
	case "CHANNEL(LANGUAGE)":
		ch.lang = value
		return
	case "GROUP()":
		ch.group = value
		return
	}
	if g, ok := strings.CutPrefix(name, "GLOBAL("); ok && strings.HasSuffix(g, ")") {
		s.plan.globals[strings.TrimSuffix(g, ")")] = value
		return
	}
	ch.vars[name] = value
	s.evVarsetLocked(ch, name, value)
}

// getVar resolves a variable or a function Asterisk would evaluate.
func (ch *channel) getVar(name string) (string, bool) {
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)":
		return ch.caller.Number, true
	case "CALLERID(NAME)":
		return ch.caller.Name, true
	case "CONNECTEDLINE(NUM)":
		return ch.connected.Number, true
	case "CONNECTEDLINE(NAME)":
		return ch.connected.Name, true
	case "CHANNEL(LANGUAGE)":
		return ch.lang, true
	case "GROUP()":
		return ch.group, true
	case "CHANNEL(NAME)":
		return ch.name, true
	case "UNIQUEID":
		return ch.id, true
	case "EXTEN":
		return ch.dp.Exten, true
	case "CONTEXT":
		return ch.dp.Context, true
	}
	v, ok := ch.vars[name]
	return v, ok
}

// enterStasisLocked puts ch into app, as the Stasis() dialplan app or an originate with app= does.
func (s *Sim) enterStasisLocked(ch *channel, app string, args []string) {
	if args == nil {
		args = []string{}
	}
	ch.app = app
	ch.inStasis = true
	ch.everIn = true
	s.emitLocked(app, &stasisStartEvent{evHead: s.head("StasisStart"), Args: args, Channel: ch.json()})
}

// enterStasisOriginatedLocked is enterStasisLocked for a channel originated into the app (app=,
// externalMedia, snoop): Asterisk shows it running Stasis(app,args) at its originate location.
func (s *Sim) enterStasisOriginatedLocked(ch *channel, app string, args []string, setStatus bool) {
	orig := ch.dp
	ch.origDP = &orig
	ch.dp.AppName = "Stasis"
	ch.dp.AppData = strings.Join(append([]string{app}, args...), ",")
	if setStatus {
		s.setVarLocked(ch, "STASISSTATUS", "")
	}
	s.enterStasisLocked(ch, app, args)
}

// leaveStasisLocked ends the app's control of ch (continue or hangup).
func (s *Sim) leaveStasisLocked(ch *channel) {
	if !ch.inStasis {
		return
	}
	s.evChannelLocked(ch, "StasisEnd")
	ch.inStasis = false
}

// answerLocked moves ch to Up; for a Local half the other half is answered too, as the Local
// channel driver does when the called side answers.
func (s *Sim) answerLocked(ch *channel) {
	if ch.hungup || ch.state == "Up" {
		return
	}
	ch.state = "Up"
	ch.ringing = false
	s.evChannelLocked(ch, "ChannelStateChange")
	if ch.onUp != nil {
		f := ch.onUp
		ch.onUp = nil
		f()
	}
	if ch.peer != nil && ch.peer.state != "Up" && !ch.peer.hungup {
		s.answerLocked(ch.peer)
	}
	s.updateSinkLocked(ch)
}

// hangup styles: how the hangup request shows in ChannelHangupRequest.
type hangupStyle int

const (
	hangupAPI   hangupStyle = iota // DELETE /channels: cause 32, soft
	hangupLocal                    // the other side went away: cause, not soft
	hangupSelf                     // the channel's own dialplan hung up: cause, soft
	hangupQuiet                    // simulator shutdown
)

// hangupLocked tears ch down and emits what Asterisk emits, in its order: ChannelHangupRequest,
// leaving the bridge, failed playbacks, StasisEnd, and for channels originated into the app
// STASISSTATUS and ChannelDestroyed. The other half of a Local pair follows with the same cause.
func (s *Sim) hangupLocked(ch *channel, cause int, style hangupStyle) {
	if ch.hungup {
		return
	}
	ch.hungup = true
	switch style {
	case hangupAPI:
		s.evHangupRequestLocked(ch, causeAPIHangup, true)
	case hangupLocal:
		s.evHangupRequestLocked(ch, cause, false)
	case hangupSelf:
		s.evHangupRequestLocked(ch, cause, true)
	}
	if ch.bridge != nil {
		s.leaveBridgeLocked(ch.bridge, ch)
	}
	s.stopChannelPlaybacksLocked(ch)
	s.leaveStasisLocked(ch)
	if ch.sticky && ch.everIn {
		s.evVarsetLocked(ch, "STASISSTATUS", "SUCCESS")
	}
	if style == hangupLocal {
		// Asterisk repeats the request as a soft one when the channel itself runs its hangup.
		s.evHangupRequestLocked(ch, cause, true)
	}
	if ch.origDP != nil {
		ch.dp = *ch.origDP
	} else {
		ch.dp.AppName, ch.dp.AppData = "", ""
	}
	if ch.sticky && ch.app != "" {
		s.emitLocked(ch.app, &channelDestroyedEvent{evHead: s.head("ChannelDestroyed"), Cause: cause, CauseTxt: causeText(cause), Channel: ch.json()})
	}
	ch.cancel()
	delete(s.channels, ch.id)
	delete(s.sinks, ch)
	if ch.rtp != nil {
		ch.rtp.close()
	}
	for _, sn := range append([]*channel(nil), ch.snoops...) {
		s.hangupLocked(sn, causeNormal, hangupLocal)
	}
	if ch.snoop != nil {
		t := ch.snoop.target
		for i, sn := range t.snoops {
			if sn == ch {
				t.snoops = append(t.snoops[:i], t.snoops[i+1:]...)
				break
			}
		}
	}
	if ch.callerH != nil {
		ch.callerH.finish()
	}
	if peer := ch.peer; peer != nil {
		ch.peer, peer.peer = nil, nil
		s.hangupLocked(peer, causeNormal, hangupLocal)
	}
}

func (ch *channel) mohSource() source {
	if ch.mohSrc == nil {
		ch.mohSrc = newMusic()
	}
	return ch.mohSrc
}

func (ch *channel) ringSource() source {
	if ch.ringSrc == nil {
		ch.ringSrc = newRingback()
	}
	return ch.ringSrc
}
