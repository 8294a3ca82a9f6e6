// Package rtpseq counts RTP packets received and lost by their sequence numbers, as RFC 3550's
// receiver does: what a stream should have delivered runs from its first sequence number to its
// highest, so a packet that never came shows as a gap whatever its sender and the hops between
// did. Totals add up many streams and can be read while they run, so a load run takes the loss of
// a window as the difference of two reads.
package rtpseq

import "sync/atomic"

// Totals sums the streams that count into it. Safe for concurrent use.
type Totals struct {
	received atomic.Uint64
	expected atomic.Uint64
}

// Counts is a read of Totals.
type Counts struct {
	Received uint64
	Expected uint64 // from each stream's first sequence number to its highest
}

// Lost is what was expected and never came (duplicates can make it look smaller, never negative).
func (c Counts) Lost() uint64 {
	if c.Expected < c.Received {
		return 0
	}
	return c.Expected - c.Received
}

// Minus is what was counted since before.
func (c Counts) Minus(before Counts) Counts {
	return Counts{Received: c.Received - before.Received, Expected: c.Expected - before.Expected}
}

// Read returns the totals so far.
func (t *Totals) Read() Counts {
	// Expected first: a packet counted between the two loads then cannot show as a loss.
	e := t.expected.Load()
	return Counts{Received: t.received.Load(), Expected: e}
}

// Stream is one receiver's sequence state, counting into Totals. Not safe for concurrent use: a
// stream has one reader.
type Stream struct {
	T       *Totals
	started bool
	ssrc    uint32
	highest uint16
}

// Add counts a packet. A new SSRC starts a new stream (a new call's leg behind the same socket).
func (s *Stream) Add(ssrc uint32, seq uint16) {
	switch d := int16(seq - s.highest); {
	case !s.started || ssrc != s.ssrc:
		s.started, s.ssrc, s.highest = true, ssrc, seq
		s.T.expected.Add(1)
	case d > 0:
		s.highest = seq
		s.T.expected.Add(uint64(d))
	}
	s.T.received.Add(1)
}
