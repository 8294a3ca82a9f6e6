package asterisksim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// hub fans events out to the /ari/events WebSockets of each Stasis application. Events are queued
// per connection without blocking the caller, so a slow reader never stalls the simulation and the
// order of one connection's events is the order they were emitted.
//
// Apps follow res/stasis/app.c and res/ari/ari_websockets.c: an app is held by one connection at a
// time (its handler); a second connection for it takes it over, and the first is told with
// ApplicationReplaced, which also takes the app out of that connection's list. A connection that
// closes deactivates every app still in its list, whoever holds it now. A deactivated app drops
// its events and fails Stasis(), until a connection registers it again.
type hub struct {
	s     *Sim
	mu    sync.Mutex
	conns map[*wsConn]struct{}
	// apps maps every app ever registered to the connection it runs on; nil is a deactivated app.
	apps map[string]*wsConn
	// changed is closed and replaced whenever a connection comes or goes.
	changed chan struct{}
	// closeOnHandover names apps whose next handover races with the old connection's close.
	closeOnHandover map[string]bool
}

type wsConn struct {
	apps   map[string]bool // the session's apps (websocket_apps): what its close unregisters
	all    bool            // subscribeAll
	ws     *websocket.Conn // nil until the upgrade is done: events queue meanwhile
	mu     sync.Mutex
	queue  [][]byte
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

func newHub(s *Sim) *hub {
	return &hub{s: s, conns: map[*wsConn]struct{}{}, apps: map[string]*wsConn{}, changed: make(chan struct{}),
		closeOnHandover: map[string]bool{}}
}

// registered reports whether app is active (some connection runs it): Stasis() fails otherwise.
func (h *hub) registered(app string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.apps[app] != nil
}

// known reports whether app was ever registered, active or not. Asterisk keeps a deactivated app
// while channels are in it; whether any are is the caller's to check.
func (h *hub) known(app string) (known, active bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.apps[app]
	return ok, c != nil
}

// appNames lists the active apps.
func (h *hub) appNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var names []string
	for a, c := range h.apps {
		if c != nil {
			names = append(names, a)
		}
	}
	return names
}

// knownApps lists every app ever registered, active or not.
func (h *hub) knownApps() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.apps))
	for a := range h.apps {
		names = append(names, a)
	}
	return names
}

// register adds c and its apps (__stasis_app_register, app_update): a new or deactivated app is
// activated on c; an app another connection runs is taken over, after that connection is told with
// ApplicationReplaced. Called before the WebSocket upgrade is answered, as Asterisk does, so a
// client whose connection is up has the apps.
func (h *hub) register(c *wsConn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	var lost []*wsConn
	for app := range c.apps {
		old := h.apps[app]
		if old == nil || old == c {
			h.apps[app] = c
			continue
		}
		if h.closeOnHandover[app] {
			// The old connection's cleanup runs between app_update sending ApplicationReplaced
			// and switching the handler: it deactivates the app, and the handover then leaves
			// it deactivated.
			delete(h.closeOnHandover, app)
			h.unregisterLocked(old)
			lost = append(lost, old)
		}
		h.replacedLocked(old, app)
		if h.apps[app] == nil {
			continue
		}
		h.apps[app] = c
	}
	h.notifyLocked()
	h.mu.Unlock()
	for _, old := range lost {
		old.close()
	}
}

// replacedLocked delivers ApplicationReplaced to the connection that ran app; receiving it takes
// the app out of that connection's list (ari_websocket_send_event).
func (h *hub) replacedLocked(old *wsConn, app string) {
	raw, _ := json.Marshal(map[string]string{
		"type": "ApplicationReplaced", "timestamp": stamp(time.Now()),
		"application": app, "asterisk_id": h.s.cfg.AsteriskID,
	})
	if !old.apps[app] {
		return
	}
	delete(old.apps, app)
	old.push(raw)
}

// unregister removes a closing connection (session_unregister_apps).
func (h *hub) unregister(c *wsConn) {
	h.mu.Lock()
	h.unregisterLocked(c)
	h.mu.Unlock()
}

// unregisterLocked deactivates every app still in c's list, whoever runs it now
// (stasis_app_unregister, app_deactivate), and forgets c.
func (h *hub) unregisterLocked(c *wsConn) {
	for app := range c.apps {
		if _, ok := h.apps[app]; ok {
			h.apps[app] = nil
			h.s.log.Info("deactivating stasis app", "app", app)
		}
	}
	c.apps = map[string]bool{}
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.notifyLocked()
	}
}

func (h *hub) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// send queues raw to the connection running app and to subscribeAll connections ("" means every
// connection). An event for a deactivated app is dropped, as Asterisk drops it ("Inactive Stasis
// app ... missed message").
func (h *hub) send(app string, raw []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if app == "" {
		for c := range h.conns {
			c.push(raw)
		}
		return
	}
	holder, known := h.apps[app]
	if holder != nil {
		holder.push(raw)
	} else if known {
		h.s.log.Debug("inactive stasis app missed message", "app", app)
	}
	for c := range h.conns {
		if c.all && c != holder {
			c.push(raw)
		}
	}
}

