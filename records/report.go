package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrBadReport is a report query the store cannot answer: an unknown interval or grouping, or an
// empty or overlong range.
var ErrBadReport = errors.New("records: bad report query")

// Intervals a report can be cut into.
var Intervals = map[string]string{
	"15m": "15 minutes", "30m": "30 minutes", "1h": "1 hour", "day": "1 day", "month": "1 month",
}

// Groupings a report can be split by ("" for the center as a whole).
var Groupings = map[string]string{
	"":      "''",
	"queue": "first_queue",
	"agent": "coalesce(agent, '')",
}

// ReportQuery asks for the figures of calls that reached the ACD in [From, To).
type ReportQuery struct {
	From, To time.Time
	Interval string         // a key of Intervals
	By       string         // a key of Groupings
	Location *time.Location // where days and months begin; nil: UTC
	// ServiceLevel is the answer time the service level counts (20 s when zero); ShortAbandon is
	// the wait under which an abandon counts apart, as a caller who hardly waited (5 s when zero).
	ServiceLevel, ShortAbandon time.Duration
}

// ReportRow is one interval of one group. A call counts in the interval it entered the ACD in,
// under the queue it entered (and under the agent who answered it).
type ReportRow struct {
	Period time.Time `json:"period"`
	Key    string    `json:"key"` // the queue or agent; "" for the center

	Offered        int `json:"offered"`         // callers who entered a queue
	Answered       int `json:"answered"`        // answered by an agent
	AnsweredInSL   int `json:"answered_in_sl"`  // answered within ServiceLevel
	Abandoned      int `json:"abandoned"`       // hung up waiting or ringing, after ShortAbandon
	ShortAbandoned int `json:"short_abandoned"` // hung up before ShortAbandon
	Exited         int `json:"exited"`          // taken out by the center: overflow, message, callbacks given up
	Callbacks      int `json:"callbacks"`       // asked to be called back
	CallbacksKept  int `json:"callbacks_kept"`  // of those, called back and answered by an agent
	Held           int `json:"held"`            // answered calls whose caller was put on hold
	Transfers      int `json:"transfers"`       // answered calls handed to a colleague
	Consultations  int `json:"consultations"`
	// Refused: carrier calls a full node turned away (HOTLINE_MAX_CALLS) before the IVR; the
	// center's rows only, as such a caller has no queue.
	Refused int `json:"refused"`

	// ServiceLevel is AnsweredInSL over Offered less ShortAbandoned (0..1); ASA, AHT and Talk in
	// seconds (AHT: talk and hold, then wrap-up).
	ServiceLevel float64 `json:"service_level"`
	ASA          float64 `json:"asa_seconds"`
	AHT          float64 `json:"aht_seconds"`
	Talk         float64 `json:"talk_seconds"`
	Hold         float64 `json:"hold_seconds"` // held per answered call, on average (part of Talk)
	Wrapup       float64 `json:"wrapup_seconds"`
	// FCR24 and FCR72: the share of answered calls (of callers whose number is known) after which
	// the same number did not call again within 24 and 72 hours: first-contact resolution.
	FCR24 float64 `json:"fcr_24h"`
	FCR72 float64 `json:"fcr_72h"`
	// Agents' time in the period (the center's, or the agent's; not per queue): logged in, paused,
	// and busy (ringing, talking, consulting, wrapping up). Occupancy is busy over logged in less
	// paused (0..1).
	// IVR: sessions that arrived in the period (the center's rows only), and those the IVR
	// resolved without an agent; IVRResolution is their share.
	IVRSessions   int     `json:"ivr_sessions"`
	IVRResolved   int     `json:"ivr_resolved"`
	IVRResolution float64 `json:"ivr_resolution"`
	LoggedIn      float64 `json:"logged_in_seconds"`
	Paused        float64 `json:"paused_seconds"`
	Busy          float64 `json:"busy_seconds"`
	Occupancy     float64 `json:"occupancy"`
	// The post-call survey: calls scored 0–10, promoters (9–10) and detractors (0–6) among them,
	// and NPS, promoters' share less detractors' in points (-100..100; 0 with no score).
	Surveyed   int     `json:"surveyed"`
	Promoters  int     `json:"promoters"`
	Detractors int     `json:"detractors"`
	NPS        float64 `json:"nps"`

	resolved24, resolved72, known int
}

// maxReportRows bounds one answer: 15-minute rows of 20 queues for about 2 weeks.
const maxReportRows = 30_000

