package asterisksim_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// stream is one events WebSocket of a replay. A transcript names them with ws: 1 is open before the
// first line; others open with a GET of /ari/events and close with a CLOSE request.
type stream struct {
	conn     *websocket.Conn
	done     chan struct{} // the reader has ended
	replaced bool          // got ApplicationReplaced: Asterisk sends it nothing more
	closed   bool          // closed by the transcript
}

// liveEvent is an event as it came, with the WebSocket it came on.
type liveEvent struct {
	ws int
	ev map[string]any
}

// open connects WebSocket ws with the recorded path (/ari/events?app=...). Asterisk registers the
// apps before it answers the upgrade, so once this returns the app is this connection's.
func (r *replayer) open(ws int, path string) {
	u := strings.Replace(r.tg.BaseURL, "http", "ws", 1) + path
	sep := "&"
	if !strings.Contains(path, "?") {
		sep = "?"
	}
	u += sep + "api_key=" + url.QueryEscape(r.tg.User+":"+r.tg.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		r.t.Fatalf("%s: events websocket %d: %v", r.file, ws, err)
	}
	conn.SetReadLimit(1 << 20)
	st := &stream{conn: conn, done: make(chan struct{})}
	r.streams[ws] = st
	rctx, rcancel := context.WithCancel(context.Background())
	go func() {
		defer close(st.done)
		for {
			_, raw, err := conn.Read(rctx)
			if err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(raw, &ev) != nil {
				continue
			}
			select {
			case r.in <- liveEvent{ws, ev}:
			case <-rctx.Done():
				return
			}
		}
	}()
	r.t.Cleanup(func() {
		rcancel()
		_ = conn.Close(websocket.StatusNormalClosure, "")
		<-st.done
	})
}

// close closes WebSocket ws with a close handshake and waits until the target let go of it: Asterisk
// unregisters the session's apps before it answers the close; the simulator's WebSocket library
// answers first, so on the simulator the replay also waits for the connection to be gone.
func (r *replayer) close(ws int) {
	st := r.streams[ws]
	if st == nil || st.closed {
		r.t.Fatalf("%s: CLOSE of ws %d, which is not open", r.file, ws)
	}
	_ = st.conn.Close(websocket.StatusNormalClosure, "")
	<-st.done
	st.closed = true
	r.pull(0) // what came before the close belongs to the replay
	if r.tg.Sim == nil {
		return
	}
	open := 0
	for _, other := range r.streams {
		if !other.closed {
			open++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.tg.Sim.WaitEventsConnections(ctx, open); err != nil {
		r.t.Fatalf("%s: simulator still serves a closed events websocket: %v", r.file, err)
	}
}
