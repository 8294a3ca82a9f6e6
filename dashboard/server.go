package dashboard

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/account"
)

//go:embed web
var webFS embed.FS

// Config tunes a Server.
type Config struct {
	// Accounts checks logins and keeps sessions. Nil refuses everything: there is no open access.
	Accounts *account.Service
	// Interval is how often the feed polls the Source while a supervisor is connected. Default
	// 500 ms: a change is on the board within a second, poll and render included (TestBoardLoad).
	Interval time.Duration
	// Timeout bounds each Source and Actions call. Default 5 s.
	Timeout time.Duration
	// SecureCookie marks the session cookie Secure even when the request did not come over TLS
	// here (TLS ends at a proxy in front).
	SecureCookie bool
	// Reports answers api/reports; nil: there is no records database, and the API says so.
	Reports Reports
	// Recordings answers api/recordings and their audio; nil: there is no records database.
	Recordings Recordings
	// Location is the center's time zone: where a report's days begin. Nil: UTC.
	Location *time.Location
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 500 * time.Millisecond
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

// Prefix is where a Server expects to be mounted.
const Prefix = "/supervisor/"

// Server is the supervisor page, its JSON API and its live feed. Mount it at Prefix:
//
//	mux.Handle(dashboard.Prefix, srv)
//
// Close it to stop the feed's poller and end the feed connections.
type Server struct {
	src     Source
	act     Actions
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	hub     *hub
	actions map[string]actionFunc

	feedsMu sync.Mutex
	feeds   map[*feed]struct{} // open feeds, to end them when their session is revoked
}

// feed is one open live feed and whose it is.
type feed struct {
	account, sid string
	end          context.CancelFunc
}

// NewServer returns a Server over src and act and starts its feed's poller. A nil log discards.
func NewServer(src Source, act Actions, cfg Config, log *slog.Logger) *Server {
	return newServer(src, act, cfg, log, nil)
}

// newServer lets tests drive the poller's ticks; nil ticks at cfg.Interval.
func newServer(src Source, act Actions, cfg Config, log *slog.Logger, ticks <-chan time.Time) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	s := &Server{
		src:   src,
		act:   act,
		cfg:   cfg,
		log:   log,
		feeds: make(map[*feed]struct{}),
	}
	if cfg.Accounts != nil {
		cfg.Accounts.OnRevoke(s.revoked)
	}
	s.hub = newHub(src, cfg.Interval, cfg.Timeout, log, ticks)
	s.actions = s.actionTable()
	s.routes()
	return s
}

func (s *Server) routes() {
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embed directive guarantees "web" exists
	}
	m := http.NewServeMux()
	m.Handle("GET "+Prefix, http.StripPrefix(Prefix, noCache(http.FileServerFS(static))))
	m.HandleFunc("GET "+Prefix+"api/session", s.handleSession)
	m.HandleFunc("POST "+Prefix+"api/login", s.handleLogin)
	m.HandleFunc("POST "+Prefix+"api/logout", s.handleLogout)
	m.Handle("GET "+Prefix+"api/view", s.requireSupervisor(http.HandlerFunc(s.handleView)))
	m.Handle("GET "+Prefix+"api/reports", s.requireSupervisor(http.HandlerFunc(s.handleReports)))
	m.Handle("GET "+Prefix+"api/recordings", s.requireSupervisor(http.HandlerFunc(s.handleRecordings)))
	m.Handle("GET "+Prefix+"api/recordings/{id}/audio", s.requireSupervisor(http.HandlerFunc(s.handleRecordingAudio)))
	m.Handle("POST "+Prefix+"api/{action}", s.requireSupervisor(http.HandlerFunc(s.handleAction)))
	// Anything else under api/ answers in JSON, not with the page.
	m.HandleFunc("GET "+Prefix+"api/", notFound)
	m.HandleFunc("POST "+Prefix+"api/", notFound)
	m.Handle("GET "+Prefix+"ws", s.requireSupervisor(http.HandlerFunc(s.handleFeed)))
	s.mux = m
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	// The page loads only its own files and talks only to its own host: an injected caller
	// number or IVR summary can never run as script.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// Close stops the feed's poller and ends every feed connection. It waits for the poller to
// return or ctx to end.
func (s *Server) Close(ctx context.Context) error {
	return s.hub.close(ctx)
}

// noCache makes browsers revalidate the page on each load, so an upgrade is seen at once; the
// files are small and served from memory.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
