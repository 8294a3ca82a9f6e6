package softphone

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// caller is who sent a page message: the session's account, and whether it is an ACD agent (a
// supervisor's softphone only monitors).
type caller struct {
	id    string
	agent bool
}

// errMonitorOnly refuses an agent's action on a supervisor's monitoring softphone.
var errMonitorOnly = fmt.Errorf("%w: this softphone only monitors: it takes no calls and has no state", ErrInvalidState)

// dispatch runs one page message for the authenticated account and returns the reply. Nothing in
// the message can name another agent: the Desk gets the account's id and decides whose call it is.
// from is the connection it came on (nil in tests).
func (s *Server) dispatch(ctx context.Context, who caller, from *wsConn, data []byte) Message {
	agentID := who.id
	typ, id, req, err := decodeRequest(data)
	if err != nil {
		return s.errorReply(agentID, id, typ, err)
	}
	if from != nil && !from.limit.Allow() {
		return s.errorReply(agentID, id, typ, ErrRateLimited)
	}
	if !who.agent {
		switch typ {
		case MsgOffer, MsgPing, MsgStatsReq, MsgCallAudio:
		default:
			return s.errorReply(agentID, id, typ, errMonitorOnly)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	d := s.desk
	switch m := req.(type) {
	case *Offer:
		if s.gw == nil {
			return s.errorReply(agentID, id, typ, fmt.Errorf("%w: no audio gateway", ErrInvalidState))
		}
		sdp, err := s.gw.Negotiate(ctx, agentID, m.SDP)
		if err != nil {
			return s.errorReply(agentID, id, typ, err)
		}
		s.pushOthers(agentID, from, Replaced{})
		return Answer{ID: id, SDP: sdp}
	case *SetState:
		err = d.SetState(ctx, agentID, m.State, m.Reason)
	case *CallRef:
		err = s.callAction(ctx, typ, agentID, m.CallID)
	case *DTMF:
		err = d.SendDTMF(ctx, agentID, m.CallID, m.Digits)
	case *Transfer:
		if typ == MsgCallConsult {
			err = d.Consult(ctx, agentID, m.CallID, m.Target)
		} else {
			err = d.BlindTransfer(ctx, agentID, m.CallID, m.Target)
		}
	case *WrapUp:
		err = d.WrapUp(ctx, agentID, m.CallID, m.Disposition, m.Note)
	case *WrapUpExtend:
		var left time.Duration
		if left, err = d.ExtendWrapUp(ctx, agentID, m.CallID, time.Duration(m.Seconds)*time.Second); err == nil {
			// Every page of the agent shows the new end, not only the one that asked.
			s.Notify(agentID, WrapUpExtended{CallID: m.CallID, Seconds: int(left.Round(time.Second).Seconds())})
		}
	case *AudioReport:
		// Acknowledged whatever becomes of it: a measurement is no reason to bother the agent.
		if s.gw != nil {
			s.gw.reportAnswerToAudio(agentID, m.CallID, time.Duration(m.AnswerToAudioMs*float64(time.Millisecond)))
		}
	case *Request:
		switch typ {
		case MsgPing:
			return Pong{ID: id}
		case MsgCallsTodayReq:
			calls, err := d.CallsToday(ctx, agentID)
			if err != nil {
				return s.errorReply(agentID, id, typ, err)
			}
			if calls == nil {
				calls = []CallSummary{}
			}
			return CallsToday{ID: id, Calls: calls}
		case MsgStatsReq:
			st := Stats{ID: id}
			if s.gw != nil {
				st.LegStats, _ = s.gw.Stats(agentID)
				st.Connected = s.gw.Connected(agentID)
			}
			return st
		}
	}
	if err != nil {
		return s.errorReply(agentID, id, typ, err)
	}
	return Ack{ID: id}
}

func (s *Server) callAction(ctx context.Context, typ, agentID, callID string) error {
	d := s.desk
	switch typ {
	case MsgCallAnswer:
		return d.Answer(ctx, agentID, callID)
	case MsgCallReject:
		return d.Reject(ctx, agentID, callID)
	case MsgCallHangup:
		return d.Hangup(ctx, agentID, callID)
	case MsgCallHold:
		return d.Hold(ctx, agentID, callID)
	case MsgCallResume:
		return d.Resume(ctx, agentID, callID)
	case MsgCallMute:
		return d.Mute(ctx, agentID, callID)
	case MsgCallUnmute:
		return d.Unmute(ctx, agentID, callID)
	case MsgCallComplete:
		return d.CompleteTransfer(ctx, agentID, callID)
	case MsgCallCancel:
		return d.CancelConsult(ctx, agentID, callID)
	}
	return fmt.Errorf("%w: %q", ErrUnknownMessage, typ)
}

// errorReply turns err into the page's error message. Errors the page can act on say what they
// are; others are logged and shown as a plain failure.
func (s *Server) errorReply(agentID, id, about string, err error) Message {
	e := Error{ID: id, About: about, Message: err.Error()}
	switch {
	case errors.Is(err, ErrBadMessage):
		e.Code = "bad_message"
	case errors.Is(err, ErrUnknownMessage):
		e.Code = "unknown_type"
	case errors.Is(err, ErrBadOffer):
		e.Code = "bad_offer"
	case errors.Is(err, ErrNotYourCall):
		e.Code = "not_your_call"
	case errors.Is(err, ErrNoSuchCall):
		e.Code = "no_such_call"
	case errors.Is(err, ErrInvalidState):
		e.Code = "invalid_state"
	case errors.Is(err, ErrUnavailable):
		e.Code = "unavailable"
	case errors.Is(err, ErrUnreachable):
		e.Code = "unreachable" // the controller holding the call is away: as an HTTP 503, try again
	case errors.Is(err, ErrRefused):
		e.Code = "refused" // the page shows the message: the reason is what the agent needs
	case errors.Is(err, ErrTransferFailed):
		e.Code = "transfer_failed"
	case errors.Is(err, ErrBadCredentials):
		e.Code = "unauthorized"
	case errors.Is(err, ErrRateLimited):
		e.Code = "rate_limited"
	default:
		e.Code, e.Message = "failed", "request failed"
	}
	if e.Code == "failed" || e.Code == "bad_offer" {
		s.log.Warn("agent request failed", "agent", agentID, "type", about, "err", err)
	}
	return e
}
