package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

const (
	post = http.MethodPost
	get  = http.MethodGet
	del  = http.MethodDelete

	eventWait = 10 * time.Second
)

// caller places a caller the way the shared transcripts do: a Local pair whose ;2 half dials 8800
// into Stasis(hotline) and whose ;1 half runs dialplan context ctx. It returns the ;1 id and the
// id of the ;2 half once its StasisStart arrived on WebSocket ws.
func (s *session) caller(ws int, ctx, number string, ids ...string) (one, two string) {
	s.note("setup: a caller dials 8800; its other half runs dialplan context %s", ctx)
	kv := []string{"endpoint", "Local/8800@from-pstn", "context", ctx, "extension", "s", "priority", "1",
		"callerId", `"Caller" <` + number + `>`}
	resp := s.do(post, query("/ari/channels", append(kv, ids...)...), nil)
	if resp.status != 200 {
		s.fatalf("originate caller: %d %s", resp.status, resp.raw)
	}
	twoName := strings.TrimSuffix(resp.str("name"), ";1") + ";2"
	ev := s.waitEvent(ws, eventWait, "StasisStart of "+twoName, func(ev map[string]any) bool {
		return ev["type"] == "StasisStart" && field(ev, "channel.name") == twoName
	})
	return resp.str("id"), field(ev, "channel.id")
}

// hangup hangs a channel in Stasis up and waits for its StasisEnd on WebSocket ws.
func (s *session) hangup(ws int, id string) {
	s.do(del, "/ari/channels/"+id, nil)
	s.waitEvent(ws, eventWait, "StasisEnd of "+id, typ("StasisEnd", id))
}

// play starts a playback on ch with the query parameters kv and waits for its PlaybackFinished.
func (s *session) play(ch, id string, kv ...string) { s.playLoose(ch, id, nil, kv...) }

// playLoose is play whose reply's values under the keys loose depend on timing.
func (s *session) playLoose(ch, id string, loose []string, kv ...string) {
	resp := s.doLoose(post, query("/ari/channels/"+ch+"/play", append(kv, "playbackId", id)...), loose...)
	if resp.status != 201 {
		s.fatalf("play %s: %d %s", id, resp.status, resp.raw)
	}
	s.waitEvent(1, 30*time.Second, "PlaybackFinished of "+id, typ("PlaybackFinished", id))
}

// playMediaList: how Asterisk reads the media parameter of POST /channels/{id}/play.
func playMediaList(s *session) {
	_, ch := s.answeredCaller("79161110001")

	s.note("one media parameter holding a comma-separated list: one playback that plays each item in turn; " +
		"each item starts with PlaybackStarted, and every item but the last ends with PlaybackContinuing " +
		"(media_uri the item, next_media_uri the next one)")
	s.play(ch, "pb-list-1", "media", "sound:hello-world,sound:digits/1,number:42")

	s.note("the media parameter repeated: Asterisk keeps only the last one")
	s.play(ch, "pb-list-2", "media", "sound:hello-world", "media", "sound:digits/1", "media", "number:42")

	s.note("a list in Russian (lang=ru)")
	s.play(ch, "pb-list-3", "lang", "ru", "media", "sound:hello-world,digits:12,number:42")

	s.note("a list with a sound that does not exist (PlaybackContinuing, as for one that played) and an " +
		"unknown scheme (PlaybackStarted, then straight to the next item) before the last item; the reply races the " +
		"playback thread, which skips unplayable items at once, so it shows the first item or a later one (loose)")
	s.playLoose(ch, "pb-list-4", []string{"media_uri", "next_media_uri", "state"},
		"media", "sound:no-such-sound,bogus:thing,sound:beep")

	s.note("the last item failing: the playback finishes failed")
	s.play(ch, "pb-list-5", "media", "sound:beep,sound:no-such-sound")

	s.note("a playback of an unknown scheme alone: PlaybackStarted, then it is gone without an event and the next playback starts")
	s.do(post, query("/ari/channels/"+ch+"/play", "media", "bogus:thing", "playbackId", "pb-bogus"), nil)
	s.play(ch, "pb-after-bogus", "media", "sound:beep")
	s.do(get, "/ari/playbacks/pb-bogus", nil)

	s.note("media in a JSON body (as ari/v5 sends it): a string is one URI, commas and all; an array is the list")
	s.playBody(ch, "pb-body-1", map[string]any{"media": "sound:beep,sound:beep"})
	s.playBody(ch, "pb-body-2", map[string]any{"media": []string{"sound:beep", "number:7"}})

	s.note("no media at all")
	s.do(post, "/ari/channels/"+ch+"/play", nil)

	s.hangup(1, ch)
}

