package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SessionLimits bound how long and how many sessions an account keeps.
type SessionLimits struct {
	// PerAccount sessions at most (both pages, every browser); a login past it revokes the oldest.
	PerAccount int
	// Idle ends a session nobody used for that long. An open page keeps its session alive through its
	// socket's periodic re-check.
	Idle time.Duration
	// Lifetime ends a session that long after its login, used or not: a shift, then log in again.
	Lifetime time.Duration
}

func (l SessionLimits) withDefaults() SessionLimits {
	if l.PerAccount <= 0 {
		l.PerAccount = 5
	}
	if l.Idle <= 0 {
		l.Idle = 30 * time.Minute
	}
	if l.Lifetime <= 0 {
		l.Lifetime = 12 * time.Hour
	}
	return l
}

// Page is where a session was opened.
type Page string

// The two pages.
const (
	PageAgent      Page = "agent"
	PageSupervisor Page = "supervisor"
)

// Session is one login. ID is the SHA-256 of the cookie's token: what Redis, logs and sockets know.
type Session struct {
	ID      string
	Account string
	Page    Page
	Remote  string
	Created time.Time
	Seen    time.Time
}

// Revocation tells every instance to close sessions: all of Account's when Sessions is empty.
type Revocation struct {
	Account  string   `json:"account"`
	Sessions []string `json:"sessions,omitempty"`
	Reason   string   `json:"reason"`
}

// Covers reports whether the revocation ends session sid of account.
func (r Revocation) Covers(account, sid string) bool {
	return r.Account == account && (len(r.Sessions) == 0 || slices.Contains(r.Sessions, sid))
}

// sessionID is what Redis keeps of a token.
func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (s *Service) sessionKey(sid string) string       { return s.prefix + "session:" + sid }
func (s *Service) accountIndex(account string) string { return s.prefix + "sessions:" + account }
func (s *Service) revokeChannel() string              { return s.prefix + "sessions:revoked" }

// gcTTL is how long Redis keeps a session key untouched: past the idle time it is dead anyway. The
// expiry is only housekeeping; the checks use the stored times and the service's clock.
func (s *Service) gcTTL() time.Duration { return min(s.sl.Idle, s.sl.Lifetime) + time.Minute }

// open starts a session and enforces the per-account bound.
func (s *Service) open(ctx context.Context, acct Account, page Page, remote string) (string, Session, error) {
	token, err := newToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("account: session token: %w", err)
	}
	now := s.now()
	sess := Session{ID: sessionID(token), Account: acct.ID, Page: page, Remote: remote, Created: now, Seen: now}
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	idx := s.accountIndex(acct.ID)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.sessionKey(sess.ID), "account", acct.ID, "page", string(page), "remote", remote, "created", ms, "seen", ms)
	pipe.PExpire(ctx, s.sessionKey(sess.ID), s.gcTTL())
	pipe.ZAdd(ctx, idx, redis.Z{Score: float64(now.UnixMilli()), Member: sess.ID})
	pipe.PExpire(ctx, idx, s.sl.Lifetime+time.Minute)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", Session{}, fmt.Errorf("account: store session: %w", err)
	}
	if err := s.bound(ctx, acct.ID); err != nil {
		s.log.Warn("account: bound sessions", "account", acct.ID, "err", err)
	}
	return token, sess, nil
}

// bound drops the account's dead sessions from its index and revokes the oldest live ones past
// PerAccount. Two logins at once may both see N+1 and revoke one each: the bound errs on the safe
// side.
func (s *Service) bound(ctx context.Context, account string) error {
	idx := s.accountIndex(account)
	sids, err := s.rdb.ZRange(ctx, idx, 0, -1).Result() // oldest first
	if err != nil {
		return err
	}
	var live []string
	for _, sid := range sids {
		if _, err := s.load(ctx, sid); err == nil {
			live = append(live, sid)
		} else if errors.Is(err, ErrNoSession) {
			s.rdb.ZRem(ctx, idx, sid)
		} else {
			return err
		}
	}
	if extra := len(live) - s.sl.PerAccount; extra > 0 {
		return s.revoke(ctx, Revocation{Account: account, Sessions: live[:extra], Reason: "session limit"})
	}
	return nil
}

