package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/audit"
)

// Sentinel errors the web servers branch on.
var (
	// ErrBadCredentials: an unknown or disabled id, or a wrong password; the caller cannot tell which.
	ErrBadCredentials = errors.New("account: bad credentials")
	// ErrThrottled: too many failed logins (see ThrottledError).
	ErrThrottled = errors.New("account: throttled")
	// ErrBusy: too many logins being checked at once; try again shortly.
	ErrBusy = errors.New("account: busy")
	// ErrForbidden: the account's role may not do this (an agent on the supervisor page).
	ErrForbidden = errors.New("account: not allowed for this role")
	// ErrNoSession: the session is unknown, expired, revoked, or its account is gone or disabled.
	ErrNoSession = errors.New("account: no session")
)

// Config tunes a Service; zero fields take the defaults in Limits and SessionLimits.
type Config struct {
	Limits   Limits
	Sessions SessionLimits
	// Recheck is how often an open page's socket checks that its session still stands. Default 30 s.
	Recheck time.Duration
	// TrustedProxies are the addresses of reverse proxies whose X-Forwarded-For is believed. Empty:
	// the peer's address is the client's, whatever headers say.
	TrustedProxies []netip.Prefix
	// RefusedPasswords never log in, whatever the account's hash: outside a demo, the published
	// demo password, however its hash was made. Such a login is answered as a wrong password (so
	// it tells a guesser nothing) and logged as an error naming the account, for the operator.
	RefusedPasswords []string
	// Now is the clock (tests move it); time.Now when nil.
	Now func() time.Time
}

// Service checks logins and keeps sessions for both pages.
type Service struct {
	rdb    redis.UniversalClient
	prefix string
	dir    atomic.Pointer[Directory] // swapped whole by Replace
	lim    Limits
	sl     SessionLimits
	cfg    Config
	th     *throttle
	rec    audit.Recorder
	log    *slog.Logger
	now    func() time.Time

	compare func(hash, password []byte) error // bcrypt; tests watch it
	sem     chan struct{}
	waiting atomic.Int32

	mu             sync.Mutex
	listeners      []func(Revocation)
	subscribed     chan struct{}
	subscribedOnce sync.Once
}

// New returns a Service over rdb whose keys start with prefix (the center's, so they share its hash
// tag). rec receives logins and logouts; nil records nothing.
func New(rdb redis.UniversalClient, prefix string, dir *Directory, cfg Config, rec audit.Recorder, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = 30 * time.Second
	}
	s := &Service{
		rdb: rdb, prefix: prefix, cfg: cfg, rec: rec, log: log, now: cfg.Now,
		lim: cfg.Limits.withDefaults(), sl: cfg.Sessions.withDefaults(),
		compare:    bcrypt.CompareHashAndPassword,
		subscribed: make(chan struct{}),
	}
	if err := withDummy(dir); err != nil {
		return nil, err
	}
	s.dir.Store(dir)
	s.th = &throttle{rdb: rdb, prefix: prefix, lim: s.lim}
	s.sem = make(chan struct{}, s.lim.Concurrency)
	return s, nil
}

// withDummy gives dir its dummy hash: a password nobody knows, hashed at the directory's usual
// cost, so that an unknown id costs the same comparison as a known one, also after a reload that
// changes the usual cost.
func withDummy(dir *Directory) error {
	if dir.dummy != nil {
		return nil
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), dir.cost)
	if err != nil {
		return fmt.Errorf("account: dummy hash: %w", err)
	}
	dir.dummy = dummy
	return nil
}

// Recheck is how often an open socket re-checks its session.
func (s *Service) Recheck() time.Duration { return s.cfg.Recheck }

// Lookup returns the directory's account.
func (s *Service) Lookup(id string) (Account, bool) { return s.dir.Load().Lookup(id) }

// Remote is the client's address: the peer's, or, when the peer is a trusted proxy, the nearest
// address in X-Forwarded-For that is not one (addresses further left are the client's to forge).
func (s *Service) Remote(r *http.Request) string {
	peer := hostOf(r.RemoteAddr)
	ip, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(ip) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled entry: trust nothing beyond it
		}
		client = hop.Unmap().String()
		if !s.trusted(hop) {
			break
		}
	}
	return client
}

// TrustedProxies are the reverse proxies whose X-Forwarded-For Remote believes.
func (s *Service) TrustedProxies() []netip.Prefix { return slices.Clone(s.cfg.TrustedProxies) }

func (s *Service) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// Login checks id and password for the request's client and opens a session on page. It returns
// the account, the token for the cookie and the session. Errors: ErrBadCredentials (unknown,
// disabled or wrong: one answer), a *ThrottledError (before any password check), ErrForbidden (the
// password was right but the role may not use page; no session), ErrBusy, or a storage error.
// Every outcome is audited.
func (s *Service) Login(ctx context.Context, r *http.Request, page Page, id, password string) (Account, string, Session, error) {
	remote := s.Remote(r)
	entry := audit.Entry{Actor: id, Remote: remote, Action: "login", Target: string(page)}
	acct, err := s.check(ctx, id, password, remote)
	if err != nil {
		switch {
		case errors.Is(err, ErrThrottled):
			entry.Action, entry.Outcome = "login.throttled", "refused"
			entry.Detail = map[string]string{"error": err.Error()}
		case errors.Is(err, ErrBadCredentials):
			entry.Action, entry.Outcome = "login.failed", "refused"
		default:
			entry.Action, entry.Outcome = "login.failed", "failed"
			entry.Detail = map[string]string{"error": err.Error()}
		}
		s.record(ctx, entry)
		return Account{}, "", Session{}, err
	}
	entry.Role = string(acct.Role)
	if page == PageSupervisor && !acct.Role.Supervises() {
		entry.Action, entry.Outcome = "login.refused", "refused"
		entry.Detail = map[string]string{"reason": "the supervisor page is for supervisors and administrators"}
		s.record(ctx, entry)
		return Account{}, "", Session{}, fmt.Errorf("%w: %s is an %s", ErrForbidden, acct.ID, acct.Role)
	}
	token, sess, err := s.open(ctx, acct, page, remote)
	if err != nil {
		entry.Outcome, entry.Detail = "failed", map[string]string{"error": err.Error()}
		s.record(ctx, entry)
		return Account{}, "", Session{}, err
	}
	entry.Detail = map[string]string{"session": sess.ID[:12]}
	s.record(ctx, entry)
	return acct, token, sess, nil
}

