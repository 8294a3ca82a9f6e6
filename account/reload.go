package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hotline-cc/hotline/audit"
)

// Change is what a reload did to one account's sessions.
type Change struct {
	Account string
	Reason  string // "account disabled", "account removed", "password changed", "role changed"
}

// Replace puts dir in place of the current directory (the center file re-read) and ends, on every
// instance, the sessions of each account it disables, removes, or gives a new password or role:
// editing the file and reloading is how an operator locks someone out, and a changed password
// means the old one may be known. Logins and session checks see dir at once. It returns the
// accounts whose sessions were ended, sorted; revocation errors are joined, and the directory is
// replaced regardless (a session left over fails its next check, which reads dir). before, when not
// nil, runs for each change before its sessions end: the caller's chance to hand on the account's
// work (a call it is talking on).
func (s *Service) Replace(ctx context.Context, dir *Directory, before func(context.Context, Change)) ([]Change, error) {
	if err := withDummy(dir); err != nil {
		return nil, err
	}
	old := s.dir.Swap(dir)
	var changes []Change
	for id, was := range old.byID {
		now, ok := dir.byID[id]
		var reason string
		switch {
		case !ok:
			reason = "account removed"
		case now.Disabled && !was.Disabled:
			reason = "account disabled"
		case now.PasswordHash != was.PasswordHash:
			reason = "password changed"
		case now.Role != was.Role:
			reason = "role changed"
		default:
			continue
		}
		changes = append(changes, Change{Account: id, Reason: reason})
	}
	slices.SortFunc(changes, func(a, b Change) int { return strings.Compare(a.Account, b.Account) })
	var errs []error
	for _, c := range changes {
		if before != nil {
			before(ctx, c)
		}
		err := s.revoke(ctx, Revocation{Account: c.Account, Reason: c.Reason})
		e := audit.Entry{Actor: "system", Role: "system", Action: "sessions.revoke", Target: c.Account, Outcome: "ok",
			Detail: map[string]string{"reason": c.Reason, "by": "center file reload"}}
		if err != nil {
			e.Outcome, e.Detail["error"] = "failed", err.Error()
			errs = append(errs, fmt.Errorf("account %s: %w", c.Account, err))
		}
		s.record(ctx, e)
	}
	return changes, errors.Join(errs...)
}
