package switchboard

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// eventStream keeps one WebSocket to Asterisk's /ari/events open for the app, reconnecting after a
// drop, and hands every event to deliver in order. onConnect runs after each (re)connection, before
// any event of that connection is delivered, so the switchboard can re-read what it missed.
type eventStream struct {
	url       string
	user      string
	password  string
	log       *slog.Logger
	deliver   func(Event)
	onConnect func(ctx context.Context) error
	connected func(bool)
}

func newEventStream(ariURL, app, user, password string) (*eventStream, error) {
	u, err := url.Parse(strings.TrimSuffix(ariURL, "/") + "/events")
	if err != nil {
		return nil, fmt.Errorf("ari url %q: %w", ariURL, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("ari url %q: scheme must be http or https", ariURL)
	}
	q := u.Query()
	q.Set("app", app)
	u.RawQuery = q.Encode()
	return &eventStream{url: u.String(), user: user, password: password}, nil
}

// run connects and reads until ctx ends. Reconnects back off from 100 ms to 2 s.
func (s *eventStream) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		s.connected(false)
		s.log.Warn("ari events connection lost; reconnecting", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
		if err == nil {
			backoff = 100 * time.Millisecond
		}
	}
}

func (s *eventStream) session(ctx context.Context) error {
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.user+":"+s.password)))
	conn, resp, err := websocket.Dial(dialCtx, s.url, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("dial ari events: %w: %w", ErrUnauthorized, err)
		}
		return fmt.Errorf("dial ari events: %w", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(4 << 20)
	if err := s.onConnect(ctx); err != nil {
		return fmt.Errorf("resync after connect: %w", err)
	}
	s.connected(true)
	s.log.Info("ari events connected", "url", s.url)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				conn.Close(websocket.StatusNormalClosure, "shutting down")
				return nil
			}
			return fmt.Errorf("read ari events: %w", err)
		}
		ev, err := decodeEvent(data)
		if err != nil {
			s.log.Warn("ari sent an event that is not a JSON object; skipped", "err", err, "bytes", len(data))
			continue
		}
		s.deliver(ev)
	}
}

// ErrUnauthorized means Asterisk refused the ARI user or password.
var ErrUnauthorized = errors.New("ari refused the credentials")
