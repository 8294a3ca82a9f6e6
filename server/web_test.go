package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// patience is how long a test waits for the server to act before failing: far beyond the short
// timeouts configured, so a pass never depends on timing, only a server that never acts fails.
const patience = 20 * time.Second

func shortTimeouts() config.Web {
	w := config.Default().Web
	w.ReadTimeout, w.WriteTimeout, w.IdleTimeout = config.Duration(300*time.Millisecond), config.Duration(300*time.Millisecond), config.Duration(300*time.Millisecond)
	return w
}

// startWeb serves h as the hotline process does, on a loopback port, until the test ends.
func startWeb(t *testing.T, h http.Handler, web config.Web) string {
	t.Helper()
	ln, err := listen("web", "127.0.0.1:0", web.MaxConnsPerIP, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { serveHTTP(ctx, newHTTPServer(h, web, nil), ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// waitClosedByServer reads from c until the server closes it; it fails the test if the server
// still holds it after patience.
func waitClosedByServer(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(patience))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server still holds the connection after %v", what, patience)
	}
}

// TestWebCutsSlowBody: a body sent a byte at a time (slowloris) is cut off by web.read_timeout,
// whatever the request's headers claim it is: asking for an event stream or a WebSocket upgrade
// once lifted the timeouts on any path, for anyone.
func TestWebCutsSlowBody(t *testing.T) {
	addr := startWeb(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}), shortTimeouts())
	for _, tc := range []struct{ name, headers string }{
		{"plain", ""},
		{"asking for an event stream", "Accept: text/event-stream\r\n"},
		{"asking for a WebSocket upgrade", "Upgrade: websocket\r\nConnection: Upgrade\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /agent/login HTTP/1.1\r\nHost: a\r\n%sContent-Length: 100000\r\n\r\n", tc.headers)
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := c.Write([]byte("x")); err != nil {
							return
						}
					}
				}
			}()
			waitClosedByServer(t, c, "a body trickling in")
		})
	}
}

// TestWebClosesIdleKeepAlive: a keep-alive connection left idle after its request is closed by
// web.idle_timeout.
func TestWebClosesIdleKeepAlive(t *testing.T) {
	addr := startWeb(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), shortTimeouts())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server closed at once; the test needs a keep-alive connection")
	}
	waitClosedByServer(t, c, "an idle keep-alive connection")
}

// TestWebSocketOutlivesTimeouts: the pages' WebSockets are long-lived; the request timeouts must
// not cut them. The socket stays quiet for several times every timeout, then still echoes.
func TestWebSocketOutlivesTimeouts(t *testing.T) {
	web := shortTimeouts()
	addr := startWeb(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if err := c.Write(context.Background(), typ, msg); err != nil {
				return
			}
		}
	}), web)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	quiet := 4 * max(web.ReadTimeout.D(), web.WriteTimeout.D(), web.IdleTimeout.D())
	<-time.After(quiet) // let every deadline the server might have left pass
	if err := c.Write(ctx, websocket.MessageText, []byte("still there?")); err != nil {
		t.Fatalf("write after %v quiet: %v", quiet, err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "still there?" {
		t.Fatalf("echo after %v quiet = %q, %v; the timeouts cut the WebSocket", quiet, msg, err)
	}
}

// TestPerIPCapRefuses: the (N+1)th concurrent connection from one address is closed at once, and
// a slot comes back when one of the N closes.
func TestPerIPCapRefuses(t *testing.T) {
	web := config.Default().Web
	web.MaxConnsPerIP = 2
	addr := startWeb(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), web)
	get := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(patience))
		if _, err := fmt.Fprintf(c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := get(c); err != nil {
			t.Fatalf("a connection within the cap: %v", err)
		}
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if err := get(extra); err == nil {
		t.Fatal("a third connection from one address was served; want it refused")
	}
	held[0].Close()
	// The server frees the slot when it sees the close: wait for a connection to be served again.
	waitfor.True(t, "a slot freed by a closed connection", patience, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		return get(c) == nil
	})
}

// TestHostCheck: with web.hosts set, a page requested under another Host gets 421; the listed
// names are accepted in any case and with any port; the ops endpoints answer under any Host.
func TestHostCheck(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })
	h := hostCheck([]string{"hotline.example.org", "10.0.0.5"}, pages)
	for host, want := range map[string]int{
		"hotline.example.org":      http.StatusOK,
		"HOTLINE.example.org:8443": http.StatusOK,
		"hotline.example.org.":     http.StatusOK,
		"10.0.0.5:8080":            http.StatusOK,
		"evil.example.com":         http.StatusMisdirectedRequest,
		"127.0.0.1:8080":           http.StatusMisdirectedRequest,
		"hotline.example.org.evil": http.StatusMisdirectedRequest,
		"":                         http.StatusMisdirectedRequest,
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://x/agent/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
	open := hostCheck(nil, pages)
	r, _ := http.NewRequest(http.MethodGet, "http://x/agent/", nil)
	r.Host = "anything"
	w := httptest.NewRecorder()
	open.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("no hosts configured: %d, want any Host accepted", w.Code)
	}
}

// TestPerClientCapBehindProxy: behind a trusted reverse proxy (loopback here) the cap counts the
// clients the proxy names, not the proxy: the proxy may open more connections than the cap, one
// client's requests beyond it get 429 while another client's pass, and a finished request frees
// its slot.
func TestPerClientCapBehindProxy(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	hold := make(chan struct{})
	held := make(chan struct{}, 8)
	h := perClient(2, proxies, func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") }, nil,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/stream" { // a page's WebSocket: in flight while open
				held <- struct{}{}
				select {
				case <-hold:
				case <-r.Context().Done():
				}
			}
			io.WriteString(w, "ok")
		}))
	ln, err := listen("web", "127.0.0.1:0", 2, proxies, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { serveHTTP(ctx, newHTTPServer(h, config.Default().Web, nil), ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + ln.Addr().String()

	// No keep-alive sharing: each request its own connection from the proxy's address.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: patience}
	get := func(path, forClient string) (int, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("X-Forwarded-For", forClient)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	results := make(chan int, 2)
	for range 2 {
		go func() { st, _ := get("/stream", "198.51.100.1"); results <- st }()
		select {
		case <-held:
		case <-time.After(patience):
			t.Fatal("a stream within the cap was not served")
		}
	}
	for _, tc := range []struct {
		client string
		want   int
	}{
		{"198.51.100.1", http.StatusTooManyRequests}, // a third at once from one client
		{"198.51.100.2", http.StatusOK},              // another client through the same proxy
		{"198.51.100.2", http.StatusOK},
	} {
		if st, err := get("/x", tc.client); err != nil || st != tc.want {
			t.Errorf("request for %s with 2 of 198.51.100.1's open: %d %v, want %d", tc.client, st, err, tc.want)
		}
	}
	close(hold)
	for range 2 {
		if st := <-results; st != http.StatusOK {
			t.Errorf("a held stream ended with %d", st)
		}
	}
	if st, err := get("/x", "198.51.100.1"); err != nil || st != http.StatusOK {
		t.Errorf("after its streams ended, 198.51.100.1 got %d %v", st, err)
	}
}
