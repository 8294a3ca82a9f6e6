package softphone

import (
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
)

// batchReader reads the ICE socket up to iceBatch datagrams a system call (recvmmsg(2) on Linux;
// one at a time elsewhere) and hands them out one by one. Every agent's audio arrives on this one
// socket: read one by one, its reader made a system call per packet and parked between most of
// them, and on a saturated host it fell far enough behind for the kernel to drop packets at the
// full socket. In batches it takes in one call whatever queued while it was away: the busier the
// host, the fewer calls per packet. Only the socket's reader, one goroutine (pion's UDP mux),
// calls next.
type batchReader struct {
	pc   *ipv4.PacketConn
	msgs []ipv4.Message
	at   time.Time // when the batch was read
	i, n int       // msgs[i:n] are still to hand out
}

const (
	// iceBatch is small on purpose: a packet's time in the gateway counts from its batch's read, and
	// a reader held up mid-batch holds the rest of it. In the seed center's runs (BENCHMARKS.md) 64
	// and 16 left that p99 at 0.2-1.2 ms and 16 still let the socket overflow once; 8 kept it at
	// 0.1-0.2 ms with nothing dropped.
	iceBatch = 8
	// iceDatagram holds any datagram a browser sends: pion's mux reads with this much room too.
	iceDatagram = 8192
)

func newBatchReader(c *net.UDPConn) *batchReader {
	r := &batchReader{pc: ipv4.NewPacketConn(c), msgs: make([]ipv4.Message, iceBatch)}
	for i := range r.msgs {
		r.msgs[i].Buffers = [][]byte{make([]byte, iceDatagram)}
	}
	return r
}

// next returns the next datagram, valid until the following call, where it came from and when it
// was read off the socket.
func (r *batchReader) next() ([]byte, netip.AddrPort, time.Time, error) {
	if r.i == r.n {
		n, err := r.pc.ReadBatch(r.msgs, 0)
		if err != nil {
			return nil, netip.AddrPort{}, time.Time{}, err
		}
		r.i, r.n, r.at = 0, n, time.Now()
	}
	m := &r.msgs[r.i]
	r.i++
	var from netip.AddrPort
	if a, ok := m.Addr.(*net.UDPAddr); ok {
		from = a.AddrPort()
	}
	return m.Buffers[0][:m.N], from, r.at, nil
}
