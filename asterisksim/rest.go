package asterisksim

import (
	"crypto/subtle"
	"net/http"
	"sort"
	"strings"
	"time"
)

type handler func(w http.ResponseWriter, r *http.Request, p *params)

func (s *Sim) routes() {
	m := http.NewServeMux()
	h := func(pattern string, f handler) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			p, err := parseParams(r)
			if err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			f(w, r, p)
		})
	}
	m.HandleFunc("GET /ari/events", s.serveEvents)
	h("GET /ari/asterisk/info", s.getInfo)
	h("GET /ari/asterisk/ping", s.getPing)
	h("GET /ari/asterisk/variable", s.getGlobal)
	h("POST /ari/asterisk/variable", s.setGlobal)
	h("GET /ari/applications", s.listApplications)
	h("GET /ari/applications/{name}", s.getApplication)
	h("GET /ari/endpoints", func(w http.ResponseWriter, _ *http.Request, _ *params) { writeJSON(w, 200, []any{}) })
	h("GET /ari/sounds/{id...}", s.getSound)
	h("POST /ari/events/user/{eventName}", s.userEvent)

	h("GET /ari/channels", s.listChannels)
	h("POST /ari/channels", s.originate)
	h("POST /ari/channels/externalMedia", s.externalMedia)
	h("POST /ari/channels/{id}", s.originate)
	h("GET /ari/channels/{id}", s.withChannel(false, s.getChannel))
	h("DELETE /ari/channels/{id}", s.withChannel(false, s.hangupChannel))
	h("POST /ari/channels/{id}/answer", s.withChannel(true, s.answerChannel))
	h("POST /ari/channels/{id}/continue", s.withChannel(true, s.continueChannel))
	h("POST /ari/channels/{id}/play", s.withChannel(true, s.playChannel))
	h("POST /ari/channels/{id}/play/{pid}", s.withChannel(true, s.playChannel))
	h("POST /ari/channels/{id}/dtmf", s.withChannel(true, s.sendDTMF))
	h("POST /ari/channels/{id}/ring", s.withChannel(true, s.flag(func(c *channel, on bool) { c.ringing = on })))
	h("DELETE /ari/channels/{id}/ring", s.withChannel(true, s.flag(func(c *channel, on bool) { c.ringing = on })))
	h("POST /ari/channels/{id}/moh", s.withChannel(true, s.flag(func(c *channel, on bool) {
		if !c.moh && c.kind == kindLocal2 && c.peer != nil && c.peer.callerH != nil {
			c.peer.callerH.mark(Mark{Kind: MarkMOH, At: time.Now()})
		}
		c.moh = on
	})))
	h("DELETE /ari/channels/{id}/moh", s.withChannel(true, s.flag(func(c *channel, on bool) { c.moh = on })))
	h("POST /ari/channels/{id}/hold", s.withChannel(true, s.flag(func(c *channel, on bool) { c.hold = on })))
	h("DELETE /ari/channels/{id}/hold", s.withChannel(true, s.flag(func(c *channel, on bool) { c.hold = on })))
	h("POST /ari/channels/{id}/silence", s.withChannel(true, s.flag(func(c *channel, on bool) { c.silence = on })))
	h("DELETE /ari/channels/{id}/silence", s.withChannel(true, s.flag(func(c *channel, on bool) { c.silence = on })))
	h("POST /ari/channels/{id}/mute", s.withChannel(true, s.mute))
	h("DELETE /ari/channels/{id}/mute", s.withChannel(true, s.mute))
	h("GET /ari/channels/{id}/variable", s.withChannel(false, s.getVariable))
	h("POST /ari/channels/{id}/variable", s.withChannel(false, s.setVariable))
	h("POST /ari/channels/{id}/snoop", s.withChannel(false, s.snoopChannel))
	h("POST /ari/channels/{id}/snoop/{sid}", s.withChannel(false, s.snoopChannel))

	h("GET /ari/bridges", s.listBridges)
	h("POST /ari/bridges", s.createBridge)
	h("POST /ari/bridges/{id}", s.createBridge)
	h("GET /ari/bridges/{id}", s.withBridge(s.getBridge))
	h("DELETE /ari/bridges/{id}", s.withBridge(s.destroyBridge))
	h("POST /ari/bridges/{id}/addChannel", s.withBridge(s.addChannel))
	h("POST /ari/bridges/{id}/removeChannel", s.withBridge(s.removeChannel))
	h("POST /ari/bridges/{id}/play", s.withBridge(s.playBridge))
	h("POST /ari/bridges/{id}/play/{pid}", s.withBridge(s.playBridge))
	h("POST /ari/bridges/{id}/moh", s.withBridge(s.bridgeMOH(true)))
	h("DELETE /ari/bridges/{id}/moh", s.withBridge(s.bridgeMOH(false)))
	h("POST /ari/bridges/{id}/record", s.withBridge(s.recordBridge))

	h("GET /ari/playbacks/{id}", s.withPlayback(s.getPlayback))
	h("DELETE /ari/playbacks/{id}", s.withPlayback(s.stopPlayback))
	h("POST /ari/playbacks/{id}/control", s.withPlayback(s.controlPlayback))

	h("GET /ari/recordings/live/{name}", s.getLiveRecording)
	h("POST /ari/recordings/live/{name}/stop", s.stopLiveRecording)
	h("DELETE /ari/recordings/live/{name}", s.cancelLiveRecording)
	h("GET /ari/recordings/stored", s.listStoredRecordings)
	h("GET /ari/recordings/stored/{name}", s.getStoredRecording)
	h("GET /ari/recordings/stored/{name}/file", s.storedRecordingFile)
	h("DELETE /ari/recordings/stored/{name}", s.deleteStoredRecording)

	m.HandleFunc("/ari/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "Resource not found")
	})
	s.mux = m
}