// playBody is play with the parameters in a JSON body, the playback id in the path.
func (s *session) playBody(ch, id string, body map[string]any) {
	resp := s.do(post, "/ari/channels/"+ch+"/play/"+id, body)
	if resp.status != 201 {
		s.fatalf("play %s: %d %s", id, resp.status, resp.raw)
	}
	s.waitEvent(1, 30*time.Second, "PlaybackFinished of "+id, typ("PlaybackFinished", id))
}

// originateIDs: which ids POST /channels honours for a Local pair, and when an id counts as taken.
func originateIDs(s *session) {
	callerArgs := func(ids ...string) []string {
		return append([]string{"endpoint", "Local/8800@from-pstn", "context", "caller-long", "extension", "s",
			"priority", "1", "callerId", `"Caller" <79161110002>`}, ids...)
	}
	originate := func(ids ...string) response { return s.do(post, query("/ari/channels", callerArgs(ids...)...), nil) }
	stasisStart := func(id string) {
		s.waitEvent(1, eventWait, "StasisStart of "+id, typ("StasisStart", id))
	}

	s.note("channelId and otherChannelId together: the ;1 half gets channelId, the ;2 half (the one in Stasis) otherChannelId")
	_, alpha := s.caller(1, "caller-long", "79161110002", "channelId", "one-alpha", "otherChannelId", "alpha")
	if alpha != "alpha" {
		s.fatalf("otherChannelId not honoured: %s", alpha)
	}

	s.note("otherChannelId alone is ignored: Asterisk makes up the ;2 half's id")
	_, bravo := s.caller(1, "caller-long", "79161110003", "otherChannelId", "bravo")
	s.do(get, "/ari/channels/bravo", nil)

	s.note("channelId <id>-one with otherChannelId <id>: the ;1 half is made first, and <id> is then taken as a prefix of its id")
	if r := originate("channelId", "charlie-one", "otherChannelId", "charlie"); r.status == 200 {
		stasisStart("charlie")
	}
	s.do(get, "/ari/channels/charlie-one", nil)
	s.do(get, "/ari/channels/charlie", nil)

	s.note("a requested id that is a prefix of an existing channel's id (alpha exists)")
	if r := originate("channelId", "alph"); r.status == 200 {
		s.fatalf("alph was free")
	}
	s.note("looking a channel up by id: a prefix is not found; the id in another case is")
	s.do(get, "/ari/channels/alph", nil)
	s.do(get, "/ari/channels/ALPHA", nil)
	s.do(get, query("/ari/channels/ALPHA/variable", "variable", "CALLERID(num)"), nil)
	s.do(get, query("/ari/channels/alpha/variable", "variable", "CALLERID(num)"), nil)
	s.note("the existing id itself, as channelId and as otherChannelId")
	originate("channelId", "alpha")
	originate("channelId", "delta-one", "otherChannelId", "alpha")
	s.note("an id that an existing one is a prefix of (alpha exists, alphabet requested)")
	if r := originate("channelId", "one-alphabet", "otherChannelId", "alphabet"); r.status == 200 {
		stasisStart("alphabet")
		s.hangup(1, "alphabet")
	}
	s.note("the existing id in another case (ALPHA)")
	if r := originate("channelId", "one-echo", "otherChannelId", "ALPHA"); r.status == 200 {
		stasisStart("ALPHA")
		s.hangup(1, "ALPHA")
	}

	s.hangup(1, alpha)
	s.hangup(1, bravo)
}

// userEvent posts a user event for application app with the variables body (nil for none).
func (s *session) userEvent(name, app string, variables map[string]any, kv ...string) response {
	var body any
	if variables != nil {
		body = map[string]any{"variables": variables}
	}
	if app != "" {
		kv = append([]string{"application", app}, kv...)
	}
	return s.do(post, query("/ari/events/user/"+name, kv...), body)
}

