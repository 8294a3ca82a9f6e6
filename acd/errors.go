package acd

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors callers branch on. Errors returned by Center wrap them with the call or agent concerned.
var (
	ErrUnknownQueue  = errors.New("acd: unknown queue")
	ErrUnknownAgent  = errors.New("acd: unknown agent")
	ErrUnknownCall   = errors.New("acd: unknown call") // not (or no longer) in the ACD
	ErrDuplicateCall = errors.New("acd: call already queued")
	ErrAgentBusy     = errors.New("acd: agent is ringing or on a call")
	ErrNotLoggedIn   = errors.New("acd: agent is not logged in")
	ErrNotRinging    = errors.New("acd: call is not ringing for this agent")
	ErrNotOnCall     = errors.New("acd: call is not connected to this agent")
	ErrNotWaiting    = errors.New("acd: call is not waiting in a queue")
	ErrConnected     = errors.New("acd: call is connected to an agent: finish it instead")
	ErrBadRequest    = errors.New("acd: bad request")
	// ErrNoAgent: nobody in the queue is available now (a consultation does not wait).
	ErrNoAgent = errors.New("acd: no agent available")
	// ErrConsulting: the call already has a colleague reserved for a consultation.
	ErrConsulting = errors.New("acd: a consultation is already in progress")
	// ErrNotConsulting: the agent is not (or no longer) reserved for a consultation on the call.
	ErrNotConsulting = errors.New("acd: agent is not consulting on this call")
	// ErrNotWrappingUp: the agent's wrap-up is over (or never began).
	ErrNotWrappingUp = errors.New("acd: agent is not in wrap-up")
)

var scriptErrors = map[string]error{
	"ACD_UNKNOWN_QUEUE":  ErrUnknownQueue,
	"ACD_UNKNOWN_AGENT":  ErrUnknownAgent,
	"ACD_UNKNOWN_CALL":   ErrUnknownCall,
	"ACD_DUPLICATE_CALL": ErrDuplicateCall,
	"ACD_AGENT_BUSY":     ErrAgentBusy,
	"ACD_NOT_LOGGED_IN":  ErrNotLoggedIn,
	"ACD_NOT_RINGING":    ErrNotRinging,
	"ACD_NOT_ON_CALL":    ErrNotOnCall,
	"ACD_NOT_WAITING":    ErrNotWaiting,
	"ACD_CONNECTED":      ErrConnected,
	"ACD_BAD_REQUEST":    ErrBadRequest,
	"ACD_NO_AGENT":       ErrNoAgent,
	"ACD_CONSULTING":     ErrConsulting,
	"ACD_NOT_CONSULTING": ErrNotConsulting,
}

// scriptError turns the script's "ACD_CODE detail" replies into wrapped sentinels; anything else
// (network, Redis) is wrapped as is.
func scriptError(op string, err error) error {
	msg := err.Error()
	// Some servers prefix script errors with "ERR " or add the script location; find our code anywhere.
	for code, sentinel := range scriptErrors {
		if i := strings.Index(msg, code); i >= 0 {
			detail := strings.TrimSpace(msg[i+len(code):])
			if j := strings.Index(detail, " script:"); j >= 0 {
				detail = detail[:j]
			}
			return fmt.Errorf("%s %s: %w", op, detail, sentinel)
		}
	}
	return fmt.Errorf("acd %s: %w", op, err)
}
