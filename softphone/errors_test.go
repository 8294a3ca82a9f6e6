package softphone

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
)

// TestErrorReplyCodes: the errors the page can act on reach it by their code, wrapped or not, with
// their message where it helps; anything else is a plain failure whose detail stays in the log.
func TestErrorReplyCodes(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("%w: +78095550100 is premium", ErrRefused), "refused"},
		{fmt.Errorf("%w: to +79161234567: asterisk said 500", ErrTransferFailed), "transfer_failed"},
		{ErrInvalidState, "invalid_state"},
		{ErrUnreachable, "unreachable"},
		{ErrRateLimited, "rate_limited"},
		{errors.New("redis: connection refused"), "failed"},
	} {
		e := s.errorReply("a1", "r1", MsgCallTransfer, tc.err).(Error)
		if e.Code != tc.code || e.ID != "r1" || e.About != MsgCallTransfer {
			t.Errorf("%v: %+v, want code %q", tc.err, e, tc.code)
		}
		if tc.code == "failed" && e.Message != "request failed" {
			t.Errorf("an internal error's detail reached the page: %q", e.Message)
		}
	}
}
