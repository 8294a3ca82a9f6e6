package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Asterisk is a real Asterisk the generator places callers on, over ARI. It holds a Stasis app of
// its own (App, default hotline-loadgen; the controller holds hotline, and Asterisk takes one
// WebSocket per app name), subscribed to each caller's channel (or, with SubscribeAll, to every
// one), and reads from it when each caller is answered, enters a dialplan Queue(), is offered to
// an agent, is answered by one and is gone.
type Asterisk struct {
	URL      string // http://127.0.0.1:8088 (without /ari)
	User     string
	Password string
	App      string
	// Format is the callers' codec (ARI originate's formats), default alaw: what the shipped
	// carrier trunk offers first (asterisk-config/pjsip.conf). Without one, Asterisk gives a Local
	// channel every audio format it knows and takes the first, slin192: every prompt and bar of
	// hold music is then resampled from 8 to 192 kHz, which cost two cores at a hundred callers.
	Format string
	// SubscribeAll subscribes the generator's app to every channel, bridge, endpoint and device
	// state of the Asterisk (ARI's subscribeAll), as the generator did first. Off (the default),
	// it subscribes to each caller's channel once originated: Asterisk turns every event it routes
	// to an app into JSON before the app's event filter drops it, so an app subscribed to all
	// pays for the controller's channels, bridges and playbacks too.
	SubscribeAll bool

	http   *http.Client
	ws     *websocket.Conn
	stop   context.CancelFunc
	read   chan struct{}
	seq    atomic.Int64
	prefix string

	mu     sync.Mutex
	tracks map[string]*track // by the id of the channel that runs the hotline's (or the queue's) side
	err    error             // why the event stream ended
}

// track is one caller as Asterisk's events show it. The times are Asterisk's own timestamps
// (milliseconds), so intervals between them do not include the event stream's delivery.
type track struct {
	id                    string
	up, gone              chan struct{}
	upOnce, goneOnce      sync.Once
	enter, offer, connect time.Time // Queue() started, the first member rung, a member answered
}

func (t *track) ID() string                { return t.id }
func (t *track) Answered() <-chan struct{} { return t.up }
func (t *track) Done() <-chan struct{}     { return t.gone }
func (t *track) answer()                   { t.upOnce.Do(func() { close(t.up) }) }
func (t *track) hangup()                   { t.goneOnce.Do(func() { close(t.gone) }) }
func newTrack(id string) *track {
	return &track{id: id, up: make(chan struct{}), gone: make(chan struct{})}
}
func (a *Asterisk) ari(path string) string  { return strings.TrimSuffix(a.URL, "/") + "/ari" + path }
func (a *Asterisk) nextID() string          { return fmt.Sprintf("%s-%07d", a.prefix, a.seq.Add(1)) }
func (a *Asterisk) lookup(id string) *track { a.mu.Lock(); defer a.mu.Unlock(); return a.tracks[id] }

// The events the generator reads; Asterisk drops the others before they reach the WebSocket.
var wantedEvents = []string{"ChannelStateChange", "ChannelDestroyed", "ChannelDialplan", "Dial"}

