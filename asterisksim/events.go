package asterisksim

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// hub fans events out to the /ari/events WebSockets of each Stasis application. Events are queued
// per connection without blocking the caller, so a slow reader never stalls the simulation and the
// order of one connection's events is the order they were emitted.
type hub struct {
	s     *Sim
	mu    sync.Mutex
	conns map[*wsConn]struct{}
}

type wsConn struct {
	apps   map[string]bool
	all    bool // subscribeAll
	ws     *websocket.Conn
	mu     sync.Mutex
	queue  [][]byte
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

func newHub(s *Sim) *hub { return &hub{s: s, conns: map[*wsConn]struct{}{}} }

// registered reports whether some WebSocket serves app: Stasis() fails for an unregistered app.
func (h *hub) registered(app string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if c.apps[app] {
			return true
		}
	}
	return false
}

func (h *hub) appNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	var names []string
	for c := range h.conns {
		for a := range c.apps {
			if !seen[a] {
				seen[a] = true
				names = append(names, a)
			}
		}
	}
	return names
}

// register adds c; a connection that served one of c's apps loses it and is told with
// ApplicationReplaced, as Asterisk does when a restarted controller reconnects.
func (h *hub) register(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for old := range h.conns {
		for app := range c.apps {
			if !old.apps[app] {
				continue
			}
			delete(old.apps, app)
			raw, _ := json.Marshal(map[string]string{
				"type": "ApplicationReplaced", "timestamp": stamp(time.Now()),
				"asterisk_id": h.s.cfg.AsteriskID, "application": app,
			})
			old.push(raw)
		}
	}
	h.conns[c] = struct{}{}
}

// send queues raw to every connection serving app ("" means every connection).
func (h *hub) send(app string, raw []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if app == "" || c.apps[app] || c.all {
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
		_ = c.ws.Close(websocket.StatusGoingAway, "asterisksim: connection dropped")
	}
}

// serveEvents upgrades GET /ari/events?app=a,b to a WebSocket and streams the apps' events.
func (s *Sim) serveEvents(w http.ResponseWriter, r *http.Request) {
	appParam := r.URL.Query().Get("app")
	if appParam == "" {
		writeError(w, http.StatusBadRequest, "Missing parameter app")
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Warn("events websocket accept", "err", err)
		return
	}
	c := &wsConn{apps: map[string]bool{}, ws: ws, wake: make(chan struct{}, 1), done: make(chan struct{})}
	for _, a := range splitList(appParam) {
		c.apps[a] = true
	}
	c.all = r.URL.Query().Get("subscribeAll") == "true"
	s.hub.register(c)
	s.log.Info("events websocket connected", "apps", appParam, "remote", r.RemoteAddr)
	defer func() {
		s.hub.mu.Lock()
		delete(s.hub.conns, c)
		s.hub.mu.Unlock()
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
