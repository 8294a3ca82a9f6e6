package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
)

// EnvSIPAddr is Asterisk's PJSIP UDP transport (host:port) that scripts/asterisk.sh writes beside
// the ARI variables: the carrier trunk (asterisk-config/pjsip-trunk-ip.conf.sample) takes calls
// there from 127.0.0.1.
const EnvSIPAddr = "HOTLINE_TEST_SIP_ADDR"

// The SIP caller's voice and the agent's microphone, as tones told apart by frequency.
const (
	sipCallerTone = 440
	sipAgentTone  = 1000
)

// TestSIPCallerAsterisk: a caller comes in over the SIP trunk (SIPp, PJSIP over UDP) to 8800 with a
// 440 Hz voice, presses 1 (private customer) and 0 (an agent) as RFC 4733 events while the greeting
// and the private menu play, and waits; agent p001 (pion, 1000 Hz microphone) is offered the call
// with the caller's number and their way through the IVR, answers, and each hears the other's tone.
// Then one side hangs up and the other sees the call end: the caller's BYE ends the agent's call,
// the agent's hangup sends the caller a BYE.
//
// Real Asterisk only: the simulator has no SIP. Without one, or without sipp, it is skipped, except
// under CI=true. SIPp plays the caller's pcap through a raw socket: it needs root or CAP_NET_RAW.
func TestSIPCallerAsterisk(t *testing.T) {
	tg, sipAddr := sipTarget(t)
	sippBin := sippBinary(t)
	scenario, err := filepath.Abs(filepath.Join("testdata", "sipp", "caller.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const callerNumber = "79161234567"

	for _, tc := range []struct {
		name string
		// hangUp ends the connected call from one side; the scenario's end checks the other side.
		hangUp func(t *testing.T, caller *sippCaller, agent *agentClient, callID string)
		bye    string // which way the BYE went, as SIPp's trace shows it: "sent" or "received"
	}{
		{"caller hangs up", func(t *testing.T, caller *sippCaller, _ *agentClient, _ string) {
			caller.tellHangUp(t)
		}, "sent"},
		{"agent hangs up", func(t *testing.T, _ *sippCaller, agent *agentClient, callID string) {
			agent.request("call.hangup", map[string]any{"call": callID})
		}, "received"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startHotline(t, tg)
			base := "http://" + srv.WebAddr().String()
			p001 := connectAgent(t, base, "p001", "hotline-demo")
			phone := p001.startAudio(sipAgentTone)
			p001.setState("available")

			ear, mediaPort := listenCallerRTP(t)
			dir := t.TempDir()
			// The caller's side of the media: talking from the start, 1 a second in (during the
			// greeting: barge-in), 0 a second later (the private menu, or typed ahead of it: the
			// IVR keeps keys pressed before it asks), then talking for longer than any run of the
			// test, so that Asterisk's rtp_timeout never ends the call first.
			keys := []rfc4733Key{{At: time.Second, Event: 1}, {At: 2 * time.Second, Event: 0}}
			if err := writeCallerPcap(filepath.Join(dir, "caller.pcap"), 3*time.Minute, sipCallerTone, keys); err != nil {
				t.Fatal(err)
			}
			caller := startSIPp(t, sippBin, scenario, dir, sipAddr, callerNumber, mediaPort)

			// The IVR takes a few seconds; SIPp ending first (it could not place the call or play
			// its media) fails the test at once rather than at the deadline.
			var ringing map[string]any
			waitfor.True(t, "the SIP call ringing p001", 60*time.Second, func() bool {
				ringing, _ = p001.find(func(m map[string]any) bool { return m["type"] == "call.ringing" })
				return ringing != nil || caller.exited()
			})
			if ringing == nil {
				t.Fatalf("sipp ended before the call reached p001: %v (its output is logged below)", caller.err)
			}
			callID := ringingCall(ringing)
			checkSIPScreenPop(t, ringing, callerNumber)

			p001.request("call.answer", map[string]any{"call": callID})
			p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", callID))
			waitfor.True(t, fmt.Sprintf("Asterisk's RTP at the port the caller's SDP offered (%d, where SIPp's pcap play sends from)", ear.port()),
				15*time.Second, func() bool { return ear.packets() > 0 })
			waitfor.True(t, "the SIP caller's 440 Hz at the agent", 15*time.Second, func() bool {
				return has(phone.Heard(500*time.Millisecond), sipCallerTone)
			})
			waitfor.True(t, "the agent's 1000 Hz at the SIP caller", 15*time.Second, func() bool {
				return has(ear.Heard(500*time.Millisecond), sipAgentTone)
			})

			tc.hangUp(t, caller, p001, callID)
			p001.waitFor("call.ended", 15*time.Second, isPush("call.ended", callID))
			p001.waitFor("wrap-up", 10*time.Second, isPush("wrapup.started", callID))
			caller.waitDone(t, 15*time.Second)
			if got := caller.bye(t); got != tc.bye {
				t.Errorf("SIPp %s the BYE, want %s", got, tc.bye)
			}
		})
	}
}

// checkSIPScreenPop checks what the agent is offered: the number the carrier sent in From, and
// the keys the caller sent as RFC 4733 events, as the IVR took them.
func checkSIPScreenPop(t *testing.T, ringing map[string]any, number string) {
	t.Helper()
	c, _ := ringing["call"].(map[string]any)
	if c["caller_number"] != number {
		t.Errorf("screen pop caller_number %v, want %s (the SIP From user)", c["caller_number"], number)
	}
	var path []string
	steps, _ := c["ivr_path"].([]any)
	for _, s := range steps {
		m, _ := s.(map[string]any)
		path = append(path, fmt.Sprint(m["ru"]))
	}
	want := []string{"Приветствие: 1 → Частный клиент", "Меню частных клиентов: 0 → Оператор"}
	if strings.Join(path, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen pop ivr_path %q, want %q (keys 1 then 0)", path, want)
	}
	if c["queue"] != "general" {
		t.Errorf("screen pop queue %v, want general", c["queue"])
	}
}

// sipTarget is the real Asterisk named by the environment and its SIP address.
func sipTarget(t *testing.T) (*aritest.Target, string) {
	t.Helper()
	tg, ok := aritest.RealTarget()
	sipAddr := os.Getenv(EnvSIPAddr)
	if !ok || sipAddr == "" {
		aritest.SkipOrFail(t, fmt.Sprintf("no real Asterisk: set %s, %s, %s and %s (scripts/asterisk.sh start DIR writes them to DIR/env)",
			aritest.EnvURL, aritest.EnvUser, aritest.EnvPassword, EnvSIPAddr))
	}
	tg.Isolate(t)
	return tg, sipAddr
}

// sippBinary finds SIPp (Debian's sip-tester, scripts/install-test-deps.sh).
func sippBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		aritest.SkipOrFail(t, "no sipp in PATH: install Debian's sip-tester (scripts/install-test-deps.sh)")
	}
	return bin
}

