package switchboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// ErrUnauthorized means Asterisk refused the ARI user or password.
var ErrUnauthorized = errors.New("ari refused the credentials")

// ErrReplaced means another WebSocket took the Stasis app on this Asterisk (ApplicationReplaced):
// callers now reach that connection, not this one.
var ErrReplaced = errors.New("another connection took the stasis app")

// errDeaf means the app stopped hearing its own liveness probe: Asterisk holds the WebSocket open
// but no longer sends it the app's events.
var errDeaf = errors.New("the stasis app no longer receives its events")

// livenessEvent is the user event the stream sends its own app to prove that Asterisk still delivers
// the app's events to this WebSocket.
const livenessEvent = "hotline-liveness"

// eventStream keeps one WebSocket to Asterisk's /ari/events open for the app, reconnecting after a
// drop, and hands every event to deliver in order. onConnect runs after each (re)connection, before
// any event of that connection is delivered, so the switchboard can re-read what it missed.
//
// An open WebSocket is not proof that Asterisk delivers the app's events to it. When a new
// connection takes the app while the old one is closing, Asterisk 22 can end with the app
// deactivated (res/stasis/app.c app_update: the old session's cleanup unregisters the app between
// ApplicationReplaced and the new handler being set): the new WebSocket stays open and hears
// nothing, and Stasis() fails for every caller. So the stream sends its app a user event every
// probeEvery and reconnects when one does not come back within probeWait; it counts as connected
// only once the first has come back.
type eventStream struct {
	url      string // ws(s)://…/ari/events?app=…
	ariURL   string // http(s)://…/ari
	app      string
	user     string
	password string
	http     *http.Client

	probeEvery, probeWait time.Duration

	log       *slog.Logger
	deliver   func(Event)
	onConnect func(ctx context.Context) error
	connected func(bool)
}

func newEventStream(ariURL, app, user, password string) (*eventStream, error) {
	ariURL = strings.TrimSuffix(ariURL, "/")
	u, err := url.Parse(ariURL + "/events")
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
	return &eventStream{
		url: u.String(), ariURL: ariURL, app: app, user: user, password: password,
		http:       &http.Client{Timeout: 5 * time.Second},
		probeEvery: time.Second, probeWait: 2 * time.Second,
	}, nil
}

// run connects and reads until ctx ends. Reconnects back off from 100 ms to 2 s; after the app was
// taken by another connection, the stream waits longer before taking it back, so two controllers
// configured for one Asterisk node do not snatch it from each other many times a second.
func (s *eventStream) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		s.connected(false)
		wait := backoff
		switch {
		case errors.Is(err, ErrReplaced):
			wait = 30 * time.Second
			s.log.Error("another connection took the stasis app on this asterisk; each asterisk node needs one controller instance",
				"app", s.app, "retry_in", wait.String())
		default:
			s.log.Warn("ari events connection lost; reconnecting", "err", err, "in", wait.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 2*time.Second)
		if errors.Is(err, errDeaf) || errors.Is(err, ErrReplaced) {
			backoff = 100 * time.Millisecond
		}
	}
}

// session runs one WebSocket until ctx ends or the connection fails. It always ends the WebSocket
// with a close handshake, so Asterisk cleans the session up at once instead of logging an abrupt
// close and keeping it until its write fails.
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
		conn.Close(websocket.StatusGoingAway, "resync failed")
		return fmt.Errorf("resync after connect: %w", err)
	}

	// One goroutine ends the connection, for whichever reason comes first; the read loop below
	// then returns. Reads take no context: cancelling a read would drop the connection without a
	// close handshake.
	var (
		endOnce sync.Once
		cause   error
		ended   = make(chan struct{})
	)
	end := func(why error) {
		endOnce.Do(func() {
			cause = why
			close(ended)
		})
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "controller stopping")
		case <-ended:
			conn.Close(websocket.StatusGoingAway, "reconnecting")
		}
	}()
	defer func() { end(nil); <-closed }()

	echoes := make(chan string, 4)
	go s.probe(ctx, ended, echoes, end)

	for {
		_, data, err := conn.Read(context.Background())
		if err != nil {
			select {
			case <-ended:
				return cause
			default:
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read ari events: %w", err)
		}
		ev, err := decodeEvent(data)
		if err != nil {
			s.log.Warn("ari sent an event that is not a JSON object; skipped", "err", err, "bytes", len(data))
			continue
		}
		switch {
		case ev.Type == "ChannelUserevent" && ev.EventName == livenessEvent:
			select {
			case echoes <- ev.UserEvent["nonce"]:
			default:
			}
			continue
		case ev.Type == "ApplicationReplaced" && (ev.Application == "" || ev.Application == s.app):
			end(ErrReplaced)
			continue
		}
		s.deliver(ev)
	}
}

// probe sends the app a liveness event at once and then every probeEvery, and ends the session
// through end when one is not heard back within probeWait. The first echo marks the stream
// connected.
func (s *eventStream) probe(ctx context.Context, ended <-chan struct{}, echoes <-chan string, end func(error)) {
	first := true
	tick := time.NewTicker(s.probeEvery)
	defer tick.Stop()
	for {
		nonce := newNonce()
		if err := s.sendProbe(ctx, nonce); err != nil {
			if ctx.Err() == nil {
				end(fmt.Errorf("liveness probe: %w", err))
			}
			return
		}
		if !s.awaitEcho(ctx, ended, echoes, nonce) {
			if ctx.Err() == nil {
				end(fmt.Errorf("%w: no echo of the liveness probe within %v", errDeaf, s.probeWait))
			}
			return
		}
		if first {
			first = false
			s.connected(true)
			s.log.Info("ari events connected", "url", s.url)
		}
		select {
		case <-ctx.Done():
			return
		case <-ended:
			return
		case <-tick.C:
		}
	}
}

func (s *eventStream) awaitEcho(ctx context.Context, ended <-chan struct{}, echoes <-chan string, nonce string) bool {
	deadline := time.NewTimer(s.probeWait)
	defer deadline.Stop()
	for {
		select {
		case got := <-echoes:
			if got == nonce {
				return true
			}
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		case <-ended:
			return false
		}
	}
}

// sendProbe posts the user event to the app: POST /events/user/{name}?application=app with the
// nonce as a variable, which Asterisk hands back as ChannelUserevent.userevent.nonce.
func (s *eventStream) sendProbe(ctx context.Context, nonce string) error {
	body, _ := json.Marshal(map[string]any{"variables": map[string]string{"nonce": nonce}})
	u := s.ariURL + "/events/user/" + url.PathEscape(livenessEvent) + "?application=" + url.QueryEscape(s.app)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(s.user, s.password)
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("user event: %s %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
