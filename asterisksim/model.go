package asterisksim

import "time"

// The JSON shapes below follow Asterisk 22's ARI models field by field, in the order Asterisk writes
// them (see shared/ari-transcripts), so a byte-level diff against a recording stays readable.

// tsLayout is how Asterisk formats timestamps: millisecond precision, numeric zone without colon.
const tsLayout = "2006-01-02T15:04:05.000-0700"

func stamp(t time.Time) string { return t.UTC().Format(tsLayout) }

// CallerID is ARI's CallerID model.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// DialplanCEP is ARI's dialplan location of a channel.
type DialplanCEP struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int    `json:"priority"`
	AppName  string `json:"app_name"`
	AppData  string `json:"app_data"`
}

// ChannelJSON is ARI's Channel model.
type ChannelJSON struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	ProtocolID   string            `json:"protocol_id"`
	Caller       CallerID          `json:"caller"`
	Connected    CallerID          `json:"connected"`
	AccountCode  string            `json:"accountcode"`
	Dialplan     DialplanCEP       `json:"dialplan"`
	CreationTime string            `json:"creationtime"`
	Language     string            `json:"language"`
	ChannelVars  map[string]string `json:"channelvars,omitempty"`
}

// BridgeJSON is ARI's Bridge model.
type BridgeJSON struct {
	ID           string   `json:"id"`
	Technology   string   `json:"technology"`
	BridgeType   string   `json:"bridge_type"`
	BridgeClass  string   `json:"bridge_class"`
	Creator      string   `json:"creator"`
	Name         string   `json:"name"`
	Channels     []string `json:"channels"`
	CreationTime string   `json:"creationtime"`
	VideoMode    string   `json:"video_mode"`
}

// PlaybackJSON is ARI's Playback model.
type PlaybackJSON struct {
	ID           string  `json:"id"`
	MediaURI     string  `json:"media_uri"`
	NextMediaURI *string `json:"next_media_uri,omitempty"` // the item after media_uri, if any
	TargetURI    string  `json:"target_uri"`
	Language     string  `json:"language"`
	State        string  `json:"state"`
}

// LiveRecordingJSON is ARI's LiveRecording model.
type LiveRecordingJSON struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	State     string `json:"state"`
	TargetURI string `json:"target_uri"`
	Duration  *int   `json:"duration,omitempty"` // whole seconds, once it has ended (0 included)
	Cause     string `json:"cause,omitempty"`
}

type errorBody struct {
	Message string `json:"message"`
}

// Events. Every event ends with asterisk_id and application, which the hub fills in per app.

type evHead struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
}

type evTail struct {
	AsteriskID  string `json:"asterisk_id"`
	Application string `json:"application"`
}

type stasisStartEvent struct {
	evHead
	Args    []string    `json:"args"`
	Channel ChannelJSON `json:"channel"`
	evTail
}

type channelEvent struct { // StasisEnd, ChannelStateChange, ChannelConnectedLine
	evHead
	Channel ChannelJSON `json:"channel"`
	evTail
}

type varsetEvent struct {
	Variable string `json:"variable"`
	Value    string `json:"value"`
	evHead
	Channel ChannelJSON `json:"channel"`
	evTail
}

type hangupRequestEvent struct {
	Cause int   `json:"cause"`
	Soft  *bool `json:"soft,omitempty"`
	evHead
	Channel ChannelJSON `json:"channel"`
	evTail
}

type channelDestroyedEvent struct {
	evHead
	Cause    int         `json:"cause"`
	CauseTxt string      `json:"cause_txt"`
	Channel  ChannelJSON `json:"channel"`
	evTail
}

type dialplanEvent struct {
	evHead
	DialplanApp     string      `json:"dialplan_app"`
	DialplanAppData string      `json:"dialplan_app_data"`
	Channel         ChannelJSON `json:"channel"`
	evTail
}

type callerIDEvent struct {
	evHead
	CallerPresentation    int         `json:"caller_presentation"`
	CallerPresentationTxt string      `json:"caller_presentation_txt"`
	Channel               ChannelJSON `json:"channel"`
	evTail
}

type dtmfEvent struct {
	evHead
	Digit      string      `json:"digit"`
	DurationMS int         `json:"duration_ms"`
	Channel    ChannelJSON `json:"channel"`
	evTail
}

type dialEvent struct {
	evHead
	DialStatus string      `json:"dialstatus"`
	Forward    string      `json:"forward"`
	DialString string      `json:"dialstring"`
	Peer       ChannelJSON `json:"peer"`
	evTail
}

type bridgeChannelEvent struct { // ChannelEnteredBridge, ChannelLeftBridge
	evHead
	Bridge  BridgeJSON  `json:"bridge"`
	Channel ChannelJSON `json:"channel"`
	evTail
}

type bridgeEvent struct { // BridgeCreated, BridgeDestroyed
	evHead
	Bridge BridgeJSON `json:"bridge"`
	evTail
}

type playbackEvent struct {
	evHead
	Playback PlaybackJSON `json:"playback"`
	evTail
}

type recordingEvent struct {
	evHead
	Recording LiveRecordingJSON `json:"recording"`
	evTail
}

// Hangup causes (Q.850) the simulator uses.
const (
	causeNormal      = 16
	causeNoAnswer    = 19
	causeBusy        = 17
	causeAPIHangup   = 32 // what Asterisk reports for DELETE /channels: "normal" maps here
	causeUnallocated = 1
)

func causeText(c int) string {
	switch c {
	case causeNormal:
		return "Normal Clearing"
	case causeBusy:
		return "User busy"
	case causeNoAnswer:
		return "No user responding"
	case causeUnallocated:
		return "Unallocated (unassigned) number"
	default:
		return "Unknown"
	}
}

// hangupCause maps DELETE /channels?reason= to a cause, as ARI does.
func hangupCause(reason string) (int, bool) {
	switch reason {
	case "", "normal":
		return causeNormal, true
	case "busy":
		return causeBusy, true
	case "noanswer":
		return causeNoAnswer, true
	case "congestion":
		return 34, true
	case "no_route_destination":
		return 3, true
	case "answered_elsewhere":
		return 26, true
	}
	return 0, false
}
