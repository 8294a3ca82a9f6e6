package switchboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
)

// ErrGone means the channel, bridge or playback no longer exists in Asterisk (404), which for a
// channel usually means the caller hung up a moment ago.
var ErrGone = errors.New("gone from asterisk")

// rest is the switchboard's view of ARI's REST side, through the ari/v5 native client. The client's
// calls take no context, so each call checks ctx first: a cancelled call does not start new requests.
//
// One request goes around the client: play. ari/v5 cannot send lang; a menu prompt is often several
// sounds and numbers, and a playback each would cost a round trip between them.
type rest struct {
	client   *native.Client
	app      string
	url      string
	user     string
	password string
	http     *http.Client
}

func newREST(url, app, user, password string) *rest {
	// The native client uses http.DefaultTransport, which keeps 2 idle connections per host: with
	// thousands of calls, every request past the second would dial and close a connection (a quarter
	// of the CPU at 5,000 callers in the IVR load test). Keep enough for the busiest moment.
	if t, ok := http.DefaultTransport.(*http.Transport); ok && t.MaxIdleConnsPerHost < 512 {
		t.MaxIdleConnsPerHost = 512
	}
	return &rest{
		client: native.New(&native.Options{Application: app, URL: url, Username: user, Password: password}),
		app:    app, url: strings.TrimSuffix(url, "/"), user: user, password: password,
		http: &http.Client{Timeout: 10 * time.Second},
	}
}

func chanKey(id string) *ari.Key   { return ari.NewKey(ari.ChannelKey, id) }
func bridgeKey(id string) *ari.Key { return ari.NewKey(ari.BridgeKey, id) }

func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if native.CodeFromError(err) == 404 || native.CodeFromError(errors.Unwrap(err)) == 404 {
		return fmt.Errorf("%s %s: %w", op, id, ErrGone)
	}
	return fmt.Errorf("%s %s: %w", op, id, err)
}

func (r *rest) do(ctx context.Context, op, id string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	return wrap(op, id, f())
}

func (r *rest) answer(ctx context.Context, ch string) error {
	return r.do(ctx, "answer", ch, func() error { return r.client.Channel().Answer(chanKey(ch)) })
}

func (r *rest) hangup(ctx context.Context, ch string) error {
	return r.do(ctx, "hangup", ch, func() error { return r.client.Channel().Hangup(chanKey(ch), "normal") })
}

func (r *rest) getVar(ctx context.Context, ch, name string) (string, error) {
	var v string
	err := r.do(ctx, "get variable "+name, ch, func() (err error) {
		v, err = r.client.Channel().GetVariable(chanKey(ch), name)
		return err
	})
	return v, err
}

// play starts media on a channel as one playback, in language lang: POST
// /channels/{id}/play/{playbackId}?media=a,b,c&lang=…. Asterisk 22 takes the list as ONE
// comma-separated media parameter; given the parameter several times, it keeps only the last.
func (r *rest) play(ctx context.Context, ch, playbackID, lang string, media ...string) error {
	q := url.Values{"media": {strings.Join(media, ",")}}
	if lang != "" {
		q.Set("lang", lang)
	}
	u := r.url + "/channels/" + url.PathEscape(ch) + "/play/" + url.PathEscape(playbackID) + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("play %s: %w", ch, err)
	}
	req.SetBasicAuth(r.user, r.password)
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("play %s: %w", ch, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) // so the connection is reused
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("play %s: %w", ch, ErrGone)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("play %s: %s", ch, resp.Status)
	}
	return nil
}

func (r *rest) stopPlayback(ctx context.Context, id string) error {
	return r.do(ctx, "stop playback", id, func() error {
		return r.client.Playback().Stop(ari.NewKey(ari.PlaybackKey, id))
	})
}

func (r *rest) moh(ctx context.Context, ch string) error {
	return r.do(ctx, "start moh", ch, func() error { return r.client.Channel().MOH(chanKey(ch), "default") })
}

func (r *rest) stopMOH(ctx context.Context, ch string) error {
	return r.do(ctx, "stop moh", ch, func() error { return r.client.Channel().StopMOH(chanKey(ch)) })
}

func (r *rest) sendDTMF(ctx context.Context, ch, digits string) error {
	return r.do(ctx, "send dtmf", ch, func() error { return r.client.Channel().SendDTMF(chanKey(ch), digits, nil) })
}

func (r *rest) continueIn(ctx context.Context, ch, dialContext, exten string) error {
	return r.do(ctx, "continue", ch, func() error { return r.client.Channel().Continue(chanKey(ch), dialContext, exten, 1) })
}

