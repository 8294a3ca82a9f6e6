package aritest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// EarApp is the observer application an Ear connects as.
const EarApp = "hotline-ear"

// Ear hears what Asterisk plays to channels, independently of the controller under test: a second
// Stasis application subscribed to every channel (eventSource "channel:" with no id), so no playback
// can start before it listens. Not subscribeAll: Asterisk 22.10.1 deadlocks when a subscribeAll
// session closes while a device state event is being sent to it (the session's cleanup holds its
// lock while it joins the device-state subscription, whose callback waits for that lock), and its
// HTTP server then stops answering. Asterisk publishes a PlaybackStarted for each item of a media list as that item
// starts, so the media URIs of those events, in order, are what a caller heard. A prompt the
// controller asked for and Asterisk never started (a cut list, a barge-in) is not in it.
type Ear struct {
	mu      sync.Mutex
	heard   map[string][]string // channel id → media URIs started on it, in order
	changed chan struct{}       // closed and replaced on every playback heard
}

// NewEar connects the observer; it disconnects when the test ends.
func (tg *Target) NewEar(t testing.TB) *Ear {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, tg.EventsURL(EarApp), nil)
	if err != nil {
		t.Fatalf("ear: events websocket: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	e := &Ear{heard: map[string][]string{}, changed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, raw, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			e.record(raw)
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close(websocket.StatusNormalClosure, "")
		<-done
	})
	tg.WaitApp(t, EarApp)
	st, body, err := tg.Do(ctx, http.MethodPost, "/ari/applications/"+EarApp+"/subscription?eventSource=channel:", nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("ear: subscribe to every channel: %d %s %v", st, body, err)
	}
	return e
}

func (e *Ear) record(raw []byte) {
	var ev struct {
		Type     string `json:"type"`
		Playback struct {
			MediaURI  string `json:"media_uri"`
			TargetURI string `json:"target_uri"`
		} `json:"playback"`
	}
	if json.Unmarshal(raw, &ev) != nil || ev.Type != "PlaybackStarted" {
		return
	}
	ch, ok := strings.CutPrefix(ev.Playback.TargetURI, "channel:")
	if !ok {
		return
	}
	e.mu.Lock()
	e.heard[ch] = append(e.heard[ch], ev.Playback.MediaURI)
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

// Heard returns the media URIs started on the channel so far, in order.
func (e *Ear) Heard(channelID string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.heard[channelID]...)
}

// WaitHeard waits until the channel has heard exactly want, or until ctx ends; it returns what the
// channel had heard by then. The ear's events come on their own WebSocket, a moment after the
// controller's.
func (e *Ear) WaitHeard(ctx context.Context, channelID string, want []string) []string {
	for {
		e.mu.Lock()
		got, changed := append([]string(nil), e.heard[channelID]...), e.changed
		e.mu.Unlock()
		if slices.Equal(got, want) {
			return got
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got
		}
	}
}