// ServeHTTP serves ARI under /ari/ after checking credentials (Basic or api_key=user:password).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Sim) authorized(r *http.Request) bool {
	if s.cfg.User == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		if key := r.URL.Query().Get("api_key"); key != "" {
			user, pass, ok = strings.Cut(key, ":")
		}
	}
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.Password)) == 1
}

func (s *Sim) getInfo(w http.ResponseWriter, _ *http.Request, p *params) {
	start := stamp(s.start)
	all := map[string]any{
		"build":  map[string]any{"os": "Linux", "kernel": "asterisksim", "machine": "x86_64", "options": "OPTIONAL_API", "date": s.start.UTC().Format("2006-01-02 15:04:05 UTC"), "user": "asterisksim"},
		"system": map[string]any{"version": "22.10.1", "entity_id": s.cfg.AsteriskID},
		"config": map[string]any{"name": "", "default_language": "en", "setid": map[string]any{"user": "", "group": ""}},
		"status": map[string]any{"startup_time": start, "last_reload_time": start},
	}
	// ?only=a,b picks sections; an unknown one is skipped (Asterisk logs a warning), so an "only"
	// that names none of them answers {} (resource_asterisk.c). As with every list in the query,
	// a second "only" replaces the first.
	if only := splitList(p.get("only")); len(only) > 0 {
		some := map[string]any{}
		for _, k := range only {
			k = strings.ToLower(k)
			if v, ok := all[k]; ok {
				some[k] = v
			}
		}
		all = some
	}
	writeJSON(w, 200, all)
}

func (s *Sim) getPing(w http.ResponseWriter, _ *http.Request, _ *params) {
	writeJSON(w, 200, map[string]any{"ping": "pong", "timestamp": stamp(time.Now()), "asterisk_id": s.cfg.AsteriskID})
}

// variableName is the variable a /variable request names, or false once it has answered the 400
// Asterisk gives a request without one.
func variableName(w http.ResponseWriter, p *params) (string, bool) {
	name := p.get("variable")
	if name == "" {
		writeError(w, 400, "Variable name is required")
		return "", false
	}
	return name, true
}

