package switchboard

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A call's conversation bridge gets a fresh id each time one is made (br-<call id>-<suffix>), never
// the same id twice: Asterisk keeps a destroyed bridge's id taken until its last reference goes, a
// few milliseconds after DELETE answers (up to 12 ms seen on Asterisk 22.10.1), and refuses a
// bridge with that id meanwhile (409). A blind transfer to a colleague who answers at once
// destroys the call's bridge and makes a new one well within that. Waiting out a 409 would put a
// guess at Asterisk's timing into every answer, and a 409 for a bridge that really is still there
// (left by a failure) would never clear. A controller that restarts finds a call's bridges by
// their prefix (callBridges).

const callBridgePrefix = "br-"

// newBridgeID names a new conversation bridge for a call.
func newBridgeID(callID string) string {
	return callBridgePrefix + callID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// isCallBridge says whether bridge id is one of call callID's conversation bridges. The suffix has
// no '-', so br-X-Y-Z is call X-Y's, not call X's; a plain br-<call id> is what controllers named
// the bridge before ids were fresh (a call talking across the upgrade).
func isCallBridge(id, callID string) bool {
	rest, ok := strings.CutPrefix(id, callBridgePrefix+callID)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	suffix, ok := strings.CutPrefix(rest, "-")
	return ok && suffix != "" && !strings.Contains(suffix, "-")
}

// callBridges returns the conversation bridges Asterisk has for a call, with their channels
// (usually one; none when Asterisk cannot say).
func (sb *Switchboard) callBridges(ctx context.Context, callID string) map[string][]string {
	found := sb.ari.bridgeChannels(ctx, callBridgePrefix+callID)
	for id := range found {
		if !isCallBridge(id, callID) {
			delete(found, id)
		}
	}
	return found
}

// talkingBridge finds the bridge a previous controller left a talking call in: the one the caller
// is in, else the newest (the caller was on hold, or in a consultation). Without one (it went with
// a failure) it makes a new one, which the agent's resume brings the caller into.
func (c *call) talkingBridge(ctx context.Context) string {
	var newest string
	for id, members := range c.sb.callBridges(ctx, c.id) {
		if slices.Contains(members, c.channel) {
			return id
		}
		newest = max(newest, id)
	}
	if newest != "" {
		return newest
	}
	id := newBridgeID(c.id)
	if err := c.sb.ari.createBridge(ctx, id, "call-"+c.id); err != nil {
		c.log.Warn("no bridge left for a talking call, and a new one failed", "err", err)
	}
	return id
}

// dropCallBridges removes what a call that ended while no controller ran left in Asterisk: its
// bridges and the agents' audio legs in them.
func (sb *Switchboard) dropCallBridges(ctx context.Context, callID string) {
	for bridge := range sb.callBridges(ctx, callID) {
		if em := sb.ari.staleLeg(ctx, bridge, callID); em != "" {
			if err := sb.ari.hangup(ctx, em); err != nil && !errors.Is(err, ErrGone) {
				sb.log.Warn("hang up a dead controller's audio leg", "channel", em, "err", err)
			}
		}
		if err := sb.ari.destroyBridge(ctx, bridge); err != nil && !errors.Is(err, ErrGone) {
			sb.log.Warn("destroy a dead call's bridge", "bridge", bridge, "err", err)
		}
	}
}
