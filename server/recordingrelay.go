package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/dashboard"
	"github.com/hotline-cc/hotline/switchboard"
)

// A call's recording is a file on the Asterisk node that held the call, and only that node's
// controller reaches that Asterisk. A supervisor's page may be on any controller (behind a load
// balancer, on whichever answered), so the controller that has the page reads the recording
// through its node's controller, over the bus: a chunk per request, since the bus carries messages
// of a few hundred kilobytes, not streams.

// kindRecording reads a chunk of a recording of the controller asked.
const kindRecording = "recording.read"

// relayChunk is how much of a recording one reply carries: a few hundred kilobytes on Redis's
// pub/sub (base64 in JSON), well within its output buffer limits.
const relayChunk = 256 << 10

// relayMax is the largest recording relayed (an hour of the shipped wav is 58 MB), and relayBudget
// how much the node's controller keeps of those being read.
const (
	relayMax    = 128 << 20
	relayBudget = 256 << 20
	relayTTL    = time.Minute
	// relayLoads is how many recordings load from Asterisk at once: each may be relayMax, held
	// before relayBudget counts it, so supervisors opening many at once cannot take the memory.
	relayLoads = 2
	// relayLoadTimeout bounds one fetch from Asterisk: relayMax over loopback takes well under it.
	relayLoadTimeout = 30 * time.Second
)

// errRecordingTooLarge: a recording larger than relayMax.
var errRecordingTooLarge = errors.New("the recording is too large to relay between controllers")

// errBadRecordingRead: a request for no valid name or offset.
var errBadRecordingRead = errors.New("bad recording read")

// relayNameRE is what switchboard names a recording (hotline/2026/12/04/<call>-<time>): the node's
// controller reads nothing else from its Asterisk for another.
var relayNameRE = regexp.MustCompile(`^[A-Za-z0-9_@.-]+(/[A-Za-z0-9_@.-]+)*$`)

type recordingRead struct {
	Name   string `json:"name"`
	Offset int64  `json:"offset"`
}

type recordingPart struct {
	Data  []byte `json:"data"`
	Total int64  `json:"total"`
	Type  string `json:"type"`
}

// recordingRelay serves this node's recordings to the other controllers and reads theirs.
type recordingRelay struct {
	bus   *cluster.Bus
	fetch func(ctx context.Context, name string) (*switchboard.RecordingAudio, error) // this node's Asterisk
	now   func() time.Time

	mu    sync.Mutex
	files map[string]*relayFile // recordings being read by other controllers
	loads chan struct{}         // a slot per load from Asterisk (relayLoads)
}

// relayFile is one recording held whole for the other controllers' reads: ARI serves a stored
// recording only whole, and a reader asks for it a chunk at a time.
type relayFile struct {
	ready chan struct{} // closed once data or err is set
	data  []byte
	typ   string
	err   error
	used  time.Time
}

// newRecordingRelay registers the relay's handler and errors on bus (before it starts).
func newRecordingRelay(bus *cluster.Bus, fetch func(ctx context.Context, name string) (*switchboard.RecordingAudio, error)) *recordingRelay {
	r := &recordingRelay{bus: bus, fetch: fetch, now: time.Now, files: map[string]*relayFile{}, loads: make(chan struct{}, relayLoads)}
	bus.Error("recording_gone", switchboard.ErrNoRecording)
	bus.Error("recording_too_large", errRecordingTooLarge)
	bus.Error("recording_bad_read", errBadRecordingRead)
	bus.Handle(kindRecording, r.onRead)
	return r
}

func (r *recordingRelay) onRead(ctx context.Context, _ string, body json.RawMessage) (any, error) {
	var q recordingRead
	if err := json.Unmarshal(body, &q); err != nil || !validRelayName(q.Name) || q.Offset < 0 {
		return nil, fmt.Errorf("%w: %q at %d", errBadRecordingRead, q.Name, q.Offset)
	}
	f, err := r.file(ctx, q.Name)
	if err != nil {
		return nil, err
	}
	total := int64(len(f.data))
	if q.Offset > total {
		return nil, fmt.Errorf("%w: offset %d past the end (%d)", errBadRecordingRead, q.Offset, total)
	}
	return recordingPart{Data: f.data[q.Offset:min(q.Offset+relayChunk, total)], Total: total, Type: f.typ}, nil
}

func validRelayName(name string) bool {
	return len(name) <= 256 && relayNameRE.MatchString(name) && !strings.Contains(name, "..")
}

