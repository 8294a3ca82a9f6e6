package ivr

import (
	"context"
	"errors"
	"time"
)

// Sentinels that Call implementations return and flows branch on.
var (
	// ErrHangup: the caller is gone. Any Call method may return it (wrapped or not).
	ErrHangup = errors.New("ivr: caller hung up")
	// ErrTimeout: NextDigit waited its full timeout and no key came.
	ErrTimeout = errors.New("ivr: no key before timeout")
	// ErrNoMenu: no menu answers the call's DID and the file names no default_menu.
	ErrNoMenu = errors.New("ivr: no menu for this number")
)

// Call is what a flow needs from a live call. switchboard implements it over ARI; tests use a fake.
type Call interface {
	// Play plays the media URIs in order (ARI media: "sound:hotline/greeting", "digits:123",
	// "number:42", "tone:440") in language lang and returns when they have all finished. A DTMF key
	// stops playback at once (barge-in) and Play returns nil; the key is not consumed: the next
	// NextDigit returns it. ErrHangup when the caller is gone.
	Play(ctx context.Context, lang string, media ...string) error
	// NextDigit returns the next DTMF key ('0'-'9', '*', '#'), waiting at most timeout.
	// ErrTimeout when none came; ErrHangup when the caller is gone.
	NextDigit(ctx context.Context, timeout time.Duration) (rune, error)
}

// Inbound is what is known when a call arrives.
type Inbound struct{ CallID, DID, CallerNumber string }
