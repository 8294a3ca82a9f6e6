package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// clock is a test's time: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func hash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func testDirectory(t testing.TB) *Directory {
	d, err := NewDirectory([]Account{
		{ID: "a1", Name: "Agent 1", Role: RoleAgent, PasswordHash: hash(t, "secret-a")},
		{ID: "a2", Name: "Agent 2", Role: RoleAgent, PasswordHash: hash(t, "secret-a2")},
		{ID: "nohash", Name: "No hash", Role: RoleAgent},
		{ID: "gone", Name: "Disabled", Role: RoleAgent, PasswordHash: hash(t, "secret-g"), Disabled: true},
		{ID: "sup1", Name: "Supervisor", Role: RoleSupervisor, PasswordHash: hash(t, "secret-s")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newTestService(t testing.TB, rdb redis.UniversalClient, cfg Config) (*Service, *clock, *audit.Memory) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	if cfg.Now == nil {
		cfg.Now = c.now
	}
	rec := audit.NewMemory()
	s, err := New(rdb, "{hotline:test}:", testDirectory(t), cfg, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, rec
}

func login(s *Service, remote, id, pw string, page Page) (Account, string, error) {
	r := httptest.NewRequest("POST", "/agent/login", nil)
	r.RemoteAddr = remote
	a, tok, _, err := s.Login(context.Background(), r, page, id, pw)
	return a, tok, err
}

// TestLoginSameCostForUnknownIDs: an unknown id, an account without a usable hash and a disabled
// one each cost one bcrypt comparison (against the dummy hash, or the account's), exactly like a
// wrong password for a real account, so answer times do not tell which ids exist.
func TestLoginSameCostForUnknownIDs(t *testing.T) {
	s, _, _ := newTestService(t, redistest.Start(t).Client(t), Config{})
	var mu sync.Mutex
	var compared [][]byte
	s.compare = func(h, pw []byte) error {
		mu.Lock()
		compared = append(compared, h)
		mu.Unlock()
		return bcrypt.CompareHashAndPassword(h, pw)
	}
	a1, _ := s.dir.Load().Lookup("a1")
	gone, _ := s.dir.Load().Lookup("gone")
	for _, tc := range []struct {
		id, pw string
		want   []byte
	}{
		{"nobody", "secret-a", s.dir.Load().dummy},
		{"nohash", "", s.dir.Load().dummy},
		{"a1", "wrong", []byte(a1.PasswordHash)},
		{"gone", "secret-g", []byte(gone.PasswordHash)},
	} {
		compared = nil
		_, _, err := login(s, "192.0.2.1:1000", tc.id, tc.pw, PageAgent)
		if !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: err %v, want ErrBadCredentials", tc.id, err)
		}
		if len(compared) != 1 || !bytes.Equal(compared[0], tc.want) {
			t.Errorf("%s: compared %d hashes (%q), want one: %q", tc.id, len(compared), compared, tc.want)
		}
	}
	if c, _ := bcrypt.Cost(s.dir.Load().dummy); c != bcrypt.MinCost {
		t.Errorf("dummy hash cost %d, want the directory's %d", c, bcrypt.MinCost)
	}
}

// TestLoginLockout: MaxFailures wrong passwords from one address lock the account there: the
// right password from it is then refused without a bcrypt comparison, with a Retry-After, until
// the lock ends; the next failure after it locks for twice as long. The agent at their own desk
// (another address) still logs in: a stranger's guesses do not lock them out.
func TestLoginLockout(t *testing.T) {
	s, clk, rec := newTestService(t, redistest.Start(t).Client(t), Config{Limits: Limits{MaxFailures: 3, Lockout: time.Minute}})
	compares := 0
	s.compare = func(h, pw []byte) error { compares++; return bcrypt.CompareHashAndPassword(h, pw) }
	for i := range 3 {
		if _, _, err := login(s, "192.0.2.1:1", "a1", "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	compares = 0
	_, _, err := login(s, "192.0.2.1:2", "a1", "secret-a", PageAgent)
	var te *ThrottledError
	if !errors.As(err, &te) || te.Scope != "account" || te.RetryAfter != time.Minute {
		t.Fatalf("right password while locked: %v, want a one-minute account lock", err)
	}
	if compares != 0 {
		t.Errorf("a locked login ran %d bcrypt comparisons", compares)
	}
	if RetryAfter(err) != "60" {
		t.Errorf("Retry-After %q", RetryAfter(err))
	}
	if _, _, err := login(s, "198.51.100.7:1", "a1", "secret-a", PageAgent); err != nil {
		t.Fatalf("the agent from their own address while a stranger's guesses lock the account: %v", err)
	}
	clk.advance(time.Minute)
	if _, _, err := login(s, "192.0.2.1:1", "a1", "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after the lock: %v", err)
	}
	if _, _, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent); !errors.As(err, &te) || te.RetryAfter != 2*time.Minute {
		t.Fatalf("after a fourth failure: %v, want a two-minute lock", err)
	}
	clk.advance(2 * time.Minute)
	if _, _, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// A success forgets the address's failures: one more wrong password does not lock.
	if _, _, err := login(s, "192.0.2.1:1", "a1", "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after success: %v", err)
	}
	var throttled, failed int
	for _, e := range rec.Entries() {
		switch e.Action {
		case "login.throttled":
			throttled++
		case "login.failed":
			failed++
			if e.Remote != "192.0.2.1" {
				t.Errorf("failed login audited from %q", e.Remote)
			}
		}
	}
	if throttled != 2 || failed != 5 {
		t.Errorf("audited %d throttled, %d failed logins; want 2 and 5", throttled, failed)
	}
}

// TestLoginRefusedPassword: a refused password (outside a demo, the published one) does not log in
// even when the account's hash is of it, answered as a wrong password and counted as one; without
// the refusal it logs in.
func TestLoginRefusedPassword(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	s, _, rec := newTestService(t, rdb, Config{RefusedPasswords: []string{"secret-a"}, Limits: Limits{MaxFailures: 2}})
	for range 2 {
		if _, _, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("the refused password: %v, want bad credentials", err)
		}
	}
	var te *ThrottledError
	if _, _, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent); !errors.As(err, &te) {
		t.Fatalf("a third try: %v, want throttled: refusals count as failures", err)
	}
	if _, _, err := login(s, "192.0.2.1:1", "a2", "secret-a2", PageAgent); err != nil {
		t.Fatalf("another password: %v", err)
	}
	failed := 0
	for _, e := range rec.Entries() {
		if e.Action == "login.failed" && e.Actor == "a1" {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("audited %d failed logins of a1, want 2", failed)
	}
	open, _, _ := newTestService(t, rdb, Config{})
	if _, _, err := login(open, "192.0.2.9:1", "a1", "secret-a", PageAgent); err != nil {
		t.Fatalf("without refused passwords: %v", err)
	}
}