// maxQueued bounds a connection's backlog: a client that stopped reading is disconnected rather
// than letting the simulator's memory grow without end.
const maxQueued = 200000

func (c *wsConn) push(raw []byte) {
	c.mu.Lock()
	overflow := false
	if !c.closed {
		c.queue = append(c.queue, raw)
		overflow = len(c.queue) > maxQueued
	}
	c.mu.Unlock()
	if overflow {
		c.close()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *wsConn) close() {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if !already {
		close(c.done)
	}
}

// closeAll closes every events WebSocket (DropConnections and Close). Their apps are unregistered
// at once, not when each handler notices: after DropConnections an app is listed again only once
// its client has reconnected, which is what a test waits for.
func (h *hub) closeAll() {
	h.mu.Lock()
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
		delete(h.conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.close()
		c.mu.Lock()
		ws := c.ws
		c.mu.Unlock()
		if ws != nil {
			_ = ws.Close(websocket.StatusGoingAway, "asterisksim: connection dropped")
		}
	}
}

// WaitEventsConnections waits until the simulator serves exactly n events WebSockets. Asterisk has
// let go of a WebSocket's apps by the time it answers the client's close; the simulator's WebSocket
// library answers first, so a test that closes one and depends on what happens to its apps waits
// here.
func (s *Sim) WaitEventsConnections(ctx context.Context, n int) error {
	for {
		s.hub.mu.Lock()
		count, changed := len(s.hub.conns), s.hub.changed
		s.hub.mu.Unlock()
		if count == n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("asterisksim: %d events websockets, want %d: %w", count, n, ctx.Err())
		}
	}
}

// CloseDuringNextHandover makes the next handover of app race with the old connection's close, as
// it can in Asterisk when a restarted controller connects while its old connection is going away:
// when a second events WebSocket connects for app, the one that held it closes while the handover is
// in progress. Its cleanup deactivates the app and the handover leaves it so: the new WebSocket
// stays open but gets no events for app, Stasis(app) fails and user events to app are dropped,
// until a WebSocket registers app again.
func (s *Sim) CloseDuringNextHandover(app string) {
	s.hub.mu.Lock()
	s.hub.closeOnHandover[app] = true
	s.hub.mu.Unlock()
}

// serveEvents upgrades GET /ari/events?app=a,b to a WebSocket and streams the apps' events. The apps
// are registered before the upgrade is answered, as Asterisk does (websocket_attempted_cb).
func (s *Sim) serveEvents(w http.ResponseWriter, r *http.Request) {
	appParam := r.URL.Query().Get("app")
	if appParam == "" {
		writeError(w, http.StatusBadRequest, "Missing parameter app")
		return
	}
	c := &wsConn{apps: map[string]bool{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	for _, a := range splitList(appParam) {
		c.apps[a] = true
	}
	c.all = r.URL.Query().Get("subscribeAll") == "true"
	s.hub.register(c)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Warn("events websocket accept", "err", err)
		s.hub.unregister(c)
		c.close()
		return
	}
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	s.log.Info("events websocket connected", "apps", appParam, "remote", r.RemoteAddr)
	defer func() {
		s.hub.unregister(c)
		c.close()
		_ = ws.CloseNow()
		s.log.Info("events websocket gone", "apps", appParam)
	}()

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// The reader only notices the peer going away; ARI clients send nothing we need.
	go func() {
		defer cancel()
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	// Events queued while the upgrade was answered go out first.
	select {
	case c.wake <- struct{}{}:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, raw := range batch {
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Write(wctx, websocket.MessageText, raw)
			wcancel()
			if err != nil {
				return
			}
		}
	}
}

// eventTail lets emit fill in asterisk_id and application.
type tailSetter interface{ setTail(id, app string) }

func (t *evTail) setTail(id, app string) { t.AsteriskID, t.Application = id, app }

func (s *Sim) head(typ string) evHead { return evHead{Type: typ, Timestamp: stamp(time.Now())} }

// emitLocked sends a typed event to app. Called with s.mu held so that events leave in the order
// the state changed.
func (s *Sim) emitLocked(app string, ev tailSetter) {
	if app == "" {
		return
	}
	ev.setTail(s.cfg.AsteriskID, app)
	raw, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("marshal event", "err", err)
		return
	}
	s.hub.send(app, raw)
}

// Emit sends any JSON-encodable event to every events WebSocket, as is: for events the simulator
// does not produce itself (ChannelToneDetected, ChannelTransfer, ApplicationReplaced, made-up types).
func (s *Sim) Emit(event any) error {
	raw, err := json.Marshal(event)
	if err != nil {
		return err
	}
	s.hub.send("", raw)
	return nil
}

// DropConnections closes every events WebSocket, as when Asterisk restarts its HTTP server; calls
// stay up, so a controller can test its reconnect path.
func (s *Sim) DropConnections() { s.hub.closeAll() }
