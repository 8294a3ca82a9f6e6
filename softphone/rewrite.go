package softphone

import (
	"time"

	"github.com/pion/rtp"
)

// streamRewriter makes RTP from a succession of sources (one call's leg after another, or the
// browser's track before and after a reload) look like one continuous stream: sequence numbers go
// on by one and timestamps by the wall-clock time that passed, so the receiver's jitter buffer
// never sees a jump back or a huge gap. The SSRC is the sender's business (pion's track sets its
// own, a leg sets its own).
type streamRewriter struct {
	started bool
	src     uint64 // current source: a generation number and the source's SSRC
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
}

// rewrite rewrites h in place. It reports whether the packet starts a new source (the caller may
// set the marker bit: a new talkspurt).
func (r *streamRewriter) rewrite(src uint64, h *rtp.Header, now time.Time) (switched bool) {
	if !r.started {
		r.started, r.src = true, src
	} else if src != r.src {
		// Continue one sequence number and the elapsed time (at least one frame) after the last
		// packet sent, whatever the new source's own numbering.
		elapsed := uint32(now.Sub(r.lastAt) * 8000 / time.Second)
		if elapsed < 160 {
			elapsed = 160
		}
		r.seqOff = r.lastSeq + 1 - h.SequenceNumber
		r.tsOff = r.lastTS + elapsed - h.Timestamp
		r.src = src
		switched = true
	}
	h.SequenceNumber += r.seqOff
	h.Timestamp += r.tsOff
	// Keep the newest packet as the reference; a late (reordered) packet must not move it back.
	if int16(h.SequenceNumber-r.lastSeq) > 0 || r.lastAt.IsZero() || switched {
		r.lastSeq, r.lastTS, r.lastAt = h.SequenceNumber, h.Timestamp, now
	}
	return switched
}