// TestLoginLockoutEverywhere: guessing spread over addresses, each under MaxFailures, locks the
// account everywhere at MaxFailuresTotal; an IPv6 client counts by its /64, so rotating addresses
// within it counts as one address, for the account and for the address's bucket.
func TestLoginLockoutEverywhere(t *testing.T) {
	s, clk, _ := newTestService(t, redistest.Start(t).Client(t),
		Config{Limits: Limits{MaxFailures: 3, MaxFailuresTotal: 4, Lockout: time.Minute, AddressBurst: 5, AddressRefill: time.Minute}})
	for _, addr := range []string{"192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1", "192.0.2.4:1"} {
		if _, _, err := login(s, addr, "a1", "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("a guess from %s: %v", addr, err)
		}
	}
	var te *ThrottledError
	if _, _, err := login(s, "198.51.100.7:1", "a1", "secret-a", PageAgent); !errors.As(err, &te) || te.Scope != "account" || te.RetryAfter != time.Minute {
		t.Fatalf("the right password after 4 guesses from 4 addresses: %v, want the account locked everywhere for a minute", err)
	}
	clk.advance(time.Minute)
	if _, _, err := login(s, "198.51.100.7:1", "a1", "secret-a", PageAgent); err != nil {
		t.Fatalf("after the lock: %v", err)
	}

	// One /64: three guesses from three of its addresses lock a2 for the whole /64, not beyond it.
	for _, addr := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:2:ffff::3]:1"} {
		if _, _, err := login(s, addr, "a2", "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("a guess from %s: %v", addr, err)
		}
	}
	if _, _, err := login(s, "[2001:db8:1:2::99]:1", "a2", "secret-a2", PageAgent); !errors.As(err, &te) || te.Scope != "account" {
		t.Fatalf("a2 from the guessing /64: %v, want locked there", err)
	}
	if _, _, err := login(s, "[2001:db8:1:3::1]:1", "a2", "secret-a2", PageAgent); err != nil {
		t.Fatalf("a2 from the next /64: %v", err)
	}
	// The /64's bucket: 5 failures in all, whatever the ids and addresses within it.
	for i, id := range []string{"x1", "x2"} {
		if _, _, err := login(s, fmt.Sprintf("[2001:db8:1:2::%x]:1", 100+i), id, "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if _, _, err := login(s, "[2001:db8:1:2::200]:1", "sup1", "secret-s", PageSupervisor); !errors.As(err, &te) || te.Scope != "address" {
		t.Fatalf("a sixth try from the /64: %v, want throttled by address", err)
	}
}

