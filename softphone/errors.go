package softphone

import "errors"

// Sentinel errors. The Desk returns the first eight; the server turns them into the page's error
// messages (code "unauthorized", "not_your_call", "no_such_call", "invalid_state", "unavailable",
// "refused", "transfer_failed", "unreachable").
var (
	// ErrBadCredentials: Login with an unknown agent or a wrong password.
	ErrBadCredentials = errors.New("softphone: bad credentials")
	// ErrNotYourCall: the agent acted on a call that is not theirs.
	ErrNotYourCall = errors.New("softphone: not your call")
	// ErrNoSuchCall: the call is gone or never existed.
	ErrNoSuchCall = errors.New("softphone: no such call")
	// ErrInvalidState: the action does not fit the call's or the agent's state.
	ErrInvalidState = errors.New("softphone: invalid state")
	// ErrUnavailable: the colleague or the queue asked for (a consultation) has nobody available
	// now; the agent keeps the caller.
	ErrUnavailable = errors.New("softphone: nobody available")
	// ErrRefused: the number asked for may not be dialled (the center's dialling rules, or not a
	// number); the message says why, the agent keeps the caller.
	ErrRefused = errors.New("softphone: refused")
	// ErrTransferFailed: a blind transfer to a number did not go through after the agent had left
	// the call; the caller waits in their queue again.
	ErrTransferFailed = errors.New("softphone: the transfer did not go through")
	// ErrUnreachable: the controller that holds the call (another one than the page's) did not
	// answer in time; the page may try again.
	ErrUnreachable = errors.New("softphone: the call's controller does not answer")

	// ErrClosed: the gateway or the leg is closed.
	ErrClosed = errors.New("softphone: closed")
	// ErrBadOffer: the browser's SDP offer cannot be used.
	ErrBadOffer = errors.New("softphone: bad offer")
	// ErrBadMessage: a signaling message that cannot be decoded or is not valid.
	ErrBadMessage = errors.New("softphone: bad message")
	// ErrUnknownMessage: a signaling message of a type nobody knows.
	ErrUnknownMessage = errors.New("softphone: unknown message type")
	// ErrRateLimited: the page sent more messages than any agent's hands do; this one was not run.
	ErrRateLimited = errors.New("softphone: too many messages: slow down")
	// ErrNotMessage: Notify was given a value that is not a push message.
	ErrNotMessage = errors.New("softphone: not a push message")
)
