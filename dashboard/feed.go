package dashboard

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/account"
)

const (
	writeTimeout = 10 * time.Second
	// pingInterval keeps idle connections alive through proxies that drop silent ones (a quiet
	// center at night can go minutes without a change).
	pingInterval = 30 * time.Second
)

// handleFeed serves GET /supervisor/ws: the view each time it changes.
func (s *Server) handleFeed(w http.ResponseWriter, r *http.Request) {
	// Accept checks that the Origin is this host, so another site cannot ride the cookie.
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.log.Warn("dashboard: feed upgrade", "err", err, "remote", r.RemoteAddr)
		return // Accept has answered
	}
	defer c.CloseNow()
	c.SetReadLimit(1024) // the page sends nothing; CloseRead handles control frames

	sub, ok := s.hub.subscribe()
	if !ok {
		c.Close(websocket.StatusGoingAway, "server closing")
		return
	}
	defer s.hub.unsubscribe(sub)

	// The feed ends when its session is revoked (a logout, the per-account bound, a disabled account)
	// and, checked every Recheck, when it ended on an instance whose message this one missed.
	// Writes and pings run on open, not ctx: a revocation that cancelled a write in flight would
	// drop the connection without the close frame that tells the page why.
	open := c.CloseRead(r.Context())
	ctx, end := context.WithCancel(open)
	defer end()
	f := &feed{account: actor(r).ID, sid: sessionOf(r).ID, end: end}
	s.feedsMu.Lock()
	s.feeds[f] = struct{}{}
	s.feedsMu.Unlock()
	defer func() {
		s.feedsMu.Lock()
		delete(s.feeds, f)
		s.feedsMu.Unlock()
	}()
	recheck := time.NewTicker(s.cfg.Accounts.Recheck())
	defer recheck.Stop()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			if r.Context().Err() == nil {
				c.Close(websocket.StatusPolicyViolation, "session ended")
			}
			return
		case <-recheck.C:
			if _, _, err := s.cfg.Accounts.Check(ctx, f.sid); errors.Is(err, account.ErrNoSession) {
				c.Close(websocket.StatusPolicyViolation, "session ended")
				return
			}
		case <-sub.done:
			c.Close(websocket.StatusGoingAway, "server closing")
			return
		case msg := <-sub.ch:
			if err := write(open, c, msg); err != nil {
				s.logFeedEnd(err, r)
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(open, writeTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				s.logFeedEnd(err, r)
				return
			}
		}
	}
}

func write(ctx context.Context, c *websocket.Conn, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, msg)
}

func (s *Server) logFeedEnd(err error, r *http.Request) {
	if errors.Is(err, context.Canceled) || websocket.CloseStatus(err) != -1 {
		return // the supervisor closed the page
	}
	s.log.Debug("dashboard: feed ended", "err", err, "remote", r.RemoteAddr)
}