// check is the password check: throttle, one bcrypt comparison whatever the id, count the outcome.
func (s *Service) check(ctx context.Context, id, password, remote string) (Account, error) {
	now := s.now()
	if err := s.th.check(ctx, now, id, remote); err != nil {
		return Account{}, err
	}
	dir := s.dir.Load()
	acct, known := dir.Lookup(id)
	hash := dir.dummy
	usable := false
	if known {
		if _, err := bcrypt.Cost([]byte(acct.PasswordHash)); err == nil {
			hash, usable = []byte(acct.PasswordHash), true
		}
	}
	match, err := s.bcrypt(ctx, hash, password)
	if err != nil {
		return Account{}, err
	}
	refused := match && s.refused(password)
	if refused {
		s.log.Error("account: a login with a refused password (the published demo password): give the account its own (hotline hash-password)", "account", id)
	}
	if !match || !known || !usable || acct.Disabled || refused {
		if err := s.th.fail(ctx, now, id, remote); err != nil {
			return Account{}, err
		}
		return Account{}, ErrBadCredentials
	}
	if err := s.th.succeed(ctx, id, remote); err != nil {
		s.log.Warn("account: clear failed logins", "account", id, "err", err)
	}
	return acct, nil
}

func (s *Service) refused(password string) bool {
	for _, p := range s.cfg.RefusedPasswords {
		if subtle.ConstantTimeCompare([]byte(p), []byte(password)) == 1 {
			return true
		}
	}
	return false
}

// bcrypt compares under the semaphore: at most Concurrency at once, MaxWaiting more queued.
func (s *Service) bcrypt(ctx context.Context, hash []byte, password string) (bool, error) {
	if int(s.waiting.Add(1)) > s.lim.Concurrency+s.lim.MaxWaiting {
		s.waiting.Add(-1)
		return false, ErrBusy
	}
	defer s.waiting.Add(-1)
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	defer func() { <-s.sem }()
	return s.compare(hash, []byte(password)) == nil, nil
}

// Authenticate returns the account and session a cookie's token stands for, and marks it used.
func (s *Service) Authenticate(ctx context.Context, token string) (Account, Session, error) {
	if token == "" {
		return Account{}, Session{}, ErrNoSession
	}
	return s.Check(ctx, sessionID(token))
}

// Check is Authenticate by session id, for an open socket's re-check. The account is read from the
// directory each time: a role changed or an account disabled in the center file applies at once.
func (s *Service) Check(ctx context.Context, sid string) (Account, Session, error) {
	sess, err := s.load(ctx, sid)
	if err != nil {
		return Account{}, Session{}, err
	}
	acct, ok := s.dir.Load().Lookup(sess.Account)
	if !ok || acct.Disabled {
		if err := s.revoke(ctx, Revocation{Account: sess.Account, Reason: "account disabled"}); err != nil {
			s.log.Warn("account: revoke a disabled account's sessions", "account", sess.Account, "err", err)
		}
		return Account{}, Session{}, fmt.Errorf("%w: account disabled", ErrNoSession)
	}
	s.touch(ctx, &sess)
	return acct, sess, nil
}

// Logout ends the token's session and audits it.
func (s *Service) Logout(ctx context.Context, r *http.Request, token string) error {
	acct, sess, err := s.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	if err := s.revoke(ctx, Revocation{Account: acct.ID, Sessions: []string{sess.ID}, Reason: "logged out"}); err != nil {
		return err
	}
	s.record(ctx, audit.Entry{Actor: acct.ID, Role: string(acct.Role), Remote: s.Remote(r), Action: "logout", Target: string(sess.Page)})
	return nil
}

// RevokeAccount ends every session of the account on every instance: their sockets close, their
// cookies stop working. A supervisor's forced logout comes here.
func (s *Service) RevokeAccount(ctx context.Context, accountID, reason string) error {
	return s.revoke(ctx, Revocation{Account: accountID, Reason: reason})
}

// Record writes an audit entry for an authenticated account acting through request r.
func (s *Service) Record(ctx context.Context, r *http.Request, acct Account, e audit.Entry) {
	e.Actor, e.Role, e.Remote = acct.ID, string(acct.Role), s.Remote(r)
	s.record(ctx, e)
}

func (s *Service) record(ctx context.Context, e audit.Entry) {
	if s.rec == nil {
		return
	}
	if e.Actor == "" {
		e.Actor = "(none)"
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	// The act has happened; a failed write is logged by the recorder and must not undo it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = s.rec.Record(ctx, e)
}

// RetryAfter is the Retry-After header's value for a throttled login.
func RetryAfter(err error) string {
	var te *ThrottledError
	if errors.As(err, &te) {
		return retryAfterSeconds(te.RetryAfter)
	}
	return "1"
}

// Overloaded says a login failed because the server was too slow (too many logins at once, a
// deadline passed, storage timed out), not because it was refused: the client should try again.
func Overloaded(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrBusy) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
