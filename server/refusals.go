package server

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// refusals is the center's count of carrier calls its nodes refused at HOTLINE_MAX_CALLS, by day,
// for the supervisors' board (switchboard.Refusals). Each node counts its refusals in its dialplan
// from 0 at every start; every controller reports its node's count, and Redis keeps the last count
// seen of each node run, so the day's total rises by what is new, once, however many controllers
// report one node.
type refusals struct {
	rdb redis.UniversalClient
	key func(name string) string // the center's key for name, under its hash tag
	loc *time.Location           // where the center's days begin
	now func() time.Time
}

// A node run's last count is kept a week: longer than any controller stays away from its node, so
// a report after an outage adds only what is new. A day's total is kept two days, for the board's
// midnight.
const (
	refusalsNodeTTL = 7 * 24 * time.Hour
	refusalsDayTTL  = 48 * time.Hour
)

// refusalsSeen adds a node run's new refusals to the day's total. A count below the last seen is a
// dialplan reload (Asterisk's globals start again from [globals]): all of it is new. So is the
// first count of a run, as a new run starts from 0.
var refusalsSeen = redis.NewScript(`
local n = tonumber(ARGV[1])
local add = n - tonumber(redis.call('GET', KEYS[1]) or '0')
if add < 0 then add = n end
redis.call('SET', KEYS[1], n, 'EX', ARGV[2])
if add > 0 then
  redis.call('INCRBY', KEYS[2], add)
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return add`)

// Seen implements switchboard.Refusals.
func (r *refusals) Seen(ctx context.Context, node string, count int64) error {
	keys := []string{r.key("refused:node:" + node), r.dayKey(r.now())}
	return refusalsSeen.Run(ctx, r.rdb, keys, count, int(refusalsNodeTTL.Seconds()), int(refusalsDayTTL.Seconds())).Err()
}

// Today is the center's count of refused carrier calls since its midnight.
func (r *refusals) Today(ctx context.Context) (int, error) {
	n, err := r.rdb.Get(ctx, r.dayKey(r.now())).Int()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

func (r *refusals) dayKey(t time.Time) string {
	return r.key("refused:day:" + t.In(r.loc).Format(time.DateOnly))
}
