package server

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/ivr"
)

// ivrEvents writes every IVR step (node, key, entered number, lookup answer, hangup) to a trimmed
// Redis stream beside the ACD's, so reports and the dashboard can see where callers go and where they
// give up. Steps are queued and written in batches off the call's goroutine: a slow Redis must never
// delay a prompt.
type ivrEvents struct {
	rdb    redis.UniversalClient
	key    string
	maxLen int64 // the stream's bound (streamMaxLen)
	ch     chan map[string]any
	log    *slog.Logger
	drop   atomic.Int64 // steps not written: the queue was full (observe runs on every call's goroutine)
}

func newIVREvents(rdb redis.UniversalClient, key string, maxLen int64, log *slog.Logger) *ivrEvents {
	return &ivrEvents{rdb: rdb, key: key, maxLen: maxLen, ch: make(chan map[string]any, 4096), log: log}
}

// observe is the ivr.Observer.
func (e *ivrEvents) observe(in ivr.Inbound, s ivr.Step) {
	entry := map[string]any{"time": time.Now().UnixMilli(), "call": in.CallID, "did": in.DID, "caller": in.CallerNumber,
		"node": s.Node, "event": string(s.Event), "field": s.Field, "value": s.Value}
	select {
	case e.ch <- entry:
	default:
		e.drop.Add(1) // only the writer's goroutine would be slower than callers; count, never block
	}
}

// register exports the drop count.
func (e *ivrEvents) register(reg prometheus.Registerer) error {
	return reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "hotline_ivr_steps_dropped_total",
		Help: "IVR steps not written to the Redis stream because the writer's queue was full.",
	}, func() float64 { return float64(e.drop.Load()) }))
}

func (e *ivrEvents) run(ctx context.Context) error {
	batch := make([]map[string]any, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return nil
		case v := <-e.ch:
			batch = append(batch[:0], v)
		}
	more:
		for len(batch) < cap(batch) {
			select {
			case v := <-e.ch:
				batch = append(batch, v)
			default:
				break more
			}
		}
		_, err := e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, v := range batch {
				p.XAdd(ctx, &redis.XAddArgs{Stream: e.key, MaxLen: e.maxLen, Approx: true, Values: v})
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			e.log.Warn("write ivr steps", "n", len(batch), "err", err)
		}
	}
}
