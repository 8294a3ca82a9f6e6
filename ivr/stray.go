package ivr

import (
	"context"
	"errors"
	"time"
)

// strayTerminator wraps a session's Call to forgive one habit: a caller who keys a full-length number
// (14 digits) and then presses # anyway. Collect ends at the 14th digit, so that # would land on the
// next prompt, stop it (barge-in) and count as a wrong key in the next menu. After such an entry the
// first key is checked: a terminator is dropped and the prompt it interrupted starts again; any other
// key keeps its meaning.
type strayTerminator struct {
	Call
	armed  rune   // the terminator to drop, 0 when none is expected
	pushed []rune // a key read while checking, handed back first
}

// expect arms the check after an entry that ended at its maximum length.
func (c *strayTerminator) expect(term rune) { c.armed = term }

func (c *strayTerminator) Play(ctx context.Context, lang string, media ...string) error {
	if len(c.pushed) > 0 {
		return nil // type-ahead: a key is waiting, the prompt is skipped as Play's contract says
	}
	if err := c.Call.Play(ctx, lang, media...); err != nil || c.armed == 0 {
		return err
	}
	k, err := c.Call.NextDigit(ctx, 0)
	switch {
	case errors.Is(err, ErrTimeout), errors.Is(err, ErrHangup):
		// The prompt played through with no stray key; a hangup is seen again by the next read.
		c.armed = 0
		return nil
	case err != nil:
		return err
	case k == c.armed:
		c.armed = 0
		return c.Call.Play(ctx, lang, media...)
	}
	c.armed = 0
	c.pushed = append(c.pushed, k)
	return nil
}

func (c *strayTerminator) NextDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	if len(c.pushed) > 0 {
		k := c.pushed[0]
		c.pushed = c.pushed[1:]
		return k, nil
	}
	k, err := c.Call.NextDigit(ctx, timeout)
	if err == nil && c.armed != 0 {
		armed := c.armed
		c.armed = 0
		if k == armed {
			return c.Call.NextDigit(ctx, timeout)
		}
	}
	return k, err
}
