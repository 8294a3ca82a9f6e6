package ivr_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/ivr"
)

func TestReloadKeepsCallsOnTheirVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "menus.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(goodMenu)
	r, err := ivr.NewReloader(path, nil, ivr.WithCatalog(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	flows := ivr.NewFlows(r, nil, nil)

	// A call starts on version 1 and is held inside its first prompt.
	hold := make(chan struct{})
	old := newFake("1")
	old.block = hold
	old.entered = make(chan struct{})
	entered := old.entered
	done := make(chan ivr.Result)
	started := r.Current()
	go func() {
		res, err := flows.Run(context.Background(), old, ivr.Inbound{CallID: "old", DID: "100"})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-entered // the call has its menus: version 1
	// Version 2: key 1 now goes to the general queue.
	write(strings.Replace(goodMenu, `"1": claims, "2": bye}`, `"1": agent, "2": bye, "3": claims}
      agent:
        type: queue
        queue: general`, 1) + "      # v2\n")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if r.Current() == started {
		t.Fatal("reload did not swap the menus")
	}
	// A broken file is refused and version 2 stays.
	v2 := r.Current()
	write(strings.Replace(goodMenu, "queue: claims", "queue: nowhere", 1))
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("broken file: err = %v", err)
	}
	if r.Current() != v2 {
		t.Fatal("broken file replaced the menus")
	}

	res, err := flows.Run(context.Background(), newFake("1"), ivr.Inbound{CallID: "new", DID: "100"})
	if err != nil || res.Queue != "general" {
		t.Errorf("new call: %s %q, %v; want the new version's general queue", res.Outcome, res.Queue, err)
	}
	close(hold)
	if res := <-done; res.Queue != "claims" {
		t.Errorf("call in progress: queue %q, want claims from the version it started on", res.Queue)
	}
}

func TestReloaderRunOnTrigger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "menus.yaml")
	if err := os.WriteFile(path, []byte(goodMenu), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ivr.NewReloader(path, nil, ivr.WithCatalog(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	before := r.Current()
	ctx, cancel := context.WithCancel(context.Background())
	trigger := make(chan os.Signal)
	stopped := make(chan error)
	go func() { stopped <- r.Run(ctx, trigger, 0) }()
	trigger <- os.Interrupt // unbuffered: Run has received it
	trigger <- os.Interrupt // …and finished the first reload before taking this one
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if r.Current() == before {
		t.Error("trigger did not reload")
	}
	if _, err := ivr.NewReloader(filepath.Join(t.TempDir(), "none.yaml"), nil); err == nil {
		t.Error("NewReloader on a missing file succeeded")
	}
}

func TestReloaderRunPolls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "menus.yaml")
	if err := os.WriteFile(path, []byte(goodMenu), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ivr.NewReloader(path, nil, ivr.WithCatalog(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	before := r.Current()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx, nil, time.Millisecond)
	// A different size, so the change shows even where modification times are coarse.
	if err := os.WriteFile(path, []byte(goodMenu+"# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the poll to pick up the edit", 10*time.Second, func() bool { return r.Current() != before })
	if r.Current().Name() != path {
		t.Errorf("Name = %q", r.Current().Name())
	}
}
