package switchboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// fakeRecordings records the queues in rec and keeps what it hears.
type fakeRecordings struct {
	rec map[string]bool
	mu  sync.Mutex
	got []Recording
}

func (f *fakeRecordings) Records(queue string) bool { return f.rec[queue] }

func (f *fakeRecordings) Recorded(_ context.Context, r Recording) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
	return nil
}

func (f *fakeRecordings) heard() []Recording {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// TestCallRecording: an agent answers a call of a queue that records, talks and hangs up: the
// caller heard the notice before the hold music, Asterisk holds the recording (a WAV of the
// conversation), and Recordings heard of its start and its end with the call's metadata. A queue
// that does not record makes no recording and plays no notice.
func TestCallRecording(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records bool
	}{
		{"recorded", true},
		{"not-recorded", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
				recs := &fakeRecordings{rec: map[string]bool{"general": tc.records}}
				r := newRig(t, tg)
				r.recordings = recs
				var ear *aritest.Ear
				if tg.Sim == nil {
					ear = tg.NewEar(t) // the simulator's callers tell what they heard themselves
				}
				r.start(t, "i1")
				ctx := context.Background()
				placed, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79161234567", Context: "caller-press1-tone"})
				if err != nil {
					t.Fatal(err)
				}
				r.answerAndHear(t, placed)
				waitfor.True(t, "the start of the recording reported", 10*time.Second, func() bool {
					return !tc.records || len(recs.heard()) == 1
				})
				if err := r.sb.Hangup(ctx, "a1", placed.ChannelID); err != nil {
					t.Fatal(err)
				}
				r.phones.next(t, EventEnded)
				var heard []string
				if placed.Sim != nil {
					heard = placed.Sim.Prompts()
				} else {
					heard = ear.Heard(placed.ChannelID)
				}
				if got := slices.Contains(heard, RecordingNotice); got != tc.records {
					t.Errorf("the caller heard %v: the notice %v, want %v", heard, got, tc.records)
				}
				got := recs.heard()
				if !tc.records {
					if len(got) != 0 {
						t.Fatalf("a queue that does not record reported %+v", got)
					}
					return
				}
				if len(got) != 2 {
					t.Fatalf("reported %d times (%+v), want the start and the end", len(got), got)
				}
				start, end := got[0], got[1]
				if !start.Ended.IsZero() || end.Ended.Before(end.Started) || start.Name != end.Name || !end.Started.Equal(start.Started) {
					t.Errorf("start %+v, end %+v", start, end)
				}
				for field, v := range map[string][2]string{
					"call": {end.CallID, placed.ChannelID}, "agent": {end.Agent, "a1"}, "queue": {end.Queue, "general"},
					"caller": {end.CallerNumber, "79161234567"}, "format": {end.Format, "wav"}, "node": {end.Node, "i1"},
				} {
					if v[0] != v[1] {
						t.Errorf("%s %q, want %q", field, v[0], v[1])
					}
				}
				prefix := "hotline/" + start.Started.UTC().Format("2006/01/02") + "/" + placed.ChannelID + "-"
				if !strings.HasPrefix(start.Name, prefix) {
					t.Errorf("name %q, want %s…", start.Name, prefix)
				}
				// Asterisk stores it once the bridge is gone; the file is a WAV.
				path := "/ari/recordings/stored/" + url.PathEscape(start.Name)
				t.Cleanup(func() { tg.Do(context.Background(), http.MethodDelete, path, nil) })
				var st int
				var body []byte
				waitfor.True(t, "the stored recording", 10*time.Second, func() bool {
					st, body, err = tg.Do(ctx, http.MethodGet, path, nil)
					return err == nil && st == http.StatusOK
				})
				var stored struct{ Name, Format string }
				if err := json.Unmarshal(body, &stored); err != nil || stored.Name != start.Name || stored.Format != "wav" {
					t.Errorf("stored recording %s (%v)", body, err)
				}
				audio, err := r.sb.StoredRecording(ctx, start.Name)
				if err != nil {
					t.Fatal(err)
				}
				defer audio.Body.Close()
				head := make([]byte, 12)
				if _, err := audio.Body.Read(head); err != nil || string(head[:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
					t.Errorf("the file starts %q (%v), want a WAV", head, err)
				}
				if err := r.sb.DeleteRecording(ctx, start.Name); err != nil {
					t.Fatal(err)
				}
				if err := r.sb.DeleteRecording(ctx, start.Name); err == nil {
					t.Error("deleting a deleted recording succeeded")
				}
			})
		})
	}
}

// TestRecordingSurvivesRestart: the controller stops while a recorded call talks; Asterisk goes on
// recording, and the controller that takes the call back stops the recording at the hangup and
// reports its end under the name the first one reported.
func TestRecordingSurvivesRestart(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		recs := &fakeRecordings{rec: map[string]bool{"general": true}}
		r := newRig(t, tg)
		r.recordings = recs
		stop := r.start(t, "i1")
		talking := r.dial(t, "101")
		r.answerAndHear(t, talking)
		waitfor.True(t, "the start of the recording reported", 10*time.Second, func() bool { return len(recs.heard()) == 1 })
		stop()

		r.start(t, "i1")
		leg := r.phones.nextLeg(t)
		waitClosed(t, leg.heard440, "the talking caller's audio after the restart")
		if err := r.sb.Hangup(context.Background(), "a1", talking.ChannelID); err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, "the end of the recording reported", 10*time.Second, func() bool { return len(recs.heard()) == 2 })
		got := recs.heard()
		if got[1].Name != got[0].Name || got[1].Ended.IsZero() || got[1].Agent != "a1" || got[1].Queue != "general" {
			t.Fatalf("start %+v, end %+v", got[0], got[1])
		}
		if d := got[1].Started.Sub(got[0].Started); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("the end's start %v, the start's %v: read back from the name", got[1].Started, got[0].Started)
		}
		path := "/ari/recordings/stored/" + url.PathEscape(got[0].Name)
		t.Cleanup(func() { tg.Do(context.Background(), http.MethodDelete, path, nil) })
		waitfor.True(t, "the stored recording", 10*time.Second, func() bool {
			st, _, err := tg.Do(context.Background(), http.MethodGet, path, nil)
			return err == nil && st == http.StatusOK
		})
	})
}
