package softphone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The signaling protocol: JSON objects {"type": "...", ...} over the WebSocket at /agent/ws. A
// request may carry "id"; its reply ("answer", "ack", "calls.today", "pong" or "error") repeats it.
// This file is the one place that names the messages.

// Requests: page → server.
const (
	MsgOffer         = "offer"           // Offer: the page's SDP offer, ICE gathering complete
	MsgSetState      = "state.set"       // SetState
	MsgCallAnswer    = "call.answer"     // CallRef
	MsgCallReject    = "call.reject"     // CallRef
	MsgCallHangup    = "call.hangup"     // CallRef
	MsgCallHold      = "call.hold"       // CallRef
	MsgCallResume    = "call.resume"     // CallRef
	MsgCallMute      = "call.mute"       // CallRef
	MsgCallUnmute    = "call.unmute"     // CallRef
	MsgCallDTMF      = "call.dtmf"       // DTMF
	MsgCallTransfer  = "call.transfer"   // Transfer (blind)
	MsgCallConsult   = "call.consult"    // Transfer (attended: first step)
	MsgCallComplete  = "call.complete"   // CallRef (attended: join caller and target)
	MsgCallCancel    = "call.cancel"     // CallRef (attended: back to the caller)
	MsgCallWrapUp    = "call.wrapup"     // WrapUp
	MsgWrapUpExtend  = "wrapup.extend"   // WrapUpExtend: more time before the next call
	MsgCallsTodayReq = "calls.today.get" // Request
	MsgStatsReq      = "stats.get"       // Request
	MsgPing          = "ping"            // Request
	MsgCallAudio     = "call.audio"      // AudioReport: the page heard the call, once per call
)

// Replies and pushes: server → page.
const (
	MsgHello          = "hello"              // Hello: first message on every connection
	MsgAnswer         = "answer"             // Answer: the gateway's SDP answer
	MsgAck            = "ack"                // Ack: the request was done
	MsgError          = "error"              // Error
	MsgPong           = "pong"               // Ack
	MsgCallsToday     = "calls.today"        // CallsToday
	MsgStats          = "stats"              // Stats: the current leg's quality, pushed every few seconds
	MsgRinging        = "call.ringing"       // Ringing: an offered call with its screen pop
	MsgConnected      = "call.connected"     // CallEvent
	MsgHeld           = "call.held"          // CallEvent
	MsgResumed        = "call.resumed"       // CallEvent
	MsgMuted          = "call.muted"         // CallEvent
	MsgUnmuted        = "call.unmuted"       // CallEvent
	MsgConsulting     = "call.consulting"    // Consulting
	MsgConsultEnded   = "call.consult_ended" // ConsultEnded: the colleague consulted rejected, did not answer or hung up
	MsgEnded          = "call.ended"         // Ended
	MsgStateChanged   = "state"              // StateChanged
	MsgWrapUpStarted  = "wrapup.started"     // WrapUpStarted
	MsgWrapUpEnded    = "wrapup.ended"       // CallEvent
	MsgWrapUpExtended = "wrapup.extended"    // WrapUpExtended
	MsgReplaced       = "session.replaced"   // Replaced: another page of the agent took the audio
)

// requestTypes maps every request type to a constructor of its body: decoding and the fuzz test
// work from it.
var requestTypes = map[string]func() request{
	MsgOffer:         func() request { return &Offer{} },
	MsgSetState:      func() request { return &SetState{} },
	MsgCallAnswer:    func() request { return &CallRef{} },
	MsgCallReject:    func() request { return &CallRef{} },
	MsgCallHangup:    func() request { return &CallRef{} },
	MsgCallHold:      func() request { return &CallRef{} },
	MsgCallResume:    func() request { return &CallRef{} },
	MsgCallMute:      func() request { return &CallRef{} },
	MsgCallUnmute:    func() request { return &CallRef{} },
	MsgCallDTMF:      func() request { return &DTMF{} },
	MsgCallTransfer:  func() request { return &Transfer{} },
	MsgCallConsult:   func() request { return &Transfer{} },
	MsgCallComplete:  func() request { return &CallRef{} },
	MsgCallCancel:    func() request { return &CallRef{} },
	MsgCallWrapUp:    func() request { return &WrapUp{} },
	MsgWrapUpExtend:  func() request { return &WrapUpExtend{} },
	MsgCallsTodayReq: func() request { return &Request{} },
	MsgStatsReq:      func() request { return &Request{} },
	MsgPing:          func() request { return &Request{} },
	MsgCallAudio:     func() request { return &AudioReport{} },
}

