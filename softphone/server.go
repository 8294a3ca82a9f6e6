package softphone

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

//go:embed web
var webFS embed.FS

// ServerConfig tunes the agent page's server.
type ServerConfig struct {
	// Sessions keeps logged-in agents; nil keeps them in memory for 12 hours.
	Sessions SessionStore
	// SecureCookie marks the session cookie Secure even when the request did not come over TLS
	// (TLS ended at a proxy). Requests over TLS get it anyway.
	SecureCookie bool
	// StatsInterval is how often the page gets its leg's quality; 2 s when zero, never when
	// negative.
	StatsInterval time.Duration
	// RequestTimeout bounds each Desk call and each negotiation; 10 s when zero.
	RequestTimeout time.Duration
}

const (
	cookieName   = "hotline_agent"
	maxLoginBody = 4 << 10
	maxWSMessage = 64 << 10
	sendQueueLen = 64
)

// Server serves the agent page under /agent/: the page and its static files, login and logout,
// /agent/me and the signaling WebSocket /agent/ws. It is an http.Handler; mount it at /agent/.
type Server struct {
	gw   *Gateway
	desk Desk
	cfg  ServerConfig
	log  *slog.Logger
	mux  *http.ServeMux

	mu     sync.Mutex
	conns  map[string]map[*wsConn]struct{} // by agent id
	replay map[string]*replayLog           // by agent id
	closed bool
}

// NewServer builds the agent page's server. gw may be nil (no audio: signaling only).
func NewServer(gw *Gateway, desk Desk, cfg ServerConfig, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	if cfg.Sessions == nil {
		cfg.Sessions = NewMemorySessions(0)
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = 2 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	s := &Server{
		gw: gw, desk: desk, cfg: cfg, log: log,
		conns:  make(map[string]map[*wsConn]struct{}),
		replay: make(map[string]*replayLog),
	}
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /agent/{$}", s.servePage)
	s.mux.Handle("GET /agent/static/", http.StripPrefix("/agent/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /agent/me", s.serveMe)
	s.mux.HandleFunc("POST /agent/login", s.serveLogin)
	s.mux.HandleFunc("POST /agent/logout", s.serveLogout)
	s.mux.HandleFunc("GET /agent/ws", s.serveWS)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	page, err := webFS.ReadFile("web/index.html")
	if err != nil {
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(page)
}

// session returns the request's agent and session token.
func (s *Server) session(r *http.Request) (Agent, string, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return Agent{}, "", false
	}
	a, ok := s.cfg.Sessions.Get(c.Value)
	return a, c.Value, ok
}

func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	a, _, ok := s.session(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not logged in"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent": a})
}

// sameOrigin refuses cross-site form posts on top of SameSite=Strict: a browser sends Origin on
// every POST.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser, or a very old one: the cookie rules still hold
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin"})
		return
	}
	var in struct {
		Agent    string `json:"agent"`
		Password string `json:"password"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
			return
		}
	} else {
		in.Agent, in.Password = r.PostFormValue("agent"), r.PostFormValue("password")
	}
	if in.Agent == "" || len(in.Agent) > maxIDLen || in.Password == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "agent and password required"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	agent, err := s.desk.Login(ctx, in.Agent, in.Password)
	if err != nil {
		if errors.Is(err, ErrBadCredentials) {
			s.log.Info("login refused", "agent", in.Agent)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad credentials"})
			return
		}
		s.log.Error("login", "agent", in.Agent, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "login failed"})
		return
	}
	if agent.ID == "" {
		agent.ID = in.Agent
	}
	token, err := s.cfg.Sessions.Create(agent)
	if err != nil {
		s.log.Error("create session", "agent", agent.ID, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "login failed"})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: token, Path: "/agent/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.cfg.SecureCookie || r.TLS != nil,
	})
	s.log.Info("agent logged in", "agent", agent.ID)
	writeJSON(w, http.StatusOK, map[string]any{"agent": agent})
}

func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin"})
		return
	}
	agent, token, ok := s.session(r)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/agent/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookie || r.TLS != nil})
	if !ok {
		writeJSON(w, http.StatusOK, map[string]string{})
		return
	}
	s.cfg.Sessions.Delete(token)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if err := s.desk.SetState(ctx, agent.ID, StateLoggedOut, ""); err != nil {
		s.log.Warn("logout state", "agent", agent.ID, "err", err)
	}
	s.closeSession(agent.ID, token)
	if s.gw != nil && !s.hasConns(agent.ID) {
		s.gw.Disconnect(agent.ID)
	}
	s.log.Info("agent logged out", "agent", agent.ID)
	writeJSON(w, http.StatusOK, map[string]string{})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Notify pushes msg (Ringing, Connected(...), Held(...), Ended, StateChanged, WrapUpStarted, ...)
// to every page the agent has open. Call-related messages are also kept until the call's wrap-up
// ends, and replayed to a page that connects later (a reload), so it shows the call again.
func (s *Server) Notify(agentID string, msg any) error {
	m, ok := msg.(Message)
	if !ok {
		return ErrNotMessage
	}
	b, err := encodeMessage(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	rl := s.replay[agentID]
	if rl == nil {
		rl = &replayLog{}
		s.replay[agentID] = rl
	}
	rl.remember(m, b)
	if rl.empty() {
		delete(s.replay, agentID)
	}
	conns := make([]*wsConn, 0, len(s.conns[agentID]))
	for c := range s.conns[agentID] {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.push(b)
	}
	return nil
}

// Close closes every page's WebSocket.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var all []*wsConn
	for _, set := range s.conns {
		for c := range set {
			all = append(all, c)
		}
	}
	s.mu.Unlock()
	for _, c := range all {
		c.close("server closing")
	}
	return nil
}
