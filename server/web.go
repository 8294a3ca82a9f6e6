package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-cc/hotline/config"
)

// newHTTPServer is every listener's server: a slow or idle client is cut off instead of holding a
// connection (and a goroutine) for as long as it likes. The pages' WebSockets outlive the timeouts
// because net/http clears a connection's deadlines when the WebSocket takes it over (Hijack), which
// only a handler that accepted the upgrade does: a request's own headers never lift them.
func newHTTPServer(h http.Handler, web config.Web, tlsCfg *tls.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: min(10*time.Second, web.ReadTimeout.D()),
		ReadTimeout:       web.ReadTimeout.D(),
		WriteTimeout:      web.WriteTimeout.D(),
		IdleTimeout:       web.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
	}
}

// serveHTTP serves srv on ln until ctx ends, then shuts down gracefully: in-flight requests get 5 s.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	<-errc
	return err
}

// hostCheck answers 421 to a request whose Host is not one of hosts (port aside, any case), so a
// page reached through another name (DNS rebinding) never runs against this server. Empty hosts
// accept any.
func hostCheck(hosts []string, h http.Handler) http.Handler {
	if len(hosts) == 0 {
		return h
	}
	ok := make(map[string]bool, len(hosts))
	for _, name := range hosts {
		ok[strings.ToLower(strings.Trim(name, "[]"))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hp, _, err := net.SplitHostPort(host); err == nil {
			host = hp
		}
		host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
		if !ok[host] {
			http.Error(w, "misdirected request: this server does not serve that host name", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// perIPListener refuses a client address's connection beyond max open at once: it is closed as
// soon as it is accepted, before TLS or HTTP spend anything on it. Loopback counts like any other
// address. A trusted reverse proxy's connections are not capped here, since they carry many
// clients: perClient caps those by the client the proxy names.
type perIPListener struct {
	net.Listener
	max     int
	proxies []netip.Prefix
	refused prometheus.Counter // nil: not counted

	mu   sync.Mutex
	open map[netip.Addr]int
}

func limitPerIP(ln net.Listener, max int, proxies []netip.Prefix, refused prometheus.Counter) *perIPListener {
	return &perIPListener{Listener: ln, max: max, proxies: proxies, refused: refused, open: map[netip.Addr]int{}}
}

func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if inPrefixes(ip, l.proxies) {
			return c, nil
		}
		l.mu.Lock()
		full := l.open[ip] >= l.max
		if !full {
			l.open[ip]++
		}
		l.mu.Unlock()
		if full {
			c.Close()
			if l.refused != nil {
				l.refused.Inc()
			}
			continue
		}
		return &countedConn{Conn: c, release: sync.OnceFunc(func() { l.release(ip) })}, nil
	}
}

func (l *perIPListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// countedConn gives its slot back when closed, however often Close is called.
type countedConn struct {
	net.Conn
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// listen binds addr and caps its connections per client address, a trusted proxy's aside.
func listen(what, addr string, max int, proxies []netip.Prefix, refused prometheus.Counter) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listen %s: %w", what, addr, err)
	}
	return limitPerIP(ln, max, proxies, refused), nil
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// perClient is the connection cap for requests a trusted reverse proxy forwards: it counts the
// requests in flight per client the proxy names (client, from X-Forwarded-For as the accounts
// read it), a page's WebSocket and event stream being in flight for as long as they are open,
// and answers 429 beyond max. Without it, behind a proxy the cap would either count the proxy
// (one busy office locks out everyone) or nobody.
func perClient(max int, proxies []netip.Prefix, client func(*http.Request) string, refused prometheus.Counter, h http.Handler) http.Handler {
	if len(proxies) == 0 {
		return h
	}
	var mu sync.Mutex
	open := map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !inPrefixes(peer.Addr().Unmap(), proxies) {
			h.ServeHTTP(w, r) // capped by the listener
			return
		}
		c := client(r)
		mu.Lock()
		full := open[c] >= max
		if !full {
			open[c]++
		}
		mu.Unlock()
		if full {
			if refused != nil {
				refused.Inc()
			}
			w.Header().Set("Retry-After", "5")
			http.Error(w, "too many connections from your address (web.max_conns_per_ip)", http.StatusTooManyRequests)
			return
		}
		defer func() {
			mu.Lock()
			if open[c]--; open[c] <= 0 {
				delete(open, c)
			}
			mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}
