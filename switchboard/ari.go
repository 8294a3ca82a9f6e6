package switchboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v5"
)

// ErrGone means the channel, bridge or playback no longer exists in Asterisk (404), which for a
// channel usually means the caller hung up a moment ago.
var ErrGone = errors.New("gone from asterisk")

// DefaultRequestTimeout bounds one ARI REST request when the config says nothing: Asterisk answers
// in milliseconds, and a call must not freeze behind a hung one.
const DefaultRequestTimeout = 3 * time.Second

// rest is the switchboard's view of ARI's REST side: plain HTTP requests with the JSON bodies
// Asterisk documents. Each request carries its caller's context and its own timeout, so a hung
// Asterisk costs a call at most one timeout and never holds a shutdown: the ari/v5 client this
// replaced took no context and had no timeout (a hung Asterisk froze calls and shutdown). The
// request types of ari/v5 are still used for the bodies, so what Asterisk receives is unchanged.
type rest struct {
	app      string
	url      string
	user     string
	password string
	timeout  time.Duration
	http     *http.Client
	seq      atomic.Uint64 // each request's idempotency key
}

// maxARIConns is how many connections a controller keeps to its Asterisk's HTTP server at most.
// Found at 60 calls a second on a real Asterisk (BENCHMARKS.md): with up to 512 kept, the
// controller held more than Asterisk's 100 sessions, Asterisk refused new ones, and the events
// WebSocket could not reconnect.
const maxARIConns = 64

// ariIdleTimeout is how long an idle connection to Asterisk is kept: below the shipped
// session_keep_alive (asterisk-config/http.conf, 15 s).
const ariIdleTimeout = 10 * time.Second

func newREST(url, app, user, password string, timeout time.Duration) *rest {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	// Keep enough idle connections for the busiest moment: with thousands of calls, the default 2
	// per host would dial and close a connection for nearly every request (a quarter of the CPU at
	// 5,000 callers in the IVR load test). A transport of our own, so no global is changed.
	// But no more than maxARIConns at once: Asterisk serves at most http.conf's sessionlimit
	// (100 unless set) and refuses the rest, the events WebSocket's reconnection among them;
	// beyond the cap a request waits for a connection (within its timeout) instead.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = maxARIConns
	t.MaxIdleConns = maxARIConns
	t.MaxIdleConnsPerHost = maxARIConns
	// Asterisk closes a connection idle for http.conf's session_keep_alive (15 s as shipped); one
	// reused just as it does fails its request with EOF (a POST is not retried): a playback lost,
	// seen at load. Drop idle connections first.
	t.IdleConnTimeout = ariIdleTimeout
	return &rest{
		app: app, url: strings.TrimSuffix(url, "/"), user: user, password: password, timeout: timeout,
		http: &http.Client{Transport: t},
	}
}

// ariError is a non-2xx answer from Asterisk.
type ariError struct {
	status  int
	message string
}

func (e *ariError) Error() string {
	if e.message == "" {
		return fmt.Sprintf("asterisk answered %d", e.status)
	}
	return fmt.Sprintf("asterisk answered %d: %s", e.status, e.message)
}

// call sends one request: query in the URL, body (if not nil) as JSON; a 2xx answer is decoded
// into out (if not nil). 404 becomes ErrGone. Errors name op and id.
func (r *rest) call(ctx context.Context, op, id, method, path string, query url.Values, body, out any) error {
	return r.callWithin(ctx, r.timeout, op, id, method, path, query, body, out)
}

// callWithin is call with its own bound instead of the request timeout.
func (r *rest) callWithin(ctx context.Context, timeout time.Duration, op, id, method, path string, query url.Values, body, out any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := r.url + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", op, id, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(r.user, r.password)
	// Asterisk closes kept-alive connections on its own schedule, and a request sent on one it has
	// just closed fails with EOF before Asterisk reads it (a playback lost at load, even with idle
	// connections dropped early). net/http sends such a request again on a fresh connection only
	// when it is marked idempotent: every ARI request hotline sends is safe to repeat in that case
	// (ids are ours: a repeat that did reach Asterisk is refused, not doubled).
	req.Header.Set("X-Idempotency-Key", strconv.FormatUint(r.seq.Add(1), 36))
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read asterisk's answer: %w", op, id, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s %s: %w", op, id, ErrGone)
	case resp.StatusCode/100 != 2:
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &m)
		return fmt.Errorf("%s %s: %w", op, id, &ariError{status: resp.StatusCode, message: m.Message})
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: asterisk's answer: %w", op, id, err)
		}
	}
	return nil
}

func chanPath(id string) string   { return "/channels/" + url.PathEscape(id) }
func bridgePath(id string) string { return "/bridges/" + url.PathEscape(id) }

func (r *rest) answer(ctx context.Context, ch string) error {
	return r.call(ctx, "answer", ch, http.MethodPost, chanPath(ch)+"/answer", nil, nil, nil)
}

