package asterisksim

import (
	"net/http"
	"strings"
	"time"
)

// userEventJSON is ChannelUserevent, what POST /events/user/{eventName} sends the app
// (multi_user_event_to_json in main/stasis.c): userevent is the request's variables with eventname
// added, and each source is there as its snapshot.
type userEventJSON struct {
	evHead
	EventName string         `json:"eventname"`
	UserEvent map[string]any `json:"userevent"`
	Channel   *ChannelJSON   `json:"channel,omitempty"`
	Bridge    *BridgeJSON    `json:"bridge,omitempty"`
	evTail
}

// userEvent is POST /events/user/{eventName}?application=&source=, variables in the JSON body
// ({"variables": {...}}, any JSON values). It answers 204 once the event is on its way: an app
// whose connection closed while channels were still in it exists but is inactive, and its event is
// dropped, as Asterisk drops it.
func (s *Sim) userEvent(w http.ResponseWriter, r *http.Request, p *params) {
	app := p.get("application")
	if app == "" {
		writeError(w, 400, "Missing parameter application")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.appExistsLocked(app) {
		writeError(w, 404, "Application not found")
		return
	}
	name := r.PathValue("eventName")
	blob := map[string]any{}
	if v, ok := p.body["variables"]; ok && v != nil {
		vars, ok := v.(map[string]any)
		if !ok {
			// Asterisk cannot add eventname to it and fails the request.
			writeError(w, 500, "Error processing request")
			return
		}
		for k, val := range vars {
			blob[k] = val
		}
	}
	blob["eventname"] = name
	ev := &userEventJSON{evHead: evHead{Type: "ChannelUserevent", Timestamp: stamp(time.Now())}, EventName: name, UserEvent: blob}
	for _, src := range p.list("source") {
		if status, msg := s.addUserEventSourceLocked(ev, src); status != 0 {
			writeError(w, status, msg)
			return
		}
	}
	s.emitLocked(app, ev)
	w.WriteHeader(http.StatusNoContent)
}

// addUserEventSourceLocked puts the snapshot a source URI names into ev, or says why it cannot.
func (s *Sim) addUserEventSourceLocked(ev *userEventJSON, uri string) (int, string) {
	scheme, id, _ := strings.Cut(uri, ":")
	switch scheme {
	case "channel":
		ch := s.channels[id]
		if ch == nil || ch.hungup {
			return 422, "Event source was not found"
		}
		j := ch.json()
		ev.Channel = &j
	case "bridge":
		b := s.bridges[id]
		if b == nil {
			return 422, "Event source was not found"
		}
		j := b.json()
		ev.Bridge = &j
	case "endpoint":
		return 422, "Event source was not found" // no endpoints are simulated
	default:
		return 400, "Invalid event source URI scheme"
	}
	return 0, ""
}