// RequestTypes returns the request types the server understands, sorted.
func RequestTypes() []string {
	names := make([]string, 0, len(requestTypes))
	for n := range requestTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// PushTypes lists the types the server sends.
var PushTypes = []string{
	MsgHello, MsgAnswer, MsgAck, MsgError, MsgPong, MsgCallsToday, MsgStats, MsgRinging,
	MsgConnected, MsgHeld, MsgResumed, MsgMuted, MsgUnmuted, MsgConsulting, MsgConsultEnded, MsgEnded,
	MsgStateChanged, MsgWrapUpStarted, MsgWrapUpEnded, MsgWrapUpExtended, MsgReplaced,
}

// request is a decoded page message.
type request interface {
	validate() error
}

// Limits on what a page may send: generous for people, small for abuse.
const (
	maxIDLen   = 128
	maxSDPLen  = 32 << 10
	maxNoteLen = 4000
	maxText    = 256
)

// Request is the part every request has.
type Request struct {
	ID string `json:"id,omitempty"`
}

func (r *Request) validate() error { return checkText("id", r.ID, maxIDLen, false) }

// Offer carries the browser's SDP offer.
type Offer struct {
	Request
	SDP string `json:"sdp"`
}

func (m *Offer) validate() error {
	return firstErr(m.Request.validate(), checkText("sdp", m.SDP, maxSDPLen, true))
}

// SetState asks for an agent state.
type SetState struct {
	Request
	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"`
}

func (m *SetState) validate() error {
	switch m.State {
	case StateAvailable, StatePaused, StateLoggedOut:
	default:
		return fmt.Errorf("%w: unknown state %q", ErrBadMessage, truncate(string(m.State)))
	}
	return firstErr(m.Request.validate(), checkText("reason", m.Reason, maxText, false))
}

// CallRef names the call an action is about.
type CallRef struct {
	Request
	CallID string `json:"call"`
}

func (m *CallRef) validate() error {
	return firstErr(m.Request.validate(), checkText("call", m.CallID, maxIDLen, true))
}

// DTMF sends digits.
type DTMF struct {
	CallRef
	Digits string `json:"digits"`
}

func (m *DTMF) validate() error {
	if err := m.CallRef.validate(); err != nil {
		return err
	}
	if m.Digits == "" || len(m.Digits) > 32 || strings.Trim(m.Digits, "0123456789*#ABCD") != "" {
		return fmt.Errorf("%w: digits must be 1-32 of 0-9 * # A-D", ErrBadMessage)
	}
	return nil
}

// Transfer names a transfer's target.
type Transfer struct {
	CallRef
	Target Target `json:"target"`
}

func (m *Transfer) validate() error {
	switch m.Target.Kind {
	case TargetQueue, TargetAgent, TargetNumber:
	default:
		return fmt.Errorf("%w: unknown target kind %q", ErrBadMessage, truncate(string(m.Target.Kind)))
	}
	// A number is only bounded here: whether it is one, and one the center may dial, is the
	// switchboard's to decide (package numbering), so that every refusal is audited with the agent.
	return firstErr(m.CallRef.validate(), checkText("target.value", m.Target.Value, maxText, true))
}

// WrapUp closes after-call work.
type WrapUp struct {
	CallRef
	Disposition string `json:"disposition"`
	Note        string `json:"note,omitempty"`
}

func (m *WrapUp) validate() error {
	return firstErr(m.CallRef.validate(),
		checkText("disposition", m.Disposition, maxText, true),
		checkText("note", m.Note, maxNoteLen, false))
}

// WrapUpExtend asks for Seconds more of the call's wrap-up.
type WrapUpExtend struct {
	CallRef
	Seconds int `json:"seconds"`
}

// maxExtendSeconds bounds one extension; the ACD bounds the wrap-up as a whole.
const maxExtendSeconds = 600

func (m *WrapUpExtend) validate() error {
	if m.Seconds < 1 || m.Seconds > maxExtendSeconds {
		return fmt.Errorf("%w: seconds: %d is not 1..%d", ErrBadMessage, m.Seconds, maxExtendSeconds)
	}
	return m.CallRef.validate()
}

// maxReportMs bounds a measurement a page may send at all (an hour): beyond it the message is
// malformed. Values that are well-formed but absurd for a call's start are ignored by the gateway.
const maxReportMs = 3600e3

// AudioReport is the page's measurement of a call's start: the time from the agent's answer (the
// click, the A key, or auto-answer) to the first remote audio above the page's threshold, on the
// stream that plays in the page's audio element. The page sends it once per call; the gateway
// records it with its own side of two-way audio (see [Gateway] metrics).
type AudioReport struct {
	CallRef
	AnswerToAudioMs float64 `json:"answer_to_audio_ms"`
}

func (m *AudioReport) validate() error {
	if err := m.CallRef.validate(); err != nil {
		return err
	}
	if !(m.AnswerToAudioMs >= 0 && m.AnswerToAudioMs <= maxReportMs) {
		return fmt.Errorf("%w: answer_to_audio_ms must be 0-%g", ErrBadMessage, float64(maxReportMs))
	}
	return nil
}

// decodeRequest decodes one page message. The type and id come back even when the body is bad, so
// the error reply can say what it was about.
func decodeRequest(data []byte) (typ, id string, req request, err error) {
	var head struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", "", nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if len(head.ID) <= maxIDLen && utf8.ValidString(head.ID) {
		id = head.ID
	}
	newReq, ok := requestTypes[head.Type]
	if !ok {
		return truncate(head.Type), id, nil, fmt.Errorf("%w: %q", ErrUnknownMessage, truncate(head.Type))
	}
	req = newReq()
	if err := json.Unmarshal(data, req); err != nil {
		return head.Type, id, nil, fmt.Errorf("%w: %s: %w", ErrBadMessage, head.Type, err)
	}
	if err := req.validate(); err != nil {
		return head.Type, id, nil, err
	}
	return head.Type, id, req, nil
}

