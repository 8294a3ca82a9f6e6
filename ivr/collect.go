package ivr

import (
	"context"
	"errors"
	"time"
)

// CollectSpec says how to gather a number keyed by a caller.
type CollectSpec struct {
	Min, Max     int           // digits; Max ≤ 0 means no limit but the terminator or a pause
	Terminator   rune          // ends entry early ('#'); 0 for none
	FirstTimeout time.Duration // wait for the first digit
	InterTimeout time.Duration // wait between digits
}

// maxCollect bounds what any entry holds, so a caller holding keys down cannot grow a session's data.
const maxCollect = 32

// Collect reads digits from call until Max digits, the terminator or a pause of InterTimeout. A key
// pressed during the prompt before it (barge-in) is the first digit, since Play leaves it buffered.
// '*' clears what was entered so far and starts over (callers who slip need not wait for a retry).
//
// It returns what was entered, possibly "" (only the terminator) or shorter than Min: judging the
// entry is the caller's business. ErrTimeout when not a single key came before FirstTimeout;
// ErrHangup and context errors pass through wrapped.
func Collect(ctx context.Context, call Call, spec CollectSpec) (string, error) {
	limit := spec.Max
	if limit <= 0 || limit > maxCollect {
		limit = maxCollect
	}
	buf := make([]byte, 0, limit)
	wait := spec.FirstTimeout
	pressed := false
	for len(buf) < limit {
		k, err := call.NextDigit(ctx, wait)
		switch {
		case errors.Is(err, ErrTimeout):
			if !pressed {
				return "", ErrTimeout
			}
			return string(buf), nil
		case err != nil:
			return string(buf), err
		}
		pressed = true
		wait = spec.InterTimeout
		switch {
		case spec.Terminator != 0 && k == spec.Terminator:
			return string(buf), nil
		case k == '*':
			buf = buf[:0]
		case k >= '0' && k <= '9':
			buf = append(buf, byte(k))
		}
		// Other keys ('#' when it is not the terminator, letters from odd phones) are ignored.
	}
	return string(buf), nil
}