// getGlobal answers a dialplan global's value, "" when there is none (resource_asterisk.c).
func (s *Sim) getGlobal(w http.ResponseWriter, _ *http.Request, p *params) {
	name, ok := variableName(w, p)
	if !ok {
		return
	}
	s.mu.Lock()
	v := s.plan.globals[name]
	s.mu.Unlock()
	writeJSON(w, 200, map[string]string{"value": v})
}

// setGlobal sets a dialplan global, as an operator's "dialplan set global" does; without a value
// it removes it, as Asterisk's pbx_builtin_setvar_helper does with none.
func (s *Sim) setGlobal(w http.ResponseWriter, _ *http.Request, p *params) {
	name, ok := variableName(w, p)
	if !ok {
		return
	}
	s.mu.Lock()
	if _, ok := p.vals["value"]; ok {
		s.plan.globals[name] = p.get("value")
	} else {
		delete(s.plan.globals, name)
	}
	s.mu.Unlock()
	w.WriteHeader(204)
}

type applicationJSON struct {
	Name             string   `json:"name"`
	ChannelIDs       []string `json:"channel_ids"`
	BridgeIDs        []string `json:"bridge_ids"`
	EndpointIDs      []string `json:"endpoint_ids"`
	DeviceNames      []string `json:"device_names"`
	EventsAllowed    []any    `json:"events_allowed"`
	EventsDisallowed []any    `json:"events_disallowed"`
}

func (s *Sim) applicationLocked(name string) applicationJSON {
	a := applicationJSON{Name: name, ChannelIDs: []string{}, BridgeIDs: []string{}, EndpointIDs: []string{}, DeviceNames: []string{}, EventsAllowed: []any{}, EventsDisallowed: []any{}}
	for _, ch := range s.sortedChannelsLocked() {
		if ch.subscribedApp() == name {
			a.ChannelIDs = append(a.ChannelIDs, ch.id)
		}
	}
	for id := range s.bridges {
		a.BridgeIDs = append(a.BridgeIDs, id)
	}
	sort.Strings(a.BridgeIDs)
	return a
}

// appExistsLocked reports whether Asterisk would list app: while a connection runs it, and after
// its connection closed for as long as channels are still in it (they hold the app's
// subscriptions; res_stasis.c cleans up only apps with neither).
func (s *Sim) appExistsLocked(app string) bool {
	known, active := s.hub.known(app)
	if !known {
		return false
	}
	if active {
		return true
	}
	for _, ch := range s.channels {
		if !ch.hungup && ch.subscribedApp() == app {
			return true
		}
	}
	return false
}

