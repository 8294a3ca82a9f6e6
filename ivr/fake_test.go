package ivr_test

import (
	"context"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/ivr"
)

// fakeCall is a scripted caller with virtual time: no real sleeps, no timed assertions.
//
// The script is read one token at a time:
//
//	'0'-'9', '*', '#'  the caller presses that key
//	'~'                silence: the pending NextDigit times out (Play is not affected: a prompt plays
//	                   to its end when the caller says nothing)
//	'!'                the caller hangs up (mid-prompt if a Play is running)
//
// When the script is exhausted, prompts play to their end and the next NextDigit finds the caller gone,
// so every flow ends.
type fakeCall struct {
	mu     sync.Mutex
	script []rune
	plays  []play // every Play, in order
	waits  []time.Duration
	now    time.Duration // virtual: advanced by each timeout waited in full
	// block, if set, is received from before the first Play returns (to hold a call in progress);
	// entered, if set, is closed when that first Play begins (the call has taken its menus).
	block   <-chan struct{}
	entered chan struct{}
}

type play struct {
	lang  string
	media []string
}

func newFake(script string) *fakeCall { return &fakeCall{script: []rune(script)} }

func (f *fakeCall) Play(ctx context.Context, lang string, media ...string) error {
	if f.block != nil {
		if f.entered != nil {
			close(f.entered)
			f.entered = nil
		}
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.block = nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plays = append(f.plays, play{lang, append([]string(nil), media...)})
	if len(f.script) > 0 && f.script[0] == '!' {
		return ivr.ErrHangup
	}
	return nil // a key barges in and stays buffered; silence lets the prompt finish
}

func (f *fakeCall) NextDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, timeout)
	if len(f.script) == 0 {
		return 0, ivr.ErrHangup
	}
	k := f.script[0]
	switch k {
	case '!':
		return 0, ivr.ErrHangup
	case '~':
		if timeout > 0 { // a look at what is buffered (timeout 0) does not use up a silence
			f.script = f.script[1:]
			f.now += timeout
		}
		return 0, ivr.ErrTimeout
	}
	f.script = f.script[1:]
	return k, nil
}

// heard returns every media URI played, in order.
func (f *fakeCall) heard() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.plays {
		out = append(out, p.media...)
	}
	return out
}

// langs returns the language of every Play.
func (f *fakeCall) langs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.plays {
		out = append(out, p.lang)
	}
	return out
}