// appHandover: a second WebSocket for the app takes it over; user events as a liveness probe.
func appHandover(s *session) {
	_, ch := s.caller(1, "caller-long", "79161110004")

	s.note("WebSocket 2 connects for the same app while WebSocket 1 holds it: WebSocket 1 gets ApplicationReplaced " +
		"(Asterisk registers the app before it answers the upgrade), and the app's events go to WebSocket 2 from then on")
	s.connect(2, s.app)
	s.waitEvent(1, eventWait, "ApplicationReplaced", typ("ApplicationReplaced", ""))
	s.do(post, "/ari/channels/"+ch+"/answer", nil)
	s.waitEvent(2, eventWait, "ChannelStateChange", typ("ChannelStateChange", ch))

	s.note("a user event for the app (the controller's liveness probe) arrives on WebSocket 2 as ChannelUserevent; " +
		"userevent holds the variables of the JSON body and eventname")
	s.userEvent("hotline-probe", s.app, map[string]any{"probe": "1", "n": 2})
	s.waitEvent(2, eventWait, "ChannelUserevent", typ("ChannelUserevent", ""))
	s.userEvent("hotline-probe", s.app, nil)
	s.waitEvent(2, eventWait, "ChannelUserevent", typ("ChannelUserevent", ""))
	s.note("with source=channel:<id> the event carries that channel")
	s.userEvent("hotline-probe", s.app, nil, "source", "channel:"+ch)
	s.waitEvent(2, eventWait, "ChannelUserevent", typ("ChannelUserevent", ch))

	s.note("errors: an app that does not exist, no application, a bad source scheme, an unknown source")
	s.userEvent("hotline-probe", "no-such-app", nil)
	s.userEvent("hotline-probe", "", nil)
	s.userEvent("hotline-probe", s.app, nil, "source", "bogus:thing")
	s.userEvent("hotline-probe", s.app, nil, "source", "channel:no-such-channel")

	if !s.quietFor(1, 200*time.Millisecond, func(map[string]any) bool { return true }) {
		s.fatalf("WebSocket 1 got an event after ApplicationReplaced")
	}
	s.note("WebSocket 1 got nothing after ApplicationReplaced; closing it now leaves the app with WebSocket 2")
	s.close(1)
	s.userEvent("hotline-probe", s.app, nil)
	s.waitEvent(2, eventWait, "ChannelUserevent", typ("ChannelUserevent", ""))
	s.hangup(2, ch)

	s.note("WebSocket 2 closes with no channel in the app: Asterisk forgets the app, and a user event for it is 404")
	s.close(2)
	s.do(get, "/ari/applications/"+s.app, nil)
	s.userEvent("hotline-probe", s.app, nil)

	s.note("not recorded, as timing decides it: if WebSocket 1 closes while WebSocket 2's handover is in progress " +
		"(between app_update sending ApplicationReplaced and switching the handler), WebSocket 1's cleanup " +
		"deactivates the app and app_update then leaves it deactivated: WebSocket 2 stays open but gets no events, " +
		"Stasis() for the app fails, and user events are dropped (\"Inactive Stasis app 'hotline' missed message\")")
}

// userEventInactiveApp: the app's WebSocket closes while a channel is still in the app.
func userEventInactiveApp(s *session) {
	_, ch := s.answeredCaller("79161110005")

	s.note("the app's only WebSocket closes while a channel is in the app: Asterisk deactivates the app but keeps it " +
		"(the channel holds it): it is still listed, a user event for it is accepted (204) and dropped (the log says " +
		"\"Inactive Stasis app 'hotline' missed message\"), and Stasis() for it fails until a WebSocket takes it again")
	s.close(1)
	s.do(get, "/ari/applications/"+s.app, nil)
	s.userEvent("hotline-probe", s.app, nil)

	s.note("WebSocket 2 connects: the app is active again (no ApplicationReplaced, nobody held it) and the channel's events reach it")
	s.connect(2, s.app)
	s.userEvent("hotline-probe", s.app, nil)
	s.waitEvent(2, eventWait, "ChannelUserevent", typ("ChannelUserevent", ""))
	s.hangup(2, ch)
}

// rtpSink is a UDP socket for externalMedia to send to; what arrives is not recorded.
func (s *session) rtpSink() string {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		s.fatalf("rtp listen: %v", err)
	}
	s.closers = append(s.closers, func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	return c.LocalAddr().String()
}

