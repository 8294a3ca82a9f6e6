package asterisksim

import (
	"fmt"
	"strconv"
	"strings"
)

type externalMediaReq struct {
	app, appArgs, channelID, externalHost string
	encapsulation, transport, format      string
	direction, connectionType             string
	variables                             map[string]string
}

// externalMediaLocked creates a UnicastRTP channel that exchanges real RTP with external_host and
// puts it into the app. It returns the response body (taken before the channel is answered, as
// Asterisk's shows state Down with channelvars).
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
	leg, err := newRTPLeg(r.externalHost)
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

	dial := strings.TrimPrefix(r.externalHost, "") + "/c(ulaw)"
	ch.app, ch.sticky = r.app, true
	s.evDialLocked(r.app, ch, "", dial)
	ch.state = "Up"
	s.evChannelLocked(ch, "ChannelStateChange")
	s.evDialLocked(r.app, ch, "ANSWER", dial)
	s.enterStasisOriginatedLocked(ch, r.app, splitArgs(r.appArgs), true)
	s.updateSinkLocked(ch)
	return ch, resp, nil
}

type snoopReq struct {
	app, appArgs, snoopID, spy, whisper string
}

// snoopLocked creates Snoop/<target>-N, which hears the target (spy) and can talk to it (whisper).
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
	s.enterStasisOriginatedLocked(sn, r.app, splitArgs(r.appArgs), false)
	return resp, nil
}
