package switchboard

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// fakeSurveys offers the survey to every caller of the queues in offer and keeps the answers.
type fakeSurveys struct {
	offer   []string
	mu      sync.Mutex
	results []SurveyResult
}

func (f *fakeSurveys) Offer(queue string) bool { return slices.Contains(f.offer, queue) }

func (f *fakeSurveys) Record(_ context.Context, r SurveyResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = append(f.results, r)
	return nil
}

func (f *fakeSurveys) answers() []SurveyResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.results)
}

// agreed says whether the call's caller has agreed to the survey, as the agent's screen pop shows.
func (r *rig) agreed(id string) bool {
	c := r.sb.call(id)
	return c != nil && c.snapshot().card.Survey
}

// surveyConfig is the simulator of the survey tests: prompts as long as the real ones.
func surveyConfig() asterisksim.Config {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	return cfg
}

// surveyRig is a rig whose general queue's callers are all offered the survey, and whose agent a1 is
// busy until the test frees them.
func surveyRig(t *testing.T, tg *aritest.Target) (*rig, *fakeSurveys) {
	r := newRig(t, tg)
	surveys := &fakeSurveys{offer: []string{"general"}}
	r.surveys = surveys
	r.acd.setFree("a1", false)
	return r, surveys
}

// talkToSurveyCaller frees a1 for the caller who agreed to the survey, checks that the ring's card
// says so, answers and hangs up, and returns the ring.
func (r *rig) talkToSurveyCaller(t *testing.T) AgentEvent {
	t.Helper()
	ctx := context.Background()
	r.acd.setFree("a1", true)
	r.sb.kickDispatch()
	ring := r.phones.next(t, EventRing)
	if !ring.Call.Survey {
		t.Errorf("the ring card does not say the caller agreed to the survey: %+v", ring.Call)
	}
	if err := r.sb.Answer(ctx, "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventConnected)
	if err := r.sb.Hangup(ctx, "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventEnded)
	return ring
}

// TestSurvey (issue 11, deliverable 3): a waiting caller hears the survey's offer and presses 2;
// the agent's screen pop says so; when the agent hangs up the agent goes to wrap-up at once while
// the caller stays, hears the question and keys 8, which is kept with the call, the agent and the
// queue; then the caller hears thanks and is hung up. Keys pressed while waiting and talking are
// not a score.
func TestSurvey(t *testing.T) {
	aritest.Run(t, surveyConfig(), func(t *testing.T, tg *aritest.Target) {
		r, surveys := surveyRig(t, tg)
		r.start(t, "i1")
		ctx := context.Background()
		placed, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79161234567", Context: "caller-survey"})
		if err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, "the caller agreeing to the survey", 30*time.Second, func() bool { return r.agreed(placed.ChannelID) })
		ring := r.talkToSurveyCaller(t)
		if !r.acd.wasFinished(ring.Call.ID) {
			t.Error("the agent was not put in wrap-up when they hung up")
		}
		if !up(t, tg, placed) {
			t.Fatal("the caller was hung up instead of being asked for a score")
		}
		waitfor.True(t, "the caller's score", 60*time.Second, func() bool { return len(surveys.answers()) > 0 })
		got := surveys.answers()
		if len(got) != 1 || got[0] != (SurveyResult{CallID: placed.ChannelID, Agent: "a1", Queue: "general", Lang: "en", Score: 8, Answered: true, Time: got[0].Time}) {
			t.Fatalf("survey answers = %+v", got)
		}
		waitGone(t, tg, placed, "the caller hung up after the survey")
		if placed.Sim != nil {
			heard := placed.Sim.Prompts()
			for _, want := range []string{"sound:hotline/survey_offer", "sound:hotline/survey_agreed", "sound:hotline/survey_rate", "sound:hotline/survey_thanks"} {
				if !slices.Contains(heard, want) {
					t.Errorf("the caller did not hear %s: %v", want, heard)
				}
			}
		}
	})
}

// TestSurveySurvivesRestart: a caller who agreed to the survey while waiting is asked for a score
// after the agent hangs up even though the controller restarted in between: the agreement is kept
// on the caller's channel, not only in the call's goroutine. The controller stops while the caller
// hears that their agreement was taken: a prompt cut short by a stop once counted as a hangup, and
// the caller, out of the queue, was held by nobody. And the new controller's stop at the test's
// end comes during the survey's thanks, whose end it no longer hears: it once waited for it forever.
func TestSurveySurvivesRestart(t *testing.T) {
	aritest.Run(t, surveyConfig(), func(t *testing.T, tg *aritest.Target) {
		r, surveys := surveyRig(t, tg)
		stop := r.start(t, "i1")
		ctx := context.Background()
		placed, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79161234567", Context: "caller-survey"})
		if err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, "the caller agreeing to the survey", 30*time.Second, func() bool { return r.agreed(placed.ChannelID) })
		stop()

		r.start(t, "i1")
		waitfor.True(t, "the agreement read back by the new controller", 10*time.Second, func() bool { return r.agreed(placed.ChannelID) })
		r.talkToSurveyCaller(t)
		if !up(t, tg, placed) {
			t.Fatal("the caller was hung up instead of being asked for a score")
		}
		waitfor.True(t, "the caller's score", 60*time.Second, func() bool { return len(surveys.answers()) > 0 })
		if got := surveys.answers(); len(got) != 1 || got[0].Score != 8 || !got[0].Answered {
			t.Fatalf("survey answers = %+v", got)
		}
	})
}