// sippCaller is one SIPp process placing one call.
type sippCaller struct {
	callID  string // the SIP Call-ID, chosen by the test (-cid_str)
	sipAddr string // SIPp's own SIP socket, where the test's INFO goes
	dir     string
	done    chan struct{}
	err     error // cmd.Wait's, once done is closed
}

// startSIPp runs the scenario once from dir (where its pcap is) against Asterisk's sipAddr, the
// caller being number and SIPp's media ports starting at mediaPort. The process is killed, if still
// running, when the test ends; its SIP trace and errors are logged when the test failed.
func startSIPp(t *testing.T, bin, scenario, dir, sipAddr, number string, mediaPort int) *sippCaller {
	t.Helper()
	// The scenario plays caller.pcap by a relative name: SIPp runs in dir, with its copy there.
	raw, err := os.ReadFile(scenario)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "caller.xml"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	sipPort := freeUDPPort(t)
	c := &sippCaller{
		callID:  fmt.Sprintf("hotline-e2e-%d@127.0.0.1", time.Now().UnixNano()),
		sipAddr: fmt.Sprintf("127.0.0.1:%d", sipPort),
		dir:     dir,
		done:    make(chan struct{}),
	}
	args := []string{
		"-sf", "caller.xml", "-m", "1", "-s", "8800", "-key", "caller", number,
		"-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(sipPort),
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(mediaPort),
		"-ci", "127.0.0.1",
		"-cid_str", c.callID,
		"-nostdin",
		// A safety net, not a synchronisation: the test's own deadlines are far shorter.
		"-timeout", "240s", "-timeout_error",
		"-trace_msg", "-message_file", "messages.log",
		"-trace_err", "-error_file", "errors.log",
		sipAddr,
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	screen, err := os.Create(filepath.Join(dir, "screen.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = screen, screen
	if err := cmd.Start(); err != nil {
		screen.Close()
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		c.err = cmd.Wait()
		screen.Close()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = cmd.Process.Kill() // our own child, by its pid
			<-c.done
		}
		if t.Failed() {
			c.logTraces(t)
		}
	})
	return c
}

// exited says whether SIPp has ended.
func (c *sippCaller) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// tellHangUp asks the caller to hang up: an INFO with the call's Call-ID on SIPp's SIP socket,
// which the scenario takes as its cue to send BYE.
func (c *sippCaller) tellHangUp(t *testing.T) {
	t.Helper()
	conn, err := net.Dial("udp4", c.sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := strings.Join([]string{
		"INFO sip:caller@" + c.sipAddr + " SIP/2.0",
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-hotline-e2e-hangup",
		"From: <sip:test@" + local + ">;tag=hotline-e2e",
		"To: <sip:caller@" + c.sipAddr + ">",
		"Call-ID: " + c.callID,
		"CSeq: 1 INFO",
		"Max-Forwards: 70",
		"Content-Length: 0",
		"", "",
	}, "\r\n")
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatalf("tell the SIP caller to hang up: %v", err)
	}
}

// waitDone waits for SIPp to finish the scenario and checks it did: exit status 0 is one call,
// successful to its last message (the BYE's 200 OK, or the 200 OK to Asterisk's BYE).
func (c *sippCaller) waitDone(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("sipp still running %v after the call ended", timeout)
	}
	if c.err != nil {
		t.Fatalf("sipp: %v (the scenario did not complete)", c.err)
	}
}

