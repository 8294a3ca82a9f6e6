package asterisksim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"

	"github.com/hotline-cc/hotline/internal/rtpseq"
	"github.com/hotline-cc/hotline/media"
)

// rtpLeg is the UDP side of an externalMedia channel: PCMU, payload type 0, 160 bytes every
// 20 ms, a fixed SSRC, sequence +1 and timestamp +160 per packet, as Asterisk sends.
type rtpLeg struct {
	conn   *net.UDPConn
	remote *net.UDPAddr
	seq    uint16
	ts     uint32
	ssrc   uint32
	in     rtpseq.Stream  // what came in, by sequence number (read's goroutine only)
	sent   *atomic.Uint64 // the simulator's count of packets sent

	mu     sync.Mutex
	rx     [][frameLen]int16 // received frames not yet played into the bridge
	closed bool
}

// maxJitterFrames bounds what a sender that runs ahead can queue (1 s); older frames are dropped.
const maxJitterFrames = 50

func newRTPLeg(remote string, in *rtpseq.Totals, sent *atomic.Uint64) (*rtpLeg, error) {
	raddr, err := net.ResolveUDPAddr("udp", remote)
	if err != nil {
		return nil, fmt.Errorf("resolve external_host %q: %w", remote, err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("listen rtp: %w", err)
	}
	return &rtpLeg{conn: conn, remote: raddr, seq: uint16(rand.Uint32()), ssrc: rand.Uint32(), in: rtpseq.Stream{T: in}, sent: sent}, nil
}

func (l *rtpLeg) localPort() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

// read receives RTP until the socket closes.
func (l *rtpLeg) read() {
	buf := make([]byte, 1500)
	pcm := make([]int16, 0, 1500)
	for {
		n, _, err := l.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		payload, ok := rtpPayload(buf[:n])
		if !ok {
			continue
		}
		l.in.Add(binary.BigEndian.Uint32(buf[8:]), binary.BigEndian.Uint16(buf[2:]))
		pcm = media.DecodePCMU(pcm[:0], payload)
		l.mu.Lock()
		for len(pcm) > 0 {
			var f [frameLen]int16
			k := copy(f[:], pcm)
			pcm = pcm[k:]
			if len(l.rx) >= maxJitterFrames {
				l.rx = l.rx[1:]
			}
			l.rx = append(l.rx, f)
		}
		l.mu.Unlock()
	}
}

// rtpPayload returns the PCMU payload of an RTP packet, skipping CSRCs, extension and padding.
func rtpPayload(b []byte) ([]byte, bool) {
	if len(b) < 12 || b[0]>>6 != 2 || b[1]&0x7f != 0 {
		return nil, false
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > off {
		end -= int(b[end-1])
	}
	if off > end {
		return nil, false
	}
	return b[off:end], true
}

// pop fills frame with the oldest received frame, or silence.
func (l *rtpLeg) pop(frame []int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.rx) == 0 {
		clear(frame)
		return
	}
	copy(frame, l.rx[0][:])
	l.rx = l.rx[1:]
}

// packet builds the next RTP packet carrying pcm.
func (l *rtpLeg) packet(pcm []int16) []byte {
	buf := make([]byte, 12, 12+frameLen)
	buf[0] = 0x80
	buf[1] = 0 // PCMU
	l.seq++
	l.ts += frameLen
	binary.BigEndian.PutUint16(buf[2:], l.seq)
	binary.BigEndian.PutUint32(buf[4:], l.ts)
	binary.BigEndian.PutUint32(buf[8:], l.ssrc)
	return media.EncodePCMU(buf, pcm)
}

type rtpPacket struct {
	leg *rtpLeg
	buf []byte
}

func (l *rtpLeg) send(b []byte) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if !closed {
		if _, err := l.conn.WriteToUDP(b, l.remote); err == nil {
			l.sent.Add(1)
		}
	}
}

func (l *rtpLeg) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	_ = l.conn.Close()
}

// RTPCounts is the RTP of every externalMedia leg since the simulator started: packets sent to
// their external hosts, and what came back, by sequence number.
type RTPCounts struct {
	Sent     uint64
	Received rtpseq.Counts
}

// RTPCounts reads the externalMedia legs' counts so far: a load test's loss on the legs between
// this Asterisk and its external media peers (a gateway) is the difference of two reads.
func (s *Sim) RTPCounts() RTPCounts {
	return RTPCounts{Sent: s.rtpSent.Load(), Received: s.rtpIn.Read()}
}
