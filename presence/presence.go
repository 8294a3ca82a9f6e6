// Package presence records, in Redis, which agents have their page open on some controller, so that
// every controller can tell an agent whose page is gone from one whose page moved to another
// controller, and wait out a grace period before it acts.
//
// A page open anywhere keeps its agent's key alive: the controller holding it sets the key when
// it opens and refreshes it more often than the grace. When the last page closes, the key is given
// the grace as its time to live; nobody deletes it. An agent whose key is missing has had no page
// for at least the grace.
package presence

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pages is the presence of agents' pages under one key prefix (the center's).
type Pages struct {
	rdb    redis.UniversalClient
	prefix string
	grace  time.Duration
}

// New returns the presence of pages under prefix, with grace as the time a closed page is waited
// for.
func New(rdb redis.UniversalClient, prefix string, grace time.Duration) *Pages {
	return &Pages{rdb: rdb, prefix: prefix, grace: grace}
}

// Grace is how long an agent without a page still counts as present.
func (p *Pages) Grace() time.Duration { return p.grace }

// RefreshEvery is how often a controller must Refresh the pages it holds.
func (p *Pages) RefreshEvery() time.Duration { return max(p.grace/3, 100*time.Millisecond) }

func (p *Pages) key(agent string) string { return p.prefix + agent }

// Opened records that a page of the agent is open here.
func (p *Pages) Opened(ctx context.Context, agent string) error {
	if err := p.rdb.Set(ctx, p.key(agent), 1, p.grace).Err(); err != nil {
		return fmt.Errorf("presence: page of %s opened: %w", agent, err)
	}
	return nil
}

// Closed records that the agent's last page here closed: the grace starts now, unless a page on
// another controller refreshes the key first.
func (p *Pages) Closed(ctx context.Context, agent string) error {
	if err := p.rdb.PExpire(ctx, p.key(agent), p.grace).Err(); err != nil {
		return fmt.Errorf("presence: page of %s closed: %w", agent, err)
	}
	return nil
}

// Refresh keeps the keys of the agents whose pages are open here, in one round trip.
func (p *Pages) Refresh(ctx context.Context, agents []string) error {
	if len(agents) == 0 {
		return nil
	}
	pipe := p.rdb.Pipeline()
	for _, a := range agents {
		pipe.Set(ctx, p.key(a), 1, p.grace)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("presence: refresh %d pages: %w", len(agents), err)
	}
	return nil
}

// Gone returns those of agents with no page open anywhere for at least the grace, in their order.
func (p *Pages) Gone(ctx context.Context, agents []string) ([]string, error) {
	if len(agents) == 0 {
		return nil, nil
	}
	pipe := p.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(agents))
	for i, a := range agents {
		cmds[i] = pipe.Exists(ctx, p.key(a))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("presence: check %d agents: %w", len(agents), err)
	}
	var gone []string
	for i, c := range cmds {
		if c.Val() == 0 {
			gone = append(gone, agents[i])
		}
	}
	return gone, nil
}
