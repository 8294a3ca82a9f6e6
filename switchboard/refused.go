package switchboard

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// refusedGlobal is the dialplan global in which the node's [from-carrier] (asterisk-config's
// extensions.conf) counts the carrier calls it refused at HOTLINE_MAX_CALLS. Those calls never
// reach the controller, so reading the count is the only way it learns of them: without it, a
// ceiling set too low refuses callers and nothing on the controller's side shows it.
const refusedGlobal = "HOTLINE_REFUSED"

// refusedLoop reads refusedGlobal every Config.RefusedEvery into sb.refused, which the metric
// hotline_carrier_calls_refused_total reports, and hands it to Deps.Refusals for the center's day
// count. Asterisk's count starts again at 0 when it restarts or reloads its dialplan; Prometheus
// reads such a drop as a counter reset, and Refusals tells a restart by the node's start time.
func (sb *Switchboard) refusedLoop(ctx context.Context) {
	t := time.NewTicker(sb.cfg.RefusedEvery)
	defer t.Stop()
	warned := false
	for {
		rctx, cancel := context.WithTimeout(ctx, sb.cfg.RefusedEvery)
		node, nodeErr, v, err := sb.readRefused(rctx)
		cancel()
		switch n, perr := strconv.ParseInt(v, 10, 64); {
		case err != nil:
			if ctx.Err() == nil {
				sb.log.Debug("read the node's count of refused carrier calls", "err", err)
			}
		case perr != nil || n < 0:
			// An Asterisk configured without it (an older extensions.conf): say so once.
			if !warned {
				warned = true
				sb.log.Warn("the node's dialplan keeps no count of refused carrier calls; install the shipped extensions.conf",
					"global", refusedGlobal, "value", v)
			}
		default:
			sb.refused.Store(n)
			if sb.refusals != nil {
				sb.reportRefused(ctx, node, nodeErr, n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errRunChanged: Asterisk restarted while its count was read, so the count may be either run's.
var errRunChanged = errors.New("the node restarted while its count was read; the next read reports it")

// readRefused reads the node's count (v) and, for Deps.Refusals, the node run it belongs to,
// before and after it: should Asterisk restart between the reads, nodeErr is errRunChanged
// and the count is reported at the next read, rather than under the wrong run (the old run's
// whole count under the new one's name would be added again).
func (sb *Switchboard) readRefused(ctx context.Context) (node string, nodeErr error, v string, err error) {
	if sb.refusals != nil {
		node, nodeErr = sb.ari.nodeRun(ctx)
	}
	if v, err = sb.ari.getGlobal(ctx, refusedGlobal); err != nil || sb.refusals == nil || nodeErr != nil {
		return node, nodeErr, v, err
	}
	if after, aerr := sb.ari.nodeRun(ctx); aerr != nil {
		nodeErr = aerr
	} else if after != node {
		nodeErr = errRunChanged
	}
	return node, nodeErr, v, nil
}

// reportRefused hands the count to Deps.Refusals with the node run it belongs to (nodeErr: the run
// could not be read). A failure is logged and the next read reports again: the count is
// cumulative, so nothing is lost by a missed report.
func (sb *Switchboard) reportRefused(ctx context.Context, node string, nodeErr error, n int64) {
	rctx, cancel := context.WithTimeout(ctx, sb.cfg.RefusedEvery)
	defer cancel()
	err := nodeErr
	if err == nil {
		err = sb.refusals.Seen(rctx, node, n)
	}
	switch {
	case errors.Is(err, errRunChanged):
		sb.log.Info("the node restarted; its count of refused carrier calls is reported at the next read", "count", n)
	case err != nil && ctx.Err() == nil:
		sb.log.Warn("report the node's count of refused carrier calls", "count", n, "err", err)
	}
}