func (r *rest) hangup(ctx context.Context, ch string) error {
	return r.call(ctx, "hangup", ch, http.MethodDelete, chanPath(ch), url.Values{"reason": {"normal"}}, nil, nil)
}

// variable is Asterisk's answer to a GET of a channel's variable or of a global.
type variable struct {
	Value string `json:"value"`
}

func (r *rest) getVar(ctx context.Context, ch, name string) (string, error) {
	var v variable
	err := r.call(ctx, "get variable "+name, ch, http.MethodGet, chanPath(ch)+"/variable", url.Values{"variable": {name}}, nil, &v)
	return v.Value, err
}

// getGlobal reads a dialplan global: "" when Asterisk has none.
func (r *rest) getGlobal(ctx context.Context, name string) (string, error) {
	var v variable
	err := r.call(ctx, "get global "+name, "", http.MethodGet, "/asterisk/variable", url.Values{"variable": {name}}, nil, &v)
	return v.Value, err
}

// nodeRun names the Asterisk process behind the ARI: its entity id (the host's, unless asterisk.conf
// sets one) and when it started, which tells apart two nodes on one host and a node before and after
// a restart.
func (r *rest) nodeRun(ctx context.Context) (string, error) {
	var info struct {
		System struct {
			EntityID string `json:"entity_id"`
		} `json:"system"`
		Status struct {
			StartupTime string `json:"startup_time"`
		} `json:"status"`
	}
	if err := r.call(ctx, "asterisk info", "", http.MethodGet, "/asterisk/info", url.Values{"only": {"system,status"}}, nil, &info); err != nil {
		return "", err
	}
	if info.Status.StartupTime == "" {
		return "", fmt.Errorf("asterisk info: no startup_time")
	}
	return info.System.EntityID + "@" + info.Status.StartupTime, nil
}

// play starts media on a channel as one playback, in language lang: POST
// /channels/{id}/play/{playbackId}?media=a,b,c&lang=…. Asterisk 22 takes the list as ONE
// comma-separated media parameter; given the parameter several times, it keeps only the last.
// (ari/v5 could not send lang; a menu prompt is often several sounds and numbers, and a playback
// each would cost a round trip between them.)
func (r *rest) play(ctx context.Context, ch, playbackID, lang string, media ...string) error {
	q := url.Values{"media": {strings.Join(media, ",")}}
	if lang != "" {
		q.Set("lang", lang)
	}
	return r.call(ctx, "play", ch, http.MethodPost, chanPath(ch)+"/play/"+url.PathEscape(playbackID), q, nil, nil)
}

func (r *rest) stopPlayback(ctx context.Context, id string) error {
	return r.call(ctx, "stop playback", id, http.MethodDelete, "/playbacks/"+url.PathEscape(id), nil, nil, nil)
}

func (r *rest) moh(ctx context.Context, ch string) error {
	body := map[string]string{"mohClass": "default"}
	return r.call(ctx, "start moh", ch, http.MethodPost, chanPath(ch)+"/moh", nil, body, nil)
}

func (r *rest) stopMOH(ctx context.Context, ch string) error {
	return r.call(ctx, "stop moh", ch, http.MethodDelete, chanPath(ch)+"/moh", nil, nil, nil)
}

func (r *rest) sendDTMF(ctx context.Context, ch, digits string) error {
	body := map[string]string{"dtmf": digits} // Asterisk's own gaps and lengths
	return r.call(ctx, "send dtmf", ch, http.MethodPost, chanPath(ch)+"/dtmf", nil, body, nil)
}

func (r *rest) continueIn(ctx context.Context, ch, dialContext, exten string) error {
	body := map[string]any{"context": dialContext, "extension": exten, "priority": 1}
	return r.call(ctx, "continue", ch, http.MethodPost, chanPath(ch)+"/continue", nil, body, nil)
}

