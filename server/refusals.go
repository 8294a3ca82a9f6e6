package server

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// refusalsStream is the stream of the center's refusals as they are seen (the records copy it, for
// the reports), under the center's prefix.
const refusalsStream = "refusals"

// refusals is the center's count of carrier calls its nodes refused at HOTLINE_MAX_CALLS, by day,
// for the supervisors' board (switchboard.Refusals), and each rise of it in a stream, for the
// reports. Each node counts its refusals in its dialplan from 0 at every start; every controller
// reports its node's count, and Redis keeps the last count seen of each node run, so the day's
// total rises by what is new, once, however many controllers report one node.
type refusals struct {
	rdb    redis.UniversalClient
	key    func(name string) string // the center's key for name, under its hash tag
	loc    *time.Location           // where the center's days begin
	now    func() time.Time
	maxLen int64 // the stream's bound (streamMaxLen)
}

// A node run's last count is kept a week: longer than any controller stays away from its node, so
// a report after an outage adds only what is new. A day's total is kept two days, for the board's
// midnight.
const (
	refusalsNodeTTL = 7 * 24 * time.Hour
	refusalsDayTTL  = 48 * time.Hour
)

// refusalsSeen adds a node run's new refusals to the day's total and the stream. A count below the
// last seen is a dialplan reload (Asterisk's globals start again from [globals]): all of it is new.
// So is the first count of a run, as a new run starts from 0.
var refusalsSeen = redis.NewScript(`
local n = tonumber(ARGV[1])
local add = n - tonumber(redis.call('GET', KEYS[1]) or '0')
if add < 0 then add = n end
redis.call('SET', KEYS[1], n, 'EX', ARGV[2])
if add > 0 then
  redis.call('INCRBY', KEYS[2], add)
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'time', ARGV[5], 'node', ARGV[6], 'count', add)
end
return add`)

// Seen implements switchboard.Refusals.
func (r *refusals) Seen(ctx context.Context, node string, count int64) error {
	now := r.now()
	keys := []string{r.key("refused:node:" + node), r.dayKey(now), r.key(refusalsStream)}
	return refusalsSeen.Run(ctx, r.rdb, keys, count, int(refusalsNodeTTL.Seconds()), int(refusalsDayTTL.Seconds()),
		r.maxLen, now.UnixMilli(), node).Err()
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
