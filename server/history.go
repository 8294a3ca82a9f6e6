package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/softphone"
)

// history keeps each agent's calls of the day in Redis (a hash per agent and day, kept two days), so
// the list survives a page reload and a controller restart and is the same on every instance.
type history struct {
	rdb    redis.UniversalClient
	prefix string // the center's hash-tagged prefix
	maxLen int64  // the wrap-ups stream's bound (streamMaxLen)
}

// wrapupsStream is the stream of submitted wrap-ups (the records copy it), under the center's prefix.
const wrapupsStream = "wrapups"

func (h *history) key(agent string, day time.Time) string {
	return fmt.Sprintf("%shistory:%s:%s", h.prefix, agent, day.Format("2006-01-02"))
}

func (h *history) add(ctx context.Context, agent string, s softphone.CallSummary) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	k := h.key(agent, time.Now())
	_, err = h.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, s.CallID, b)
		p.Expire(ctx, k, 48*time.Hour)
		return nil
	})
	return err
}

// errNoLine: the agent's history has no line for the call: not a call they talked on.
var errNoLine = errors.New("no such call in the agent's history")

// errDisposed: the call is wrapped up already, with another disposition or note; errDisposedSame:
// with this one (a retry whose answer was lost). A call is wrapped up once: repeating it would
// rewrite a past call's outcome, and add to the records' stream each time.
var (
	errDisposed     = errors.New("the call is wrapped up already")
	errDisposedSame = errors.New("the call is wrapped up already, the same way")
)

// dispose records the wrap-up's disposition and note on the call's line, the day it was written
// (a call that ended just before midnight is wrapped up after it), once (errDisposed,
// errDisposedSame). An agent's history holds only the calls they talked on, so it is also what
// says the call is theirs to wrap up: errNoLine if not.
func (h *history) dispose(ctx context.Context, agent, callID, disposition, note string) error {
	now := time.Now()
	for _, day := range []time.Time{now, now.AddDate(0, 0, -1)} {
		k := h.key(agent, day)
		raw, err := h.rdb.HGet(ctx, k, callID).Bytes()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return err
		}
		var s softphone.CallSummary
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		switch {
		case s.Disposition == disposition && s.Note == note:
			return errDisposedSame
		case s.Disposition != "":
			return fmt.Errorf("%w: %s", errDisposed, s.Disposition)
		}
		s.Disposition, s.Note = disposition, note
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		// The line for the agent's page, and the entry the records copy, together or not at all.
		_, err = h.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, k, callID, b)
			p.XAdd(ctx, &redis.XAddArgs{Stream: h.prefix + wrapupsStream, MaxLen: h.maxLen, Approx: true, Values: []any{
				"time", now.UnixMilli(), "call", callID, "agent", agent, "disposition", disposition, "note", note}})
			return nil
		})
		return err
	}
	return fmt.Errorf("%w: %s", errNoLine, callID)
}

// today lists the agent's calls since midnight, newest first.
func (h *history) today(ctx context.Context, agent string) ([]softphone.CallSummary, error) {
	m, err := h.rdb.HGetAll(ctx, h.key(agent, time.Now())).Result()
	if err != nil {
		return nil, err
	}
	out := make([]softphone.CallSummary, 0, len(m))
	for _, v := range m {
		var s softphone.CallSummary
		if json.Unmarshal([]byte(v), &s) == nil {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt > out[j].StartedAt })
	return out, nil
}