func (s *Sim) listApplications(w http.ResponseWriter, _ *http.Request, _ *params) {
	names := s.hub.knownApps()
	sort.Strings(names)
	s.mu.Lock()
	out := make([]applicationJSON, 0, len(names))
	for _, n := range names {
		if s.appExistsLocked(n) {
			out = append(out, s.applicationLocked(n))
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

func (s *Sim) getApplication(w http.ResponseWriter, r *http.Request, _ *params) {
	name := r.PathValue("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.appExistsLocked(name) {
		writeError(w, 404, "Application not found")
		return
	}
	writeJSON(w, 200, s.applicationLocked(name))
}

type soundFormat struct {
	Language string `json:"language"`
	Format   string `json:"format"`
}

func (s *Sim) getSound(w http.ResponseWriter, r *http.Request, _ *params) {
	id := r.PathValue("id")
	var formats []soundFormat
	for _, lang := range []string{"en", "ru"} {
		if snd, ok := s.resolveSound(id, lang); ok && (lang == "en" || snd.pcm != nil || id == "hello-world") {
			formats = append(formats, soundFormat{Language: lang, Format: "gsm"})
		}
	}
	if len(formats) == 0 {
		writeError(w, 404, "Sound not found")
		return
	}
	writeJSON(w, 200, map[string]any{"id": id, "formats": formats})
}

// Channels.

func (s *Sim) sortedChannelsLocked() []*channel {
	list := make([]*channel, 0, len(s.channels))
	for _, ch := range s.channels {
		list = append(list, ch)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].created.Before(list[j].created) })
	return list
}

func (s *Sim) listChannels(w http.ResponseWriter, _ *http.Request, _ *params) {
	s.mu.Lock()
	out := make([]ChannelJSON, 0, len(s.channels))
	for _, ch := range s.sortedChannelsLocked() {
		out = append(out, ch.json())
	}
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

type channelHandler func(w http.ResponseWriter, r *http.Request, p *params, ch *channel)

// withChannel looks the channel up and holds s.mu for the handler. needStasis rejects channels
// the app does not control, as Asterisk does with 409.
func (s *Sim) withChannel(needStasis bool, f channelHandler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *params) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ch := s.channelByIDLocked(r.PathValue("id"))
		if ch == nil || ch.hungup {
			writeError(w, 404, "Channel not found")
			return
		}
		if needStasis && !ch.inStasis {
			writeError(w, 409, "Channel not in Stasis application")
			return
		}
		f(w, r, p, ch)
	}
}

// channelByIDLocked finds a channel by its id in any case, as Asterisk's channel storage does
// (recorded: GET /channels/ALPHA finds "alpha"; a prefix finds nothing).
func (s *Sim) channelByIDLocked(id string) *channel {
	if ch := s.channels[id]; ch != nil {
		return ch
	}
	for other, ch := range s.channels {
		if strings.EqualFold(other, id) {
			return ch
		}
	}
	return nil
}

func (s *Sim) originate(w http.ResponseWriter, r *http.Request, p *params) {
	timeout, err := p.seconds("timeout")
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	prio, err := p.int("priority", 1)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	req := originateReq{
		endpoint: p.get("endpoint"), app: p.get("app"), appArgs: p.get("appArgs"),
		context: p.get("context"), extension: p.get("extension"), priority: prio,
		callerID: p.get("callerId"), timeout: timeout,
		channelID: p.get("channelId"), otherChannelID: p.get("otherChannelId"), variables: p.variables,
	}
	if id := r.PathValue("id"); id != "" {
		req.channelID = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.originateLocked(req)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, 200, ch.json())
}

func (s *Sim) externalMedia(w http.ResponseWriter, _ *http.Request, p *params) {
	req := externalMediaReq{
		app: p.get("app"), appArgs: p.get("appArgs"), channelID: p.get("channelId"),
		externalHost: p.get("external_host"), encapsulation: p.get("encapsulation"), transport: p.get("transport"),
		format: p.get("format"), direction: p.get("direction"), connectionType: p.get("connection_type"),
		variables: p.variables,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, resp, err := s.externalMediaLocked(req)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, 200, resp)
}

func (s *Sim) getChannel(w http.ResponseWriter, _ *http.Request, _ *params, ch *channel) {
	writeJSON(w, 200, ch.json())
}

func (s *Sim) hangupChannel(w http.ResponseWriter, _ *http.Request, p *params, ch *channel) {
	cause, ok := hangupCause(p.get("reason"))
	if reasonCode := p.get("reason_code"); reasonCode != "" {
		n, err := p.int("reason_code", 0)
		if err != nil {
			writeError(w, 400, "Invalid reason_code")
			return
		}
		cause, ok = n, true
	}
	if !ok {
		writeError(w, 400, "Invalid reason for hangup provided")
		return
	}
	s.hangupLocked(ch, cause, hangupAPI)
	w.WriteHeader(204)
}

func (s *Sim) answerChannel(w http.ResponseWriter, _ *http.Request, _ *params, ch *channel) {
	s.answerLocked(ch)
	w.WriteHeader(204)
}