// TestSurveyDeclined: a caller offered the survey who does not press 2 is hung up with the agent,
// and no answer is kept.
func TestSurveyDeclined(t *testing.T) {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		surveys := &fakeSurveys{offer: []string{"general"}}
		r.surveys = surveys
		r.start(t, "i1")
		placed := r.dial(t, "79161234567")
		ring := r.phones.next(t, EventRing)
		if err := r.sb.Answer(context.Background(), "a1", ring.Call.ID); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventConnected)
		if ring.Call.Survey || r.agreed(placed.ChannelID) {
			t.Fatal("a caller who did not press 2 counts as agreeing")
		}
		if err := r.sb.Hangup(context.Background(), "a1", ring.Call.ID); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventEnded)
		waitGone(t, tg, placed, "the caller hung up with the agent")
		if got := surveys.answers(); len(got) != 0 {
			t.Fatalf("answers of a caller who did not agree: %+v", got)
		}
	})
}

// TestSurveyNoScore: a caller who agreed and then keys nothing hears the question twice and is
// hung up; the survey keeps that no score came.
// Simulator only: on a real Asterisk it is the same code path, with the question's full length.
func TestSurveyNoScore(t *testing.T) {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	surveys := &fakeSurveys{offer: []string{"general"}}
	r.surveys, r.surveyWait = surveys, 300*time.Millisecond
	r.acd.setFree("a1", false)
	r.start(t, "i1")
	placed, err := tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: "79161234567", Context: "caller-survey-silent"})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the caller agreeing to the survey", 30*time.Second, func() bool { return r.agreed(placed.ChannelID) })
	r.acd.setFree("a1", true)
	ring := r.phones.next(t, EventRing)
	if err := r.sb.Answer(context.Background(), "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventConnected)
	if err := r.sb.Hangup(context.Background(), "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, placed.Sim.Done(), "the caller hung up after the survey")
	got := surveys.answers()
	if len(got) != 1 || got[0].Answered || got[0].Agent != "a1" {
		t.Fatalf("survey answers = %+v", got)
	}
	asked := 0
	for _, p := range placed.Sim.Prompts() {
		if p == "sound:hotline/survey_rate" {
			asked++
		}
	}
	if asked != 2 {
		t.Errorf("the question was asked %d times, want 2", asked)
	}
}