// externalMediaLateStasis: the externalMedia reply and its channel's StasisStart, and addChannel of
// channels outside the app.
func externalMediaLateStasis(s *session) {
	one, ch := s.answeredCaller("79161110006")

	s.note("externalMedia answers with the channel before its StasisStart reaches the app (recorded in the order it came)")
	s.note("the reply shows the channel before or after it entered Stasis (its dialplan, and STASISSTATUS among its " +
		"channelvars or not): the transcript marks them loose")
	resp := s.doLoose(post, query("/ari/channels/externalMedia", "app", s.app, "channelId", "em-late-1",
		"external_host", s.rtpSink(), "format", "ulaw", "encapsulation", "rtp", "transport", "udp",
		"connection_type", "client", "direction", "both"), "dialplan", "channelvars")
	if resp.status != 200 {
		s.fatalf("externalMedia: %d %s", resp.status, resp.raw)
	}
	s.waitEvent(1, eventWait, "StasisStart of em-late-1", typ("StasisStart", "em-late-1"))
	s.do(post, query("/ari/bridges", "bridgeId", "br-late-1", "type", "mixing"), nil)
	s.do(post, query("/ari/bridges/br-late-1/addChannel", "channel", ch+",em-late-1"), nil)
	s.waitEvent(1, eventWait, "ChannelEnteredBridge", typ("ChannelEnteredBridge", "em-late-1"))

	s.note("addChannel of a channel that was never in Stasis (the caller's ;1 half, running its dialplan)")
	s.do(post, query("/ari/bridges/br-late-1/addChannel", "channel", one), nil)

	s.note("addChannel of a channel that left Stasis with continue (into caller-long, where it waits a minute)")
	_, other := s.caller(1, "caller-long", "79161110007")
	s.do(post, query("/ari/channels/"+other+"/continue", "context", "caller-long", "extension", "s", "priority", "1"), nil)
	s.waitEvent(1, eventWait, "StasisEnd of "+other, typ("StasisEnd", other))
	// Asterisk publishes StasisEnd a moment before it lets go of the channel's control: an
	// addChannel in that window is taken (204, seen once in 40 replays). 50 ms later it never is.
	s.doWait(post, query("/ari/bridges/br-late-1/addChannel", "channel", other), nil, 50*time.Millisecond)
	s.do(del, "/ari/channels/"+other, nil)

	s.hangup(1, "em-late-1")
	s.hangup(1, ch)
	// The bridge is destroyed unrecorded: whether BridgeDestroyed reaches the app then depends on
	// when the app's subscription to the bridge ends, which timing decides.
}

// snoopLateStasis: the snoop reply and its channel's StasisStart.
func snoopLateStasis(s *session) {
	_, ch := s.answeredCaller("79161110008")

	s.note("snoop answers with the snoop channel before its StasisStart reaches the app (recorded in the order it came)")
	s.note("the reply's dialplan is the snoop channel's before or after it entered Stasis (app_name \"\" or \"Stasis\"): " +
		"the transcript marks it (and channelvars) loose")
	s.doLoose(post, query("/ari/channels/"+ch+"/snoop", "app", s.app, "appArgs", "snoop,1001", "snoopId", "snoop-late-1",
		"spy", "both", "whisper", "out"), "dialplan", "channelvars")
	s.waitEvent(1, eventWait, "StasisStart of snoop-late-1", typ("StasisStart", "snoop-late-1"))
	s.do(post, query("/ari/bridges", "bridgeId", "br-snoop-1", "type", "mixing"), nil)
	s.do(post, query("/ari/bridges/br-snoop-1/addChannel", "channel", "snoop-late-1"), nil)
	s.waitEvent(1, eventWait, "ChannelEnteredBridge", typ("ChannelEnteredBridge", "snoop-late-1"))

	s.hangup(1, "snoop-late-1")
	s.hangup(1, ch)
}

