package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// emergencyApp is the Stasis app that the test include's HOTLINE_EMERGENCY (a Local channel into
// [hotline-test-emergency]) enters with the caller's number: the test's duty desk.
const emergencyApp = "hotline-test-emergency"

// TestControllerStopped: callers are talking, waiting and in the IVR when the controller stops (a
// deploy). They stay where they are, in Stasis, their channels up. A caller who dials while no
// controller runs is not left in silence nor dropped: Stasis(hotline) fails, the production
// dialplan apologises in Russian then English and dials HOTLINE_EMERGENCY, which reaches the
// test's duty desk with the caller's number. On the simulator and on a real Asterisk.
func TestControllerStopped(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()}, func(t *testing.T, tg *aritest.Target) {
		desk := tg.Connect(t, emergencyApp)
		var alog asteriskLogFile
		if tg.Sim == nil {
			alog = asteriskLog(t)
		}
		srv, stop := runHotline(t, tg)
		base := "http://" + srv.WebAddr().String()

		// Traffic: p001 talks to one caller, a second waits in the queue, a third is in the IVR.
		p001 := connectAgent(t, base, "p001", "hotline-demo")
		p001.startAudio(1000)
		p001.setState("available")
		talking := dial(t, tg, "79160000021", "Talking")
		hangUpAtEnd(t, tg, talking.ChannelID)
		p001.waitRinging(talking.ChannelID, 60*time.Second)
		p001.request("call.answer", map[string]any{"call": talking.ChannelID})
		p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", talking.ChannelID))
		waitfor.True(t, "the talking caller's bridge with the agent's leg", 15*time.Second, func() bool {
			return externalMediaLeg(t, tg, talking.ChannelID, "") != ""
		})
		waiting := placeCaller(t, tg, "79160000022", "caller-ivr-private-agent")
		waitfor.True(t, "the second caller waiting in the queue", 60*time.Second, func() bool {
			return slices.Contains(waitingCalls(t, base), waiting.ChannelID)
		})
		inIVR := placeCaller(t, tg, "79160000023", "caller-ivr-silence-last-resort")
		waitfor.True(t, "the third caller in Stasis", 15*time.Second, func() bool {
			return stasisApp(t, tg, inIVR.ChannelID)
		})
		if tg.Sim == nil {
			// Asterisk plays class default to the waiting caller from Debian's hold music.
			name := channelName(t, tg, waiting.ChannelID)
			alog.waitFor(t, "hold music for the waiting caller", 15*time.Second,
				"Started music on hold, class 'default', on channel '"+name+"'")
		}

		// The controller stops.
		if tg.Sim == nil {
			alog = asteriskLog(t)
		}
		stop()
		if tg.Sim != nil {
			// Like Asterisk, the simulator keeps listing an app while channels are in it: wait for the
			// controller's socket to go (the duty desk's probe app keeps one open).
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := tg.Sim.WaitEventsConnections(wctx, 1); err != nil {
				t.Fatalf("the controller's events socket never closed: %v", err)
			}
			wcancel()
		} else {
			// Asterisk keeps an app with channels in it (GET /applications still answers 200),
			// inactive: Stasis() into it fails from then on. Only its log says when.
			alog.waitFor(t, "Asterisk to deactivate the hotline app", 10*time.Second, "Deactivating Stasis app '"+tg.App+"'")
		}

		// Nobody in the traffic was dropped: each channel is up and still in Stasis.
		for _, p := range []aritest.PlacedCall{talking, waiting, inIVR} {
			if !stasisApp(t, tg, p.ChannelID) {
				t.Errorf("caller %s is no longer in Stasis after the controller stopped", p.ChannelID)
			}
			if p.Sim != nil {
				select {
				case <-p.Sim.Done():
					t.Errorf("caller %s was hung up when the controller stopped", p.ChannelID)
				default:
				}
			}
		}
		if !inCallBridge(t, tg, talking.ChannelID) {
			t.Errorf("the talking caller left their bridge when the controller stopped")
		}

		// A new caller hears the apology in both languages and reaches the duty desk.
		const number = "79160000024"
		dialled := time.Now()
		late := placeCaller(t, tg, number, "caller-long")
		ru, _ := prompts.Duration("ru", "unavailable")
		en, _ := prompts.Duration("en", "unavailable")
		apology := tg.Scaled(ru + en)
		start := desk.WaitFor(t, apology+15*time.Second, "the new caller at the duty desk", aritest.Type("StasisStart", ""))
		elapsed := time.Since(dialled)
		deskCh, _ := start["channel"].(map[string]any)
		if id, _ := deskCh["id"].(string); id != "" {
			hangUpAtEnd(t, tg, id)
		}
		if args, _ := start["args"].([]any); len(args) != 1 || args[0] != number {
			t.Errorf("duty desk's StasisStart args %v, want the caller's number %s", start["args"], number)
		}
		if elapsed < apology*9/10 {
			t.Errorf("the duty desk was dialled %v after the call: too soon for the apology (%v)", elapsed, apology)
		}
		if v := channelVar(t, tg, late.ChannelID, "PLAYBACKSTATUS"); v != "SUCCESS" {
			t.Errorf("PLAYBACKSTATUS %q on the new caller, want SUCCESS: the apology did not play", v)
		}
		if v := channelVar(t, tg, late.ChannelID, "CHANNEL(language)"); v != "en" {
			t.Errorf("the new caller's language is %q after the apology, want en (Russian, then English)", v)
		}
		if late.Sim != nil {
			if p := late.Sim.Prompts(); !slices.Equal(p, []string{"sound:hotline/unavailable", "sound:hotline/unavailable"}) {
				t.Errorf("the new caller heard %v, want hotline/unavailable twice", p)
			}
		} else {
			// Asterisk says which language each playback used.
			name := channelName(t, tg, late.ChannelID)
			for _, lang := range []string{"ru", "en"} {
				alog.waitFor(t, "the "+lang+" apology", time.Second,
					"<"+name+"> Playing 'hotline/unavailable.slin' (language '"+lang+"')")
			}
		}

		// The calls in traffic are still there after all this.
		for _, p := range []aritest.PlacedCall{talking, waiting, inIVR} {
			if !stasisApp(t, tg, p.ChannelID) {
				t.Errorf("caller %s gone while no controller ran", p.ChannelID)
			}
		}
	})
}

