package rtpseq

import "testing"

func TestStream(t *testing.T) {
	var tot Totals
	s := Stream{T: &tot}
	for _, seq := range []uint16{65534, 65535, 1, 0, 3} { // wraps, 2 lost, 0 late
		s.Add(7, seq)
	}
	s.Add(8, 100) // a new source
	s.Add(8, 101)
	c := tot.Read()
	if c.Received != 7 || c.Expected != 8 || c.Lost() != 1 {
		t.Fatalf("got %+v lost %d, want received 7, expected 8, lost 1", c, c.Lost())
	}
	s.Add(8, 103)
	if d := tot.Read().Minus(c); d.Received != 1 || d.Lost() != 1 {
		t.Fatalf("window %+v, want 1 received and 1 lost", d)
	}
}