// TestLoginAddressThrottle: one address spraying wrong passwords over many ids runs out of its
// bucket and is refused for every id, even with a right password; another address is not; the
// bucket refills with time.
func TestLoginAddressThrottle(t *testing.T) {
	s, clk, _ := newTestService(t, redistest.Start(t).Client(t),
		Config{Limits: Limits{MaxFailures: 100, AddressBurst: 3, AddressRefill: 10 * time.Second}})
	for _, id := range []string{"x1", "x2", "x3"} {
		if _, _, err := login(s, "203.0.113.5:4000", id, "guess", PageAgent); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s: %v", id, err)
		}
	}
	var te *ThrottledError
	if _, _, err := login(s, "203.0.113.5:4001", "a1", "secret-a", PageAgent); !errors.As(err, &te) || te.Scope != "address" {
		t.Fatalf("fourth try from the address: %v, want throttled by address", err)
	}
	if _, _, err := login(s, "203.0.113.6:4000", "a1", "secret-a", PageAgent); err != nil {
		t.Fatalf("another address: %v", err)
	}
	clk.advance(10 * time.Second)
	if _, _, err := login(s, "203.0.113.5:4002", "a1", "secret-a", PageAgent); err != nil {
		t.Fatalf("after a refill: %v", err)
	}
	// Successes cost nothing: an office behind one address logs in.
	for range 10 {
		if _, _, err := login(s, "203.0.113.9:1", "a2", "secret-a2", PageAgent); err != nil {
			t.Fatalf("successful logins from one address: %v", err)
		}
	}
}

// TestLoginBcryptBounded: at most Concurrency comparisons run at once, MaxWaiting wait, the rest
// are answered busy at once.
func TestLoginBcryptBounded(t *testing.T) {
	s, _, _ := newTestService(t, redistest.Start(t).Client(t), Config{Limits: Limits{Concurrency: 1, MaxWaiting: 1}})
	entered, release := make(chan struct{}, 4), make(chan struct{})
	var mu sync.Mutex
	running, peak := 0, 0
	s.compare = func(h, pw []byte) error {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		entered <- struct{}{}
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return errors.New("no")
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { login(s, "192.0.2.1:1", "a1", "x", PageAgent) })
	}
	<-entered // one comparing; wait until the other is queued
	waitfor.True(t, "the second login queued", 10*time.Second, func() bool { return s.waiting.Load() == 2 })
	if _, _, err := login(s, "192.0.2.1:1", "a1", "x", PageAgent); !errors.Is(err, ErrBusy) {
		t.Errorf("third login while one compares and one waits: %v, want ErrBusy", err)
	}
	close(release)
	wg.Wait()
	if peak != 1 {
		t.Errorf("%d comparisons at once, want 1", peak)
	}
}

// TestSessionBoundPerAccount: a login past PerAccount revokes the oldest session and says so.
func TestSessionBoundPerAccount(t *testing.T) {
	s, clk, _ := newTestService(t, redistest.Start(t).Client(t), Config{Sessions: SessionLimits{PerAccount: 2}})
	var revoked []Revocation
	s.OnRevoke(func(r Revocation) { revoked = append(revoked, r) })
	var toks []string
	for range 3 {
		_, tok, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		clk.advance(time.Second)
	}
	ctx := context.Background()
	if _, _, err := s.Authenticate(ctx, toks[0]); !errors.Is(err, ErrNoSession) {
		t.Errorf("the oldest session: %v, want revoked", err)
	}
	for _, tok := range toks[1:] {
		if _, _, err := s.Authenticate(ctx, tok); err != nil {
			t.Errorf("a newer session: %v", err)
		}
	}
	if len(revoked) != 1 || !revoked[0].Covers("a1", sessionID(toks[0])) || revoked[0].Covers("a1", sessionID(toks[1])) {
		t.Errorf("revocations %+v, want the oldest session's", revoked)
	}
}

// TestSessionIdleAndLifetime: unused for Idle, a session ends; used, it lives on until Lifetime.
func TestSessionIdleAndLifetime(t *testing.T) {
	s, clk, _ := newTestService(t, redistest.Start(t).Client(t), Config{Sessions: SessionLimits{Idle: 10 * time.Minute, Lifetime: time.Hour}})
	ctx := context.Background()
	_, idle, _ := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent)
	_, used, err := login(s, "192.0.2.1:1", "a2", "secret-a2", PageAgent)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // 45 minutes of use, 9 at a time
		clk.advance(9 * time.Minute)
		if _, _, err := s.Authenticate(ctx, used); err != nil {
			t.Fatalf("a used session at %v: %v", clk.now(), err)
		}
	}
	if _, _, err := s.Authenticate(ctx, idle); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session idle for 45 minutes: %v, want expired", err)
	}
	clk.advance(15 * time.Minute) // an hour after login, used 9 minutes ago
	if _, _, err := s.Authenticate(ctx, used); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session past its lifetime: %v, want expired", err)
	}
	if _, _, err := s.Authenticate(ctx, "forged"); !errors.Is(err, ErrNoSession) {
		t.Errorf("a forged token: %v", err)
	}
}

