package asterisksim

import (
	"fmt"
	"strconv"
)

type externalMediaReq struct {
	app, appArgs, channelID, externalHost string
	encapsulation, transport, format      string
	direction, connectionType             string
	variables                             map[string]string
}

// externalMediaLocked creates a UnicastRTP channel that exchanges real RTP with external_host and
// puts it into the app. It returns the response body (taken before the channel is answered, as
// Asterisk's shows state Down with channelvars). As in Asterisk, the app is subscribed to the
// channel at once, but the channel is dialled and enters the app a little later, on a thread of
// its own (Config.StasisDelay): until its StasisStart it cannot join a bridge.
func (s *Sim) externalMediaLocked(r externalMediaReq) (*channel, ChannelJSON, error) {
	if r.app == "" {
		return nil, ChannelJSON{}, msgErr(400, "app cannot be empty")
	}
	if r.externalHost == "" {
		return nil, ChannelJSON{}, msgErr(400, "external_host is required for all but websocket server connections")
	}
	if r.format == "" {
		return nil, ChannelJSON{}, msgErr(400, "format cannot be empty")
	}
	if r.format != "ulaw" {
		return nil, ChannelJSON{}, msgErr(422, "The simulator only supports format=ulaw")
	}
	if r.encapsulation != "" && r.encapsulation != "rtp" || r.transport != "" && r.transport != "udp" {
		return nil, ChannelJSON{}, msgErr(422, "The simulator only supports encapsulation=rtp, transport=udp")
	}
	if r.channelID != "" && s.channels[r.channelID] != nil {
		return nil, ChannelJSON{}, msgErr(409, "Channel with given unique ID already exists")
	}
	leg, err := newRTPLeg(r.externalHost, &s.rtpIn, &s.rtpSent)
	if err != nil {
		return nil, ChannelJSON{}, msgErr(400, err.Error())
	}
	s.localSeq++
	name := fmt.Sprintf("UnicastRTP/%s-0x7fbd%08x", r.externalHost, s.localSeq)
	ch := s.newChannelLocked(r.channelID, name, kindExternal)
	ch.rtp = leg
	ch.dp = DialplanCEP{Context: "default", Exten: "s", Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
	port := strconv.Itoa(leg.localPort())
	ch.vars["UNICASTRTP_LOCAL_ADDRESS"] = "127.0.0.1"
	ch.vars["UNICASTRTP_LOCAL_PORT"] = port
	for k, v := range r.variables {
		ch.vars[k] = v
	}
	resp := ch.json()
	resp.ChannelVars = map[string]string{"UNICASTRTP_LOCAL_PORT": port, "UNICASTRTP_LOCAL_ADDRESS": "127.0.0.1"}
	s.goTracked(leg.read)

	ch.app, ch.sticky = r.app, true
	args := splitArgs(r.appArgs)
	s.later(jitter(s.cfg.StasisDelay), func() { s.dialExternalLocked(ch, r.app, r.externalHost, args) })
	return ch, resp, nil
}

// dialExternalLocked is Asterisk's originate thread for an externalMedia channel: dial (which
// UnicastRTP answers at once), then Stasis(app,args). A channel hung up meanwhile goes no further.
func (s *Sim) dialExternalLocked(ch *channel, app, externalHost string, args []string) {
	if ch.hungup {
		return
	}
	dial := externalHost + "/c(ulaw)"
	s.evDialLocked(app, ch, "", dial)
	ch.state = "Up"
	s.evChannelLocked(ch, "ChannelStateChange")
	s.evDialLocked(app, ch, "ANSWER", dial)
	s.enterStasisOriginatedLocked(ch, app, args, true)
	s.updateSinkLocked(ch)
}

type snoopReq struct {
	app, appArgs, snoopID, spy, whisper string
}

// snoopLocked creates Snoop/<target>-N, which hears the target (spy) and can talk to it (whisper).
// Like an externalMedia channel, it enters the app a little after the reply (Config.StasisDelay).
func (s *Sim) snoopLocked(target *channel, r snoopReq) (ChannelJSON, error) {
	if r.app == "" {
		return ChannelJSON{}, msgErr(400, "app cannot be empty")
	}
	for _, d := range []*string{&r.spy, &r.whisper} {
		if *d == "" {
			*d = "none"
		}
		switch *d {
		case "none", "in", "out", "both":
		default:
			return ChannelJSON{}, msgErr(400, "Invalid direction "+*d)
		}
	}
	if r.spy == "none" && r.whisper == "none" {
		return ChannelJSON{}, msgErr(400, "Sorry, no spy or whisper")
	}
	if r.snoopID != "" && s.channels[r.snoopID] != nil {
		return ChannelJSON{}, msgErr(409, "Channel with given unique ID already exists")
	}
	name := fmt.Sprintf("Snoop/%s-%08x", target.id, len(target.snoops)+1)
	sn := s.newChannelLocked(r.snoopID, name, kindSnoop)
	sn.state = "Up"
	sn.dp = DialplanCEP{Context: "default", Exten: "s", Priority: 1}
	sn.snoop = &snoopSpec{target: target, spy: r.spy, whisper: r.whisper}
	target.snoops = append(target.snoops, sn)
	resp := sn.json()
	args := splitArgs(r.appArgs)
	s.later(jitter(s.cfg.StasisDelay), func() {
		if !sn.hungup {
			s.enterStasisOriginatedLocked(sn, r.app, args, false)
		}
	})
	return resp, nil
}