func (s *Sim) continueChannel(w http.ResponseWriter, _ *http.Request, p *params, ch *channel) {
	prio, err := p.int("priority", 1)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	loc := dpLoc{context: p.get("context"), exten: p.get("extension"), priority: prio}
	if loc.context != "" && loc.exten == "" {
		loc.exten = ch.dp.Exten
	}
	if loc.context == "" && loc.exten != "" {
		loc.context = ch.dp.Context
	}
	s.leaveStasisLocked(ch)
	select {
	case ch.stasisCh <- loc:
	default:
	}
	if !ch.fromDialplan {
		// Originated straight into the app: nothing waits in Stasis(), so the dialplan starts here.
		if loc.context == "" {
			s.hangupLocked(ch, causeNormal, hangupSelf)
		} else {
			s.goTracked(func() { s.runDialplan(ch, loc) })
		}
	}
	w.WriteHeader(204)
}

func (s *Sim) playChannel(w http.ResponseWriter, r *http.Request, p *params, ch *channel) {
	s.play(w, r, p, ch, nil)
}

// play creates a playback on a channel or bridge: 201 with state queued, even for media that will
// fail (that comes as PlaybackFinished failed).
func (s *Sim) play(w http.ResponseWriter, r *http.Request, p *params, ch *channel, b *bridge) {
	mediaList := p.media()
	if len(mediaList) == 0 {
		writeError(w, 500, "Failed to queue media for playback")
		return
	}
	id := r.PathValue("pid")
	if id == "" {
		id = p.get("playbackId")
	}
	if id == "" {
		id = uuid()
	}
	if s.playbacks[id] != nil {
		writeError(w, 409, "Playback with given id already exists")
		return
	}
	lang := p.get("lang")
	if lang == "" {
		lang = "en"
		if ch != nil {
			lang = ch.lang
		}
	}
	pb := &playback{id: id, media: mediaList, lang: lang, ch: ch, br: b, state: "queued"}
	resp := pb.json()
	s.queuePlaybackLocked(pb)
	writeJSON(w, 201, resp)
}

// sendDTMF answers at once and plays the digits on the channel as Asterisk does: after "before" ms,
// each digit lasting "duration" ms with "between" ms after it, "w" a 500 ms and "W" a 1 s pause
// ("after" only holds the channel's next command back in Asterisk; it is checked, not kept).
func (s *Sim) sendDTMF(w http.ResponseWriter, _ *http.Request, p *params, ch *channel) {
	digits := p.get("dtmf")
	if digits == "" {
		writeError(w, 400, "DTMF is required")
		return
	}
	var ms [4]int
	for i, k := range []string{"before", "between", "duration", "after"} {
		v, err := p.int(k, [4]int{0, 100, 100, 0}[i])
		if err != nil || v < 0 {
			writeError(w, 400, k+": not a number of milliseconds")
			return
		}
		ms[i] = v
	}
	before, between, dur := time.Duration(ms[0])*time.Millisecond, time.Duration(ms[1])*time.Millisecond, ms[2]
	ctx := s.ctx
	s.goTracked(func() {
		if sleep(ctx, s.scaled(before)) != nil {
			return
		}
		for _, d := range digits {
			var pause time.Duration
			switch d {
			case 'w':
				pause = 500 * time.Millisecond
			case 'W':
				pause = time.Second
			default:
				s.mu.Lock()
				if ch.hungup {
					s.mu.Unlock()
					return
				}
				s.dtmfToLocked(ch, string(d), dur)
				s.mu.Unlock()
				pause = time.Duration(dur)*time.Millisecond + between
			}
			if sleep(ctx, s.scaled(pause)) != nil {
				return
			}
		}
	})
	w.WriteHeader(204)
}

func (s *Sim) flag(set func(*channel, bool)) channelHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *params, ch *channel) {
		set(ch, r.Method == http.MethodPost)
		w.WriteHeader(204)
	}
}

