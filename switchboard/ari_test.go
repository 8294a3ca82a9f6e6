package switchboard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
)

// hungARI is an ARI that accepts requests and never answers them, until the client gives up or the
// test ends.
func hungARI(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

// within runs f and fails the test if it has not returned by the deadline (a guard against a hang,
// not a measure of speed).
func within(t *testing.T, deadline time.Duration, what string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(deadline):
		t.Fatalf("%s still running after %v: it ignores its context or timeout", what, deadline)
		return nil
	}
}

// TestARIRequestHonoursContext: a request to an Asterisk that never answers ends with its
// caller's context, whatever the request timeout.
func TestARIRequestHonoursContext(t *testing.T) {
	srv := hungARI(t)
	r := newREST(srv.URL+"/ari", "hotline", "u", "p", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := within(t, 20*time.Second, "answer on a hung asterisk", func() error { return r.answer(ctx, "c1") })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("answer = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	_, err = within2(t, func() (map[string]liveChannel, error) { return r.channels(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("list channels with an expired context = %v, want context.DeadlineExceeded", err)
	}
}

func within2[T any](t *testing.T, f func() (T, error)) (T, error) {
	t.Helper()
	var v T
	err := within(t, 20*time.Second, "an ari request", func() (err error) { v, err = f(); return err })
	return v, err
}

// TestARIRequestTimeout: without a deadline from the caller, the configured request timeout ends a
// request Asterisk never answers; cleanups run with context.WithoutCancel rely on it.
func TestARIRequestTimeout(t *testing.T) {
	srv := hungARI(t)
	r := newREST(srv.URL+"/ari", "hotline", "u", "p", 100*time.Millisecond)
	err := within(t, 20*time.Second, "hangup on a hung asterisk", func() error { return r.hangup(context.Background(), "c1") })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hangup = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	members, ok := r.bridgeMembers(context.Background(), "b1")
	if ok || members != nil {
		t.Fatalf("bridgeMembers on a hung asterisk = %v, %v; want nothing, false", members, ok)
	}
}

// TestShutdownNotHeldByHungARI: Asterisk stops answering REST requests while a call is being
// answered; stopping the switchboard still returns at once, though the request timeout is an hour.
// Simulator only: a real Asterisk cannot be made to hang on demand.
func TestShutdownNotHeldByHungARI(t *testing.T) {
	sim, err := asterisksim.New(asterisksim.Config{User: "hotline", Password: "hotline", TimeScale: testScale})
	if err != nil {
		t.Fatal(err)
	}
	hung := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/answer") {
			once.Do(func() { close(hung) })
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(release); sim.Close(); srv.Close() })
	tg := &aritest.Target{Name: "sim", BaseURL: srv.URL, User: "hotline", Password: "hotline", App: aritest.App, Sim: sim, TimeScale: testScale}
	r := newRig(t, tg)
	r.reqTimeout = time.Hour
	stop := r.start(t, "i1")
	if _, err := sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Number: "100", Dialplan: "caller-press1-tone"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hung:
	case <-time.After(20 * time.Second):
		t.Fatal("the switchboard never asked to answer the call")
	}
	within(t, 20*time.Second, "the switchboard's shutdown with a request hung in asterisk", func() error { stop(); return nil })
}
