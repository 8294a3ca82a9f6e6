package softphone_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// The relay benchmarks send RTP packets (160-byte PCMU payloads) into N concurrent legs, one
// packet in flight per leg, and wait for each to come back:
//
//	BenchmarkRelay:   fake Asterisk → leg → WebRTC (DTLS-SRTP) → pion "browser" that echoes on its
//	                  own track → WebRTC → leg → fake Asterisk
//	BenchmarkUDPEcho: fake Asterisk → a plain UDP echo socket → fake Asterisk (the floor)
//
// ns/op is wall time per relayed packet across all legs; rtt_µs is the mean round trip.

var benchLegs = []int{1, 10, 50}

func BenchmarkRelay(b *testing.B) {
	for _, n := range benchLegs {
		b.Run(fmt.Sprintf("legs=%d", n), func(b *testing.B) {
			gw := newTestGateway(b, nil)
			targets := make([]netip.AddrPort, n)
			conns := make([]*net.UDPConn, n)
			for i := range n {
				agent := fmt.Sprintf("agent-%d", i)
				var pa *pionAgent
				var ready atomic.Bool
				pa = newPionAgent(b, gw, agent, func(p *rtp.Packet) {
					if ready.Load() {
						_ = pa.track.WriteRTP(p) // echo: the browser sends back what it hears
					}
				})
				ready.Store(true)
				leg, err := gw.OpenLeg(agent, "call-"+agent)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { leg.Close() })
				conns[i] = benchSocket(b)
				leg.SetRemote(conns[i].LocalAddr().(*net.UDPAddr).AddrPort())
				targets[i] = leg.LocalAddr()
			}
			runEcho(b, conns, targets)
		})
	}
}

func BenchmarkUDPEcho(b *testing.B) {
	for _, n := range benchLegs {
		b.Run(fmt.Sprintf("legs=%d", n), func(b *testing.B) {
			targets := make([]netip.AddrPort, n)
			conns := make([]*net.UDPConn, n)
			for i := range n {
				echo := benchSocket(b)
				go func() {
					buf := make([]byte, 1500)
					for {
						k, from, err := echo.ReadFromUDPAddrPort(buf)
						if err != nil {
							return
						}
						_, _ = echo.WriteToUDPAddrPort(buf[:k], from)
					}
				}()
				targets[i] = echo.LocalAddr().(*net.UDPAddr).AddrPort()
				conns[i] = benchSocket(b)
			}
			runEcho(b, conns, targets)
		})
	}
}

func benchSocket(b testing.TB) *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// runEcho sends b.N packets spread over the legs, each leg waiting for its packet to return
// (matched by a counter in the payload; a packet not back within a second counts as lost).
func runEcho(b *testing.B, conns []*net.UDPConn, targets []netip.AddrPort) {
	n := len(conns)
	per := (b.N + n - 1) / n
	var lost, rttSum, rttN atomic.Int64
	var wg sync.WaitGroup
	warmUp(b, conns, targets)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, dst := conns[i], targets[i]
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: uint32(i + 1)}, Payload: make([]byte, 160)}
			buf := make([]byte, 1500)
			var in rtp.Packet
			for k := range per {
				binary.BigEndian.PutUint32(pkt.Payload, uint32(k))
				out, _ := pkt.Marshal()
				start := time.Now()
				if _, err := c.WriteToUDPAddrPort(out, dst); err != nil {
					return
				}
				pkt.SequenceNumber++
				pkt.Timestamp += 160
				_ = c.SetReadDeadline(start.Add(time.Second))
				for {
					m, err := c.Read(buf)
					if errors.Is(err, os.ErrDeadlineExceeded) {
						lost.Add(1)
						break
					}
					if err != nil {
						return
					}
					if in.Unmarshal(buf[:m]) == nil && len(in.Payload) >= 4 && binary.BigEndian.Uint32(in.Payload) == uint32(k) {
						rttSum.Add(int64(time.Since(start)))
						rttN.Add(1)
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if rttN.Load() > 0 {
		b.ReportMetric(float64(rttSum.Load())/float64(rttN.Load())/1e3, "rtt_µs")
	}
	b.ReportMetric(float64(lost.Load()), "lost")
}

// warmUp gets one packet through every leg before timing: the first packets of a fresh
// PeerConnection may be dropped while its tracks bind.
func warmUp(b *testing.B, conns []*net.UDPConn, targets []netip.AddrPort) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 0xbeef}, Payload: make([]byte, 160)}
	out, _ := pkt.Marshal()
	buf := make([]byte, 1500)
	for i, c := range conns {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if time.Now().After(deadline) {
				b.Fatalf("leg %d: nothing came back during warm-up", i)
			}
			if _, err := c.WriteToUDPAddrPort(out, targets[i]); err != nil {
				b.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := c.Read(buf); err == nil {
				break
			}
		}
		// Drain stragglers of the retries.
		for {
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
	}
}