func (s *Sim) mute(w http.ResponseWriter, r *http.Request, p *params, ch *channel) {
	dir := p.get("direction")
	if dir == "" {
		dir = "both"
	}
	on := r.Method == http.MethodPost
	switch dir {
	case "in":
		ch.muteIn = on
	case "out":
		ch.muteOut = on
	case "both":
		ch.muteIn, ch.muteOut = on, on
	default:
		writeError(w, 400, "Invalid direction specified")
		return
	}
	w.WriteHeader(204)
}

func (s *Sim) getVariable(w http.ResponseWriter, _ *http.Request, p *params, ch *channel) {
	name, ok := variableName(w, p)
	if !ok {
		return
	}
	v, ok := ch.getVar(name)
	if !ok {
		// Asterisk looks in the dialplan's globals after the channel's own variables.
		v, ok = s.plan.globals[name]
	}
	if !ok {
		writeError(w, 404, "Provided variable was not found")
		return
	}
	writeJSON(w, 200, map[string]string{"value": v})
}

func (s *Sim) setVariable(w http.ResponseWriter, r *http.Request, p *params, ch *channel) {
	name, ok := variableName(w, p)
	if !ok {
		return
	}
	if ch.inStasis && !s.waitIdleLocked(r.Context(), ch) {
		writeError(w, 404, "Channel not found")
		return
	}
	s.setVarLocked(ch, name, p.get("value"))
	w.WriteHeader(204)
}

func (s *Sim) snoopChannel(w http.ResponseWriter, r *http.Request, p *params, ch *channel) {
	id := r.PathValue("sid")
	if id == "" {
		id = p.get("snoopId")
	}
	resp, err := s.snoopLocked(ch, snoopReq{app: p.get("app"), appArgs: p.get("appArgs"), snoopID: id, spy: p.get("spy"), whisper: p.get("whisper")})
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeJSON(w, 200, resp)
}

// Bridges.

func (s *Sim) listBridges(w http.ResponseWriter, _ *http.Request, _ *params) {
	s.mu.Lock()
	list := make([]*bridge, 0, len(s.bridges))
	for _, b := range s.bridges {
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].created.Before(list[j].created) })
	out := make([]BridgeJSON, 0, len(list))
	for _, b := range list {
		out = append(out, b.json())
	}
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

