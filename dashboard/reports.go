package dashboard

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hotline-cc/hotline/records"
)

// Reports answers the figures of past calls (package records' Store).
type Reports interface {
	Report(ctx context.Context, q records.ReportQuery) ([]records.ReportRow, error)
}

// reportColumns are the CSV's columns, in order, with how each row gives its value.
var reportColumns = []struct {
	name  string
	value func(r records.ReportRow) string
}{
	{"period", func(r records.ReportRow) string { return r.Period.Format(time.RFC3339) }},
	{"key", func(r records.ReportRow) string { return r.Key }},
	{"offered", func(r records.ReportRow) string { return strconv.Itoa(r.Offered) }},
	{"answered", func(r records.ReportRow) string { return strconv.Itoa(r.Answered) }},
	{"answered_in_sl", func(r records.ReportRow) string { return strconv.Itoa(r.AnsweredInSL) }},
	{"abandoned", func(r records.ReportRow) string { return strconv.Itoa(r.Abandoned) }},
	{"short_abandoned", func(r records.ReportRow) string { return strconv.Itoa(r.ShortAbandoned) }},
	{"exited", func(r records.ReportRow) string { return strconv.Itoa(r.Exited) }},
	{"callbacks", func(r records.ReportRow) string { return strconv.Itoa(r.Callbacks) }},
	{"callbacks_kept", func(r records.ReportRow) string { return strconv.Itoa(r.CallbacksKept) }},
	{"held", func(r records.ReportRow) string { return strconv.Itoa(r.Held) }},
	{"transfers", func(r records.ReportRow) string { return strconv.Itoa(r.Transfers) }},
	{"consultations", func(r records.ReportRow) string { return strconv.Itoa(r.Consultations) }},
	{"service_level", func(r records.ReportRow) string { return ratio(r.ServiceLevel) }},
	{"asa_seconds", func(r records.ReportRow) string { return seconds(r.ASA) }},
	{"aht_seconds", func(r records.ReportRow) string { return seconds(r.AHT) }},
	{"talk_seconds", func(r records.ReportRow) string { return seconds(r.Talk) }},
	{"hold_seconds", func(r records.ReportRow) string { return seconds(r.Hold) }},
	{"wrapup_seconds", func(r records.ReportRow) string { return seconds(r.Wrapup) }},
	{"fcr_24h", func(r records.ReportRow) string { return ratio(r.FCR24) }},
	{"fcr_72h", func(r records.ReportRow) string { return ratio(r.FCR72) }},
	{"ivr_sessions", func(r records.ReportRow) string { return strconv.Itoa(r.IVRSessions) }},
	{"ivr_resolved", func(r records.ReportRow) string { return strconv.Itoa(r.IVRResolved) }},
	{"ivr_resolution", func(r records.ReportRow) string { return ratio(r.IVRResolution) }},
	{"logged_in_seconds", func(r records.ReportRow) string { return seconds(r.LoggedIn) }},
	{"paused_seconds", func(r records.ReportRow) string { return seconds(r.Paused) }},
	{"busy_seconds", func(r records.ReportRow) string { return seconds(r.Busy) }},
	{"occupancy", func(r records.ReportRow) string { return ratio(r.Occupancy) }},
	{"surveyed", func(r records.ReportRow) string { return strconv.Itoa(r.Surveyed) }},
	{"promoters", func(r records.ReportRow) string { return strconv.Itoa(r.Promoters) }},
	{"detractors", func(r records.ReportRow) string { return strconv.Itoa(r.Detractors) }},
	{"nps", func(r records.ReportRow) string { return seconds(r.NPS) }},
	// Last, so that a sheet reading the columns by position before it was added still reads them.
	{"refused", func(r records.ReportRow) string { return strconv.Itoa(r.Refused) }},
}

func ratio(v float64) string   { return strconv.FormatFloat(v, 'f', 4, 64) }
func seconds(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// maxReportSeconds bounds the service-level and short-abandon thresholds a query may ask for.
const maxReportSeconds = 3600

// handleReports answers GET api/reports?from=&to=&interval=&by=&sl=&short=&format=json|csv. from and
// to are dates (to inclusive) or RFC 3339 instants; dates are the center's days.
func (s *Server) handleReports(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Reports == nil {
		writeError(w, http.StatusNotFound, "reports need the records database (records.postgres)")
		return
	}
	q, format, err := s.reportQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	rows, err := s.cfg.Reports.Report(ctx, q)
	switch {
	case errors.Is(err, records.ErrBadReport):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, "the report took too long (or waited for others): try a shorter range or a longer step, or again later")
		return
	case err != nil:
		s.log.Error("dashboard: report", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the records database is unavailable")
		return
	}
	if format == "csv" {
		name := fmt.Sprintf("hotline-%s-%s-%s.csv", q.From.In(q.Location).Format("2006-01-02"), q.Interval, orCenter(q.By))
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		head := make([]string, len(reportColumns))
		for i, c := range reportColumns {
			head[i] = c.name
		}
		_ = cw.Write(head)
		for _, row := range rows {
			rec := make([]string, len(reportColumns))
			for i, c := range reportColumns {
				rec[i] = c.value(row)
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return
	}
	if rows == nil {
		rows = []records.ReportRow{}
	}
	writeJSON(w, http.StatusOK, struct {
		From     time.Time           `json:"from"`
		To       time.Time           `json:"to"`
		Interval string              `json:"interval"`
		By       string              `json:"by"`
		Rows     []records.ReportRow `json:"rows"`
	}{q.From, q.To, q.Interval, q.By, rows})
}

func orCenter(by string) string {
	if by == "" {
		return "center"
	}
	return by
}

func (s *Server) reportQuery(r *http.Request) (records.ReportQuery, string, error) {
	v := r.URL.Query()
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	q := records.ReportQuery{Interval: v.Get("interval"), By: v.Get("by"), Location: loc}
	if q.Interval == "" {
		q.Interval = "1h"
	}
	var err error
	if q.From, err = reportTime(v.Get("from"), loc, false); err != nil {
		return q, "", fmt.Errorf("from: %w", err)
	}
	if q.To, err = reportTime(v.Get("to"), loc, true); err != nil {
		return q, "", fmt.Errorf("to: %w", err)
	}
	for name, d := range map[string]*time.Duration{"sl": &q.ServiceLevel, "short": &q.ShortAbandon} {
		if raw := v.Get(name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > maxReportSeconds {
				return q, "", fmt.Errorf("%s: %q is not a number of seconds from 1 to %d", name, raw, maxReportSeconds)
			}
			*d = time.Duration(n) * time.Second
		}
	}
	format := v.Get("format")
	switch format {
	case "", "json":
		format = "json"
	case "csv":
	default:
		return q, "", fmt.Errorf("format: %q is not json or csv", format)
	}
	return q, format, nil
}

// reportTime reads a date (the start of that day in loc; with end, the start of the next) or an
// RFC 3339 instant.
func reportTime(raw string, loc *time.Location, end bool) (time.Time, error) {
	if raw == "" {
		return time.Time{}, errors.New("required: a date (2026-12-01) or an RFC 3339 time")
	}
	if d, err := time.ParseInLocation("2006-01-02", raw, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2026-12-01) or an RFC 3339 time", raw)
	}
	return t, nil
}
