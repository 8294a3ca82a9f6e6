package dashboard

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const cookieName = "hotline_supervisor"

// maxSessions bounds memory if someone scripts logins; past it, expired sessions are swept and
// then the oldest is dropped.
const maxSessions = 10000

type session struct {
	supervisor string
	expires    time.Time
}

// sessions maps random cookie tokens to logged-in supervisors.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: make(map[string]session)}
}

func (ss *sessions) create(supervisor string) (token string, expires time.Time) {
	token = rand.Text() // 26 base32 characters, 130 bits
	expires = ss.now().Add(ss.ttl)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.sweepLocked()
	}
	ss.m[token] = session{supervisor: supervisor, expires: expires}
	return token, expires
}

func (ss *sessions) sweepLocked() {
	now := ss.now()
	var oldest string
	var oldestExp time.Time
	for t, s := range ss.m {
		if now.After(s.expires) {
			delete(ss.m, t)
			continue
		}
		if oldest == "" || s.expires.Before(oldestExp) {
			oldest, oldestExp = t, s.expires
		}
	}
	if len(ss.m) >= maxSessions {
		delete(ss.m, oldest)
	}
}

func (ss *sessions) lookup(token string) (session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[token]
	if !ok {
		return session{}, false
	}
	if ss.now().After(s.expires) {
		delete(ss.m, token)
		return session{}, false
	}
	return s, true
}

func (ss *sessions) remove(token string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, token)
}

// authRequired reports whether the Server checks a password (false: open access).
func (s *Server) authRequired() bool { return s.cfg.PasswordHash != "" }

// currentSession returns the request's session, if its cookie names a live one.
func (s *Server) currentSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	return s.sessions.lookup(c.Value)
}

// requireAuth lets a request through when access is open or it carries a live session.
func (s *Server) requireAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.authRequired() {
			if _, ok := s.currentSession(r); !ok {
				writeError(w, http.StatusUnauthorized, "login required")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// checkPassword compares against the bcrypt hash. bcrypt's cost is the brute-force brake; the
// semaphore keeps a flood of logins from taking every CPU from the feed.
func (s *Server) checkPassword(ctx context.Context, password string) (bool, error) {
	if s.authErr != nil {
		return false, nil
	}
	select {
	case s.bcrypts <- struct{}{}:
		defer func() { <-s.bcrypts }()
	case <-ctx.Done():
		return false, fmt.Errorf("waiting to check a password: %w", ctx.Err())
	}
	return bcrypt.CompareHashAndPassword([]byte(s.cfg.PasswordHash), []byte(password)) == nil, nil
}

type loginRequest struct {
	Supervisor string `json:"supervisor"`
	Password   string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		status, reason := s.statusOf(err)
		writeError(w, status, reason)
		return
	}
	if req.Supervisor == "" {
		writeError(w, http.StatusBadRequest, "supervisor: required")
		return
	}
	if len(req.Supervisor) > 64 {
		writeError(w, http.StatusBadRequest, "supervisor: too long")
		return
	}
	if s.authRequired() {
		ok, err := s.checkPassword(r.Context(), req.Password)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "busy, try again")
			return
		}
		if !ok {
			s.log.Warn("dashboard: login failed", "supervisor", req.Supervisor, "remote", r.RemoteAddr)
			writeError(w, http.StatusUnauthorized, "wrong password")
			return
		}
	}
	token, expires := s.sessions.create(req.Supervisor)
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    token,
		Path:     Prefix,
		Expires:  expires,
		HttpOnly: true,
		Secure:   s.cfg.SecureCookie || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	s.log.Info("dashboard: login", "supervisor", req.Supervisor, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, sessionInfo{AuthRequired: s.authRequired(), Authenticated: true, Supervisor: req.Supervisor})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookie || r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, sessionInfo{AuthRequired: s.authRequired()})
}

type sessionInfo struct {
	AuthRequired  bool   `json:"authRequired"`
	Authenticated bool   `json:"authenticated"`
	Supervisor    string `json:"supervisor,omitempty"`
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	info := sessionInfo{AuthRequired: s.authRequired()}
	if ss, ok := s.currentSession(r); ok {
		info.Authenticated, info.Supervisor = true, ss.supervisor
	}
	writeJSON(w, http.StatusOK, info)
}
