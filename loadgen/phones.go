package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline-cc/hotline/internal/pionloop"
	"github.com/hotline-cc/hotline/internal/rtpseq"
)

// Negotiator is the gateway the phones connect to: softphone.Gateway, in this process.
type Negotiator interface {
	Negotiate(ctx context.Context, agentID, offerSDP string) (answerSDP string, err error)
}

// Phones are the crew's audio: one pion PeerConnection per agent, negotiated with the gateway as
// an agent's page does (PCMU only, loopback ICE, no interceptors: the generator's CPU goes to the
// audio), so the calls' legs on the gateway relay to somebody. Every phone sends a 20 ms PCMU
// packet every 20 ms from the moment it connects, as an open microphone does (the gateway relays
// those of agents on a call and drops the rest), and counts what it receives by sequence number.
type Phones struct {
	pcs    []*webrtc.PeerConnection
	tracks []*webrtc.TrackLocalStaticRTP
	heard  []atomic.Uint64 // packets each phone received, for who hears audio now
	in     rtpseq.Totals
	sent   atomic.Uint64
	stop   chan struct{}
	done   chan struct{}
}

// DialPhones connects a phone for each agent (16 negotiations at a time) and starts their
// microphones. Close hangs them up.
func DialPhones(ctx context.Context, gw Negotiator, agents []string) (*Phones, error) {
	p := &Phones{pcs: make([]*webrtc.PeerConnection, len(agents)), tracks: make([]*webrtc.TrackLocalStaticRTP, len(agents)),
		heard: make([]atomic.Uint64, len(agents)), stop: make(chan struct{}), done: make(chan struct{})}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, 16)
	for i, agent := range agents {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := p.dial(ctx, gw, i, agent); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("loadgen: phone of %s: %w", agent, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		p.closePCs()
		return nil, err
	}
	go p.talk()
	return p, nil
}

func (p *Phones) dial(ctx context.Context, gw Negotiator, i int, agent string) error {
	pc, err := pionloop.LoadAPI().NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	p.pcs[i] = pc
	track, err := webrtc.NewTrackLocalStaticRTP(pionloop.PCMU, "mic", agent)
	if err != nil {
		return err
	}
	p.tracks[i] = track
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		return err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		// One stream state per track: the gateway's rewriter keeps one sequence across calls.
		st := rtpseq.Stream{T: &p.in}
		buf := make([]byte, 1500)
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if n >= 12 {
				st.Add(binary.BigEndian.Uint32(buf[8:]), binary.BigEndian.Uint16(buf[2:]))
				p.heard[i].Add(1)
			}
		}
	})
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return pionloop.Connect(wait, pc, func(ctx context.Context, offer string) (string, error) {
		return gw.Negotiate(ctx, agent, offer)
	})
}

// talk sends every phone's packet every 20 ms: one goroutine for all, as the simulator's media
// clock is one for all its legs, but spread over the 20 ms in talkSlots groups, as browsers on
// their own clocks are: 500 phones sending at one instant into the gateway's one ICE socket is a
// burst no center sees. A group the process was too busy to send on time goes late, as a browser
// sends the audio its microphone captured while its thread was held up, so the phones carry their
// full 50 packets a second; only a lag beyond maxTalkLag is given up (sent counts what went out).
func (p *Phones) talk() {
	defer close(p.done)
	const slot = 20 * time.Millisecond / talkSlots
	tick := time.NewTicker(slot)
	defer tick.Stop()
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0}, Payload: make([]byte, 160)}
	for i := range pkt.Payload {
		pkt.Payload[i] = 0xff // µ-law silence
	}
	seqs := make([]uint16, len(p.tracks))
	next, group := time.Now(), 0 // when group is due
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		if now.Sub(next) > maxTalkLag {
			skipped := int(now.Sub(next) / slot)
			next, group = next.Add(time.Duration(skipped)*slot), (group+skipped)%talkSlots
		}
		for ; !next.After(now); next, group = next.Add(slot), (group+1)%talkSlots {
			for i := group; i < len(p.tracks); i += talkSlots {
				seqs[i]++
				pkt.SequenceNumber, pkt.Timestamp = seqs[i], uint32(seqs[i])*160
				if p.tracks[i].WriteRTP(pkt) == nil {
					p.sent.Add(1)
				}
			}
		}
	}
}

// maxTalkLag is how late the phones may fall before they drop what is due instead of sending it
// late: two packets. A browser held up sends its backlog, but 500 browsers are never held up at
// once, as the phones' one goroutine is when the host is saturated: a 200 ms backlog of all of
// them (5,000 packets at one instant) overflowed the gateway's ICE socket, a burst no center sees.
const maxTalkLag = 40 * time.Millisecond

// talkSlots is how many groups the phones send in, one after another, within each 20 ms.
const talkSlots = 10

// PhoneCounts is what the phones sent and received so far.
type PhoneCounts struct {
	Sent     uint64
	Received rtpseq.Counts
}

// Counts reads the phones' totals.
func (p *Phones) Counts() PhoneCounts {
	return PhoneCounts{Sent: p.sent.Load(), Received: p.in.Read()}
}

// Heard is how many packets each phone has received so far, in the order of the agents dialled.
func (p *Phones) Heard() []uint64 {
	h := make([]uint64, len(p.heard))
	for i := range p.heard {
		h[i] = p.heard[i].Load()
	}
	return h
}

// PhoneSet is the crew's phones as a run reads them: in this process (Phones) or in another
// (PhoneProcess).
type PhoneSet interface {
	Counts() PhoneCounts
	Heard() []uint64
}

// moved counts the phones whose count of packets received moved from last to now: agents
// hearing a caller through the gateway now.
func moved(last, now []uint64) int {
	n := 0
	for i := range min(len(last), len(now)) {
		if now[i] != last[i] {
			n++
		}
	}
	return n
}

// Close stops the microphones and closes the PeerConnections.
func (p *Phones) Close() {
	close(p.stop)
	<-p.done
	p.closePCs()
}

func (p *Phones) closePCs() {
	for _, pc := range p.pcs {
		if pc != nil {
			_ = pc.Close()
		}
	}
}