// Report computes q's figures from the call records.
func (s *Store) Report(ctx context.Context, q ReportQuery) ([]ReportRow, error) {
	step, ok := Intervals[q.Interval]
	if !ok {
		return nil, fmt.Errorf("%w: interval %q (15m, 30m, 1h, day or month)", ErrBadReport, q.Interval)
	}
	key, ok := Groupings[q.By]
	if !ok {
		return nil, fmt.Errorf("%w: by %q (queue, agent or nothing)", ErrBadReport, q.By)
	}
	if !q.From.Before(q.To) || q.To.Sub(q.From) > 400*24*time.Hour {
		return nil, fmt.Errorf("%w: from must be before to, at most 400 days apart", ErrBadReport)
	}
	if q.Location == nil {
		q.Location = time.UTC
	}
	if q.ServiceLevel <= 0 {
		q.ServiceLevel = 20 * time.Second
	}
	if q.ShortAbandon <= 0 {
		q.ShortAbandon = 5 * time.Second
	}
	select {
	case s.reports <- struct{}{}:
		defer func() { <-s.reports }()
	case <-ctx.Done():
		return nil, fmt.Errorf("records: report: waiting for the reports before it: %w", ctx.Err())
	}
	// A call counts when it entered a queue; one the IVR served alone (the center's rows only), when
	// it arrived. date_bin cuts minutes from the range's start in the center's zone; date_trunc days
	// and months.
	const at = `coalesce(enqueued_at, arrived_at)`
	period := periodSQL(q.Interval, step, at)
	queued := ``
	if q.By != "" {
		queued = `AND enqueued_at IS NOT NULL`
	}
	sql := `
		SELECT ` + period + ` AS period, ` + key + ` AS key,
			count(*) FILTER (WHERE enqueued_at IS NOT NULL),
			count(*) FILTER (WHERE answered_at IS NOT NULL),
			count(*) FILTER (WHERE wait_ms <= $4),
			count(*) FILTER (WHERE ended_by = 'ABANDON' AND answered_at IS NULL AND left_after_ms >= $5),
			count(*) FILTER (WHERE ended_by = 'ABANDON' AND answered_at IS NULL AND left_after_ms < $5),
			count(*) FILTER (WHERE ended_by = 'EXIT' AND answered_at IS NULL),
			count(*) FILTER (WHERE callback_requested),
			count(*) FILTER (WHERE callback_requested AND answered_at IS NOT NULL),
			count(*) FILTER (WHERE hold_ms > 0),
			coalesce(avg(coalesce(hold_ms, 0)) FILTER (WHERE answered_at IS NOT NULL), 0) / 1000,
			count(*) FILTER (WHERE handovers > 0),
			coalesce(sum(consultations), 0),
			coalesce(avg(wait_ms) FILTER (WHERE answered_at IS NOT NULL), 0) / 1000,
			coalesce(avg(talk_ms) FILTER (WHERE talk_ms IS NOT NULL), 0) / 1000,
			coalesce(avg(wrapup_ms) FILTER (WHERE talk_ms IS NOT NULL AND wrapup_ms IS NOT NULL), 0) / 1000,
			count(*) FILTER (WHERE answered_at IS NOT NULL AND caller <> '' AND (next_call_at IS NULL OR next_call_at > arrived_at + interval '24 hours')),
			count(*) FILTER (WHERE answered_at IS NOT NULL AND caller <> '' AND (next_call_at IS NULL OR next_call_at > arrived_at + interval '72 hours')),
			count(*) FILTER (WHERE answered_at IS NOT NULL AND caller <> ''),
			count(*) FILTER (WHERE ivr_path <> '' OR ivr_outcome <> ''),
			count(*) FILTER (WHERE ivr_outcome = 'resolved'),
			count(survey_score),
			count(*) FILTER (WHERE survey_score >= 9),
			count(*) FILTER (WHERE survey_score <= 6)
		FROM calls
		-- A caller enters a queue within a day of arriving: the index on arrived_at finds them.
		WHERE center = $6 AND arrived_at >= $1::timestamptz - interval '1 day' AND arrived_at < $2
			AND ` + at + ` >= $1 AND ` + at + ` < $2 ` + queued + `
		GROUP BY 1, 2
		ORDER BY 1, 2
		LIMIT ` + fmt.Sprint(maxReportRows+1)
	rows, err := s.pool.Query(ctx, sql, q.From, q.To, q.Location.String(), q.ServiceLevel.Milliseconds(), q.ShortAbandon.Milliseconds(), s.center)
	if err != nil {
		return nil, fmt.Errorf("records: report: %w", err)
	}
	defer rows.Close()
	var out []ReportRow
	for rows.Next() {
		var r ReportRow
		var local time.Time
		if err := rows.Scan(&local, &r.Key, &r.Offered, &r.Answered, &r.AnsweredInSL, &r.Abandoned, &r.ShortAbandoned,
			&r.Exited, &r.Callbacks, &r.CallbacksKept, &r.Held, &r.Hold, &r.Transfers, &r.Consultations, &r.ASA, &r.Talk, &r.Wrapup,
			&r.resolved24, &r.resolved72, &r.known, &r.IVRSessions, &r.IVRResolved,
			&r.Surveyed, &r.Promoters, &r.Detractors); err != nil {
			return nil, fmt.Errorf("records: report: %w", err)
		}
		if q.By != "" {
			r.IVRSessions, r.IVRResolved = 0, 0 // the IVR's figures are the center's
		}
		r.Period = periodStart(local, q.Location)
		r.derive()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("records: report: %w", err)
	}
	if len(out) > maxReportRows {
		return nil, fmt.Errorf("%w: more than %d rows: a longer interval or a shorter range", ErrBadReport, maxReportRows)
	}
	// The refusals and the agents' time add to these rows, and rows of periods without calls.
	set := newRowSet(out)
	if q.By == "" {
		if err := s.addRefusals(ctx, q, step, set); err != nil {
			return nil, err
		}
	}
	// Agents serve several queues: their time is not any one queue's.
	if q.By != "queue" {
		if err := s.addAgentTime(ctx, q, step, set); err != nil {
			return nil, err
		}
	}
	return set.sorted(), nil
}

