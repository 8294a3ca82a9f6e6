package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The phones in a process of their own: the 500 stand-in browsers of the seed center take more
// CPU than the gateway they talk to, and on one host they are not part of the center (an agent's
// browser runs on the agent's PC). In their own process, pinned to a core of their own, they leave
// the gateway's share measurable. The gateway still negotiates in its own process, as the page's
// WebSocket would have it: the phones' process sends its offers over its stdout and reads the
// answers on its stdin, one JSON message a line; the audio between them is real WebRTC over
// loopback UDP.

// phoneMsg is one line between the two processes.
type phoneMsg struct {
	Op     string       `json:"op"` // dial, offer, answer, dialed, counts, close
	ID     int          `json:"id,omitempty"`
	Agent  string       `json:"agent,omitempty"`
	Agents []string     `json:"agents,omitempty"`
	SDP    string       `json:"sdp,omitempty"`
	Err    string       `json:"err,omitempty"`
	Counts *PhoneCounts `json:"counts,omitempty"`
	Heard  []uint64     `json:"heard,omitempty"`
}

// lineWriter writes messages one line each, from any goroutine.
type lineWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (w *lineWriter) send(m phoneMsg) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.enc.Encode(m)
}

// readLines calls f with each message read from r until r ends or f says stop.
func readLines(r io.Reader, f func(phoneMsg) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20) // an SDP is a few kB
	for sc.Scan() {
		var m phoneMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("loadgen: phones: bad line %q: %w", sc.Bytes(), err)
		}
		if !f(m) {
			return nil
		}
	}
	return sc.Err()
}

