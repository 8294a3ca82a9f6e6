package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// startProcess runs a whole hotline (simulated Asterisk, a real redis-server behind a proxy the
// test can cut) until the test ends.
func startProcess(t *testing.T, edit func(*config.Config)) (*Server, *redistest.Proxy) {
	t.Helper()
	rs := redistest.Start(t)
	proxy := redistest.NewProxy(t, rs.Addr)
	cfg := config.Default()
	cfg.ARI.Simulate = true
	cfg.Redis.Addr = proxy.Addr
	cfg.Web.Listen, cfg.Softphone.ICEPort = "127.0.0.1:0", 0
	cfg.Simulator.CallersPerMinute = 0
	edit(&cfg)
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, Options{LoopbackOnly: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv, proxy
}

func get(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	client := &http.Client{Timeout: patience, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkHealth waits for /readyz, then cuts Redis: /healthz and /readyz say "redis" is down and
// nothing of the error itself; they recover with Redis, and not before the bus to the other
// controllers listens again: the first ok after the cut finds the bus's channels subscribed.
func checkHealth(t *testing.T, base string, proxy *redistest.Proxy) {
	waitfor.True(t, "/readyz ok", patience, func() bool { code, _ := get(t, base+"/readyz", ""); return code == http.StatusOK })
	if code, body := get(t, base+"/healthz", ""); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q, want ok", code, body)
	}
	direct := redis.NewClient(&redis.Options{Addr: proxy.Target()}) // around the cut
	defer direct.Close()
	busChannels := func() []string {
		t.Helper()
		chans, err := direct.PubSubChannels(context.Background(), "*:bus*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(chans)
		return chans
	}
	listening := busChannels()
	if len(listening) != 2 {
		t.Fatalf("the bus's channels with a subscriber: %v, want its inbox and the center's", listening)
	}
	proxy.Cut()
	for _, p := range []string{"/healthz", "/readyz"} {
		code, body := get(t, base+p, "")
		if code != http.StatusServiceUnavailable || strings.TrimSpace(body) != "down: redis" {
			t.Errorf("%s with redis cut = %d %q, want 503 \"down: redis\" and no error text", p, code, body)
		}
	}
	proxy.Restore()
	// As often as it answers, to catch the moment Redis is back and the bus not yet.
	for deadline := time.Now().Add(patience); ; {
		if code, _ := get(t, base+"/healthz", ""); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not ok again %v after Redis came back", patience)
		}
	}
	if now := busChannels(); !slices.Equal(now, listening) {
		t.Errorf("/healthz ok while the bus listens on %v, want %v: a controller deaf to its peers says it is healthy", now, listening)
	}
	if code, body := get(t, base+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "hotline_web_connections_refused_total") {
		t.Errorf("/metrics = %d, want the metrics", code)
	}
}

// TestOpsOnMainListener: without web.ops_listen, /metrics, /healthz and /readyz are on the main
// listener, and answer under any Host while the pages answer only under web.hosts.
func TestOpsOnMainListener(t *testing.T) {
	srv, proxy := startProcess(t, func(c *config.Config) { c.Web.Hosts = []string{"hotline.test"} })
	if srv.OpsAddr() != srv.WebAddr() {
		t.Fatalf("ops on %v, want the main listener %v", srv.OpsAddr(), srv.WebAddr())
	}
	base := "http://" + srv.WebAddr().String()
	checkHealth(t, base, proxy)
	if code, _ := get(t, base+"/agent/", ""); code != http.StatusMisdirectedRequest {
		t.Errorf("the agent page under Host %s = %d, want 421", srv.WebAddr(), code)
	}
	if code, _ := get(t, base+"/agent/", "hotline.test"); code != http.StatusOK {
		t.Errorf("the agent page under a configured Host = %d, want 200", code)
	}
}

// TestOpsListener: with web.ops_listen, the operations endpoints move there and leave the main
// listener.
func TestOpsListener(t *testing.T) {
	srv, proxy := startProcess(t, func(c *config.Config) { c.Web.OpsListen = "127.0.0.1:0" })
	if srv.OpsAddr().String() == srv.WebAddr().String() {
		t.Fatal("ops_listen set, yet the ops endpoints are on the main listener")
	}
	checkHealth(t, "http://"+srv.OpsAddr().String(), proxy)
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		if code, _ := get(t, "http://"+srv.WebAddr().String()+p, ""); code != http.StatusNotFound {
			t.Errorf("main listener %s = %d, want 404 once ops_listen is set", p, code)
		}
	}
	if code, _ := get(t, "http://"+srv.OpsAddr().String()+"/agent/", ""); code != http.StatusNotFound {
		t.Errorf("ops listener /agent/ = %d, want 404: the pages stay on the main listener", code)
	}
}