func (s *Sim) createBridge(w http.ResponseWriter, r *http.Request, p *params) {
	id := r.PathValue("id")
	if id == "" {
		id = p.get("bridgeId")
	}
	if id == "" {
		id = uuid()
	}
	typ := "mixing"
	for _, t := range p.list("type") {
		switch t {
		case "holding":
			typ = "holding"
		case "mixing", "dtmf_events", "proxy_media", "video_sfu", "video_single":
		default:
			writeError(w, 400, "Invalid bridge type "+t)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bridgeIDTakenLocked(id) {
		writeError(w, 409, "Bridge with id '"+id+"' already exists")
		return
	}
	b := &bridge{id: id, name: p.get("name"), typ: typ, created: time.Now()}
	s.bridges[id] = b
	writeJSON(w, 200, b.json())
}

type bridgeHandler func(w http.ResponseWriter, r *http.Request, p *params, b *bridge)

func (s *Sim) withBridge(f bridgeHandler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *params) {
		s.mu.Lock()
		defer s.mu.Unlock()
		b := s.bridges[r.PathValue("id")]
		if b == nil {
			writeError(w, 404, "Bridge not found")
			return
		}
		f(w, r, p, b)
	}
}

func (s *Sim) getBridge(w http.ResponseWriter, _ *http.Request, _ *params, b *bridge) {
	writeJSON(w, 200, b.json())
}

func (s *Sim) destroyBridge(w http.ResponseWriter, _ *http.Request, _ *params, b *bridge) {
	s.destroyBridgeLocked(b)
	w.WriteHeader(204)
}

// bridgeChannels resolves the channel parameter; an unknown channel is 400, as Asterisk answers.
func (s *Sim) bridgeChannels(w http.ResponseWriter, p *params) ([]*channel, bool) {
	ids := p.list("channel")
	if len(ids) == 0 {
		writeError(w, 400, "Missing parameter channel")
		return nil, false
	}
	var out []*channel
	for _, id := range ids {
		ch := s.channels[id]
		if ch == nil || ch.hungup {
			writeError(w, 400, "Channel not found")
			return nil, false
		}
		out = append(out, ch)
	}
	return out, true
}

func (s *Sim) addChannel(w http.ResponseWriter, r *http.Request, p *params, b *bridge) {
	chans, ok := s.bridgeChannels(w, p)
	if !ok {
		return
	}
	for _, ch := range chans {
		if !ch.inStasis {
			writeError(w, 422, "Channel not in Stasis application")
			return
		}
	}
	for _, ch := range chans {
		if !s.waitIdleLocked(r.Context(), ch) {
			writeError(w, 404, "Channel not found")
			return
		}
	}
	if s.bridges[b.id] != b { // destroyed while waiting
		writeError(w, 404, "Bridge not found")
		return
	}
	s.addToBridgeLocked(b, chans)
	w.WriteHeader(204)
}

func (s *Sim) removeChannel(w http.ResponseWriter, _ *http.Request, p *params, b *bridge) {
	chans, ok := s.bridgeChannels(w, p)
	if !ok {
		return
	}
	for _, ch := range chans {
		if ch.bridge != b {
			writeError(w, 422, "Channel not in this bridge")
			return
		}
	}
	for _, ch := range chans {
		s.leaveBridgeLocked(b, ch)
	}
	w.WriteHeader(204)
}

func (s *Sim) playBridge(w http.ResponseWriter, r *http.Request, p *params, b *bridge) {
	s.play(w, r, p, nil, b)
}

func (s *Sim) bridgeMOH(on bool) bridgeHandler {
	return func(w http.ResponseWriter, _ *http.Request, _ *params, b *bridge) {
		b.moh = on
		w.WriteHeader(204)
	}
}

// Playbacks.

type playbackHandler func(w http.ResponseWriter, r *http.Request, p *params, pb *playback)

func (s *Sim) withPlayback(f playbackHandler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *params) {
		s.mu.Lock()
		defer s.mu.Unlock()
		pb := s.playbacks[r.PathValue("id")]
		if pb == nil {
			writeError(w, 404, "Playback not found")
			return
		}
		f(w, r, p, pb)
	}
}

func (s *Sim) getPlayback(w http.ResponseWriter, _ *http.Request, _ *params, pb *playback) {
	writeJSON(w, 200, pb.json())
}

// stopPlayback is DELETE /playbacks/{id}: a stopped playback finishes "done"; a queued one is
// dropped.
func (s *Sim) stopPlayback(w http.ResponseWriter, _ *http.Request, _ *params, pb *playback) {
	if pb.state == "queued" {
		delete(s.playbacks, pb.id)
		if pb.ch != nil {
			pb.ch.playbacks = removePlayback(pb.ch.playbacks, pb)
		} else {
			pb.br.playbacks = removePlayback(pb.br.playbacks, pb)
		}
	} else {
		if pb.state == "playing" {
			s.markPlaybackLocked(pb, Mark{Kind: MarkStopped, At: time.Now()})
		}
		s.finishPlaybackLocked(pb, "done")
	}
	w.WriteHeader(204)
}

func (s *Sim) controlPlayback(w http.ResponseWriter, _ *http.Request, p *params, pb *playback) {
	op := p.get("operation")
	if op == "" {
		writeError(w, 400, "operation is required")
		return
	}
	status, msg := s.controlPlaybackLocked(pb, op)
	if status != 204 {
		writeError(w, status, msg)
		return
	}
	w.WriteHeader(204)
}
