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

	"github.com/hotline-cc/hotline/account"
)

//go:embed web
var webFS embed.FS

// ServerConfig tunes the agent page's server.
type ServerConfig struct {
	// Accounts checks logins and keeps sessions (in Redis, shared with the supervisor page and other
	// instances). Nil refuses every login (a server used for signaling tests only).
	Accounts *account.Service
	// SecureCookie marks the session cookie Secure even when the request did not come over TLS
	// (TLS ended at a proxy). Requests over TLS get it anyway.
	SecureCookie bool
	// StatsInterval is how often the page gets its leg's quality; 2 s when zero, never when
	// negative.
	StatsInterval time.Duration
	// RequestTimeout bounds each Desk call and each negotiation; 10 s when zero.
	RequestTimeout time.Duration
	// OnPages, if set, hears when an account's first page here opens (open true: before the page
	// is greeted) and when its last one here closes. It must not block for long.
	OnPages func(accountID string, open bool)
}

const (
	cookieName   = "hotline_agent"
	maxLoginBody = 4 << 10
	maxWSMessage = 64 << 10
	sendQueueLen = 64
)

// Server serves the agent page under /agent/: the page and its static files, login and logout,
// /agent/me and the signaling WebSocket /agent/ws. It is an http.Handler; mount it at /agent/.
//
// Any account may log in: an agent gets the desk; a supervisor or an administrator gets a softphone
// for monitoring only (the audio of the calls they listen to, whisper into or barge into comes
// there), with no state and no calls of their own: they never become an ACD agent.
type Server struct {
	gw   *Gateway
	desk Desk
	cfg  ServerConfig
	log  *slog.Logger
	mux  *http.ServeMux

	mu     sync.Mutex
	conns  map[string]map[*wsConn]struct{} // by account id
	replay map[string]*replayLog           // by agent id
	closed bool
}

// NewServer builds the agent page's server. gw may be nil (no audio: signaling only).
func NewServer(gw *Gateway, desk Desk, cfg ServerConfig, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
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
	if cfg.Accounts != nil {
		// A revocation's listener must not block, and closing a page reaches OnPages, which writes
		// presence to Redis: a stuck write would hold every later revocation, on every account.
		cfg.Accounts.OnRevoke(func(r account.Revocation) { go s.revoked(r) })
	}
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

// errNoAccounts: the server was built without an account service.
var errNoAccounts = errors.New("softphone: no account service")

// session returns the request's account and session.
func (s *Server) session(r *http.Request) (account.Account, account.Session, error) {
	if s.cfg.Accounts == nil {
		return account.Account{}, account.Session{}, errNoAccounts
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return account.Account{}, account.Session{}, account.ErrNoSession
	}
	return s.cfg.Accounts.Authenticate(r.Context(), c.Value)
}

// sessionFailed answers a request whose session did not check out: 401 when there is none, 503 when
// the store could not say.
func (s *Server) sessionFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, account.ErrNoSession) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not logged in"})
		return
	}
	s.log.Error("check session", "err", err)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "sessions unavailable"})
}

func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	acct, _, err := s.session(r)
	if err != nil {
		s.sessionFailed(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	profile, err := s.desk.Profile(ctx, acct)
	if err != nil {
		s.log.Error("profile", "account", acct.ID, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "profile unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent": profile})
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

// maxPassword bounds what bcrypt is given (it reads 72 bytes; more is a denial-of-service attempt).
const maxPassword = 256

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
	if in.Agent == "" || len(in.Agent) > maxIDLen || in.Password == "" || len(in.Password) > maxPassword {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "agent and password required"})
		return
	}
	if s.cfg.Accounts == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "login unavailable"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	acct, token, sess, err := s.cfg.Accounts.Login(ctx, r, account.PageAgent, in.Agent, in.Password)
	switch {
	case err == nil:
	case errors.Is(err, account.ErrBadCredentials):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad credentials"})
		return
	case errors.Is(err, account.ErrThrottled):
		w.Header().Set("Retry-After", account.RetryAfter(err))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many failed logins: try again later"})
		return
	case account.Overloaded(err):
		// An overloaded server answers late, not wrongly: the page tries again.
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "busy: try again"})
		return
	default:
		s.log.Error("login", "agent", in.Agent, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "login failed"})
		return
	}
	profile, err := s.desk.Profile(ctx, acct)
	if err != nil {
		s.log.Error("profile", "account", acct.ID, "err", err)
		_ = s.cfg.Accounts.Logout(ctx, r, token)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "login failed"})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: token, Path: "/agent/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.cfg.SecureCookie || r.TLS != nil,
	})
	s.log.Info("logged in", "account", acct.ID, "role", acct.Role, "session", sess.ID[:12])
	writeJSON(w, http.StatusOK, map[string]any{"agent": profile})
}

func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin"})
		return
	}
	acct, _, err := s.session(r)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/agent/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookie || r.TLS != nil})
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]string{})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if acct.Role == account.RoleAgent {
		if err := s.desk.SetState(ctx, acct.ID, StateLoggedOut, ""); err != nil {
			s.log.Warn("logout state", "agent", acct.ID, "err", err)
		}
	}
	c, _ := r.Cookie(cookieName)
	// The revocation closes this session's pages, and the audio when it was the last.
	if err := s.cfg.Accounts.Logout(ctx, r, c.Value); err != nil {
		s.log.Warn("logout", "account", acct.ID, "err", err)
	}
	s.log.Info("logged out", "account", acct.ID)
	writeJSON(w, http.StatusOK, map[string]string{})
}

// revoked closes the pages of revoked sessions (a logout, a forced logout, the per-account bound,
// a disabled account), and the account's audio when none of its pages is left.
func (s *Server) revoked(r account.Revocation) {
	s.mu.Lock()
	var cs []*wsConn
	for c := range s.conns[r.Account] {
		if r.Covers(c.acct.ID, c.sid) {
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.close("session ended: " + r.Reason)
		s.unregister(c)
	}
	if s.gw != nil && !s.hasConns(r.Account) {
		s.gw.Disconnect(r.Account)
	}
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