// periodSQL is the start of the period (in the center's zone, $3) that the instant in column at
// falls in: date_bin cuts minutes from the range's start ($1); date_trunc days and months.
func periodSQL(interval, step, at string) string {
	if interval == "day" || interval == "month" {
		return `date_trunc('` + interval + `', ` + at + ` AT TIME ZONE $3)`
	}
	return `date_bin('` + step + `', ` + at + ` AT TIME ZONE $3, $1 AT TIME ZONE $3)`
}

// periodStart is a period's start as PostgreSQL gives it (the wall clock in the center's zone, read
// as UTC) as an instant.
func periodStart(local time.Time, loc *time.Location) time.Time {
	return time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, loc)
}

// addRefusals counts into set's center rows the carrier calls its nodes refused (adding rows for
// periods with refusals and no call). A refusal is dated when a controller saw the node's count
// rise, which it reads every 10 s: up to that much after the call.
func (s *Store) addRefusals(ctx context.Context, q ReportQuery, step string, set *rowSet) error {
	res, err := s.pool.Query(ctx, `
		SELECT `+periodSQL(q.Interval, step, "at")+`, sum(count)
		FROM refusals WHERE center = $4 AND at >= $1 AND at < $2
		GROUP BY 1`, q.From, q.To, q.Location.String(), s.center)
	if err != nil {
		return fmt.Errorf("records: refusals: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var local time.Time
		var n int
		if err := res.Scan(&local, &n); err != nil {
			return fmt.Errorf("records: refusals: %w", err)
		}
		set.get(periodStart(local, q.Location), "").Refused = n
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("records: refusals: %w", err)
	}
	return nil
}

// rowSet finds a report's row by period and key, adding the rows that the calls did not give.
type rowSet struct {
	rows []ReportRow
	at   map[string]int
}

func newRowSet(rows []ReportRow) *rowSet {
	s := &rowSet{rows: rows, at: make(map[string]int, len(rows))}
	for i, r := range rows {
		s.at[r.Period.String()+"\x00"+r.Key] = i
	}
	return s
}

// get is the row of (period, key). The pointer holds until the next get.
func (s *rowSet) get(period time.Time, key string) *ReportRow {
	k := period.String() + "\x00" + key
	i, ok := s.at[k]
	if !ok {
		s.rows = append(s.rows, ReportRow{Period: period, Key: key})
		i = len(s.rows) - 1
		s.at[k] = i
	}
	return &s.rows[i]
}

// sorted is the rows by period, then key.
func (s *rowSet) sorted() []ReportRow {
	slices.SortFunc(s.rows, func(a, b ReportRow) int {
		if c := a.Period.Compare(b.Period); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return s.rows
}

// addAgentTime fills the agents' time into set (adding rows for agents logged in without calls),
// cutting each of their intervals (agent_intervals_in) at the periods' edges.
func (s *Store) addAgentTime(ctx context.Context, q ReportQuery, step string, set *rowSet) error {
	first := `$1 AT TIME ZONE $3`
	if q.Interval == "day" || q.Interval == "month" {
		first = `date_trunc('` + q.Interval + `', $1 AT TIME ZONE $3)`
	}
	key := `''`
	if q.By == "agent" {
		key = `i.agent`
	}
	sql := `
		WITH b AS (
			SELECT p AS period FROM generate_series(` + first + `, ($2 AT TIME ZONE $3) - interval '1 microsecond', interval '` + step + `') p
		), i AS (
			SELECT agent, state, started_at AT TIME ZONE $3 AS s, ended_at AT TIME ZONE $3 AS e
			FROM agent_intervals_in($4, $1, $2)
			WHERE state <> 'offline' AND ended_at > $1
		), cut AS (
			SELECT b.period, ` + key + ` AS key, i.state,
				extract(epoch FROM least(i.e, b.period + interval '` + step + `', $2 AT TIME ZONE $3)
					- greatest(i.s, b.period, $1 AT TIME ZONE $3)) AS secs
			FROM b JOIN i ON i.s < b.period + interval '` + step + `' AND i.e > b.period
		)
		SELECT period, key, sum(secs), coalesce(sum(secs) FILTER (WHERE state = 'paused'), 0),
			coalesce(sum(secs) FILTER (WHERE state IN ('ringing', 'oncall', 'consult', 'wrapup')), 0)
		FROM cut GROUP BY 1, 2`
	res, err := s.pool.Query(ctx, sql, q.From, q.To, q.Location.String(), s.center)
	if err != nil {
		return fmt.Errorf("records: agents' time: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var local time.Time
		var key string
		var logged, paused, busy float64
		if err := res.Scan(&local, &key, &logged, &paused, &busy); err != nil {
			return fmt.Errorf("records: agents' time: %w", err)
		}
		r := set.get(periodStart(local, q.Location), key)
		r.LoggedIn, r.Paused, r.Busy = logged, paused, busy
		r.derive()
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("records: agents' time: %w", err)
	}
	return nil
}

// Merge adds up rows whose keys group maps to one key (agents into their groups), per period: the
// counts and times are summed, and each share and average is worked out again from them (the
// averages weighed by the answered calls they average over).
func Merge(rows []ReportRow, group func(key string) string) []ReportRow {
	set := newRowSet(nil)
	type sums struct{ asa, talk, hold, wrapup float64 }
	weights := map[string]*sums{}
	for _, r := range rows {
		m := set.get(r.Period, group(r.Key))
		k := m.Period.String() + "\x00" + m.Key
		w := weights[k]
		if w == nil {
			w = &sums{}
			weights[k] = w
		}
		m.Offered += r.Offered
		m.Answered += r.Answered
		m.AnsweredInSL += r.AnsweredInSL
		m.Abandoned += r.Abandoned
		m.ShortAbandoned += r.ShortAbandoned
		m.Exited += r.Exited
		m.Callbacks += r.Callbacks
		m.CallbacksKept += r.CallbacksKept
		m.Held += r.Held
		m.Transfers += r.Transfers
		m.Consultations += r.Consultations
		m.Refused += r.Refused
		m.IVRSessions += r.IVRSessions
		m.IVRResolved += r.IVRResolved
		m.LoggedIn += r.LoggedIn
		m.Paused += r.Paused
		m.Busy += r.Busy
		m.resolved24 += r.resolved24
		m.resolved72 += r.resolved72
		m.known += r.known
		m.Surveyed += r.Surveyed
		m.Promoters += r.Promoters
		m.Detractors += r.Detractors
		w.asa += r.ASA * float64(r.Answered)
		w.talk += r.Talk * float64(r.Answered)
		w.hold += r.Hold * float64(r.Answered)
		w.wrapup += r.Wrapup * float64(r.Answered)
	}
	out := set.sorted()
	for i := range out {
		m := &out[i]
		if w := weights[m.Period.String()+"\x00"+m.Key]; m.Answered > 0 && w != nil {
			m.ASA, m.Talk, m.Wrapup = w.asa/float64(m.Answered), w.talk/float64(m.Answered), w.wrapup/float64(m.Answered)
			m.Hold = w.hold / float64(m.Answered)
		}
		m.derive()
	}
	return out
}

// derive works out the row's shares and AHT from its counts, times and averages.
func (r *ReportRow) derive() {
	if n := r.Offered - r.ShortAbandoned; n > 0 {
		r.ServiceLevel = float64(r.AnsweredInSL) / float64(n)
	}
	if r.Answered > 0 {
		r.AHT = r.Talk + r.Wrapup
	}
	if r.known > 0 {
		r.FCR24, r.FCR72 = float64(r.resolved24)/float64(r.known), float64(r.resolved72)/float64(r.known)
	}
	if r.IVRSessions > 0 {
		r.IVRResolution = float64(r.IVRResolved) / float64(r.IVRSessions)
	}
	if n := r.LoggedIn - r.Paused; n > 0 {
		r.Occupancy = r.Busy / n
	}
	if r.Surveyed > 0 {
		r.NPS = 100 * float64(r.Promoters-r.Detractors) / float64(r.Surveyed)
	}
}