// ServePhones is the phones' side: it reads the agents to dial from r, dials them with the offers
// and answers going over w and r, then reports its counts when asked, until told to close or r
// ends. `hotline loadgen-phones` runs it on its stdin and stdout.
func ServePhones(ctx context.Context, r io.Reader, w io.Writer) error {
	out := &lineWriter{enc: json.NewEncoder(w)}
	var (
		mu      sync.Mutex
		pending = map[int]chan phoneMsg{}
		nextID  int
		phones  *Phones
		dial    = make(chan []string, 1)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		readErr <- readLines(r, func(m phoneMsg) bool {
			switch m.Op {
			case "dial":
				select {
				case dial <- m.Agents:
				default: // dialled once only
				}
			case "answer":
				mu.Lock()
				ch := pending[m.ID]
				delete(pending, m.ID)
				mu.Unlock()
				if ch != nil {
					ch <- m
				}
			case "counts":
				mu.Lock()
				p := phones
				mu.Unlock()
				reply := phoneMsg{Op: "counts", Counts: &PhoneCounts{}}
				if p != nil {
					c := p.Counts()
					reply.Counts, reply.Heard = &c, p.Heard()
				}
				_ = out.send(reply)
			case "close":
				return false
			}
			return true
		})
		cancel()
	}()
	negotiate := negotiatorFunc(func(ctx context.Context, agent, offer string) (string, error) {
		ch := make(chan phoneMsg, 1)
		mu.Lock()
		nextID++
		id := nextID
		pending[id] = ch
		mu.Unlock()
		if err := out.send(phoneMsg{Op: "offer", ID: id, Agent: agent, SDP: offer}); err != nil {
			return "", err
		}
		select {
		case m := <-ch:
			if m.Err != "" {
				return "", errors.New(m.Err)
			}
			return m.SDP, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	var agents []string
	select {
	case agents = <-dial:
	case <-ctx.Done():
		return <-readErr
	}
	p, err := DialPhones(ctx, negotiate, agents)
	reply := phoneMsg{Op: "dialed"}
	if err != nil {
		reply.Err = err.Error()
	}
	if err := out.send(reply); err != nil || p == nil {
		return errors.Join(err, <-readErr)
	}
	mu.Lock()
	phones = p
	mu.Unlock()
	<-ctx.Done()
	p.Close()
	return <-readErr
}

type negotiatorFunc func(ctx context.Context, agent, offer string) (string, error)

func (f negotiatorFunc) Negotiate(ctx context.Context, agent, offer string) (string, error) {
	return f(ctx, agent, offer)
}

// PhoneProcess is the crew's phones in a child process running ServePhones (cmd, not started
// yet), negotiated with gw in this process.
type PhoneProcess struct {
	cmd     *exec.Cmd
	out     *lineWriter
	stdin   io.Closer
	counts  chan phoneMsg
	done    chan struct{} // closed when the reader ends, readErr set
	readErr error

	mu   sync.Mutex // one counts request at a time
	last phoneMsg   // the last counts, kept for when the process is gone
}

// StartPhoneProcess starts cmd (on CPU cpu alone, unless cpu < 0) and has it dial a phone for
// each agent, answering its offers with gw. It returns once every phone is connected. Close stops
// the process.
func StartPhoneProcess(ctx context.Context, cmd *exec.Cmd, cpu int, gw Negotiator, agents []string) (*PhoneProcess, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := startOn(cmd, cpu); err != nil {
		return nil, fmt.Errorf("loadgen: phones' process: %w", err)
	}
	p := &PhoneProcess{cmd: cmd, out: &lineWriter{enc: json.NewEncoder(stdin)}, stdin: stdin,
		counts: make(chan phoneMsg, 1), done: make(chan struct{})}
	dialed := make(chan phoneMsg, 1)
	go func() {
		defer close(p.done)
		p.readErr = readLines(stdout, func(m phoneMsg) bool {
			switch m.Op {
			case "offer":
				go func() {
					sdp, err := gw.Negotiate(ctx, m.Agent, m.SDP)
					reply := phoneMsg{Op: "answer", ID: m.ID, SDP: sdp}
					if err != nil {
						reply.Err = err.Error()
					}
					_ = p.out.send(reply)
				}()
			case "dialed":
				dialed <- m
			case "counts":
				select {
				case p.counts <- m:
				default: // an answer to a request that gave up waiting
				}
			}
			return true
		})
		close(p.counts)
	}()
	fail := func(err error) (*PhoneProcess, error) {
		p.Close()
		return nil, err
	}
	if err := p.out.send(phoneMsg{Op: "dial", Agents: agents}); err != nil {
		return fail(fmt.Errorf("loadgen: phones' process: %w", err))
	}
	select {
	case m := <-dialed:
		if m.Err != "" {
			return fail(fmt.Errorf("loadgen: phones' process: %s", m.Err))
		}
	case <-p.done:
		return fail(fmt.Errorf("loadgen: phones' process ended before its phones connected: %v", p.readErr))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	return p, nil
}

// snapshot asks the process for its counts; once it is gone, the last ones it gave.
func (p *PhoneProcess) snapshot() phoneMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.send(phoneMsg{Op: "counts"}) != nil {
		return p.last
	}
	select {
	case m, ok := <-p.counts:
		if ok && m.Counts != nil {
			p.last = m
		}
	case <-time.After(10 * time.Second):
	}
	return p.last
}

// Counts reads the phones' totals.
func (p *PhoneProcess) Counts() PhoneCounts {
	if c := p.snapshot().Counts; c != nil {
		return *c
	}
	return PhoneCounts{}
}

// Heard is how many packets each phone has received so far.
func (p *PhoneProcess) Heard() []uint64 { return p.snapshot().Heard }

// Close hangs the phones up and waits for the process to end (killing it after 30 s).
func (p *PhoneProcess) Close() error {
	_ = p.out.send(phoneMsg{Op: "close"})
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	// Wait closes the pipes, so only after the reader is done.
	return errors.Join(p.cmd.Wait(), p.readErr)
}

// startOn starts cmd on CPU cpu alone (any, if cpu < 0). A process inherits the CPU affinity of
// the thread that forks it, and the Go runtime sizes GOMAXPROCS by it, so the fork happens on a
// thread pinned for it and given its CPUs back afterwards. Leaving that thread pinned and letting
// the runtime discard it is not enough: when the goroutine runs on the main thread, which the
// runtime never discards, the process's main thread stays pinned (and /proc/PID/status, which
// reports the main thread, says the whole process is).
func startOn(cmd *exec.Cmd, cpu int) error {
	if cpu < 0 {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var was, set unix.CPUSet
		if err := unix.SchedGetaffinity(0, &was); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("read the CPUs allowed: %w", err)
			return
		}
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("pin to CPU %d: %w", cpu, err)
			return
		}
		err := cmd.Start()
		if unix.SchedSetaffinity(0, &was) == nil {
			runtime.UnlockOSThread()
		} // else: still pinned; the thread ends with this goroutine
		errc <- err
	}()
	return <-errc
}
