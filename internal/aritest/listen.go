package aritest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/media"
)

// ListenApp is the Stasis application a Listener's channels belong to: not the controller's, so the
// controller under test never sees them.
const ListenApp = "hotline-listen"

// Listener hears, as audio, what a real Asterisk sends to one channel: what a caller hears, which
// Asterisk does not otherwise tell a test. It is a spy snoop on the channel (direction "out": the
// frames Asterisk writes to it) bridged with an externalMedia channel that sends them as PCMU RTP to
// a UDP socket of the test. On the Stasis half of a test caller's Local pair (the call's channel),
// that is what the caller's dialplan half receives. The simulator's callers tell what they heard
// themselves (asterisksim.Caller.Heard).
type Listener struct {
	conn *net.UDPConn

	mu    sync.Mutex
	heard []heardChunk // the last few seconds, oldest first
}

type heardChunk struct {
	at  time.Time
	pcm []int16
}

// Listen starts a Listener on channelID of a real Asterisk; it stops when the test ends.
func (tg *Target) Listen(t testing.TB, channelID string) *Listener {
	t.Helper()
	if tg.Sim != nil {
		t.Fatal("aritest: Listen is for a real Asterisk; the simulator's callers hear for themselves")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The application must hold a WebSocket for its channels to enter it. Its StasisStarts say when
	// they did: a snoop or externalMedia channel enters its app a moment after Asterisk answered its
	// creation, and a bridge takes only channels in Stasis (422 before).
	ws, _, err := websocket.Dial(ctx, tg.EventsURL(ListenApp), nil)
	if err != nil {
		t.Fatalf("listen: events websocket: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	wsDone := make(chan struct{})
	started := make(chan string, 16)
	go func() {
		defer close(wsDone)
		for {
			_, raw, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var ev struct {
				Type    string `json:"type"`
				Channel struct {
					ID string `json:"id"`
				} `json:"channel"`
			}
			if json.Unmarshal(raw, &ev) == nil && ev.Type == "StasisStart" {
				select {
				case started <- ev.Channel.ID:
				default:
				}
			}
		}
	}()
	tg.WaitApp(t, ListenApp)

	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: udp: %v", err)
	}
	l := &Listener{conn: udp}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		l.read()
	}()

	suffix := fmt.Sprintf("%s-%d", channelID, time.Now().UnixNano())
	// Its channels' and bridge's ids start with ListenApp, so a test can tell them from the
	// controller's.
	snoopID, emID, bridgeID := ListenApp+"-snoop-"+suffix, ListenApp+"-em-"+suffix, ListenApp+"-br-"+suffix
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// 404: gone already (the caller hung up, or the test's Isolate cleared them).
		_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/channels/"+url.PathEscape(snoopID), nil)
		_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/channels/"+url.PathEscape(emID), nil)
		_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/bridges/"+url.PathEscape(bridgeID), nil)
		_ = ws.Close(websocket.StatusNormalClosure, "")
		<-wsDone
		_ = udp.Close()
		<-readDone
	})

	must := func(what, method, path string) {
		t.Helper()
		st, body, err := tg.Do(ctx, method, path, nil)
		if err != nil || st/100 != 2 {
			t.Fatalf("listen: %s: %d %s %v", what, st, body, err)
		}
	}
	q := url.Values{"app": {ListenApp}, "spy": {"out"}, "snoopId": {snoopID}}
	must("snoop", http.MethodPost, "/ari/channels/"+url.PathEscape(channelID)+"/snoop?"+q.Encode())
	q = url.Values{"app": {ListenApp}, "external_host": {udp.LocalAddr().String()}, "format": {"ulaw"}, "channelId": {emID}}
	must("externalMedia", http.MethodPost, "/ari/channels/externalMedia?"+q.Encode())
	must("bridge", http.MethodPost, "/ari/bridges?"+url.Values{"type": {"mixing"}, "bridgeId": {bridgeID}}.Encode())
	for want := map[string]bool{snoopID: true, emID: true}; len(want) > 0; {
		select {
		case id := <-started:
			delete(want, id)
		case <-ctx.Done():
			t.Fatalf("listen: %v never entered %s", want, ListenApp)
		}
	}
	must("bridge the snoop and the externalMedia channel", http.MethodPost,
		"/ari/bridges/"+url.PathEscape(bridgeID)+"/addChannel?"+url.Values{"channel": {snoopID + "," + emID}}.Encode())
	return l
}

func (l *Listener) read() {
	buf := make([]byte, 1500)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			return
		}
		if n <= 12 || buf[0]>>6 != 2 {
			continue
		}
		// The fixed RTP header, its CSRCs and any extension; PCMU is payload type 0.
		off := 12 + 4*int(buf[0]&0x0f)
		if buf[0]&0x10 != 0 && n >= off+4 {
			off += 4 + 4*(int(buf[off+2])<<8|int(buf[off+3]))
		}
		if buf[1]&0x7f != 0 || off >= n {
			continue
		}
		pcm := media.DecodePCMU(nil, buf[off:n])
		now := time.Now()
		l.mu.Lock()
		l.heard = append(l.heard, heardChunk{at: now, pcm: pcm})
		for len(l.heard) > 0 && now.Sub(l.heard[0].at) > 5*time.Second {
			l.heard = l.heard[1:]
		}
		l.mu.Unlock()
	}
}

// Heard returns the audio of the last d that reached the channel (PCM at media.SampleRate): at most
// d long, and only what arrived within d, so silence on the wire is no audio rather than old audio.
func (l *Listener) Heard(d time.Duration) []int16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := time.Now().Add(-d)
	var pcm []int16
	for _, c := range l.heard {
		if c.at.After(since) {
			pcm = append(pcm, c.pcm...)
		}
	}
	if n := int(d.Seconds() * media.SampleRate); len(pcm) > n {
		pcm = pcm[len(pcm)-n:]
	}
	return pcm
}