// bridgeRecreate: a bridge destroyed and created again with the same id. The probe has measured
// what a creation at once after the destruction gets; the transcript replays what does not depend
// on timing.
func bridgeRecreate(s *session) {
	s.note("creating a bridge whose id exists, with POST /bridges/{id} and with POST /bridges?bridgeId=")
	s.do(post, query("/ari/bridges/br-again-1", "type", "mixing", "name", "again"), nil)
	s.do(post, query("/ari/bridges/br-again-1", "type", "mixing", "name", "again"), nil)
	s.do(post, query("/ari/bridges", "bridgeId", "br-again-1", "type", "mixing"), nil)

	s.note("an empty bridge destroyed, and created again 50 ms later")
	s.do(del, "/ari/bridges/br-again-1", nil)
	s.doWait(post, query("/ari/bridges/br-again-1", "type", "mixing", "name", "again"), nil, 50*time.Millisecond)

	s.note("a bridge with a caller in it destroyed: the caller leaves it; created again 50 ms later, the caller can join it")
	_, ch := s.caller(1, "caller-long", "79161110009")
	s.do(post, "/ari/channels/"+ch+"/answer", nil)
	s.do(post, query("/ari/bridges/br-again-2", "type", "mixing", "name", "again"), nil)
	s.do(post, query("/ari/bridges/br-again-2/addChannel", "channel", ch), nil)
	s.waitEvent(1, eventWait, "ChannelEnteredBridge", typ("ChannelEnteredBridge", ch))
	s.do(del, "/ari/bridges/br-again-2", nil)
	s.waitEvent(1, eventWait, "ChannelLeftBridge", typ("ChannelLeftBridge", ch))
	s.doWait(post, query("/ari/bridges/br-again-2", "type", "mixing", "name", "again"), nil, 50*time.Millisecond)
	s.do(post, query("/ari/bridges/br-again-2/addChannel", "channel", ch), nil)
	s.waitEvent(1, eventWait, "ChannelEnteredBridge", typ("ChannelEnteredBridge", ch))
	s.hangup(1, ch)
	// The bridges are destroyed unrecorded (see externalMediaLateStasis).
}

