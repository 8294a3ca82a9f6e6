package switchboard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

func stasisEvent(typ, channel string) Event {
	return Event{Type: typ, Channel: &ChannelInfo{ID: channel}}
}

// TestStasisWaiters: a StasisStart that comes before anyone waits is kept; a channel that ends
// first, or the events connection dropping, fails the wait; other channels' events and other event
// types change nothing.
func TestStasisWaiters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var w stasisWaiters

	early := w.expect("em-1")
	w.observe(stasisEvent("ChannelStateChange", "em-1"))
	w.observe(stasisEvent("StasisStart", "em-2"))
	w.observe(stasisEvent("StasisStart", "em-1"))
	if err := early.wait(ctx); err != nil {
		t.Fatalf("StasisStart before the wait: %v", err)
	}

	ended := w.expect("em-3")
	w.observe(stasisEvent("StasisEnd", "em-3"))
	if err := ended.wait(ctx); !errors.Is(err, ErrNotInStasis) {
		t.Fatalf("StasisEnd before StasisStart: %v, want ErrNotInStasis", err)
	}

	never := w.expect("em-4")
	short, stop := context.WithTimeout(ctx, 10*time.Millisecond)
	defer stop()
	if err := never.wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no StasisStart: %v, want the context's deadline", err)
	}
	w.forget(never)
	if len(w.m) != 0 {
		t.Fatalf("waiters left: %v", w.m)
	}

	dropped := w.expect("em-5")
	w.lost()
	if err := dropped.wait(ctx); !errors.Is(err, ErrNotInStasis) {
		t.Fatalf("events connection lost: %v, want ErrNotInStasis", err)
	}
	w.forget(dropped)
	w.observe(stasisEvent("StasisStart", "em-5")) // too late: nobody waits, nothing breaks

	w.doom("em-6")
	if w.observe(stasisEvent("ChannelDestroyed", "em-6")) {
		t.Fatal("a doomed channel's other events: unwanted")
	}
	if !w.observe(stasisEvent("StasisStart", "em-6")) {
		t.Fatal("a doomed channel entering the app: not unwanted")
	}
	if w.observe(stasisEvent("StasisStart", "em-6")) || w.observe(stasisEvent("StasisStart", "em-7")) {
		t.Fatal("unwanted twice, or a channel never doomed unwanted")
	}
}

// TestLateChannelHungUp: the creation of an externalMedia channel fails on the controller's side
// (a request timed out, say) and Asterisk makes the channel afterwards all the same: it is hung up
// as it enters the app rather than left there.
func TestLateChannelHungUp(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.start(t, "i1")
		ctx := context.Background()
		id := "em-late-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		gaveUp := errors.New("the request timed out")
		if err := r.sb.inStasis(ctx, id, func() error { return gaveUp }); !errors.Is(err, gaveUp) {
			t.Fatalf("inStasis: %v, want the creation's error", err)
		}
		ear, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer ear.Close()
		q := url.Values{"app": {tg.App}, "channelId": {id}, "external_host": {ear.LocalAddr().String()}, "format": {"ulaw"}}
		if st, body, err := tg.Do(ctx, http.MethodPost, "/ari/channels/externalMedia?"+q.Encode(), nil); err != nil || st != http.StatusOK {
			t.Fatalf("create the channel late: %d %s %v", st, body, err)
		}
		waitfor.True(t, "the late channel hung up", 10*time.Second, func() bool {
			st, _, err := tg.Do(ctx, http.MethodGet, "/ari/channels/"+id, nil)
			return err == nil && st == http.StatusNotFound
		})
	})
}

// TestAnswerWhenStasisStartIsLate: the agent's externalMedia channel, and a listening supervisor's
// snoop channel, enter the app well after Asterisk answered their creation (75–300 ms here on the
// simulator; up to about 10 ms on Asterisk). The answer and the listen wait for their StasisStart
// and then bridge them: the audio flows.
func TestAnswerWhenStasisStartIsLate(t *testing.T) {
	cfg := simConfig()
	cfg.StasisDelay = 300 * time.Millisecond
	aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.start(t, "i1")
		placed := r.dial(t, "100")
		r.answerAndHear(t, placed)
		if err := r.sb.Monitor(context.Background(), "sup1", placed.ChannelID, MonitorListen); err != nil {
			t.Fatal(err)
		}
		sup := r.phones.nextLeg(t)
		waitfor.True(t, "the supervisor hearing the caller", 20*time.Second, func() bool { return sup.has(440) })
		// Leave nothing behind on a real Asterisk: other tests look for supervisors' channels.
		if err := r.sb.Monitor(context.Background(), "sup1", placed.ChannelID, MonitorLeave); err != nil {
			t.Fatal(err)
		}
		if err := r.sb.Hangup(context.Background(), "a1", placed.ChannelID); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventEnded)
	})
}
