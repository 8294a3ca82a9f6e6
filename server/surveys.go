package server

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/switchboard"
)

// surveysStream is the stream of post-call survey answers (the records copy it), under the
// center's prefix.
const surveysStream = "surveys"

// surveys offers each queue's share of callers the post-call survey (the center file's
// survey.share) and keeps their answers in a stream, for the records and the reports' NPS.
type surveys struct {
	rdb    redis.UniversalClient
	key    string
	model  *acd.Model
	maxLen int64 // the stream's bound (streamMaxLen)
}

var _ switchboard.Surveys = (*surveys)(nil)

func (s *surveys) Offer(queue string) bool {
	q, ok := s.model.Queue(queue)
	return ok && q.SurveyShare > 0 && rand.Float64() < q.SurveyShare
}

func (s *surveys) Record(ctx context.Context, r switchboard.SurveyResult) error {
	score := ""
	if r.Answered {
		score = strconv.Itoa(r.Score)
	}
	return s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.key, MaxLen: s.maxLen, Approx: true, Values: []any{
		"time", r.Time.UnixMilli(), "call", r.CallID, "agent", r.Agent, "queue", r.Queue, "lang", r.Lang, "score", score}}).Err()
}
