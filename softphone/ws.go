package softphone

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/audit"
)

// wsConn is one open page of an account.
type wsConn struct {
	s      *Server
	agent  Agent           // the page's profile
	acct   account.Account // who is logged in
	sid    string          // their session's id, for revocations and re-checks
	ws     *websocket.Conn
	log    *slog.Logger
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	reason string
	// limit bounds the page's requests: every one may write to the center's streams (a state
	// change, a wrap-up and its note), so a page scripted to flood them would fill Redis and trim
	// other agents' records before they are copied.
	limit *rate.Limiter
}

// A page sends a few messages a minute, a burst of keys on the dial pad at most: room for what
// hands do, none for a script.
const (
	pageMessagesPerSecond = 10
	pageMessagesBurst     = 40
)

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	acct, sess, err := s.session(r)
	if err != nil {
		s.sessionFailed(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	agent, err := s.desk.Profile(ctx, acct)
	cancel()
	if err != nil {
		s.log.Error("profile", "account", acct.ID, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "profile unavailable"})
		return
	}
	// Accept checks that Origin is this host: another site cannot open an agent's socket with
	// the agent's cookie.
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.log.Info("websocket accept", "agent", agent.ID, "err", err)
		return
	}
	ws.SetReadLimit(maxWSMessage)
	// The socket's context names the client, so that what its commands audit far from here (a
	// number dialled on the call's goroutine) says where they came from.
	ctx, cancel = context.WithCancel(audit.WithRemote(r.Context(), s.cfg.Accounts.Remote(r)))
	c := &wsConn{
		s: s, agent: agent, acct: acct, sid: sess.ID, ws: ws,
		log:  s.log.With("agent", agent.ID),
		send: make(chan []byte, sendQueueLen),
		ctx:  ctx, cancel: cancel,
		limit: rate.NewLimiter(pageMessagesPerSecond, pageMessagesBurst),
	}
	ok, first := s.register(c)
	if !ok {
		ws.Close(websocket.StatusGoingAway, "server closing")
		cancel()
		return
	}
	defer s.unregister(c)
	// Before the page hears hello (the write loop has not started): the account's presence is
	// recorded before the page can make itself available.
	if first && s.cfg.OnPages != nil {
		s.cfg.OnPages(c.acct.ID, true)
	}
	c.log.Info("agent page connected")

	var wg sync.WaitGroup
	c.goLoop(&wg, "write", c.writeLoop)
	if s.gw != nil && s.cfg.StatsInterval > 0 {
		c.goLoop(&wg, "stats", func() { c.statsLoop(s.cfg.StatsInterval) })
	}
	c.goLoop(&wg, "session recheck", func() { c.recheckLoop(s.cfg.Accounts.Recheck()) })
	c.readLoop()
	c.close("")
	wg.Wait()
	c.log.Info("agent page disconnected", "reason", c.reason)
}

// goLoop runs loop, one of the connection's own goroutines. A panic in it (a bug of ours) is logged
// with its stack and closes this page's connection, which the page opens again at once, instead of
// ending the process with every call; net/http does as much for the handler's goroutine (readLoop).
func (c *wsConn) goLoop(wg *sync.WaitGroup, name string, loop func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			if p := recover(); p != nil {
				c.log.Error("agent page connection: a loop panicked; closing the connection", "loop", name, "panic", p, "stack", string(debug.Stack()))
				c.close("internal error")
			}
		}()
		loop()
	}()
}

// register adds c and queues its hello and the replay under one lock, so no push slips between.
// first is whether c is the account's only page open here.
func (s *Server) register(c *wsConn) (ok, first bool) {
	hello := Hello{Agent: c.agent, ICEServers: []ICEServer{}}
	if s.gw != nil {
		hello.ICEServers = s.gw.ICEServers(c.agent.ID, time.Now())
	}
	b, _ := encodeMessage(hello)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	set := s.conns[c.agent.ID]
	if set == nil {
		set = make(map[*wsConn]struct{})
		s.conns[c.agent.ID] = set
	}
	first = len(set) == 0
	set[c] = struct{}{}
	c.push(b)
	if rl := s.replay[c.agent.ID]; rl != nil {
		for _, m := range rl.messages() {
			c.push(m)
		}
	}
	return true, first
}

