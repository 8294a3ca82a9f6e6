package softphone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/account"
)

// nopDesk accepts everything for agent "a" and refuses calls named "other" as not theirs.
type nopDesk struct{}

func (nopDesk) check(callID string) error {
	if callID == "other" {
		return ErrNotYourCall
	}
	return nil
}
func (nopDesk) Profile(_ context.Context, a account.Account) (Agent, error) {
	return Agent{ID: a.ID, Role: string(a.Role)}, nil
}
func (nopDesk) SetState(context.Context, string, AgentState, string) error     { return nil }
func (d nopDesk) Answer(_ context.Context, _, c string) error                  { return d.check(c) }
func (d nopDesk) Reject(_ context.Context, _, c string) error                  { return d.check(c) }
func (d nopDesk) Hangup(_ context.Context, _, c string) error                  { return d.check(c) }
func (d nopDesk) Hold(_ context.Context, _, c string) error                    { return d.check(c) }
func (d nopDesk) Resume(_ context.Context, _, c string) error                  { return d.check(c) }
func (d nopDesk) Mute(_ context.Context, _, c string) error                    { return d.check(c) }
func (d nopDesk) Unmute(_ context.Context, _, c string) error                  { return d.check(c) }
func (d nopDesk) SendDTMF(_ context.Context, _, c, _ string) error             { return d.check(c) }
func (d nopDesk) BlindTransfer(_ context.Context, _, c string, _ Target) error { return d.check(c) }
func (d nopDesk) Consult(_ context.Context, _, c string, _ Target) error       { return d.check(c) }
func (d nopDesk) CompleteTransfer(_ context.Context, _, c string) error        { return d.check(c) }
func (d nopDesk) CancelConsult(_ context.Context, _, c string) error           { return d.check(c) }
func (d nopDesk) WrapUp(_ context.Context, _, c, _, _ string) error            { return d.check(c) }
func (nopDesk) CallsToday(context.Context, string) ([]CallSummary, error)      { return nil, nil }
func (d nopDesk) ExtendWrapUp(_ context.Context, _, c string, by time.Duration) (time.Duration, error) {
	return by, d.check(c)
}

// FuzzSignaling feeds arbitrary bytes to the page message decoder and dispatcher: no panic, a
// reply for everything, valid JSON out, and an error reply exactly when decoding fails.
func FuzzSignaling(f *testing.F) {
	for typ := range requestTypes {
		f.Add([]byte(`{"type":"` + typ + `","id":"1","call":"c1","digits":"12#","state":"paused","reason":"r",` +
			`"target":{"kind":"queue","value":"q"},"disposition":"d","note":"n","sdp":"v=0","answer_to_audio_ms":120.5,"seconds":30}`))
		f.Add([]byte(`{"type":"` + typ + `","call":"other"}`))
		f.Add([]byte(`{"type":"` + typ + `"}`))
	}
	for _, s := range []string{``, `{`, `null`, `[]`, `{"type":1}`, `{"type":"call.dtmf","call":"c","digits":"` + strings.Repeat("9", 40) + `"}`,
		"{\"type\":\"call.wrapup\",\"call\":\"c\",\"disposition\":\"\xff\"}",
		`{"type":"call.audio","call":"c","answer_to_audio_ms":-1}`, `{"type":"call.audio","call":"c","answer_to_audio_ms":1e300}`,
		`{"type":"call.audio","call":"c","answer_to_audio_ms":"fast"}`} {
		f.Add([]byte(s))
	}
	s := NewServer(nil, nopDesk{}, ServerConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _, decErr := decodeRequest(data)
		reply := s.dispatch(context.Background(), caller{id: "a", agent: true}, nil, data)
		if reply == nil {
			t.Fatal("no reply")
		}
		b, err := encodeMessage(reply)
		if err != nil || !json.Valid(b) {
			t.Fatalf("reply %s does not encode: %v", b, err)
		}
		e, isErr := reply.(Error)
		if decErr != nil && !isErr {
			t.Fatalf("decode failed (%v) but reply is %T", decErr, reply)
		}
		if isErr && e.Code == "" {
			t.Fatalf("error without code: %+v", e)
		}
		if isErr && e.Code == "failed" && !errors.Is(decErr, ErrBadMessage) {
			// The nop desk never fails generically; only offers without a gateway may.
			if !strings.Contains(e.About, "offer") {
				t.Fatalf("generic failure for %q: %+v", data, e)
			}
		}
	})
}