// TestSessionsSharedAcrossInstances: two services (two web instances) over one Redis: a session made
// on one is valid on the other, Redis holds no token, and a revocation on one reaches the other's
// listeners through pub/sub.
func TestSessionsSharedAcrossInstances(t *testing.T) {
	rs := redistest.Start(t)
	a, _, _ := newTestService(t, rs.Client(t), Config{})
	b, _, _ := newTestService(t, rs.Client(t), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	select {
	case <-b.Subscribed():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	heard := make(chan Revocation, 1)
	b.OnRevoke(func(r Revocation) { heard <- r })

	_, tok, err := login(a, "192.0.2.1:1", "sup1", "secret-s", PageSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	acct, sess, err := b.Authenticate(ctx, tok)
	if err != nil || acct.ID != "sup1" || acct.Role != RoleSupervisor || sess.Page != PageSupervisor {
		t.Fatalf("the other instance: %+v %+v %v", acct, sess, err)
	}
	keys, _ := rs.Client(t).Keys(ctx, "*").Result()
	for _, k := range keys {
		if v, _ := rs.Client(t).HGetAll(ctx, k).Result(); v != nil {
			for _, x := range v {
				if x == tok {
					t.Fatalf("Redis holds the token in %s", k)
				}
			}
		}
	}
	if err := a.RevokeAccount(ctx, "sup1", "test"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-heard:
		if !r.Covers("sup1", sess.ID) {
			t.Errorf("revocation %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other instance never heard of the revocation")
	}
	if _, _, err := b.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("revoked session on the other instance: %v", err)
	}
}

// TestDisabledAccountEndsSessions: a session whose account is disabled by the time it is used (the
// center file changed, the controller restarted) no longer works.
func TestDisabledAccountEndsSessions(t *testing.T) {
	rs := redistest.Start(t)
	s, _, _ := newTestService(t, rs.Client(t), Config{})
	_, tok, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageAgent)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := NewDirectory([]Account{{ID: "a1", Role: RoleAgent, PasswordHash: hash(t, "x"), Disabled: true}})
	after, err := New(rs.Client(t), "{hotline:test}:", dir, Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := after.Authenticate(context.Background(), tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("a disabled account's session: %v", err)
	}
}

// TestLoginPageRoles: an agent's right password on the supervisor page is refused (no session);
// supervisors may use both pages.
func TestLoginPageRoles(t *testing.T) {
	s, _, rec := newTestService(t, redistest.Start(t).Client(t), Config{})
	if _, tok, err := login(s, "192.0.2.1:1", "a1", "secret-a", PageSupervisor); !errors.Is(err, ErrForbidden) || tok != "" {
		t.Errorf("agent on the supervisor page: %v %q", err, tok)
	}
	for _, p := range []Page{PageAgent, PageSupervisor} {
		if _, _, err := login(s, "192.0.2.1:1", "sup1", "secret-s", p); err != nil {
			t.Errorf("supervisor on %s: %v", p, err)
		}
	}
	es := rec.Entries()
	if len(es) != 3 || es[0].Action != "login.refused" || es[0].Role != "agent" || es[1].Action != "login" || es[1].Role != "supervisor" {
		t.Errorf("audit %+v", es)
	}
}

func TestRemote(t *testing.T) {
	s, _, _ := newTestService(t, redistest.Start(t).Client(t), Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, tc := range []struct{ peer, xff, want string }{
		{"192.0.2.1:5", "", "192.0.2.1"},
		{"192.0.2.1:5", "203.0.113.9", "192.0.2.1"},            // not from a proxy: the header is ignored
		{"10.1.1.1:5", "203.0.113.9", "203.0.113.9"},           // through the proxy
		{"10.1.1.1:5", "6.6.6.6, 203.0.113.9", "203.0.113.9"},  // the client's own forgery is left of it
		{"10.1.1.1:5", "203.0.113.9, 10.2.2.2", "203.0.113.9"}, // two proxies
		{"10.1.1.1:5", "junk", "10.1.1.1"},
		{"[::ffff:10.1.1.1]:5", "203.0.113.9", "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.Remote(r); got != tc.want {
			t.Errorf("peer %s xff %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

// TestOverloaded: a login that failed because the server was slow is one to try again; a refusal
// is not.
func TestOverloaded(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("check: %w", ErrBusy), true},
		{fmt.Errorf("session: %w", context.DeadlineExceeded), true},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, true},
		{fmt.Errorf("login: %w", ErrBadCredentials), false},
		{errors.New("storage broke"), false},
	} {
		if got := Overloaded(tc.err); got != tc.want {
			t.Errorf("Overloaded(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
