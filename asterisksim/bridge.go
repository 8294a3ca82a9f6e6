package asterisksim

import (
	"strings"
	"time"
)

// bridge is a Stasis bridge. Guarded by Sim.mu.
type bridge struct {
	id, name   string
	typ        string // mixing, holding
	created    time.Time
	members    []*channel
	playbacks  []*playback
	moh        bool
	rec        *recording
	announcers int // Asterisk joins an Announcer channel while a bridge playback runs
	mixBuf     frameBuf
	mohSrc     source
}

func (b *bridge) technology() string {
	if b.typ == "holding" {
		return "holding_bridge"
	}
	if len(b.members)+b.announcers > 2 {
		return "softmix"
	}
	return "simple_bridge"
}

func (b *bridge) json() BridgeJSON {
	ids := make([]string, 0, len(b.members))
	for _, m := range b.members {
		ids = append(ids, m.id)
	}
	return BridgeJSON{
		ID: b.id, Technology: b.technology(), BridgeType: b.typ, BridgeClass: "stasis", Creator: "Stasis",
		Name: b.name, Channels: ids, CreationTime: stamp(b.created), VideoMode: "talker",
	}
}

// emitBridgeLocked sends a bridge event to every connected app: bridges made through ARI belong to
// the app that made them, and hotline runs one app.
func (s *Sim) emitBridgeLocked(b *bridge, typ string) {
	for _, app := range s.hub.appNames() {
		s.emitLocked(app, &bridgeEvent{evHead: s.head(typ), Bridge: b.json()})
	}
}

func (s *Sim) evBridgeChannelLocked(ch *channel, b *bridge, typ string) {
	if app := ch.subscribedApp(); app != "" {
		s.emitLocked(app, &bridgeChannelEvent{evHead: s.head(typ), Bridge: b.json(), Channel: ch.json()})
	}
}

// addToBridgeLocked adds channels in order; Asterisk announces each entry, then BRIDGEPEER and the
// connected line of the (two) parties.
func (s *Sim) addToBridgeLocked(b *bridge, chans []*channel) {
	for _, ch := range chans {
		if ch.bridge == b {
			continue
		}
		if ch.bridge != nil {
			s.leaveBridgeLocked(ch.bridge, ch)
		}
		ch.bridge = b
		b.members = append(b.members, ch)
		s.evBridgeChannelLocked(ch, b, "ChannelEnteredBridge")
		s.updateSinkLocked(ch)
	}
	s.announcePeersLocked(b)
}

// announcePeersLocked emits BRIDGEPEER for every member of a mixing bridge with at least two
// parties, then ChannelConnectedLine for channels whose peer changed.
func (s *Sim) announcePeersLocked(b *bridge) {
	if b.typ != "mixing" || len(b.members)+b.announcers < 2 {
		return
	}
	for _, m := range b.members {
		s.setVarLocked(m, "BRIDGEPEER", s.peersOf(b, m))
	}
	if len(b.members) != 2 {
		return
	}
	for i := len(b.members) - 1; i >= 0; i-- {
		m, other := b.members[i], b.members[1-i]
		if m.connectedTo == other.name {
			continue
		}
		m.connectedTo = other.name
		if other.kind != kindExternal && other.kind != kindSnoop {
			m.connected = other.caller
			// Through a Local pair the connected party becomes the other half's caller.
			if p := m.peer; p != nil && p.caller != m.connected {
				p.caller = m.connected
				if app := p.subscribedApp(); app != "" {
					s.emitLocked(app, &callerIDEvent{evHead: s.head("ChannelCallerId"), CallerPresentationTxt: "Presentation Allowed, Not Screened", Channel: p.json()})
				}
			}
		}
		s.evChannelLocked(m, "ChannelConnectedLine")
	}
}

func (s *Sim) peersOf(b *bridge, ch *channel) string {
	var names []string
	for i := 0; i < b.announcers; i++ {
		names = append(names, "Announcer/ARI-"+b.announcerSeq()+";2")
	}
	for _, m := range b.members {
		if m != ch {
			names = append(names, m.name)
		}
	}
	return strings.Join(names, ",")
}

func (b *bridge) announcerSeq() string { return "00000001" }

// leaveBridgeLocked removes ch: BRIDGEPEER cleared, ChannelLeftBridge, the others' BRIDGEPEER.
func (s *Sim) leaveBridgeLocked(b *bridge, ch *channel) {
	idx := -1
	for i, m := range b.members {
		if m == ch {
			idx = i
		}
	}
	if idx < 0 {
		return
	}
	if ch.vars["BRIDGEPEER"] != "" {
		s.setVarLocked(ch, "BRIDGEPEER", "")
	}
	b.members = append(b.members[:idx], b.members[idx+1:]...)
	ch.bridge = nil
	s.evBridgeChannelLocked(ch, b, "ChannelLeftBridge")
	if b.typ == "mixing" && len(b.members)+b.announcers >= 2 {
		for _, m := range b.members {
			s.setVarLocked(m, "BRIDGEPEER", s.peersOf(b, m))
		}
	}
	if len(b.members) == 0 {
		// Nobody left to hear a bridge playback: Asterisk fails it.
		s.stopBridgePlaybacksLocked(b, "failed")
	}
	s.updateSinkLocked(ch)
}

func (s *Sim) destroyBridgeLocked(b *bridge) {
	for len(b.members) > 0 {
		s.leaveBridgeLocked(b, b.members[0])
	}
	s.stopBridgePlaybacksLocked(b, "failed")
	if b.rec != nil {
		s.finishRecordingLocked(b.rec, "done")
	}
	delete(s.bridges, b.id)
	s.lingerLocked(b.id)
	s.emitBridgeLocked(b, "BridgeDestroyed")
}

// bridgeIDTakenLocked says whether creating a bridge with id gets 409: a bridge has it, or had it
// a moment ago. Asterisk checks the bridge's stasis topic, which goes only when the last reference
// to the destroyed bridge does, a few milliseconds after DELETE answers (Config.BridgeIDLinger).
func (s *Sim) bridgeIDTakenLocked(id string) bool {
	if s.bridges[id] != nil {
		return true
	}
	until, ok := s.lingering[id]
	if ok && time.Now().Before(until) {
		return true
	}
	delete(s.lingering, id)
	return false
}

// lingerLocked keeps a destroyed bridge's id taken for a while, and forgets the ids whose time
// has passed once there are many (bridge ids are usually never used again).
func (s *Sim) lingerLocked(id string) {
	d := jitter(s.cfg.BridgeIDLinger)
	if d <= 0 {
		return
	}
	now := time.Now()
	if len(s.lingering) >= 64 {
		for k, until := range s.lingering {
			if !now.Before(until) {
				delete(s.lingering, k)
			}
		}
	}
	s.lingering[id] = now.Add(d)
}

func (b *bridge) mohSource() source {
	if b.mohSrc == nil {
		b.mohSrc = newMusic()
	}
	return b.mohSrc
}
