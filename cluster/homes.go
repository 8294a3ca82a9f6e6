package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// An agent's home is the controller that holds their page and WebRTC session: where their pushes
// go and where their calls' audio legs are opened. The controller that holds the page writes it
// when the page opens (and when its audio comes up: the last page to connect wins) and refreshes
// it while the page stays; it lapses HomeTTL after the controller stops refreshing it.

// HomeTTL is how long a home lasts without a refresh; a controller refreshes its agents' homes
// every HomeTTL/3.
const HomeTTL = 30 * time.Second

func (b *Bus) homeKey(agent string) string { return b.prefix + "home:" + agent }

// SetHome makes this controller the agent's home.
func (b *Bus) SetHome(ctx context.Context, agent string) error {
	if err := b.rdb.Set(ctx, b.homeKey(agent), b.self, HomeTTL).Err(); err != nil {
		return fmt.Errorf("cluster: home of %s: %w", agent, err)
	}
	return nil
}

// leaveHome deletes the agent's home if it is still this controller.
var leaveHome = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// LeaveHome says the agent's last page here closed: their home is no longer here (unless another
// controller took it meanwhile, which stays).
func (b *Bus) LeaveHome(ctx context.Context, agent string) error {
	if err := leaveHome.Run(ctx, b.rdb, []string{b.homeKey(agent)}, b.self).Err(); err != nil && err != redis.Nil {
		return fmt.Errorf("cluster: leave the home of %s: %w", agent, err)
	}
	return nil
}

// KeepHomes refreshes the homes of the agents whose pages are here, in one round trip.
func (b *Bus) KeepHomes(ctx context.Context, agents []string) error {
	if len(agents) == 0 {
		return nil
	}
	pipe := b.rdb.Pipeline()
	for _, a := range agents {
		pipe.Set(ctx, b.homeKey(a), b.self, HomeTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("cluster: refresh %d homes: %w", len(agents), err)
	}
	return nil
}

// Home returns the agent's home controller, "" when no page of theirs is open anywhere.
func (b *Bus) Home(ctx context.Context, agent string) (string, error) {
	v, err := b.rdb.Get(ctx, b.homeKey(agent)).Result()
	if err == redis.Nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cluster: home of %s: %w", agent, err)
	}
	return v, nil
}
