// Package audit keeps the center's record of who did what: logins, supervisors' actions, forced
// states and every number dialled out. Entries go to a Redis stream bounded by age, not by count,
// so a burst of actions cannot push out the morning's logins; PostgreSQL keeps them for good once
// the recorder copies them (issue 11).
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one audited act. Actor and Role are the authenticated account, never an id the client
// sent; Remote is the client's address as the server saw it.
type Entry struct {
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	Role    string            `json:"role"`
	Remote  string            `json:"remote,omitempty"`
	Action  string            `json:"action"`           // e.g. "login", "login.failed", "monitor", "dial"
	Target  string            `json:"target,omitempty"` // the agent, call or number acted on
	Outcome string            `json:"outcome"`          // "ok", "refused", "failed"
	Detail  map[string]string `json:"detail,omitempty"`
}

// Recorder is what the web servers and the switchboard write to. Record must not block a call for
// long: implementations bound their own time.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}

// ErrInvalid is returned for an entry without an action or an actor.
var ErrInvalid = errors.New("audit: entry needs an action and an actor")

// Stream is the Recorder over a Redis stream. Entries older than Keep are trimmed as new ones arrive.
type Stream struct {
	rdb  redis.UniversalClient
	key  string
	keep time.Duration
	now  func() time.Time
	log  *slog.Logger
}

// DefaultKeep is how long the stream holds entries when NewStream is given zero: long enough for the
// recorder to copy them through a weekend's database outage.
const DefaultKeep = 7 * 24 * time.Hour

// NewStream returns a Stream writing to key. Every entry is also logged at info level, so an
// operator without Redis access still sees it.
func NewStream(rdb redis.UniversalClient, key string, keep time.Duration, log *slog.Logger) *Stream {
	if keep <= 0 {
		keep = DefaultKeep
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stream{rdb: rdb, key: key, keep: keep, now: time.Now, log: log}
}

// Record implements Recorder. A failure to write is returned and logged: the act has happened, and
// the caller decides whether it may go on unaudited (an outbound dial may not).
func (s *Stream) Record(ctx context.Context, e Entry) error {
	if e.Action == "" || e.Actor == "" {
		return ErrInvalid
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	attrs := []any{"actor", e.Actor, "role", e.Role, "remote", e.Remote, "action", e.Action, "target", e.Target, "outcome", e.Outcome}
	for k, v := range e.Detail {
		attrs = append(attrs, k, v)
	}
	s.log.Info("audit", attrs...)
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	// MINID trims by the entry ids' millisecond part (Redis's clock; ours may differ by seconds, which
	// a window of days does not notice): whatever is older than keep goes, whatever the count.
	minID := strconv.FormatInt(s.now().Add(-s.keep).UnixMilli(), 10)
	err = s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.key, MinID: minID, Values: []any{"e", b}}).Err()
	if err != nil {
		s.log.Error("audit: write failed", append(attrs, "err", err)...)
		return fmt.Errorf("audit: write %s: %w", e.Action, err)
	}
	return nil
}

// Recent returns up to n entries, newest first.
func (s *Stream) Recent(ctx context.Context, n int64) ([]Entry, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, s.key, "+", "-", n).Result()
	if err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["e"].(string)
		var e Entry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, fmt.Errorf("audit: entry %s: %w", m.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Memory is a Recorder for tests and the demo's own checks: it keeps entries in order.
type Memory struct {
	mu      sync.Mutex
	entries []Entry
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{} }

// Record implements Recorder.
func (m *Memory) Record(_ context.Context, e Entry) error {
	if e.Action == "" || e.Actor == "" {
		return ErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

// Entries returns a copy of what was recorded.
func (m *Memory) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Entry(nil), m.entries...)
}

type remoteKey struct{}

// WithRemote returns ctx carrying the client address of the request that acts, for entries written
// far from the request (a dial audited on the call's own goroutine). An empty remote leaves ctx as
// it is.
func WithRemote(ctx context.Context, remote string) context.Context {
	if remote == "" {
		return ctx
	}
	return context.WithValue(ctx, remoteKey{}, remote)
}

// RemoteFrom is the client address WithRemote put in ctx, or "".
func RemoteFrom(ctx context.Context) string {
	s, _ := ctx.Value(remoteKey{}).(string)
	return s
}
