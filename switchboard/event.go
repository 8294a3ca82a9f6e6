package switchboard

import (
	"encoding/json"
	"strings"
)

// Event is an ARI event as far as the switchboard reads it. It is decoded by hand, not by ari/v5's
// DecodeEvent: Asterisk may send any event type (ChannelToneDetected, ChannelTransfer, types added in
// later versions), and a controller must carry on through every one of them. Fields it does not use
// are left in Raw.
type Event struct {
	Type        string       `json:"type"`
	Timestamp   string       `json:"timestamp"`
	Application string       `json:"application"`
	AsteriskID  string       `json:"asterisk_id"`
	Args        []string     `json:"args"`
	Channel     *ChannelInfo `json:"channel"`
	Playback    *Playback    `json:"playback"`
	Bridge      *BridgeInfo  `json:"bridge"`
	Digit       string       `json:"digit"`
	DurationMS  int          `json:"duration_ms"`
	Variable    string       `json:"variable"`
	Value       string       `json:"value"`
	Cause       int          `json:"cause"`
	EventName   string       `json:"eventname"`
	// UserEvent is a ChannelUserevent's variables; the switchboard sends only string ones.
	UserEvent map[string]string `json:"-"`

	Raw json.RawMessage `json:"-"`
}

// ChannelInfo is the part of an ARI channel snapshot the switchboard uses.
type ChannelInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	State    string   `json:"state"`
	Caller   CallerID `json:"caller"`
	Language string   `json:"language"`
	Dialplan struct {
		Context string `json:"context"`
		Exten   string `json:"exten"`
	} `json:"dialplan"`
}

// CallerID is a channel's caller or connected party.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// Playback is an ARI playback snapshot.
type Playback struct {
	ID        string `json:"id"`
	MediaURI  string `json:"media_uri"`
	TargetURI string `json:"target_uri"`
	State     string `json:"state"`
}

// BridgeInfo is the part of an ARI bridge snapshot the switchboard uses.
type BridgeInfo struct {
	ID       string   `json:"id"`
	Channels []string `json:"channels"`
}

// decodeEvent never fails on a well-formed JSON object, whatever its type; it fails only on bytes that
// are not one, which Asterisk does not send.
func decodeEvent(data []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, err
	}
	ev.Raw = data
	if ev.Type == "ChannelUserevent" {
		var u struct {
			UserEvent map[string]any `json:"userevent"`
		}
		if json.Unmarshal(data, &u) == nil {
			ev.UserEvent = make(map[string]string, len(u.UserEvent))
			for k, v := range u.UserEvent {
				if s, ok := v.(string); ok {
					ev.UserEvent[k] = s
				}
			}
		}
	}
	return ev, nil
}

// channelID is the channel an event concerns, if any: its channel, or the channel a playback plays on.
func (ev *Event) channelID() string {
	if ev.Channel != nil {
		return ev.Channel.ID
	}
	if ev.Playback != nil {
		if id, ok := strings.CutPrefix(ev.Playback.TargetURI, "channel:"); ok {
			return id
		}
	}
	return ""
}