// Connect opens the event stream. Close ends it.
func (a *Asterisk) Connect(ctx context.Context) error {
	if a.App == "" {
		a.App = "hotline-loadgen"
	}
	if a.Format == "" {
		a.Format = "alaw"
	}
	// A few connections, kept: Asterisk serves at most http.conf's sessionlimit at once, and
	// the controller needs its own.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 16, 16
	a.http = &http.Client{Timeout: 10 * time.Second, Transport: t}
	a.tracks = map[string]*track{}
	a.prefix = fmt.Sprintf("lg%d", time.Now().UnixMilli()%1_000_000_000)
	u, err := url.Parse(a.ari("/events"))
	if err != nil {
		return fmt.Errorf("loadgen: ARI url: %w", err)
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	q := url.Values{"app": {a.App}, "api_key": {a.User + ":" + a.Password}}
	if a.SubscribeAll {
		q.Set("subscribeAll", "true")
	}
	u.RawQuery = q.Encode()
	ws, _, err := websocket.Dial(ctx, u.String(), nil)
	if err != nil {
		return fmt.Errorf("loadgen: ARI events: %w", err)
	}
	ws.SetReadLimit(1 << 22)
	a.ws = ws
	rctx, stop := context.WithCancel(context.Background())
	a.stop, a.read = stop, make(chan struct{})
	go a.readEvents(rctx)
	var filter struct {
		Allowed []map[string]string `json:"allowed"`
	}
	for _, t := range wantedEvents {
		filter.Allowed = append(filter.Allowed, map[string]string{"type": t})
	}
	if err := a.do(ctx, http.MethodPut, "/applications/"+url.PathEscape(a.App)+"/eventFilter", filter, nil); err != nil {
		a.Close()
		return err
	}
	return nil
}

// Close ends the event stream.
func (a *Asterisk) Close() {
	if a.ws == nil {
		return
	}
	// Close before cancelling the reader: a cancelled read drops the connection without a close
	// handshake, and Asterisk logs the socket as closed abruptly.
	_ = a.ws.Close(websocket.StatusNormalClosure, "")
	a.stop()
	<-a.read
	a.ws = nil
}

type ariChannel struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

type ariEvent struct {
	Type        string      `json:"type"`
	Timestamp   string      `json:"timestamp"`
	Channel     *ariChannel `json:"channel"`
	Caller      *ariChannel `json:"caller"`
	Peer        *ariChannel `json:"peer"`
	DialStatus  string      `json:"dialstatus"`
	DialplanApp string      `json:"dialplan_app"`
}

// ariTime parses ARI's timestamps: 2026-12-03T08:31:11.857+0000.
func ariTime(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func (a *Asterisk) readEvents(ctx context.Context) {
	defer close(a.read)
	for {
		_, raw, err := a.ws.Read(ctx)
		if err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			return
		}
		var ev ariEvent
		if json.Unmarshal(raw, &ev) != nil {
			continue
		}
		a.handle(ev)
	}
}

func (a *Asterisk) handle(ev ariEvent) {
	switch ev.Type {
	case "ChannelStateChange":
		if t := a.lookup(ev.Channel.ID); t != nil && ev.Channel.State == "Up" {
			t.answer()
		}
	case "ChannelDestroyed":
		if t := a.lookup(ev.Channel.ID); t != nil {
			t.hangup()
		}
	case "ChannelDialplan":
		if t := a.lookup(ev.Channel.ID); t != nil && ev.DialplanApp == "Queue" {
			a.mu.Lock()
			if t.enter.IsZero() {
				t.enter = ariTime(ev.Timestamp)
			}
			a.mu.Unlock()
		}
	case "Dial":
		if ev.Caller == nil {
			return
		}
		t := a.lookup(ev.Caller.ID)
		if t == nil {
			return
		}
		at := ariTime(ev.Timestamp)
		a.mu.Lock()
		switch {
		case ev.DialStatus == "" && t.offer.IsZero():
			t.offer = at
		case ev.DialStatus == "ANSWER" && t.connect.IsZero():
			t.connect = at
		}
		a.mu.Unlock()
	}
}

// do sends one ARI request with a JSON body (nil for none) and decodes the answer into out (nil: none).
func (a *Asterisk) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.ari(path), rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(a.User, a.Password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("loadgen: ARI %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return &ariError{status: resp.StatusCode, msg: fmt.Sprintf("loadgen: ARI %s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))}
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

type ariError struct {
	status int
	msg    string
}

func (e *ariError) Error() string { return e.msg }

