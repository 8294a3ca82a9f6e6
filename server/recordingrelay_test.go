package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/switchboard"
)

// TestRecordingRelay: a recording of node a, read by controller b over the bus, arrives whole and
// in order over several chunks; node a's controller fetches it from its Asterisk once for several
// reads; a recording gone is ErrNoRecording, a controller nobody runs ErrNoAnswer, and a name that
// is not a recording's is refused by the node's controller.
func TestRecordingRelay(t *testing.T) {
	rs := redistest.Start(t)
	audio := bytes.Repeat([]byte("RIFF-wav-"), (2*relayChunk+1000)/9+1) // three chunks
	var fetches atomic.Int32
	fetch := func(_ context.Context, name string) (*switchboard.RecordingAudio, error) {
		fetches.Add(1)
		if name != "hotline/2026/12/04/c1-abc" {
			return nil, switchboard.ErrNoRecording
		}
		return &switchboard.RecordingAudio{Body: io.NopCloser(bytes.NewReader(audio)), ContentType: "audio/wav", ContentLength: int64(len(audio))}, nil
	}
	relayOn := func(self string) *recordingRelay {
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
		t.Cleanup(func() { rdb.Close() })
		bus := cluster.New(rdb, "{hotline:t}:", self, nil)
		r := newRecordingRelay(bus, fetch)
		ctx, cancel := context.WithCancel(context.Background())
		if err := bus.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); bus.Wait() })
		return r
	}
	relayOn("a")
	b := relayOn("b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for range 2 {
		a, err := b.open(ctx, "a", "hotline/2026/12/04/c1-abc")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(a.Body)
		a.Body.Close()
		if err != nil || !bytes.Equal(got, audio) || a.Length != int64(len(audio)) || a.ContentType != "audio/wav" {
			t.Fatalf("read %d of %d bytes (length %d, type %q): %v", len(got), len(audio), a.Length, a.ContentType, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("node a fetched the recording from Asterisk %d times, want once", n)
	}

	if _, err := b.open(ctx, "a", "hotline/2026/12/04/gone-abc"); !errors.Is(err, switchboard.ErrNoRecording) {
		t.Errorf("a recording gone: %v, want ErrNoRecording", err)
	}
	if _, err := b.open(ctx, "nobody", "hotline/2026/12/04/c1-abc"); !errors.Is(err, cluster.ErrNoAnswer) {
		t.Errorf("a node nobody runs: %v, want ErrNoAnswer", err)
	}
	for _, name := range []string{"../../etc/passwd", "hotline/../x", "/abs", "a b", strings.Repeat("x", 300)} {
		if _, err := b.open(ctx, "a", name); !errors.Is(err, errBadRecordingRead) {
			t.Errorf("name %q: %v, want errBadRecordingRead", name, err)
		}
	}
}

// TestRecordingRelayEviction: recordings nobody read for relayTTL are dropped, and the least
// recently read go first past relayBudget.
func TestRecordingRelayEviction(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r := &recordingRelay{now: func() time.Time { return now }, files: map[string]*relayFile{}}
	ready := make(chan struct{})
	close(ready)
	add := func(name string, size int, used time.Time) {
		r.files[name] = &relayFile{ready: ready, data: make([]byte, size), used: used}
	}
	add("stale", 10, now.Add(-2*relayTTL))
	add("old", relayBudget/2, now.Add(-30*time.Second))
	add("mid", relayBudget/2, now.Add(-20*time.Second))
	add("new", relayBudget/2, now.Add(-10*time.Second))
	r.files["loading"] = &relayFile{ready: make(chan struct{}), used: now.Add(-time.Hour)}
	r.evictLocked(now)
	var kept []string
	for _, n := range []string{"stale", "old", "mid", "new", "loading"} {
		if r.files[n] != nil {
			kept = append(kept, n)
		}
	}
	if strings.Join(kept, " ") != "mid new loading" {
		t.Errorf("kept %v, want mid new loading", kept)
	}
}

// TestRecordingRelayLoadsBounded: however many recordings other controllers ask for at once, at
// most relayLoads are loaded from Asterisk at a time (each may be relayMax before the budget
// counts it); the others wait their turn and arrive.
func TestRecordingRelayLoadsBounded(t *testing.T) {
	var now, most atomic.Int32
	release := make(chan struct{})
	fetch := func(ctx context.Context, name string) (*switchboard.RecordingAudio, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &switchboard.RecordingAudio{Body: io.NopCloser(strings.NewReader(name)), ContentType: "audio/wav"}, nil
	}
	r := &recordingRelay{fetch: fetch, now: time.Now, files: map[string]*relayFile{}, loads: make(chan struct{}, relayLoads)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const asked = 6
	errs := make(chan error, asked)
	for i := range asked {
		go func() {
			f, err := r.file(ctx, fmt.Sprintf("hotline/2026/12/04/c%d-abc", i))
			if err == nil && !strings.HasSuffix(string(f.data), fmt.Sprintf("c%d-abc", i)) {
				err = fmt.Errorf("recording %d: got %q", i, f.data)
			}
			errs <- err
		}()
	}
	waitfor.True(t, "the first loads under way", 10*time.Second, func() bool { return now.Load() == relayLoads })
	close(release)
	for range asked {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if m := most.Load(); m > relayLoads {
		t.Errorf("%d recordings loaded from Asterisk at once, want at most %d", m, relayLoads)
	}
}
