package dashboard

import (
	"context"
	"errors"
	"net/http"

	"github.com/hotline-cc/hotline/account"
)

const cookieName = "hotline_supervisor"

// maxPassword bounds what bcrypt is given (it reads 72 bytes).
const maxPassword = 256

type actorKey struct{}

// actor is the authenticated account of a request that passed requireSupervisor.
func actor(r *http.Request) account.Account {
	a, _ := r.Context().Value(actorKey{}).(account.Account)
	return a
}

type sessionKey struct{}

func sessionOf(r *http.Request) account.Session {
	s, _ := r.Context().Value(sessionKey{}).(account.Session)
	return s
}

// currentSession returns the account and session the request's cookie stands for.
func (s *Server) currentSession(r *http.Request) (account.Account, account.Session, error) {
	if s.cfg.Accounts == nil {
		return account.Account{}, account.Session{}, account.ErrNoSession // fail closed
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return account.Account{}, account.Session{}, account.ErrNoSession
	}
	return s.cfg.Accounts.Authenticate(r.Context(), c.Value)
}

// requireSupervisor lets a request through only with a live session of a supervisor or an
// administrator: 401 without one, 403 for any other role (an agent's session). The handler acts as
// that account, never as an id the request names.
func (s *Server) requireSupervisor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, sess, err := s.currentSession(r)
		switch {
		case errors.Is(err, account.ErrNoSession):
			writeError(w, http.StatusUnauthorized, "login required")
			return
		case err != nil:
			s.log.Error("dashboard: check session", "err", err)
			writeError(w, http.StatusServiceUnavailable, "sessions unavailable")
			return
		case !acct.Role.Supervises():
			writeError(w, http.StatusForbidden, "the supervisor page is for supervisors and administrators")
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), actorKey{}, acct), sessionKey{}, sess)
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

type loginRequest struct {
	Account  string `json:"account"`
	Password string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		status, reason := s.statusOf(err)
		writeError(w, status, reason)
		return
	}
	switch {
	case req.Account == "" || req.Password == "":
		writeError(w, http.StatusBadRequest, "account and password: required")
		return
	case len(req.Account) > 64 || len(req.Password) > maxPassword:
		writeError(w, http.StatusBadRequest, "account or password: too long")
		return
	case s.cfg.Accounts == nil:
		writeError(w, http.StatusServiceUnavailable, "login unavailable")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	acct, token, _, err := s.cfg.Accounts.Login(ctx, r, account.PageSupervisor, req.Account, req.Password)
	switch {
	case err == nil:
	case errors.Is(err, account.ErrBadCredentials):
		writeError(w, http.StatusUnauthorized, "wrong account or password")
		return
	case errors.Is(err, account.ErrThrottled):
		w.Header().Set("Retry-After", account.RetryAfter(err))
		writeError(w, http.StatusTooManyRequests, "too many failed logins: try again later")
		return
	case errors.Is(err, account.ErrForbidden):
		writeError(w, http.StatusForbidden, "the supervisor page is for supervisors and administrators")
		return
	case account.Overloaded(err):
		// An overloaded server answers late, not wrongly: the client tries again.
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "busy, try again")
		return
	default:
		s.log.Error("dashboard: login", "err", err)
		writeError(w, http.StatusInternalServerError, "login failed")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    token,
		Path:     Prefix,
		HttpOnly: true,
		Secure:   s.cfg.SecureCookie || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, infoOf(acct))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil && s.cfg.Accounts != nil {
		if err := s.cfg.Accounts.Logout(r.Context(), r, c.Value); err != nil && !errors.Is(err, account.ErrNoSession) {
			s.log.Warn("dashboard: logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookie || r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, sessionInfo{})
}

// sessionInfo tells the page who is logged in and what they may do.
type sessionInfo struct {
	Authenticated bool   `json:"authenticated"`
	Account       string `json:"account,omitempty"`
	Name          string `json:"name,omitempty"`
	Role          string `json:"role,omitempty"`
	// CanAnnounce: the announcement switch is an administrator's.
	CanAnnounce bool `json:"canAnnounce"`
}

func infoOf(a account.Account) sessionInfo {
	return sessionInfo{Authenticated: true, Account: a.ID, Name: a.Name, Role: string(a.Role), CanAnnounce: allowed("announcement", a.Role)}
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	acct, _, err := s.currentSession(r)
	if err != nil || !acct.Role.Supervises() {
		writeJSON(w, http.StatusOK, sessionInfo{})
		return
	}
	writeJSON(w, http.StatusOK, infoOf(acct))
}

// adminOnly are the actions only an administrator may take: what every caller hears is the center's
// configuration, not a shift's decision.
var adminOnly = map[string]bool{"announcement": true}

func allowed(action string, r account.Role) bool {
	if adminOnly[action] {
		return r == account.RoleAdministrator
	}
	return r.Supervises()
}

// revoked ends the feeds of revoked sessions.
func (s *Server) revoked(r account.Revocation) {
	s.feedsMu.Lock()
	var ends []context.CancelFunc
	for f := range s.feeds {
		if r.Covers(f.account, f.sid) {
			ends = append(ends, f.end)
		}
	}
	s.feedsMu.Unlock()
	for _, end := range ends {
		end()
	}
}
