//go:build linux

package softphone

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestRawSender: datagrams sent on the duplicate descriptor leave from the socket's own address
// (the browser's ICE pair must see the gateway's ICE port), on an IPv4 socket and on a dual-stack
// one, and a closed sender refuses to send while the socket itself stays open.
func TestRawSender(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen string
		to     func(netip.AddrPort) netip.AddrPort
	}{
		{"IPv4 socket", "127.0.0.1:0", func(a netip.AddrPort) netip.AddrPort { return a }},
		{"IPv4 socket, IPv4-mapped address", "127.0.0.1:0", func(a netip.AddrPort) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
		}},
		{"dual-stack socket", "[::]:0", func(a netip.AddrPort) netip.AddrPort { return a }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := listenUDPOrSkip(t, tc.listen)
			s, err := newRawSender(conn)
			if err != nil {
				t.Fatal(err)
			}
			rx := udpSocket(t)
			msg := []byte("rtp from the gateway")
			if err := s.sendTo(msg, tc.to(rx.LocalAddr().(*net.UDPAddr).AddrPort())); err != nil {
				t.Fatal(err)
			}
			got, from := readOne(t, rx)
			if !bytes.Equal(got, msg) {
				t.Errorf("received %q, want %q", got, msg)
			}
			if want := conn.LocalAddr().(*net.UDPAddr).Port; int(from.Port()) != want {
				t.Errorf("sent from port %d, want the socket's %d", from.Port(), want)
			}

			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := s.sendTo(msg, rx.LocalAddr().(*net.UDPAddr).AddrPort()); !errors.Is(err, net.ErrClosed) {
				t.Errorf("send after Close: %v, want net.ErrClosed", err)
			}
			// The socket has its own descriptor: it still sends.
			if _, err := conn.WriteToUDPAddrPort(msg, rx.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
				t.Errorf("the socket after the sender's Close: %v", err)
			}
			readOne(t, rx)
		})
	}
}

// TestRawSenderRefusesIPv6OnIPv4: an IPv6 destination on the IPv4 ICE socket is an error, as
// Go's own send gives it.
func TestRawSenderRefusesIPv6OnIPv4(t *testing.T) {
	conn := udpSocket(t)
	s, err := newRawSender(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ae *net.AddrError
	if err := s.sendTo([]byte("x"), netip.MustParseAddrPort("[2001:db8::1]:5000")); !errors.As(err, &ae) {
		t.Errorf("IPv6 destination on an IPv4 socket: %v, want a *net.AddrError", err)
	}
}

// TestRawSenderConcurrent: many goroutines send while the sender closes; every send either
// arrives or reports net.ErrClosed (run with -race).
func TestRawSenderConcurrent(t *testing.T) {
	conn := udpSocket(t)
	s, err := newRawSender(conn)
	if err != nil {
		t.Fatal(err)
	}
	rx := udpSocket(t)
	_ = rx.SetReadBuffer(4 << 20)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	const senders, each = 8, 200
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		sent  int
		once  sync.Once
		first = make(chan struct{}) // closed at the first send that went out
	)
	start := make(chan struct{})
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range each {
				switch err := s.sendTo([]byte("audio"), to); {
				case err == nil:
					mu.Lock()
					sent++
					mu.Unlock()
					once.Do(func() { close(first) })
				case !errors.Is(err, net.ErrClosed):
					t.Error(err)
					return
				}
			}
		}()
	}
	close(start)
	<-first
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	got := 0
	for got < sent {
		readOne(t, rx)
		got++
	}
	t.Logf("%d of %d sends went out before the Close", sent, senders*each)
}

func readOne(t *testing.T, c *net.UDPConn) ([]byte, netip.AddrPort) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1500)
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n], from
}

// BenchmarkICESocketSend: 500 goroutines (one per call's leg, as the gateway has them) sending
// 172-byte datagrams on one socket, through Go's send (one write at a time per socket) and on the
// duplicate descriptor with sendto(2); p99-µs is one send's time, queueing included.
func BenchmarkICESocketSend(b *testing.B) {
	for _, path := range []string{"go", "sendto"} {
		b.Run(path, func(b *testing.B) {
			conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			s, err := newRawSender(conn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer rx.Close()
			go func() { // drain, so the receiver's queue never fills
				buf := make([]byte, 1500)
				for {
					if _, _, err := rx.ReadFromUDPAddrPort(buf); err != nil {
						return
					}
				}
			}()
			to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
			send := func(p []byte) error { _, err := conn.WriteToUDPAddrPort(p, to); return err }
			if path == "sendto" {
				send = func(p []byte) error { return s.sendTo(p, to) }
			}
			var (
				mu    sync.Mutex
				times []time.Duration
			)
			b.SetParallelism(max(1, 500/runtime.GOMAXPROCS(0))) // goroutines per P
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				pkt := make([]byte, 172)
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					if err := send(pkt); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				times = append(times, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			if len(times) > 0 {
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds())/1000, "p99-µs")
			}
		})
	}
}
