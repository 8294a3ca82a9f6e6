package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/softphone"
)

// page is an agent page as a test drives it: logged in once, its socket opened and closed at will.
// It keeps the last state the server pushed, as the page would show it.
type page struct {
	t      *testing.T
	base   string
	cookie string
	ws     *websocket.Conn

	mu      sync.Mutex
	state   softphone.StateChanged
	history []string // every state message, for a failure's report
	all     []string // every message
}

// told reports whether the page was sent a message holding every one of parts.
func (p *page) told(parts ...string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
next:
	for _, m := range p.all {
		for _, s := range parts {
			if !strings.Contains(m, s) {
				continue next
			}
		}
		return true
	}
	return false
}

// shown is the state the page shows now.
func (p *page) shown() softphone.StateChanged {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

func loginPage(t *testing.T, srv *Server, agent, password string) *page {
	t.Helper()
	base := "http://" + srv.WebAddr().String()
	resp, err := http.PostForm(base+"/agent/login", url.Values{"agent": {agent}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("log %s in: %s", agent, resp.Status)
	}
	p := &page{t: t, base: base}
	for _, c := range resp.Cookies() {
		if c.Name == "hotline_agent" {
			p.cookie = c.String()
		}
	}
	return p
}

// open opens the page's socket, as a (re)loaded page does.
func (p *page) open() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{"Cookie": {p.cookie}}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/agent/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		p.t.Fatal(err)
	}
	p.ws = ws
	p.mu.Lock()
	p.state = softphone.StateChanged{} // a new page knows only what it is told
	p.mu.Unlock()
	p.t.Cleanup(func() { ws.CloseNow() })
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var m softphone.StateChanged
			p.mu.Lock()
			p.all = append(p.all, string(b))
			if strings.Contains(string(b), `"type":"state"`) && json.Unmarshal(b, &m) == nil {
				p.state = m
				p.history = append(p.history, string(b))
			}
			p.mu.Unlock()
		}
	}()
}

func (p *page) send(raw string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		p.t.Fatal(err)
	}
}

// close closes the tab: the socket goes away without a word.
func (p *page) close() { p.ws.CloseNow() }

func agentStatus(t *testing.T, srv *Server, id string) acd.AgentStatus {
	t.Helper()
	snap, err := srv.center.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.Agents {
		if a.ID == id {
			return a
		}
	}
	return acd.AgentStatus{}
}

// TestDisconnectedAgentPaused (issue 12, deliverable 2): an agent whose page is closed stops being
// offered calls once softphone.disconnect_grace has passed. A page reloaded within the grace finds
// the agent as they were; a closed one leaves the agent paused "disconnected"; a call ringing a
// closed page goes back to its queue at the grace instead of ringing out its ring timeout.
func TestDisconnectedAgentPaused(t *testing.T) {
	const grace = time.Second
	srv := startSimServer(t, "presence", func(c *config.Config) {
		c.Softphone.DisconnectGrace = config.Duration(grace)
		c.ARI.RingTimeout = config.Duration(time.Minute) // far beyond the grace: only the grace can free the ring
	})
	p1 := loginPage(t, srv, "p001", "hotline-demo")
	p1.open()
	p1.send(`{"type":"state.set","id":"1","state":"available"}`)
	waitfor.True(t, "p001 available", 10*time.Second, func() bool { return agentStatus(t, srv, "p001").State == acd.Available })

	// A reload: the page closes and comes back at once. Three graces later p001 is still available.
	p1.close()
	p1.open()
	until := time.Now().Add(3 * grace)
	for time.Now().Before(until) {
		if st := agentStatus(t, srv, "p001"); st.State != acd.Available {
			t.Fatalf("p001 after a reload within the grace: %+v, want still available", st)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The tab closes for good.
	p1.close()
	waitfor.True(t, `p001 paused "disconnected"`, 10*time.Second, func() bool {
		st := agentStatus(t, srv, "p001")
		return st.State == acd.Paused && st.Reason == reasonDisconnected
	})

	// p002's page closes while a caller rings it: the call goes back to the queue at the grace.
	p2 := loginPage(t, srv, "p002", "hotline-demo")
	p2.open()
	p2.send(`{"type":"state.set","id":"1","state":"available"}`)
	waitfor.True(t, "p002 available", 10*time.Second, func() bool { return agentStatus(t, srv, "p002").State == acd.Available })
	caller, err := srv.Sim().Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	id := caller.ChannelID()
	waitfor.True(t, "p002 ringing", 30*time.Second, func() bool { return agentStatus(t, srv, "p002").State == acd.Ringing })
	p2.close()
	waitfor.True(t, `p002 paused "disconnected" and the caller waiting again`, 20*time.Second, func() bool {
		st := agentStatus(t, srv, "p002")
		c, ok := callOf(srv, id)
		return st.State == acd.Paused && st.Reason == reasonDisconnected && ok && c.Stage == acd.StageWaiting
	})
	if err := srv.center.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}