// byeLine is a BYE request in SIPp's message trace, with the direction it went.
var byeLine = regexp.MustCompile(`UDP message (sent|received)[^\n]*\n\s*BYE sip:`)

// bye says whether SIPp "sent" or "received" the call's BYE, from its message trace.
func (c *sippCaller) bye(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.dir, "messages.log"))
	if err != nil {
		t.Fatalf("sipp's message trace: %v", err)
	}
	m := byeLine.FindAllSubmatch(raw, -1)
	if len(m) != 1 {
		t.Fatalf("sipp's message trace has %d BYE requests, want 1", len(m))
	}
	return string(m[0][1])
}

// logTraces logs what SIPp left in its directory: why it stopped, and the SIP it exchanged.
func (c *sippCaller) logTraces(t *testing.T) {
	t.Helper()
	if raw, err := os.ReadFile(filepath.Join(c.dir, "screen.log")); err == nil && len(raw) > 0 {
		// Its last screen, and any error it stopped on (a raw socket refused, a port taken).
		t.Logf("sipp's output (end):\n%s", raw[max(0, len(raw)-4000):])
	}
	for _, name := range []string{"errors.log", "messages.log"} { // -error_file, -message_file
		if raw, err := os.ReadFile(filepath.Join(c.dir, name)); err == nil && len(raw) > 0 {
			t.Logf("sipp %s:\n%s", name, raw)
		}
	}
}

// freeUDPPort is a UDP port on 127.0.0.1 that nothing used a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// rtpEar is the SIP caller's ear: a UDP socket at the port the caller's SDP offers, keeping the
// last second of the PCMU Asterisk sends there.
type rtpEar struct {
	conn *net.UDPConn

	mu    sync.Mutex
	heard []int16
	n     int // RTP packets received
}

// listenCallerRTP binds the caller's RTP socket at a port p such that p-4 and p-2 are free too,
// and returns it with p-4: SIPp's -mp binds p-4 and p-2 itself, and its offer names
// [media_port+4] = p, the source port of the RTP it plays.
func listenCallerRTP(t *testing.T) (*rtpEar, int) {
	t.Helper()
	lo := net.IPv4(127, 0, 0, 1)
	free := func(port int) bool {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo, Port: port})
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	for range 100 {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lo})
		if err != nil {
			t.Fatal(err)
		}
		p := conn.LocalAddr().(*net.UDPAddr).Port
		if p-4 >= 1024 && free(p-4) && free(p-2) {
			e := &rtpEar{conn: conn}
			done := make(chan struct{})
			go func() {
				defer close(done)
				e.read()
			}()
			t.Cleanup(func() {
				conn.Close()
				<-done
			})
			return e, p - 4
		}
		conn.Close()
	}
	t.Fatal("no UDP port p on 127.0.0.1 with p-4 and p-2 free")
	return nil, 0
}

func (e *rtpEar) read() {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var pcm []int16
	for {
		n, err := e.conn.Read(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			continue // ICMP errors, RTCP, telephone-event: not the caller's audio
		}
		pcm = media.DecodePCMU(pcm[:0], pkt.Payload)
		e.mu.Lock()
		e.n++
		e.heard = append(e.heard, pcm...)
		if over := len(e.heard) - media.SampleRate; over > 0 {
			e.heard = append(e.heard[:0], e.heard[over:]...)
		}
		e.mu.Unlock()
	}
}

