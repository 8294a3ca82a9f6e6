package softphone

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestStreamRewriterContinuity(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type in struct {
		src     uint64
		seq     uint16
		ts      uint32
		at      time.Duration
		wantSeq uint16
		wantTS  uint32
		switchd bool
	}
	for _, tc := range []struct {
		name string
		pkts []in
	}{
		{"one source passes through", []in{
			{1, 100, 8000, 0, 100, 8000, false},
			{1, 101, 8160, 20 * time.Millisecond, 101, 8160, false},
		}},
		{"second source continues after the first", []in{
			{1, 100, 8000, 0, 100, 8000, false},
			{1, 101, 8160, 20 * time.Millisecond, 101, 8160, false},
			{2, 5000, 999, 1020 * time.Millisecond, 102, 8160 + 8000, true},
			{2, 5001, 1159, 1040 * time.Millisecond, 103, 8160 + 8160, false},
		}},
		{"a quick switch advances one frame at least", []in{
			{1, 65535, 100, 0, 65535, 100, false},
			{2, 7, 7, 0, 0, 260, true},
		}},
		{"a late packet does not move the reference", []in{
			{1, 10, 1600, 0, 10, 1600, false},
			{1, 12, 1920, 40 * time.Millisecond, 12, 1920, false},
			{1, 11, 1760, 41 * time.Millisecond, 11, 1760, false},
			{2, 0, 0, 60 * time.Millisecond, 13, 1920 + 160, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r streamRewriter
			for i, p := range tc.pkts {
				h := rtp.Header{SequenceNumber: p.seq, Timestamp: p.ts}
				sw := r.rewrite(p.src, &h, t0.Add(p.at))
				if h.SequenceNumber != p.wantSeq || h.Timestamp != p.wantTS || sw != p.switchd {
					t.Errorf("packet %d: seq %d ts %d switched %v, want %d %d %v", i, h.SequenceNumber, h.Timestamp, sw, p.wantSeq, p.wantTS, p.switchd)
				}
			}
		})
	}
}

func TestReceiveStats(t *testing.T) {
	t0 := time.Unix(0, 0)
	for _, tc := range []struct {
		name       string
		seqs       []uint16
		jitterMs   []time.Duration // arrival offset from the ideal 20 ms grid
		wantLost   uint64
		wantJitter bool // some jitter expected
	}{
		{"clean", []uint16{1, 2, 3, 4, 5}, nil, 0, false},
		{"a gap", []uint16{1, 2, 5, 6}, nil, 2, false},
		{"wraps", []uint16{65534, 65535, 0, 1}, nil, 0, false},
		{"late arrivals", []uint16{1, 2, 3, 4, 5, 6}, []time.Duration{0, 15, 0, 15, 0, 15}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s receiveStats
			base := tc.seqs[0]
			for i, seq := range tc.seqs {
				n := uint16(seq - base)
				at := t0.Add(time.Duration(n) * 20 * time.Millisecond)
				if tc.jitterMs != nil {
					at = at.Add(tc.jitterMs[i] * time.Millisecond)
				}
				s.update(42, seq, uint32(n)*160, at)
			}
			got := s.snapshot()
			if got.Lost != tc.wantLost || got.Packets != uint64(len(tc.seqs)) {
				t.Errorf("stats %+v, want lost %d packets %d", got, tc.wantLost, len(tc.seqs))
			}
			if (got.JitterMs > 0.5) != tc.wantJitter {
				t.Errorf("jitter %.2f ms, want some: %v", got.JitterMs, tc.wantJitter)
			}
		})
	}
}

func TestEncodeMessage(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{Ack{}, `{"type":"ack"}`},
		{Ack{ID: "7"}, `{"type":"ack","id":"7"}`},
		{Held("c1"), `{"type":"call.held","call":"c1"}`},
		{StateChanged{State: "available"}, `{"type":"state","state":"available"}`},
		{Ringing{Call: CallInfo{ID: "c1"}, Consult: &ConsultFrom{Agent: "p001", Name: "Anna"}},
			`{"type":"call.ringing","call":{"id":"c1","caller_number":"","wait_seconds":0},"consult":{"agent":"p001","name":"Anna"}}`},
		{ConsultEnded{CallID: "c1", Agent: &ConsultFrom{Agent: "p002"}, Reason: "rejected"},
			`{"type":"call.consult_ended","call":"c1","agent":{"agent":"p002"},"reason":"rejected"}`},
	} {
		b, err := encodeMessage(tc.m)
		if err != nil || string(b) != tc.want {
			t.Errorf("encode %T = %s, %v; want %s", tc.m, b, err, tc.want)
		}
	}
}

// TestPushTypesTable: every message the server can send is named in PushTypes, and every request
// type decodes from a minimal valid body.
func TestPushTypesTable(t *testing.T) {
	known := map[string]bool{}
	for _, typ := range PushTypes {
		known[typ] = true
	}
	for _, m := range []Message{Ringing{}, Connected("c", nil), Held("c"), Resumed("c"), Muted("c"), Unmuted("c"),
		WrapUpEnded("c"), Consulting{}, ConsultEnded{}, Ended{}, StateChanged{}, WrapUpStarted{}, Hello{}, Answer{}, Ack{}, Pong{},
		Error{}, CallsToday{}, Stats{}, Replaced{}, WrapUpExtended{}} {
		if !known[m.MessageType()] {
			t.Errorf("%T sends %q, which PushTypes does not list", m, m.MessageType())
		}
	}
	full := `,"sdp":"v=0","state":"available","call":"c","digits":"1","target":{"kind":"agent","value":"b"},"disposition":"d","seconds":30}`
	for typ := range requestTypes {
		if _, _, _, err := decodeRequest([]byte(`{"type":"` + typ + `"` + full)); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}