func checkText(field, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return fmt.Errorf("%w: %s is required", ErrBadMessage, field)
	case len(v) > max:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrBadMessage, field, max)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s is not UTF-8", ErrBadMessage, field)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// truncate keeps echoed input short.
func truncate(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ToValidUTF8(s, "?")
}

// Message is a server → page message: Notify takes any of the push types below.
type Message interface {
	MessageType() string
}

// encodeMessage marshals m with its type as the first field.
func encodeMessage(m Message) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("softphone: encode %s: %w", m.MessageType(), err)
	}
	typ, _ := json.Marshal(m.MessageType())
	var b bytes.Buffer
	b.Grow(len(body) + len(typ) + 10)
	b.WriteString(`{"type":`)
	b.Write(typ)
	if len(body) > 2 { // not "{}"
		b.WriteByte(',')
		b.Write(body[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}

// ---- Push messages: server → page ----

// The messages the server sends to the page. The controller builds the call and state ones and
// passes them to Server.Notify.

// CallInfo is a call as the page shows it: the screen pop.
type CallInfo struct {
	ID           string `json:"id"`
	CallerNumber string `json:"caller_number"`
	CallerName   string `json:"caller_name,omitempty"`
	CallerType   string `json:"caller_type,omitempty"` // "private", "business", ...
	Queue        string `json:"queue,omitempty"`
	Priority     int    `json:"priority,omitempty"`
	Lang         string `json:"lang,omitempty"`
	WaitSeconds  int    `json:"wait_seconds"`
	// IVRPath is the caller's way through the IVR, one step a line, each in the page's languages:
	// {"ru": "Меню частных клиентов: 1 → Ввод трек-номера", "en": "Private customers menu: 1 → …"}.
	IVRPath []map[string]string `json:"ivr_path,omitempty"`
	// QueueTitle is what people call Queue, by language ("ru", "en"); the page shows Queue without it.
	QueueTitle map[string]string `json:"queue_title,omitempty"`
	Entered    map[string]string `json:"entered,omitempty"` // what the caller typed: tracking, claim, contract
	// Previous are the caller's earlier calls, newest first, when the center keeps records.
	Previous []Contact `json:"previous,omitempty"`
	// Survey: the caller agreed to rate the call once the agent hangs up.
	Survey bool `json:"survey,omitempty"`
}

// Contact is one of the caller's earlier calls and how it went.
type Contact struct {
	At          string            `json:"at"` // RFC 3339
	Queue       string            `json:"queue,omitempty"`
	QueueTitle  map[string]string `json:"queue_title,omitempty"`
	AgentName   string            `json:"agent_name,omitempty"` // who answered
	Outcome     string            `json:"outcome"`              // answered, abandoned, exited, ivr, waiting
	TalkSeconds int               `json:"talk_seconds,omitempty"`
	Disposition string            `json:"disposition,omitempty"` // the wrap-up's code
}

// Ringing offers a call to the agent.
type Ringing struct {
	Call CallInfo `json:"call"`
	// RingSeconds is how long the offer stands before it goes to another agent.
	RingSeconds int `json:"ring_seconds,omitempty"`
	// Consult is set when a colleague consults the agent about their call (an attended transfer):
	// the caller holds, answering talks to the colleague, not the caller.
	Consult *ConsultFrom `json:"consult,omitempty"`
}

// ConsultFrom names the colleague who consults the agent.
type ConsultFrom struct {
	Agent string `json:"agent"`
	Name  string `json:"name,omitempty"`
}

// CallEvent is a change of a call: connected, held, resumed, muted, unmuted, wrap-up ended.
type CallEvent struct {
	Kind   string    `json:"-"` // one of MsgConnected, MsgHeld, MsgResumed, MsgMuted, MsgUnmuted, MsgWrapUpEnded
	CallID string    `json:"call"`
	Call   *CallInfo `json:"info,omitempty"` // with Connected: the screen pop again (a reloaded page)
	// Consult, with Connected, says the agent talks to the colleague who consults them, not to the
	// caller (who holds); a later Connected without it means the transfer completed: the call is theirs.
	Consult *ConsultFrom `json:"consult,omitempty"`
}

// Consulting says the agent is talking to a transfer target while the caller holds.
type Consulting struct {
	CallID string `json:"call"`
	Target Target `json:"target"`
	// Agent is the colleague reserved when Target is an agent or a queue (the queue's pick).
	Agent *ConsultFrom `json:"agent,omitempty"`
	// Answered says the colleague answered: the transfer may complete.
	Answered bool `json:"answered,omitempty"`
}

// ConsultEnded tells the consulting agent the colleague rejected ("rejected"), did not answer
// ("no_answer") or hung up ("hung_up"): the agent is back with the caller (a Resumed follows or
// came first).
type ConsultEnded struct {
	CallID string       `json:"call"`
	Agent  *ConsultFrom `json:"agent,omitempty"`
	Reason string       `json:"reason"`
}

// Ended says the call is over for the agent.
type Ended struct {
	CallID string `json:"call"`
	// "agent", "caller", "transferred", "refused" (a callback's number may not be dialled),
	// "rejected", "timeout", "answered_elsewhere" (a colleague rung
	// with the agent answered first), "callback_no_answer" (the number dialled back did not answer:
	// no wrap-up, the center tries again later); for a colleague consulted, "consult:"
	// and why the consultation ended: cancelled, rejected, no_answer, hung_up, caller_hung_up (no
	// wrap-up follows: they are available again).
	Reason string `json:"reason,omitempty"`
}

// StateChanged is the agent's state as the controller sees it.
type StateChanged struct {
	State  string `json:"state"` // available, paused, ringing, on_call, wrapup, logged_out
	Reason string `json:"reason,omitempty"`
	Since  string `json:"since,omitempty"` // RFC 3339
	// PauseNext is the reason of a pause the agent asked for after the present call, if any.
	PauseNext string `json:"pause_next,omitempty"`
}

// WrapUpStarted opens after-call work.
type WrapUpStarted struct {
	CallID       string        `json:"call"`
	Seconds      int           `json:"seconds,omitempty"` // time before the agent is available again
	Dispositions []Disposition `json:"dispositions,omitempty"`
}

// WrapUpExtended tells the agent's pages the wrap-up's new end: Seconds from now.
type WrapUpExtended struct {
	CallID  string `json:"call"`
	Seconds int    `json:"seconds"`
}

// Hello opens every connection.
type Hello struct {
	Agent      Agent       `json:"agent"`
	ICEServers []ICEServer `json:"ice_servers"`
}

// Answer carries the gateway's SDP answer.
type Answer struct {
	ID  string `json:"id,omitempty"`
	SDP string `json:"sdp"`
}

// Ack says a request was done; Pong answers a ping.
type Ack struct {
	ID string `json:"id,omitempty"`
}

// Pong answers a ping.
type Pong struct {
	ID string `json:"id,omitempty"`
}

// Error says a request failed. Code is one of "bad_message", "unknown_type", "unauthorized",
// "not_your_call", "no_such_call", "invalid_state", "unavailable", "refused", "transfer_failed",
// "unreachable", "rate_limited", "failed".
type Error struct {
	ID      string `json:"id,omitempty"`
	About   string `json:"about,omitempty"` // the request's type
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CallsToday lists the agent's calls today.
type CallsToday struct {
	ID    string        `json:"id,omitempty"`
	Calls []CallSummary `json:"calls"`
}

// Stats is the quality of the agent's current leg.
type Stats struct {
	ID string `json:"id,omitempty"`
	LegStats
	Connected bool `json:"connected"` // the agent's PeerConnection
}

// Replaced tells a page that another page of the same agent negotiated the audio: it must not
// renegotiate on its own (two tabs would take the line from each other forever).
type Replaced struct{}

func (Replaced) MessageType() string       { return MsgReplaced }
func (Ringing) MessageType() string        { return MsgRinging }
func (e CallEvent) MessageType() string    { return e.Kind }
func (Consulting) MessageType() string     { return MsgConsulting }
func (ConsultEnded) MessageType() string   { return MsgConsultEnded }
func (Ended) MessageType() string          { return MsgEnded }
func (StateChanged) MessageType() string   { return MsgStateChanged }
func (WrapUpStarted) MessageType() string  { return MsgWrapUpStarted }
func (WrapUpExtended) MessageType() string { return MsgWrapUpExtended }
func (Hello) MessageType() string          { return MsgHello }
func (Answer) MessageType() string         { return MsgAnswer }
func (Ack) MessageType() string            { return MsgAck }
func (Pong) MessageType() string           { return MsgPong }
func (Error) MessageType() string          { return MsgError }
func (CallsToday) MessageType() string     { return MsgCallsToday }
func (Stats) MessageType() string          { return MsgStats }

// Constructors for the call events, so the controller cannot misspell a kind.

// Connected says the agent is talking to the caller.
func Connected(callID string, info *CallInfo) CallEvent {
	return CallEvent{Kind: MsgConnected, CallID: callID, Call: info}
}

// Held says the caller hears hold music.
func Held(callID string) CallEvent { return CallEvent{Kind: MsgHeld, CallID: callID} }

// Resumed says the caller is back.
func Resumed(callID string) CallEvent { return CallEvent{Kind: MsgResumed, CallID: callID} }

// Muted says the caller no longer hears the agent.
func Muted(callID string) CallEvent { return CallEvent{Kind: MsgMuted, CallID: callID} }

// Unmuted says the caller hears the agent again.
func Unmuted(callID string) CallEvent { return CallEvent{Kind: MsgUnmuted, CallID: callID} }

// WrapUpEnded closes after-call work.
func WrapUpEnded(callID string) CallEvent { return CallEvent{Kind: MsgWrapUpEnded, CallID: callID} }