// unregister removes c; when it was the account's last page here, OnPages hears it (once, however
// often c is unregistered).
func (s *Server) unregister(c *wsConn) {
	s.mu.Lock()
	last := false
	if set := s.conns[c.agent.ID]; set != nil {
		if _, in := set[c]; in {
			delete(set, c)
			if len(set) == 0 {
				delete(s.conns, c.agent.ID)
				last = true
			}
		}
	}
	s.mu.Unlock()
	if last && s.cfg.OnPages != nil {
		s.cfg.OnPages(c.acct.ID, false)
	}
}

// HasPages reports whether the account has a page open here.
func (s *Server) HasPages(accountID string) bool { return s.hasConns(accountID) }

// OpenPages lists the accounts with a page open here, for the presence refresh.
func (s *Server) OpenPages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.conns))
	for id := range s.conns {
		ids = append(ids, id)
	}
	return ids
}

func (s *Server) hasConns(agentID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns[agentID]) > 0
}

// pushOthers sends m to the agent's pages other than except.
func (s *Server) pushOthers(agentID string, except *wsConn, m Message) {
	b, err := encodeMessage(m)
	if err != nil {
		return
	}
	s.mu.Lock()
	var cs []*wsConn
	for c := range s.conns[agentID] {
		if c != except {
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.push(b)
	}
}

// push queues b; a page too slow to take 64 messages is cut off (it reconnects and gets the
// replay).
func (c *wsConn) push(b []byte) {
	select {
	case c.send <- b:
	default:
		c.close("too slow")
	}
}

func (c *wsConn) close(reason string) {
	c.once.Do(func() {
		c.reason = reason
		c.cancel()
	})
}

func (c *wsConn) writeLoop() {
	defer func() {
		status := websocket.StatusNormalClosure
		if c.reason != "" {
			status = websocket.StatusPolicyViolation
		}
		_ = c.ws.Close(status, c.reason)
	}()
	for {
		select {
		case <-c.ctx.Done():
			return
		case b := <-c.send:
			ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
			err := c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.close("")
				return
			}
		}
	}
}

func (c *wsConn) readLoop() {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) && websocket.CloseStatus(err) == -1 {
				c.log.Debug("websocket read", "err", err)
			}
			return
		}
		if typ != websocket.MessageText {
			c.reply(Error{Code: "bad_message", Message: "text messages only"})
			continue
		}
		// Each request re-checks the session: a forced logout stops the very next request, even before
		// its revocation reaches this instance.
		if _, _, err := c.s.cfg.Accounts.Check(c.ctx, c.sid); errors.Is(err, account.ErrNoSession) {
			c.reply(Error{Code: "unauthorized", Message: "session ended"})
			c.close("session ended")
			return
		}
		c.reply(c.s.dispatch(c.ctx, caller{id: c.acct.ID, agent: c.acct.Role == account.RoleAgent}, c, data))
	}
}

func (c *wsConn) reply(m Message) {
	b, err := encodeMessage(m)
	if err != nil {
		c.log.Error("encode reply", "err", err)
		return
	}
	c.push(b)
}

func (c *wsConn) statsLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			if st, ok := c.s.gw.Stats(c.agent.ID); ok {
				c.reply(Stats{LegStats: st, Connected: c.s.gw.Connected(c.agent.ID)})
			}
		}
	}
}

// recheckLoop checks the session every interval: it keeps an open page's session from idling out
// and closes the page when the session was revoked on an instance whose message this one missed.
func (c *wsConn) recheckLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			if _, _, err := c.s.cfg.Accounts.Check(c.ctx, c.sid); errors.Is(err, account.ErrNoSession) {
				c.close("session ended")
				return
			}
		}
	}
}