// file returns the recording whole, from what other reads left or from Asterisk (once, however
// many ask at the same time).
func (r *recordingRelay) file(ctx context.Context, name string) (*relayFile, error) {
	now := r.now()
	r.mu.Lock()
	r.evictLocked(now)
	f, found := r.files[name]
	if !found {
		f = &relayFile{ready: make(chan struct{})}
		r.files[name] = f
	}
	f.used = now
	r.mu.Unlock()
	if !found {
		// Not on the first asker's context: others may wait on this load, and one asker giving up
		// must not fail them.
		loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayLoadTimeout)
		f.data, f.typ, f.err = r.load(loadCtx, name)
		cancel()
		if f.err != nil {
			r.mu.Lock()
			delete(r.files, name)
			r.mu.Unlock()
		}
		close(f.ready)
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return f, f.err
}

func (r *recordingRelay) load(ctx context.Context, name string) ([]byte, string, error) {
	select {
	case r.loads <- struct{}{}:
		defer func() { <-r.loads }()
	case <-ctx.Done():
		return nil, "", fmt.Errorf("recording %s: wait for a load: %w", name, ctx.Err())
	}
	a, err := r.fetch(ctx, name)
	if err != nil {
		return nil, "", err
	}
	defer a.Body.Close()
	data, err := io.ReadAll(io.LimitReader(a.Body, relayMax+1))
	if err != nil {
		return nil, "", fmt.Errorf("recording %s: read from asterisk: %w", name, err)
	}
	if len(data) > relayMax {
		return nil, "", fmt.Errorf("recording %s: %w (over %d MB)", name, errRecordingTooLarge, relayMax>>20)
	}
	return data, a.ContentType, nil
}

// evictLocked drops the recordings nobody read for relayTTL, then the least recently read ones
// while those held pass relayBudget.
func (r *recordingRelay) evictLocked(now time.Time) {
	var held int64
	for name, f := range r.files {
		if !isReady(f) {
			continue
		}
		if now.Sub(f.used) > relayTTL {
			delete(r.files, name)
			continue
		}
		held += int64(len(f.data))
	}
	for held > relayBudget {
		var oldest string
		for name, f := range r.files {
			if isReady(f) && (oldest == "" || f.used.Before(r.files[oldest].used)) {
				oldest = name
			}
		}
		if oldest == "" {
			return
		}
		held -= int64(len(r.files[oldest].data))
		delete(r.files, oldest)
	}
}

func isReady(f *relayFile) bool {
	select {
	case <-f.ready:
		return true
	default:
		return false
	}
}

// open reads a recording of node's controller: the first chunk now (so that a recording gone or a
// controller away is an error before any audio is sent), the rest as the body is read.
func (r *recordingRelay) open(ctx context.Context, node, name string) (*dashboard.Audio, error) {
	first, err := r.read(ctx, node, name, 0)
	if err != nil {
		return nil, err
	}
	body := &relayReader{relay: r, ctx: context.WithoutCancel(ctx), node: node, name: name,
		buf: first.Data, off: int64(len(first.Data)), total: first.Total}
	return &dashboard.Audio{Body: body, ContentType: first.Type, Length: first.Total}, nil
}

func (r *recordingRelay) read(ctx context.Context, node, name string, off int64) (recordingPart, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	var part recordingPart
	err := r.bus.Call(ctx, node, kindRecording, recordingRead{Name: name, Offset: off}, &part)
	return part, err
}

// relayReader is a recording of another node, read a chunk at a time as the page takes it.
type relayReader struct {
	relay      *recordingRelay
	ctx        context.Context // the opening request's values, not its deadline: the audio may take a while to send
	node, name string
	buf        []byte
	off, total int64
	closed     bool
}

func (b *relayReader) Read(p []byte) (int, error) {
	if b.closed {
		return 0, io.ErrClosedPipe
	}
	if len(b.buf) == 0 {
		if b.off >= b.total {
			return 0, io.EOF
		}
		part, err := b.relay.read(b.ctx, b.node, b.name, b.off)
		if err != nil {
			return 0, err
		}
		if len(part.Data) == 0 || part.Total != b.total {
			return 0, fmt.Errorf("recording %s at %s: %w at %d of %d", b.name, b.node, io.ErrUnexpectedEOF, b.off, b.total)
		}
		b.buf, b.off = part.Data, b.off+int64(len(part.Data))
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *relayReader) Close() error {
	b.closed, b.buf = true, nil
	return nil
}
