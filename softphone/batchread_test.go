package softphone

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestBatchReader: datagrams queued on the socket come out one by one, in order, whole and with
// their senders' addresses, across more than one batch; the read time is that of the batch. On a
// dual-stack socket an IPv4 sender's address comes out as the socket gives it.
func TestBatchReader(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "[::]:0"} {
		t.Run(listen, func(t *testing.T) {
			conn := listenUDPOrSkip(t, listen)
			to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), conn.LocalAddr().(*net.UDPAddr).AddrPort().Port())
			a, b := udpSocket(t), udpSocket(t)
			want := iceBatch*2 + 3
			for i := range want {
				from := []*net.UDPConn{a, b}[i%2]
				if _, err := from.WriteToUDPAddrPort(fmt.Appendf(nil, "datagram %d", i), to); err != nil {
					t.Fatal(err)
				}
			}
			r := newBatchReader(conn)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			before := time.Now()
			var batchAt time.Time
			for i := range want {
				got, from, at, err := r.next()
				if err != nil {
					t.Fatalf("datagram %d: %v", i, err)
				}
				if w := fmt.Sprintf("datagram %d", i); string(got) != w {
					t.Errorf("read %q, want %q", got, w)
				}
				sender := []*net.UDPConn{a, b}[i%2].LocalAddr().(*net.UDPAddr).AddrPort()
				if from.Addr().Unmap() != sender.Addr() || from.Port() != sender.Port() {
					t.Errorf("datagram %d from %v, want %v", i, from, sender)
				}
				// Everything was queued before the first read, so every batch comes full.
				switch {
				case at.Before(before):
					t.Errorf("datagram %d read at %v, before the first read began", i, at)
				case i%iceBatch != 0 && !at.Equal(batchAt):
					t.Errorf("datagram %d read at %v, not at its batch's read %v", i, at, batchAt)
				}
				batchAt = at
			}
		})
	}
}

// BenchmarkICESocketRead: the ICE socket's reader taking a backlog of 172-byte datagrams (what
// queues while a busy host keeps it away), one system call per datagram as Go reads them, and
// iceBatch at a time with recvmmsg(2).
func BenchmarkICESocketRead(b *testing.B) {
	for _, batch := range []bool{false, true} {
		name := map[bool]string{false: "one-by-one", true: "recvmmsg"}[batch]
		b.Run(name, func(b *testing.B) {
			rx, tx := udpSocket(b), udpSocket(b)
			_ = rx.SetReadBuffer(iceReadBuffer)
			to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
			r := newBatchReader(rx)
			pkt, buf := make([]byte, 172), make([]byte, iceDatagram)
			const backlog = 256
			b.SetBytes(int64(len(pkt)))
			b.ResetTimer()
			for done := 0; done < b.N; done += backlog {
				b.StopTimer()
				for range backlog {
					if _, err := tx.WriteToUDPAddrPort(pkt, to); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				for range backlog {
					var err error
					if batch {
						_, _, _, err = r.next()
					} else {
						_, _, err = rx.ReadFromUDPAddrPort(buf)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