// externalMedia creates a channel that exchanges the call's audio as RTP with host, and returns
// where Asterisk listens for RTP back.
func (r *rest) externalMedia(ctx context.Context, id string, host netip.AddrPort) (netip.AddrPort, error) {
	// Asterisk (18 and later) answers with the channel and its UNICASTRTP_LOCAL_* variables; the
	// two GETs are for one that does not. They are not free: on a channel in the app a variable is
	// read by the channel's own thread, which a loaded Asterisk reaches seconds later.
	var created struct {
		Vars map[string]string `json:"channelvars"`
	}
	err := r.call(ctx, "external media", id, http.MethodPost, "/channels/externalMedia", nil, ari.ExternalMediaOptions{
		ChannelID: id, App: r.app, ExternalHost: host.String(),
		Encapsulation: "rtp", Transport: "udp", ConnectionType: "client", Format: "ulaw", Direction: "both",
	}, &created)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, port := created.Vars["UNICASTRTP_LOCAL_ADDRESS"], created.Vars["UNICASTRTP_LOCAL_PORT"]
	if addr == "" {
		if addr, err = r.getVar(ctx, id, "UNICASTRTP_LOCAL_ADDRESS"); err != nil {
			return netip.AddrPort{}, err
		}
	}
	if port == "" {
		if port, err = r.getVar(ctx, id, "UNICASTRTP_LOCAL_PORT"); err != nil {
			return netip.AddrPort{}, err
		}
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("external media %s: asterisk's rtp address %q: %w", id, addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("external media %s: asterisk's rtp port %q: %w", id, port, err)
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

func (r *rest) createBridge(ctx context.Context, id, name string) error {
	body := map[string]string{"bridgeId": id, "type": "mixing", "name": name}
	return r.call(ctx, "create bridge", id, http.MethodPost, bridgePath(id), nil, body, nil)
}

func (r *rest) addToBridge(ctx context.Context, bridge, ch string) error {
	return r.call(ctx, "add to bridge "+bridge, ch, http.MethodPost, bridgePath(bridge)+"/addChannel", nil, map[string]string{"channel": ch}, nil)
}

func (r *rest) removeFromBridge(ctx context.Context, bridge, ch string) error {
	return r.call(ctx, "remove from bridge "+bridge, ch, http.MethodPost, bridgePath(bridge)+"/removeChannel", nil, map[string]string{"channel": ch}, nil)
}

func (r *rest) destroyBridge(ctx context.Context, id string) error {
	return r.call(ctx, "destroy bridge", id, http.MethodDelete, bridgePath(id), nil, nil, nil)
}

type idOnly struct {
	ID string `json:"id"`
}

// liveChannel is what adopt reads of a channel Asterisk has: where it is in the dialplan (a
// caller's channel in the app runs Stasis(<app>,inbound,<did>)) and who called.
type liveChannel struct {
	ID       string   `json:"id"`
	State    string   `json:"state"`
	Caller   CallerID `json:"caller"`
	Dialplan struct {
		Exten   string `json:"exten"`
		AppName string `json:"app_name"`
		AppData string `json:"app_data"`
	} `json:"dialplan"`
}

// channels lists every channel Asterisk has, by id, to find which calls survived a restart.
func (r *rest) channels(ctx context.Context) (map[string]liveChannel, error) {
	var list []liveChannel
	if err := r.call(ctx, "list channels", "", http.MethodGet, "/channels", nil, nil, &list); err != nil {
		return nil, err
	}
	chans := make(map[string]liveChannel, len(list))
	for _, c := range list {
		chans[c.ID] = c
	}
	return chans, nil
}

// originate calls endpoint and puts the answered channel into the app with args.
func (r *rest) originate(ctx context.Context, id, endpoint, callerID string, args string) error {
	return r.call(ctx, "originate", endpoint, http.MethodPost, "/channels", nil, ari.OriginateRequest{
		ChannelID: id, Endpoint: endpoint, App: r.app, AppArgs: args, CallerID: callerID, Timeout: 30,
	}, nil)
}

// bridgeData is GET /bridges/{id}: who is in the bridge.
func (r *rest) bridgeData(ctx context.Context, bridge string) ([]string, error) {
	var data struct {
		Channels []string `json:"channels"`
	}
	err := r.call(ctx, "bridge", bridge, http.MethodGet, bridgePath(bridge), nil, nil, &data)
	return data.Channels, err
}

// staleLeg finds the externalMedia channel a previous controller left in a bridge.
func (r *rest) staleLeg(ctx context.Context, bridge, caller string) string {
	members, err := r.bridgeData(ctx, bridge)
	if err != nil {
		return ""
	}
	for _, id := range members {
		// An agent's externalMedia channel: theirs (em-), or a colleague's who took the call over (cem-).
		if id != caller && (strings.HasPrefix(id, "em-") || strings.HasPrefix(id, "cem-")) {
			return id
		}
	}
	return ""
}

// bridgeMembers returns the channels in a bridge; false when Asterisk cannot say (no such bridge).
func (r *rest) bridgeMembers(ctx context.Context, bridge string) ([]string, bool) {
	members, err := r.bridgeData(ctx, bridge)
	if err != nil {
		return nil, false
	}
	return members, true
}

// bridgeChannels returns the channels in each bridge whose id starts with prefix (what a previous
// controller left); nil when Asterisk cannot say.
func (r *rest) bridgeChannels(ctx context.Context, prefix string) map[string][]string {
	var list []idOnly
	if err := r.call(ctx, "list bridges", "", http.MethodGet, "/bridges", nil, nil, &list); err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, b := range list {
		if !strings.HasPrefix(b.ID, prefix) {
			continue
		}
		if members, err := r.bridgeData(ctx, b.ID); err == nil {
			out[b.ID] = members
		}
	}
	return out
}

// snoop creates a channel that hears ch (spy) and may speak into it (whisper), in the app.
func (r *rest) snoop(ctx context.Context, ch, id string, spy, whisper ari.Direction) error {
	return r.call(ctx, "snoop", ch, http.MethodPost, chanPath(ch)+"/snoop/"+url.PathEscape(id), nil,
		&ari.SnoopOptions{App: r.app, AppArgs: "snoop", Spy: spy, Whisper: whisper}, nil)
}
