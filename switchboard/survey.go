package switchboard

import (
	"context"
	"errors"
	"time"

	"github.com/hotline-cc/hotline/ivr"
)

// The post-call survey. A share of each queue's callers hear, a few seconds into their wait, that
// they may rate the call afterwards by pressing surveyKey; those who press it stay on the line when
// the agent hangs up and key a score from 0 to 10. Agreeing happens while waiting, not in a menu of
// its own, so the offer costs nobody their place or their answer's speed (a caller whom a free agent
// takes at once is not offered it), and only callers who chose to are asked.

// surveyKey agrees to the survey while waiting (callbackKey, 1, asks for a callback).
const surveyKey = "2"

// surveyTenKey is how long the survey waits for the 0 of a 10 after a 1.
const surveyTenKey = 2 * time.Second

type surveyState int

const (
	surveyNone    surveyState = iota // not offered
	surveyOffered                    // told how to agree, has not
	surveyAgreed                     // pressed surveyKey: asked for a score when the agent hangs up
)

// errSurvey is what the agent's hangup returns when the caller agreed to the survey: the agent
// leaves, the caller stays for it.
var errSurvey = errors.New("the caller stays for the survey")

// drawSurvey decides whether a caller who has just joined their queue is offered the survey. A
// callback's caller (dialled back) is not: they never waited.
func (c *call) drawSurvey() {
	if c.sb.surveys != nil && c.callbackTo == "" && c.sb.surveys.Offer(c.queued.Queue) {
		c.survey = surveyOffered
	}
}

// surveyOfferAfter is how long a caller drawn for the survey waits before hearing the offer: one
// whom a free agent takes at once is not kept from them by it.
const surveyOfferAfter = 3 * time.Second

// surveyOfferDue fires when the drawn caller should hear the offer.
func (c *call) surveyOfferDue() <-chan time.Time {
	if c.survey != surveyOffered || c.talking {
		return nil
	}
	return time.After(surveyOfferAfter)
}

// offerSurvey tells a waiting caller how to agree to the survey.
func (c *call) offerSurvey(ctx context.Context) error {
	if c.survey != surveyOffered || !c.waiting() {
		return nil
	}
	c.sb.metrics.Load().survey("offered")
	return c.sayOverMusic(ctx, "sound:hotline/survey_offer")
}

// surveyVar is the caller's channel variable that keeps their agreement: Asterisk holds it as long
// as the call, so a controller that takes the call over after a restart still asks for the score.
const surveyVar = "HOTLINE_SURVEY"

// agreeSurvey takes the caller's surveyKey; true if it was an answer to the offer.
func (c *call) agreeSurvey(ctx context.Context) bool {
	if c.survey != surveyOffered || c.talking {
		return false
	}
	c.survey = surveyAgreed
	if err := c.sb.ari.setVar(ctx, c.channel, surveyVar, "agreed"); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("keep the survey's agreement on the caller's channel", "err", err)
	}
	c.publish() // the agent's screen pop says so
	c.sb.metrics.Load().survey("agreed")
	c.log.Info("caller agreed to the survey")
	return true
}

// resumeSurvey reads back, after a restart, whether the caller had agreed to the survey.
func (c *call) resumeSurvey(ctx context.Context) {
	if c.sb.surveys == nil {
		return
	}
	if v, err := c.sb.ari.getVar(ctx, c.channel, surveyVar); err == nil && v == "agreed" {
		c.survey = surveyAgreed
		c.publish()
		c.log.Info("the caller's agreement to the survey holds after a restart")
	}
}

// releaseForSurvey is the agent's hangup of a call whose caller agreed to the survey: the agent's
// side comes down and the agent goes to wrap-up as after any call, while the caller stays.
func (c *call) releaseForSurvey(ctx context.Context) {
	agent := c.agent
	c.teardown(ctx)
	c.finished(ctx, agent, EndAgent)
	c.sb.kickDispatch()
}

// runSurvey asks for the score, keeps the answer (or that none came) and says goodbye.
func (c *call) runSurvey(ctx context.Context, agent string) {
	c.sb.enterIVR()
	defer c.sb.leaveIVR()
	res := SurveyResult{CallID: c.id, Agent: agent, Queue: c.queued.Queue, Lang: c.lang()}
	score, err := c.askScore(ctx)
	res.Time = time.Now()
	if err == nil {
		res.Score, res.Answered = score, true
	}
	outcome := "no_score"
	if res.Answered {
		outcome = "scored"
	}
	c.sb.metrics.Load().survey(outcome)
	c.log.Info("survey", "agent", agent, "queue", res.Queue, "answered", res.Answered, "score", res.Score)
	rctx := context.WithoutCancel(ctx)
	if err := c.sb.surveys.Record(rctx, res); err != nil {
		c.log.Error("keep the survey's answer failed", "agent", agent, "err", err)
	}
	switch {
	case errors.Is(err, errHungUp) && ctx.Err() == nil:
	case res.Answered:
		c.goodbye(ctx, "sound:hotline/survey_thanks")
	default:
		// Also when stopped at once mid-survey: nobody would adopt a caller whose call is over.
		c.goodbye(ctx, "")
	}
}

// askScore plays the question and reads a score: one key 0–9, or 1 then 0 for 10 (a 1 alone is
// 1 once surveyTenKey passes). No key or a wrong one hears the question once more.
func (c *call) askScore(ctx context.Context) (int, error) {
	c.player.digits = nil
	for try := 0; try < 2; try++ {
		if err := c.player.Play(ctx, c.lang(), "sound:hotline/survey_rate"); err != nil {
			return 0, errHungUp
		}
		k, err := c.player.NextDigit(ctx, c.sb.cfg.SurveyKeyTimeout)
		switch {
		case errors.Is(err, ivr.ErrTimeout):
			continue
		case err != nil:
			return 0, errHungUp
		case k == '1':
			next, err := c.player.NextDigit(ctx, surveyTenKey)
			switch {
			case errors.Is(err, ivr.ErrTimeout), err == nil && next == '#':
				return 1, nil
			case err != nil:
				return 0, errHungUp
			case next == '0':
				return 10, nil
			}
		case k >= '0' && k <= '9':
			return int(k - '0'), nil
		}
		c.player.digits = nil // a wrong key: the question again, from a clean slate
	}
	return 0, errNoScore
}

// errNoScore: the caller keyed no score after the question twice.
var errNoScore = errors.New("no score")
