package account

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits bound password guessing and the CPU that logins may take.
type Limits struct {
	// MaxFailures wrong passwords for one account id lock it for Lockout; each further failure
	// doubles the lock, up to MaxLockout. Failures are forgotten FailureWindow after the last one,
	// and at once on a successful login. Ids that do not exist are counted the same way.
	MaxFailures   int
	Lockout       time.Duration
	MaxLockout    time.Duration
	FailureWindow time.Duration
	// AddressBurst failed logins from one client address are allowed at once; after that, one more
	// per AddressRefill (a token bucket). Successful logins cost nothing, so a whole office behind one
	// NAT address can log in at the start of a shift.
	AddressBurst  int
	AddressRefill time.Duration
	// Concurrency is how many bcrypt comparisons run at once; MaxWaiting more may wait for a turn,
	// the rest are answered "busy" at once.
	Concurrency int
	MaxWaiting  int
}

func (l Limits) withDefaults() Limits {
	if l.MaxFailures <= 0 {
		l.MaxFailures = 5
	}
	if l.Lockout <= 0 {
		l.Lockout = time.Minute
	}
	if l.MaxLockout < l.Lockout {
		l.MaxLockout = max(time.Hour, l.Lockout)
	}
	if l.FailureWindow <= 0 {
		l.FailureWindow = 15 * time.Minute
	}
	if l.AddressBurst <= 0 {
		l.AddressBurst = 20
	}
	if l.AddressRefill <= 0 {
		l.AddressRefill = 30 * time.Second
	}
	if l.Concurrency <= 0 {
		l.Concurrency = 2
	}
	if l.MaxWaiting <= 0 {
		l.MaxWaiting = 32
	}
	return l
}

// ThrottledError is a login refused before its password was checked: too many failures for the
// account or from the address. RetryAfter says when to try again.
type ThrottledError struct {
	Scope      string // "account" or "address"
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("account: too many failed logins for this %s; retry in %v", e.Scope, e.RetryAfter.Round(time.Second))
}

// Unwrap makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// The throttle's state is in Redis so that every web instance counts the same failures. The scripts
// take "now" from the caller's clock (tests control it); a few seconds of skew between instances
// only moves a lock's end by as much, and a bucket never refills backwards (now < ts is ignored).
var checkScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if lockedUntil > now then return {1, lockedUntil - now} end
local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then return {0, 0} end
local burst, refill = tonumber(ARGV[2]), tonumber(ARGV[3])
if now > ts then tokens = math.min(burst, tokens + (now - ts) / refill) end
if tokens < 1 then return {2, math.ceil((1 - tokens) * refill)} end
return {0, 0}
`)

var failScript = redis.NewScript(`
local now, burst, refill = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local maxf, lock, maxlock, window = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
local ttl = window
if fails >= maxf then
  local n = math.min(fails - maxf, 30)
  local d = math.min(lock * (2 ^ n), maxlock)
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + d))
  ttl = d + window
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then tokens, ts = burst, now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) / refill); ts = now end
tokens = tokens - 1
redis.call('HSET', KEYS[2], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[2], string.format('%d', math.ceil(burst * refill) + 60000))
return fails
`)

type throttle struct {
	rdb    redis.UniversalClient
	prefix string
	lim    Limits
}

func (t *throttle) keys(id, addr string) []string {
	return []string{t.prefix + "login:account:" + id, t.prefix + "login:address:" + addr}
}

// check returns a *ThrottledError when the account is locked or the address has no failures left.
func (t *throttle) check(ctx context.Context, now time.Time, id, addr string) error {
	res, err := checkScript.Run(ctx, t.rdb, t.keys(id, addr), now.UnixMilli(),
		t.lim.AddressBurst, t.lim.AddressRefill.Milliseconds()).Int64Slice()
	if err != nil {
		return fmt.Errorf("account: login throttle: %w", err)
	}
	wait := time.Duration(res[1]) * time.Millisecond
	switch res[0] {
	case 1:
		return &ThrottledError{Scope: "account", RetryAfter: wait}
	case 2:
		return &ThrottledError{Scope: "address", RetryAfter: wait}
	}
	return nil
}

// fail counts one failed login against the account id and the address.
func (t *throttle) fail(ctx context.Context, now time.Time, id, addr string) error {
	err := failScript.Run(ctx, t.rdb, t.keys(id, addr), now.UnixMilli(),
		t.lim.AddressBurst, t.lim.AddressRefill.Milliseconds(),
		t.lim.MaxFailures, t.lim.Lockout.Milliseconds(), t.lim.MaxLockout.Milliseconds(),
		t.lim.FailureWindow.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("account: count a failed login: %w", err)
	}
	return nil
}

// succeed forgets the account's failures (not the address's: a success from an address that also
// sprays wrong passwords must not refill its bucket).
func (t *throttle) succeed(ctx context.Context, id string) error {
	return t.rdb.Del(ctx, t.keys(id, "")[0]).Err()
}

// retryAfterSeconds rounds up for the Retry-After header, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