// externalMedia creates a channel that exchanges the call's audio as RTP with host, and returns
// where Asterisk listens for RTP back.
func (r *rest) externalMedia(ctx context.Context, id string, host netip.AddrPort) (netip.AddrPort, error) {
	err := r.do(ctx, "external media", id, func() error {
		_, err := r.client.Channel().ExternalMedia(nil, ari.ExternalMediaOptions{
			ChannelID: id, App: r.app, ExternalHost: host.String(),
			Encapsulation: "rtp", Transport: "udp", ConnectionType: "client", Format: "ulaw", Direction: "both",
		})
		return err
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, err := r.getVar(ctx, id, "UNICASTRTP_LOCAL_ADDRESS")
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := r.getVar(ctx, id, "UNICASTRTP_LOCAL_PORT")
	if err != nil {
		return netip.AddrPort{}, err
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
	return r.do(ctx, "create bridge", id, func() error {
		_, err := r.client.Bridge().Create(bridgeKey(id), "mixing", name)
		return err
	})
}

func (r *rest) addToBridge(ctx context.Context, bridge, ch string) error {
	return r.do(ctx, "add to bridge "+bridge, ch, func() error { return r.client.Bridge().AddChannel(bridgeKey(bridge), ch) })
}

func (r *rest) removeFromBridge(ctx context.Context, bridge, ch string) error {
	return r.do(ctx, "remove from bridge "+bridge, ch, func() error { return r.client.Bridge().RemoveChannel(bridgeKey(bridge), ch) })
}

func (r *rest) destroyBridge(ctx context.Context, id string) error {
	return r.do(ctx, "destroy bridge", id, func() error { return r.client.Bridge().Delete(bridgeKey(id)) })
}

// channels lists the ids of every channel Asterisk has, to find which calls survived a restart.
func (r *rest) channels(ctx context.Context) (map[string]bool, error) {
	var keys []*ari.Key
	err := r.do(ctx, "list channels", "", func() (err error) {
		keys, err = r.client.Channel().List(nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(keys))
	for _, k := range keys {
		ids[k.ID] = true
	}
	return ids, nil
}

// originate calls endpoint and puts the answered channel into the app with args.
func (r *rest) originate(ctx context.Context, id, endpoint, callerID string, args string) error {
	return r.do(ctx, "originate", endpoint, func() error {
		_, err := r.client.Channel().Originate(nil, ari.OriginateRequest{
			ChannelID: id, Endpoint: endpoint, App: r.app, AppArgs: args, CallerID: callerID, Timeout: 30,
		})
		return err
	})
}

// staleLeg finds the externalMedia channel a previous controller left in a bridge.
func (r *rest) staleLeg(ctx context.Context, bridge, caller string) string {
	if ctx.Err() != nil {
		return ""
	}
	data, err := r.client.Bridge().Data(bridgeKey(bridge))
	if err != nil {
		return ""
	}
	for _, id := range data.ChannelIDs {
		// An agent's externalMedia channel: theirs (em-), or a colleague's who took the call over (cem-).
		if id != caller && (strings.HasPrefix(id, "em-") || strings.HasPrefix(id, "cem-")) {
			return id
		}
	}
	return ""
}

// bridgeMembers returns the channels in a bridge; false when Asterisk cannot say (no such bridge).
func (r *rest) bridgeMembers(ctx context.Context, bridge string) ([]string, bool) {
	if ctx.Err() != nil {
		return nil, false
	}
	data, err := r.client.Bridge().Data(bridgeKey(bridge))
	if err != nil {
		return nil, false
	}
	return data.ChannelIDs, true
}

// bridgeChannels returns the channels in each bridge whose id starts with prefix (what a previous
// controller left); nil when Asterisk cannot say.
func (r *rest) bridgeChannels(ctx context.Context, prefix string) map[string][]string {
	if ctx.Err() != nil {
		return nil
	}
	keys, err := r.client.Bridge().List(nil)
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, k := range keys {
		if !strings.HasPrefix(k.ID, prefix) {
			continue
		}
		if data, err := r.client.Bridge().Data(k); err == nil {
			out[k.ID] = data.ChannelIDs
		}
	}
	return out
}

// snoop creates a channel that hears ch (spy) and may speak into it (whisper), in the app.
func (r *rest) snoop(ctx context.Context, ch, id string, spy, whisper ari.Direction) error {
	return r.do(ctx, "snoop", ch, func() error {
		_, err := r.client.Channel().Snoop(chanKey(ch), id, &ari.SnoopOptions{App: r.app, AppArgs: "snoop", Spy: spy, Whisper: whisper})
		return err
	})
}