// load reads a session by id and checks its times; an expired one is deleted. It does not touch.
func (s *Service) load(ctx context.Context, sid string) (Session, error) {
	vals, err := s.rdb.HGetAll(ctx, s.sessionKey(sid)).Result()
	if err != nil {
		return Session{}, fmt.Errorf("account: read session: %w", err)
	}
	if len(vals) == 0 {
		return Session{}, ErrNoSession
	}
	created, _ := strconv.ParseInt(vals["created"], 10, 64)
	seen, _ := strconv.ParseInt(vals["seen"], 10, 64)
	sess := Session{ID: sid, Account: vals["account"], Page: Page(vals["page"]), Remote: vals["remote"],
		Created: time.UnixMilli(created), Seen: time.UnixMilli(seen)}
	now := s.now()
	if now.Sub(sess.Created) >= s.sl.Lifetime || now.Sub(sess.Seen) >= s.sl.Idle || sess.Account == "" {
		pipe := s.rdb.TxPipeline()
		pipe.Del(ctx, s.sessionKey(sid))
		pipe.ZRem(ctx, s.accountIndex(sess.Account), sid)
		_, _ = pipe.Exec(ctx)
		return Session{}, fmt.Errorf("%w: expired", ErrNoSession)
	}
	return sess, nil
}

// touch records use of a live session. Writes are spaced (a twentieth of the idle time) so a busy
// page does not write Redis on every request.
func (s *Service) touch(ctx context.Context, sess *Session) {
	now := s.now()
	if now.Sub(sess.Seen) < s.sl.Idle/20 {
		return
	}
	sess.Seen = now
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.sessionKey(sess.ID), "seen", strconv.FormatInt(now.UnixMilli(), 10))
	pipe.PExpire(ctx, s.sessionKey(sess.ID), s.gcTTL())
	if _, err := pipe.Exec(ctx); err != nil {
		s.log.Warn("account: touch session", "account", sess.Account, "err", err)
	}
}

// revoke deletes sessions (all of the account's when r.Sessions is empty), tells this instance's
// listeners at once and every instance through pub/sub.
func (s *Service) revoke(ctx context.Context, r Revocation) error {
	idx := s.accountIndex(r.Account)
	sids := r.Sessions
	if len(sids) == 0 {
		var err error
		if sids, err = s.rdb.ZRange(ctx, idx, 0, -1).Result(); err != nil {
			return fmt.Errorf("account: list sessions: %w", err)
		}
	}
	pipe := s.rdb.TxPipeline()
	for _, sid := range sids {
		pipe.Del(ctx, s.sessionKey(sid))
		pipe.ZRem(ctx, idx, sid)
	}
	if len(sids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("account: revoke sessions: %w", err)
		}
	}
	s.deliver(r)
	b, _ := json.Marshal(r)
	if err := s.rdb.Publish(ctx, s.revokeChannel(), b).Err(); err != nil {
		// The sessions are gone from Redis: other instances' sockets find out at their next re-check.
		s.log.Warn("account: publish revocation", "account", r.Account, "err", err)
	}
	return nil
}

// OnRevoke registers fn to hear of every revocation, this instance's and the others'. The web
// servers close the matching sockets and audio. fn must not block.
func (s *Service) OnRevoke(fn func(Revocation)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

func (s *Service) deliver(r Revocation) {
	s.mu.Lock()
	fns := slices.Clone(s.listeners)
	s.mu.Unlock()
	for _, fn := range fns {
		fn(r)
	}
}

// Subscribed is closed once Run listens: a revocation published after it reaches this instance.
func (s *Service) Subscribed() <-chan struct{} { return s.subscribed }

// Run listens for other instances' revocations until ctx ends. go-redis resubscribes after a
// reconnect; what was published meanwhile is caught by the sockets' re-checks.
func (s *Service) Run(ctx context.Context) error {
	sub := s.rdb.Subscribe(ctx, s.revokeChannel())
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		return fmt.Errorf("account: subscribe to revocations: %w", err)
	}
	s.subscribedOnce.Do(func() { close(s.subscribed) })
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			var r Revocation
			if err := json.Unmarshal([]byte(m.Payload), &r); err != nil || r.Account == "" {
				s.log.Warn("account: bad revocation message", "payload", m.Payload)
				continue
			}
			s.deliver(r)
		}
	}
}