// placeCaller dials 8800 with the caller's side running context of extensions-test.conf; a real
// Asterisk's channel is hung up when the test ends.
func placeCaller(t *testing.T, tg *aritest.Target, number, context string) aritest.PlacedCall {
	t.Helper()
	p, err := tg.Callers.Dial(t.Context(), aritest.CallerSpec{DID: "8800", Number: number, Name: "Caller " + number, Context: context})
	if err != nil {
		t.Fatal(err)
	}
	hangUpAtEnd(t, tg, p.ChannelID)
	return p
}

// hangUpAtEnd hangs up a channel on a real Asterisk when the test ends, with what is bridged to it
// (nothing else would: no controller runs by then); the simulator ends with the test anyway.
func hangUpAtEnd(t *testing.T, tg *aritest.Target, id string) {
	if tg.Sim != nil {
		return
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, br := range callBridges(t, tg, id) {
			for _, ch := range br.Channels {
				_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/channels/"+url.PathEscape(ch), nil)
			}
			_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/bridges/"+url.PathEscape(br.ID), nil)
		}
		_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/channels/"+url.PathEscape(id), nil)
	})
}

// waitingCalls lists the calls waiting in every queue, from the supervisor's API.
func waitingCalls(t *testing.T, base string) []string {
	t.Helper()
	resp := board(t, base).get("/supervisor/api/view")
	defer resp.Body.Close()
	var v struct {
		View struct {
			Queues []struct {
				Calls []struct{ ID string }
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, q := range v.View.Queues {
		for _, c := range q.Calls {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// channelJSON reads a channel as ARI shows it; nil if it is gone.
func channelJSON(t *testing.T, tg *aritest.Target, id string) map[string]any {
	t.Helper()
	st, body, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels/"+url.PathEscape(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st == http.StatusNotFound {
		return nil
	}
	var ch map[string]any
	if st != http.StatusOK || json.Unmarshal(body, &ch) != nil {
		t.Fatalf("GET channel %s: %d %s", id, st, body)
	}
	return ch
}

// stasisApp says whether the channel is up and its dialplan is in the Stasis application.
func stasisApp(t *testing.T, tg *aritest.Target, id string) bool {
	t.Helper()
	ch := channelJSON(t, tg, id)
	dp, _ := ch["dialplan"].(map[string]any)
	return ch != nil && ch["state"] == "Up" && dp["app_name"] == "Stasis"
}

func channelName(t *testing.T, tg *aritest.Target, id string) string {
	t.Helper()
	name, _ := channelJSON(t, tg, id)["name"].(string)
	if name == "" {
		t.Fatalf("channel %s has no name (gone?)", id)
	}
	return name
}

// channelVar reads a variable or function of any channel, in Stasis or not.
func channelVar(t *testing.T, tg *aritest.Target, id, name string) string {
	t.Helper()
	st, body, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels/"+url.PathEscape(id)+"/variable?variable="+url.QueryEscape(name), nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("GET %s of %s: %d %s %v", name, id, st, body, err)
	}
	var v struct{ Value string }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Value
}

// inCallBridge says whether one of the call's conversation bridges holds the caller.
func inCallBridge(t *testing.T, tg *aritest.Target, callID string) bool {
	t.Helper()
	for _, br := range callBridges(t, tg, callID) {
		if slices.Contains(br.Channels, callID) {
			return true
		}
	}
	return false
}

// asteriskLogFile is the real Asterisk's messages.log from a point on: what it logs is the only
// sign of some of its doings (an app deactivated, the language a playback used).
type asteriskLogFile struct {
	path string
	from int64
}

// asteriskLog starts reading the real Asterisk's log (scripts/asterisk.sh names it) from its end.
func asteriskLog(t *testing.T) asteriskLogFile {
	t.Helper()
	path := os.Getenv("HOTLINE_TEST_ASTERISK_LOG")
	if path == "" {
		t.Fatal("HOTLINE_TEST_ASTERISK_LOG is not set: start the Asterisk with scripts/asterisk.sh and source its env")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return asteriskLogFile{path: path, from: fi.Size()}
}

// waitFor waits until a line with text was logged after the point the reader started from.
func (l asteriskLogFile) waitFor(t *testing.T, what string, timeout time.Duration, text string) {
	t.Helper()
	waitfor.True(t, what+" (in "+l.path+": "+text+")", timeout, func() bool {
		raw, err := os.ReadFile(l.path)
		if err != nil {
			t.Fatal(err)
		}
		return int64(len(raw)) > l.from && strings.Contains(string(raw[l.from:]), text)
	})
}