// port is where the ear listens.
func (e *rtpEar) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

// packets counts the PCMU packets received so far.
func (e *rtpEar) packets() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// Heard returns the last d of what the caller heard.
func (e *rtpEar) Heard(d time.Duration) []int16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := min(int(d.Seconds()*media.SampleRate), len(e.heard))
	return append([]int16(nil), e.heard[len(e.heard)-n:]...)
}

// rfc4733Key is a key pressed at At into the call, as RFC 4733 telephone-events (Event: 0-9 are
// the digits, 10 is *, 11 is #).
type rfc4733Key struct {
	At    time.Duration
	Event byte
}

// RTP of the caller's pcap, as the SDP of caller.xml offers it.
const (
	ptPCMU           = 0
	ptTelephoneEvent = 101
	frame            = 20 * time.Millisecond
	frameSamples     = 160
	keyFrames        = 8 // a 160 ms key
	keyEndRepeats    = 2 // the end packet goes three times (RFC 4733 2.5.1.4)
)

// writeCallerPcap writes the caller's side of a call as SIPp plays it (an Ethernet pcap of
// IPv4/UDP/RTP, one packet every 20 ms by its timestamps): length of a freq Hz tone in PCMU, one
// RTP stream, in which each key replaces the audio by its telephone-event packets. SIPp rewrites the
// UDP ports and the addresses; the RTP (sequence numbers, timestamps, SSRC) goes out as written.
func writeCallerPcap(path string, length time.Duration, freq float64, keys []rfc4733Key) error {
	var buf bytes.Buffer
	// The pcap file header: microsecond timestamps, link type Ethernet.
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(1)} {
		_ = binary.Write(&buf, binary.LittleEndian, v)
	}
	tone := media.Tone{Freq: freq, Amplitude: 8000}
	pcm := make([]int16, frameSamples)
	var seq uint16
	const ssrc = 0x484c4e45
	frames := int(length / frame)
	for i := 0; i < frames; i++ {
		h := rtp.Header{Version: 2, SequenceNumber: seq, SSRC: ssrc, Timestamp: uint32(i * frameSamples)}
		var payload []byte
		if key, k, ok := keyAt(keys, i); ok {
			// The event's packets share its start's timestamp; the duration grows by a frame each.
			h.PayloadType = ptTelephoneEvent
			h.Timestamp = uint32((i - k) * frameSamples)
			h.Marker = k == 0
			d := min(k+1, keyFrames) * frameSamples
			flags := byte(10) // volume -10 dBm0
			if k >= keyFrames-1 {
				flags |= 0x80 // end of event
			}
			payload = []byte{key.Event, flags, byte(d >> 8), byte(d)}
		} else {
			h.PayloadType = ptPCMU
			h.Marker = i == 0
			tone.Next(pcm)
			payload = media.EncodePCMU(nil, pcm)
		}
		seq++
		pkt, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			return err
		}
		writePcapUDP(&buf, time.Duration(i)*frame, pkt)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// keyAt says whether frame i carries a key's event, which key, and which of its packets (0 first).
func keyAt(keys []rfc4733Key, i int) (rfc4733Key, int, bool) {
	for _, key := range keys {
		first := int(key.At / frame)
		if k := i - first; k >= 0 && k < keyFrames+keyEndRepeats {
			return key, k, true
		}
	}
	return rfc4733Key{}, 0, false
}

// writePcapUDP appends one pcap record at offset at: Ethernet, IPv4 and UDP headers around payload,
// between placeholder addresses and ports (SIPp puts the call's own).
func writePcapUDP(buf *bytes.Buffer, at time.Duration, payload []byte) {
	udpLen := 8 + len(payload)
	ipLen := 20 + udpLen
	frameLen := 14 + ipLen
	_ = binary.Write(buf, binary.LittleEndian, []uint32{
		uint32(at / time.Second), uint32(at % time.Second / time.Microsecond), uint32(frameLen), uint32(frameLen)})
	buf.Write(make([]byte, 12)) // MAC addresses
	buf.Write([]byte{0x08, 0x00})
	ip := []byte{0x45, 0, byte(ipLen >> 8), byte(ipLen), 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
	var sum uint32
	for i := 0; i < len(ip); i += 2 {
		sum += uint32(ip[i])<<8 | uint32(ip[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	buf.Write(ip)
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], 6000)
	binary.BigEndian.PutUint16(udp[2:], 6000)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	buf.Write(udp) // checksum 0: SIPp computes it for the ports it puts in
	buf.Write(payload)
}
