package account

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits bound password guessing and the CPU that logins may take.
type Limits struct {
	// MaxFailures wrong passwords for one account id from one client address lock the account at
	// that address for Lockout; each further failure doubles the lock, up to MaxLockout. So a
	// stranger guessing cannot lock an agent out of their own desk. MaxFailuresTotal from all
	// addresses together lock the account everywhere the same way (guessing spread over many
	// addresses). Failures are forgotten FailureWindow after the last one, and an address's at once
	// on a successful login from it. Ids that do not exist are counted the same way. An IPv6 client
	// counts by its /64, what one subscriber is usually given.
	MaxFailures      int
	MaxFailuresTotal int
	Lockout          time.Duration
	MaxLockout       time.Duration
	FailureWindow    time.Duration
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
	if l.MaxFailuresTotal < l.MaxFailures {
		l.MaxFailuresTotal = max(50, l.MaxFailures)
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
// account (from this address, or from all) or from the address. RetryAfter says when to try again.
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
// Keys: the account's failures from one address, the account's from all, the address's bucket.
var checkScript = redis.NewScript(`
local now = tonumber(ARGV[1])
for i = 1, 2 do
  local lockedUntil = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
  if lockedUntil > now then return {1, lockedUntil - now} end
end
local b = redis.call('HMGET', KEYS[3], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then return {0, 0} end
local burst, refill = tonumber(ARGV[2]), tonumber(ARGV[3])
if now > ts then tokens = math.min(burst, tokens + (now - ts) / refill) end
if tokens < 1 then return {2, math.ceil((1 - tokens) * refill)} end
return {0, 0}
`)

var failScript = redis.NewScript(`
local now, burst, refill = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lock, maxlock, window = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local limits = {tonumber(ARGV[4]), tonumber(ARGV[8])}
for i = 1, 2 do
  local fails = redis.call('HINCRBY', KEYS[i], 'fails', 1)
  local ttl = window
  if fails >= limits[i] then
    local n = math.min(fails - limits[i], 30)
    local d = math.min(lock * (2 ^ n), maxlock)
    redis.call('HSET', KEYS[i], 'until', string.format('%d', now + d))
    ttl = d + window
  end
  redis.call('PEXPIRE', KEYS[i], string.format('%d', ttl))
end
local b = redis.call('HMGET', KEYS[3], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil or ts == nil then tokens, ts = burst, now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) / refill); ts = now end
tokens = tokens - 1
redis.call('HSET', KEYS[3], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[3], string.format('%d', math.ceil(burst * refill) + 60000))
return 0
`)

type throttle struct {
	rdb    redis.UniversalClient
	prefix string
	lim    Limits
}

func (t *throttle) keys(id, addr string) []string {
	addr = addressBucket(addr)
	return []string{t.prefix + "login:account:" + id + ":from:" + addr, t.prefix + "login:account:" + id, t.prefix + "login:address:" + addr}
}

// addressBucket is what the throttle counts a client address as: an IPv4 address alone, an IPv6
// address by its /64 (a subscriber usually has all of one, so rotating within it gains nothing).
func addressBucket(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if ip = ip.Unmap(); ip.Is4() {
		return ip.String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
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
		t.lim.FailureWindow.Milliseconds(), t.lim.MaxFailuresTotal).Err()
	if err != nil {
		return fmt.Errorf("account: count a failed login: %w", err)
	}
	return nil
}

// succeed forgets the account's failures from the address (not those from elsewhere, which may be
// someone else's guessing, nor the address's bucket: a success from an address that also sprays
// wrong passwords must not refill it).
func (t *throttle) succeed(ctx context.Context, id, addr string) error {
	return t.rdb.Del(ctx, t.keys(id, addr)[0]).Err()
}

// retryAfterSeconds rounds up for the Retry-After header, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