// originate places a caller: Local/<exten>@<context> whose ;2 half (id: the track's) runs the
// hotline's entry or the bench queue, and whose ;1 half runs callerContext once answered.
func (a *Asterisk) originate(ctx context.Context, exten, context_, callerContext, number string, vars map[string]string) (*track, error) {
	id := a.nextID()
	t := newTrack(id)
	a.mu.Lock()
	a.tracks[id] = t
	a.mu.Unlock()
	q := url.Values{}
	q.Set("endpoint", "Local/"+exten+"@"+context_)
	q.Set("context", callerContext)
	q.Set("extension", "s")
	q.Set("priority", "1")
	q.Set("callerId", fmt.Sprintf(`"Load" <%s>`, number))
	// Asterisk takes a requested id as in use when a live channel's id starts with it: the ;1
	// half's id must not extend the ;2 half's.
	q.Set("channelId", "one-"+id)
	q.Set("otherChannelId", id)
	q.Set("formats", a.Format)
	var body any
	if len(vars) > 0 {
		body = map[string]any{"variables": vars}
	}
	if err := a.do(ctx, http.MethodPost, "/channels?"+q.Encode(), body, nil); err != nil {
		a.forget(id)
		return nil, err
	}
	if err := a.follow(ctx, t); err != nil {
		a.hangup(context.WithoutCancel(ctx), id)
		a.forget(id)
		return nil, err
	}
	return t, nil
}

// follow subscribes the app to the caller's channel (unless it hears every channel already), then
// reads its state: what happened before the subscription (an answer) is not sent again.
func (a *Asterisk) follow(ctx context.Context, t *track) error {
	if a.SubscribeAll {
		return nil
	}
	err := a.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(a.App)+"/subscription?"+
		url.Values{"eventSource": {"channel:" + t.id}}.Encode(), nil, nil)
	var ae *ariError
	if errors.As(err, &ae) && (ae.status == http.StatusNotFound || ae.status == http.StatusUnprocessableEntity) {
		t.hangup() // gone already
		return nil
	}
	if err != nil {
		return err
	}
	var ch ariChannel
	err = a.do(ctx, http.MethodGet, "/channels/"+url.PathEscape(t.id), nil, &ch)
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		t.hangup()
	case err != nil:
		return err
	case ch.State == "Up":
		t.answer()
	}
	return nil
}

func (a *Asterisk) forget(id string) {
	a.mu.Lock()
	delete(a.tracks, id)
	a.mu.Unlock()
}

// hangup hangs a caller's channel up (a call that outlived the run).
func (a *Asterisk) hangup(ctx context.Context, id string) {
	_ = a.do(ctx, http.MethodDelete, "/channels/"+url.PathEscape(id), nil, nil)
}

// setGlobal sets a dialplan global variable.
func (a *Asterisk) setGlobal(ctx context.Context, name, value string) error {
	return a.do(ctx, http.MethodPost, "/asterisk/variable?"+url.Values{"variable": {name}, "value": {value}}.Encode(), nil, nil)
}

// refused reads the node's count of carrier callers refused at HOTLINE_MAX_CALLS; -1 when it
// cannot (an Asterisk without hotline's dialplan).
func (a *Asterisk) refused(ctx context.Context) int64 {
	var v struct {
		Value string `json:"value"`
	}
	if err := a.do(ctx, http.MethodGet, "/asterisk/variable?"+url.Values{"variable": {"HOTLINE_REFUSED"}}.Encode(), nil, &v); err != nil {
		return -1
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Loaded says whether Asterisk runs the module (app_queue.so).
func (a *Asterisk) Loaded(ctx context.Context, module string) (bool, error) {
	var m struct {
		Status string `json:"status"`
	}
	err := a.do(ctx, http.MethodGet, "/asterisk/modules/"+url.PathEscape(strings.TrimSuffix(module, ".so")+".so"), nil, &m)
	var ae *ariError
	// Asterisk answers 409 for a module it does not run ("could not be retrieved").
	if errors.As(err, &ae) && (ae.status == http.StatusNotFound || ae.status == http.StatusConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.Status == "Running", nil
}

// AppRegistered says whether some client holds the Stasis app (the controller's hotline).
func (a *Asterisk) AppRegistered(ctx context.Context, app string) bool {
	return a.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(app), nil, nil) == nil
}

// streamErr is why the event stream ended, nil while it runs.
func (a *Asterisk) streamErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
