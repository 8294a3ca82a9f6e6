package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/server"
)

// TestSignalsDrainThenStop (issue 13, deliverable 2): the first SIGTERM drains, saying so on
// /readyz, and ends the process once no caller is in the IVR; with callers always arriving it does
// not end until the drain's timeout, and a second SIGTERM stops it at once.
func TestSignalsDrainThenStop(t *testing.T) {
	run := func(t *testing.T, callersPerMinute float64) (addr string, done chan error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
		cfg := config.Default()
		cfg.ARI.Simulate, cfg.Redis.Embedded, cfg.InsecureDemo = true, true, true
		cfg.ARI.DrainTimeout = config.Duration(10 * time.Minute)
		cfg.Simulator.CallersPerMinute, cfg.Simulator.TimeScale = callersPerMinute, 1
		cfg.Web.Listen, cfg.Softphone.ICEPort, cfg.Log.Level = addr, 0, "error"
		cfg, err = config.Resolve(cfg)
		if err != nil {
			t.Fatal(err)
		}
		done = make(chan error, 1)
		go func() { done <- serve(cfg, server.Options{LoopbackOnly: true}) }()
		waitfor.True(t, "the server ready", 30*time.Second, func() bool { return readyz(addr) == http.StatusOK })
		return addr, done
	}
	stopped := func(t *testing.T, done chan error, what string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still running", what)
		}
	}

	t.Run("idle", func(t *testing.T) {
		_, done := run(t, 0)
		sigterm(t)
		stopped(t, done, "drained with nobody in the IVR")
	})
	t.Run("busy", func(t *testing.T) {
		addr, done := run(t, 600) // ten callers a second, each in the IVR for seconds
		waitfor.True(t, "callers in the IVR", 30*time.Second, func() bool { return metric(addr, "hotline_ivr_calls_total") > 0 })
		sigterm(t)
		waitfor.True(t, "/readyz saying not ready while draining", 10*time.Second, func() bool { return readyz(addr) == http.StatusServiceUnavailable })
		select {
		case err := <-done:
			t.Fatalf("stopped with callers in the IVR: %v", err)
		default:
		}
		sigterm(t)
		stopped(t, done, "the second signal")
	})
}

func sigterm(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

func readyz(addr string) int {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric sums a counter's series on /metrics (0 when absent).
func metric(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], name) {
			var v float64
			if _, err := fmt.Sscan(f[1], &v); err == nil {
				sum += v
			}
		}
	}
	return sum
}
