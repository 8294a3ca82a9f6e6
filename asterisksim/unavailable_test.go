package asterisksim_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	asteriskconfig "github.com/hotline-cc/hotline/asterisk-config"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// emergencyApp is the Stasis app the test callers' [hotline-test-emergency] context enters with
// the caller's number: the test's stand-in for the duty desk HOTLINE_EMERGENCY dials.
const emergencyApp = "hotline-test-emergency"

// apology is how long [hotline-unavailable]'s two prompts last, Russian then English.
func apology(t *testing.T) time.Duration {
	t.Helper()
	ru, okRU := prompts.Duration("ru", "unavailable")
	en, okEN := prompts.Duration("en", "unavailable")
	if !okRU || !okEN {
		t.Fatal("prompt unavailable has no duration in ru and en: run scripts/make-prompts.sh")
	}
	return ru + en
}

// channelVar reads a variable (or function) of any channel, in Stasis or not, as ARI allows.
func channelVar(t *testing.T, tg *aritest.Target, id, name string) string {
	t.Helper()
	got := do(t, tg, http.MethodGet, "/ari/channels/"+id+"/variable?variable="+url.QueryEscape(name), nil, http.StatusOK)
	v, _ := got["value"].(string)
	return v
}

// TestUnavailable: with no WebSocket for the hotline app, Stasis(hotline) fails and the production
// dialplan takes the caller to [hotline-unavailable]: the apology in Russian then in English, then
// HOTLINE_EMERGENCY, which the test callers' [globals] (read after the production one) points at
// a Local channel into the probe app. Answered there, the caller is connected; when the duty desk
// hangs up, the caller's call ends. Runs on the simulator and on a real Asterisk.
func TestUnavailable(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: 0.05, Sounds: prompts.Durations()}, func(t *testing.T, tg *aritest.Target) {
		probe := tg.Connect(t, emergencyApp)
		const number = "79160000077"
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		dialled := time.Now()
		call, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: number, Name: "Nobody Home", Context: "caller-long"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hangupQuietly(tg, call.ChannelID) })

		// The caller reaches the duty desk with their number, after the whole apology.
		start := probe.WaitFor(t, tg.Scaled(apology(t))+wait, "StasisStart at the duty desk", aritest.Type("StasisStart", ""))
		elapsed := time.Since(dialled)
		if args, _ := start["args"].([]any); len(args) != 1 || args[0] != number {
			t.Errorf("duty desk's StasisStart args = %v, want [%s]", start["args"], number)
		}
		desk, _ := start["channel"].(map[string]any)
		if caller, _ := desk["caller"].(map[string]any); caller["number"] != number {
			t.Errorf("duty desk sees caller %v, want number %s", desk["caller"], number)
		}
		if least := tg.Scaled(apology(t)) * 9 / 10; elapsed < least {
			t.Errorf("the duty desk was dialled %v after the call, before the apology could play (%v)", elapsed, least)
		}
		deskID, _ := desk["id"].(string)

		// The caller's channel is in [hotline-unavailable]'s Dial, having played both prompts.
		got := do(t, tg, http.MethodGet, "/ari/channels/"+call.ChannelID, nil, http.StatusOK)
		dp, _ := got["dialplan"].(map[string]any)
		if dp["context"] != "hotline-unavailable" || dp["app_name"] != "Dial" ||
			!strings.HasPrefix(dp["app_data"].(string), "Local/duty@hotline-test-emergency,") {
			t.Errorf("caller's dialplan = %v, want Dial(Local/duty@hotline-test-emergency,...) in hotline-unavailable", dp)
		}
		if v := channelVar(t, tg, call.ChannelID, "HOTLINE_EMERGENCY"); v != "Local/duty@hotline-test-emergency" {
			t.Errorf("HOTLINE_EMERGENCY = %q: the test include's [globals] should override the production one", v)
		}
		if v := channelVar(t, tg, call.ChannelID, "PLAYBACKSTATUS"); v != "SUCCESS" {
			t.Errorf("PLAYBACKSTATUS = %q, want SUCCESS (is hotline/unavailable installed in both languages?)", v)
		}
		if v := channelVar(t, tg, call.ChannelID, "CHANNEL(language)"); v != "en" {
			t.Errorf("caller's language = %q after the apology, want en (Russian first, English last)", v)
		}
		if call.Sim != nil {
			if p := call.Sim.Prompts(); !slices.Equal(p, []string{"sound:hotline/unavailable", "sound:hotline/unavailable"}) {
				t.Errorf("caller heard %v, want hotline/unavailable twice (ru, en)", p)
			}
		}

		// The duty desk answers: the caller is connected.
		do(t, tg, http.MethodPost, "/ari/channels/"+deskID+"/answer", nil, http.StatusNoContent)
		// Dial sets DIALSTATUS once it sees the answer: until then the variable is not there (404).
		waitfor.True(t, "DIALSTATUS ANSWER on the caller", wait, func() bool {
			st, body, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels/"+call.ChannelID+"/variable?variable=DIALSTATUS", nil)
			return err == nil && st == http.StatusOK && strings.Contains(string(body), `"ANSWER"`)
		})

		// The duty desk hangs up: the caller's call ends with it.
		do(t, tg, http.MethodDelete, "/ari/channels/"+deskID, nil, http.StatusNoContent)
		waitfor.True(t, "the caller's channel gone", wait, func() bool {
			st, _, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels/"+call.ChannelID, nil)
			return err == nil && st == http.StatusNotFound
		})
		if call.Sim != nil {
			select {
			case <-call.Sim.Done():
			case <-time.After(wait):
				t.Fatal("the simulated caller is still on the line")
			}
		}
	})
}

// TestUnavailableNoEmergency: with HOTLINE_EMERGENCY empty (as shipped), the caller hears the
// apology in both languages and the line closes. Simulator only: a real Asterisk loads the test
// include, whose [globals] sets a destination.
func TestUnavailableNoEmergency(t *testing.T) {
	plan := append(slices.Clone(asteriskconfig.Extensions), "\n[caller-long]\nexten => s,1,Wait(60)\n same => n,Hangup()\n"...)
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: 0.05, Sounds: prompts.Durations(), Dialplan: plan})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	dialled := time.Now()
	call, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79160000078", Context: "caller-long"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Sim.Done():
	case <-time.After(tg.Scaled(apology(t)) + wait):
		t.Fatal("the caller is still on the line after the apology")
	}
	if elapsed, least := time.Since(dialled), tg.Scaled(apology(t)); elapsed < least {
		t.Errorf("the line closed %v after the call, before the apology's %v", elapsed, least)
	}
	if p := call.Sim.Prompts(); !slices.Equal(p, []string{"sound:hotline/unavailable", "sound:hotline/unavailable"}) {
		t.Errorf("caller heard %v, want hotline/unavailable twice (ru, en)", p)
	}
}

// hangupQuietly hangs a channel up if it is still there: a real Asterisk keeps what a failed test
// leaves behind.
func hangupQuietly(tg *aritest.Target, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/channels/"+id, nil)
}
