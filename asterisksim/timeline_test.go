package asterisksim_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
)

// TestCallerTimeline: with CallerSpec.Timeline a caller records, in order, the answer, a playback
// that plays to its end (and when it was due to end), a key, a playback stopped by the app, and
// hold music.
func TestCallerTimeline(t *testing.T) {
	// hello-world lasts 284 ms at this scale; the key comes at 424 ms, in the middle of the second one.
	tg, ev := simTarget(t, asterisksim.Config{TimeScale: 0.2})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := tg.Sim.Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "1", NoAudio: true, Timeline: true,
		Script: []asterisksim.Step{asterisksim.Pause(2 * time.Second), asterisksim.Press("5"), asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	id := c.ChannelID()
	ev.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", id))
	do(t, tg, "POST", "/ari/channels/"+id+"/answer", nil, 204)
	do(t, tg, "POST", "/ari/channels/"+id+"/play?media=sound:hello-world&playbackId=one", nil, 201)
	ev.WaitFor(t, wait, "PlaybackFinished", aritest.Type("PlaybackFinished", ""))
	do(t, tg, "POST", "/ari/channels/"+id+"/play?media=sound:hello-world&playbackId=two", nil, 201)
	ev.WaitFor(t, wait, "the key", aritest.Type("ChannelDtmfReceived", id))
	do(t, tg, "DELETE", "/ari/playbacks/two", nil, 204)
	do(t, tg, "POST", "/ari/channels/"+id+"/moh", nil, 204)

	var kinds []asterisksim.MarkKind
	marks := c.Timeline()
	for i, m := range marks {
		kinds = append(kinds, m.Kind)
		if i > 0 && m.At.Before(marks[i-1].At) && m.Kind != asterisksim.MarkFinished {
			t.Errorf("mark %d (%s) at %v is before the previous one", i, m.Kind, m.At)
		}
	}
	want := []asterisksim.MarkKind{asterisksim.MarkUp, asterisksim.MarkStarted, asterisksim.MarkFinished,
		asterisksim.MarkStarted, asterisksim.MarkKey, asterisksim.MarkStopped, asterisksim.MarkMOH}
	if len(kinds) != len(want) {
		t.Fatalf("timeline %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("timeline %v, want %v", kinds, want)
		}
	}
	fin := marks[2]
	if fin.Value != "sound:hello-world" || fin.Due.IsZero() || fin.At.Before(fin.Due) {
		t.Errorf("finished mark %+v: want the media and a due time no later than At", fin)
	}
	if marks[4].Value != "5" {
		t.Errorf("key mark %+v, want 5", marks[4])
	}
	_ = c.Hangup()
}
