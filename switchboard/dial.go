package switchboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/numbering"
)

// Every number the switchboard dials (a blind transfer, a consultation, a callback, an IVR
// transfer) goes through dialCheck: the center's rules decide, only the canonical number (a '+' and
// digits) goes into a dial string or a dialplan extension, and the attempt is audited before
// anything is dialled. A dial that cannot be audited does not happen.

// ErrDialRefused means a number the dialling rules refuse, or that is not a number at all; the
// error says why.
var ErrDialRefused = errors.New("number refused")

// ErrTransferFailed means a blind transfer to a number that Asterisk did not make after the agent
// had left the call: the caller waits in their queue again.
var ErrTransferFailed = errors.New("the transfer did not go through: the caller waits in their queue again")

// Kinds of outbound dial, as audited.
const (
	dialTransfer = "transfer"
	dialConsult  = "consult"
	dialCallback = "callback"
)

// actorSystem is who dials when no agent asked: callbacks, IVR transfers.
const actorSystem = "system"

// auditTimeout bounds an audit write: the caller is waiting on the dial.
const auditTimeout = 2 * time.Second

// dialCheck checks raw, asked by actor for the call's dial of kind, and returns the number to
// dial. A refusal is audited and returned as ErrDialRefused.
func (c *call) dialCheck(ctx context.Context, actor, kind, raw string) (numbering.Number, error) {
	n, err := c.sb.check(raw)
	if err != nil {
		c.auditDial(ctx, actor, kind, n, raw, "refused", err.Error())
		c.log.Warn("dial refused", "actor", actor, "kind", kind, "input", fmt.Sprintf("%.64q", raw), "why", err)
		return n, fmt.Errorf("%w: %w", ErrDialRefused, err)
	}
	if err := c.auditDial(ctx, actor, kind, n, raw, "ok", ""); err != nil {
		return n, fmt.Errorf("dial %s not audited, so not dialled: %w", n, err)
	}
	return n, nil
}

// errNoInternalRoute refuses an extension when no PBX route is configured: on a carrier a short
// number may be a paid service, so an extension goes to the PBX or nowhere.
var errNoInternalRoute = errors.New("no route to internal extensions (ari.internal_endpoint)")

// check reads raw by the center's dialing rules, and refuses what has no route to dial it by.
func (sb *Switchboard) check(raw string) (numbering.Number, error) {
	n, err := sb.dialing.Check(raw)
	if err == nil && n.Class == numbering.Internal && sb.cfg.InternalEndpoint == "" {
		err = errNoInternalRoute
	}
	return n, err
}

// dialString is the channel that reaches n, a number dialCheck allowed: an internal extension
// through the PBX, any other number through the carrier.
func (sb *Switchboard) dialString(n numbering.Number) string {
	if n.Class == numbering.Internal {
		return fmt.Sprintf(sb.cfg.InternalEndpoint, n.Canonical)
	}
	return fmt.Sprintf(sb.cfg.CallbackEndpoint, n.Canonical)
}

// transferOut hands the caller's channel to the dialplan's transfer context, which dials n through
// the channel dialString names (HOTLINE_DIAL): the routes are the controller's configuration, not
// the dialplan's.
func (c *call) transferOut(ctx context.Context, n numbering.Number) error {
	if err := c.sb.ari.setVar(ctx, c.channel, "HOTLINE_DIAL", c.sb.dialString(n)); err != nil {
		return err
	}
	return c.sb.ari.continueIn(ctx, c.channel, c.sb.cfg.TransferContext, n.Canonical)
}

// transferFromIVR sends the caller to the number of the menu's transfer node, through the rules and
// the audit like any dial, and reports whether the caller has left (transferred, or gone). When the
// number is refused or the transfer fails, the caller is not hung up on: they came for help, and
// wait for an agent instead (res.Queue, the menu's last resort).
func (c *call) transferFromIVR(ctx context.Context, res ivr.Result) bool {
	n, err := c.dialCheck(ctx, actorSystem, dialTransfer, res.Number)
	if err == nil {
		if err = c.transferOut(ctx, n); err == nil || errors.Is(err, ErrGone) {
			return true
		}
		c.dialFailed(ctx, actorSystem, dialTransfer, n, err)
	}
	c.log.Error("ivr transfer out failed; the caller waits for an agent instead", "number", res.Number, "queue", res.Queue, "err", err)
	return false
}

// dialFailed audits a dial that was allowed but did not go out.
func (c *call) dialFailed(ctx context.Context, actor, kind string, n numbering.Number, err error) {
	c.auditDial(ctx, actor, kind, n, n.Canonical, "failed", err.Error())
}

func (c *call) auditDial(ctx context.Context, actor, kind string, n numbering.Number, raw, outcome, why string) error {
	role := "agent"
	if actor == actorSystem {
		role = "system"
	}
	detail := map[string]string{"kind": kind, "call": c.id}
	if n.Class != "" {
		detail["class"] = string(n.Class)
	}
	if n.Canonical == "" || raw != n.Canonical {
		detail["input"] = fmt.Sprintf("%.64q", raw) // quoted: what was typed or sent, made harmless
	}
	if why != "" {
		detail["reason"] = why
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	err := c.sb.audit.Record(ctx, audit.Entry{Actor: actor, Role: role, Remote: audit.RemoteFrom(ctx), Action: "dial", Target: n.Canonical, Outcome: outcome, Detail: detail})
	if err != nil {
		c.log.Error("audit a dial", "kind", kind, "number", n.Canonical, "outcome", outcome, "err", err)
	}
	return err
}

// logRecorder is the audit of a switchboard built without one (tools, tests): the process log.
type logRecorder struct{ sb *Switchboard }

func (r logRecorder) Record(_ context.Context, e audit.Entry) error {
	r.sb.log.Info("audit", "actor", e.Actor, "action", e.Action, "target", e.Target, "outcome", e.Outcome, "detail", e.Detail)
	return nil
}