// bridgeRecreateProbe destroys a bridge and creates it again at once, many times, empty and with
// a caller in it, and says what came back how often.
func bridgeRecreateProbe(s *session) []string {
	const trials = 20
	create := func(id string) response {
		return s.quiet(post, query("/ari/bridges/"+id, "type", "mixing", "name", "again"))
	}
	outcome := func(r response) string {
		switch {
		case r.status == 200:
			return "200 (a new bridge)"
		case len(r.raw) == 0:
			return fmt.Sprint(r.status)
		}
		return fmt.Sprintf("%d %s", r.status, compact(r.raw))
	}
	// fresh creates id, again and again until the one destroyed before is gone.
	fresh := func(id string) {
		deadline := time.Now().Add(5 * time.Second)
		for create(id).status != 200 {
			if time.Now().After(deadline) {
				s.fatalf("bridge %s cannot be created", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	empty, emptyDel := tally{}, tally{}
	for range trials {
		fresh("br-probe-1")
		s.quiet(del, "/ari/bridges/br-probe-1")
		empty.add(outcome(create("br-probe-1")))
		emptyDel.add(outcome(s.quiet(del, "/ari/bridges/br-probe-1")))
	}

	_, ch := s.caller(1, "caller-long", "79161110010")
	s.quiet(post, "/ari/channels/"+ch+"/answer")
	withCaller, later := tally{}, tally{}
	for range trials {
		fresh("br-probe-2")
		s.quiet(post, query("/ari/bridges/br-probe-2/addChannel", "channel", ch))
		s.waitEvent(1, eventWait, "ChannelEnteredBridge", typ("ChannelEnteredBridge", ch))
		s.quiet(del, "/ari/bridges/br-probe-2")
		r := create("br-probe-2")
		withCaller.add(outcome(r))
		s.waitEvent(1, eventWait, "ChannelLeftBridge", typ("ChannelLeftBridge", ch))
		if r.status != 200 {
			time.Sleep(50 * time.Millisecond)
			later.add(outcome(create("br-probe-2")))
		}
		s.quiet(del, "/ari/bridges/br-probe-2")
	}
	return []string{
		fmt.Sprintf("probe, not replayed (timing decides): an empty bridge destroyed and created again at once, %d times: %s; "+
			"DELETE right after that creation: %s", trials, empty, emptyDel),
		fmt.Sprintf("probe, not replayed: a bridge with a caller in it destroyed and created again at once, %d times: %s; "+
			"when that failed, created 50 ms after the caller left it: %s", trials, withCaller, later),
	}
}

// tally counts outcomes and prints them in the order first seen.
type tally struct {
	order []string
	n     map[string]int
}

func (t *tally) add(k string) {
	if t.n == nil {
		t.n = map[string]int{}
	}
	if t.n[k] == 0 {
		t.order = append(t.order, k)
	}
	t.n[k]++
}

func (t tally) String() string {
	parts := make([]string, 0, len(t.order))
	for _, k := range t.order {
		parts = append(parts, fmt.Sprintf("%s %d times", k, t.n[k]))
	}
	return strings.Join(parts, ", ")
}

// answeredCaller places a caller-long caller on WebSocket 1, answers its Stasis side and waits until
// it is up; it returns both halves as caller does.
func (s *session) answeredCaller(number string) (string, string) {
	one, ch := s.caller(1, "caller-long", number)
	s.do(post, "/ari/channels/"+ch+"/answer", nil)
	s.waitEvent(1, eventWait, "ChannelStateChange", typ("ChannelStateChange", ch))
	return one, ch
}

// recordingEvent matches events of type t about the recording named name.
func recordingEvent(t, name string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		return ev["type"] == t && field(ev, "recording.name") == name
	}
}

// bridgeRecord: recording a bridge into a folder of the recordings directory, the errors, stopping,
// and the stored recording (its metadata, its file, its deletion).
func bridgeRecord(s *session) {
	const name = "hotline/conformance/rec-1"
	esc := strings.ReplaceAll(name, "/", "%2F")
	_, ch := s.answeredCaller("79161110011")
	s.do(post, query("/ari/bridges/br-rec-1", "type", "mixing", "name", "rec"), nil)
	s.do(post, query("/ari/bridges/br-rec-1/addChannel", "channel", ch), nil)
	s.waitEvent(1, eventWait, "ChannelEnteredBridge", typ("ChannelEnteredBridge", ch))

	s.note("a recording whose name holds folders (made under the recordings directory): 201 with the " +
		"recording queued, then RecordingStarted (the recording's channel joins the bridge: it is not in " +
		"the app, and leaves an empty bridge at once, which ends the recording)")
	record := func(kv ...string) response {
		return s.do(post, query("/ari/bridges/br-rec-1/record", kv...), nil)
	}
	if r := record("name", name, "format", "wav", "ifExists", "fail", "beep", "false", "terminateOn", "none"); r.status != 201 {
		s.fatalf("record: %d %s", r.status, r.raw)
	}
	s.waitEvent(1, eventWait, "RecordingStarted", recordingEvent("RecordingStarted", name))

	s.note("the same name while it records; an unknown format; an unknown ifExists; a name that leaves the " +
		"recordings directory; no name. (No format at all is not replayed: Asterisk 22.10.1 crashes on it.)")
	record("name", name, "format", "wav", "ifExists", "fail")
	record("name", name+"-b", "format", "bogus")
	record("name", name+"-b", "format", "wav", "ifExists", "bogus")
	record("name", "../rec-escape", "format", "wav")
	record("format", "wav")

	s.note("the live recording, by its name with the folders' slashes escaped (%%2F), and with them plain")
	s.do(get, "/ari/recordings/live/"+esc, nil)
	s.do(get, "/ari/recordings/live/"+name, nil)

	s.note("stopped after a second: 204, then RecordingFinished; the live recording is gone")
	if r := s.doWait(post, "/ari/recordings/live/"+esc+"/stop", nil, time.Second); r.status != 204 {
		s.fatalf("stop: %d %s", r.status, r.raw)
	}
	s.waitEvent(1, eventWait, "RecordingFinished", recordingEvent("RecordingFinished", name))
	s.do(get, "/ari/recordings/live/"+esc, nil)
	s.do(post, "/ari/recordings/live/"+esc+"/stop", nil)

	s.note("the stored recording: listed (with whatever else the directory holds), its metadata, its file " +
		"(audio: its headers are recorded, not its bytes)")
	s.do(get, "/ari/recordings/stored", nil)
	s.do(get, "/ari/recordings/stored/"+esc, nil)
	s.do(get, "/ari/recordings/stored/"+esc+"/file", nil)

	s.note("recording again under the stored name with ifExists=fail")
	record("name", name, "format", "wav", "ifExists", "fail")

	s.note("deleted: 204; deleted again, read, its file: 404; a name that leaves the recordings directory")
	s.do(del, "/ari/recordings/stored/"+esc, nil)
	s.do(del, "/ari/recordings/stored/"+esc, nil)
	s.do(get, "/ari/recordings/stored/"+esc, nil)
	s.do(get, "/ari/recordings/stored/"+esc+"/file", nil)
	s.do(get, "/ari/recordings/stored/..%2F..%2Fetc%2Fpasswd", nil)

	s.hangup(1, ch)
	// The bridge is destroyed unrecorded (see externalMediaLateStasis).
}
