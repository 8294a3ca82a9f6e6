package main

import (
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets this test binary stand in for the hotline binary as the phones' process that
// `loadgen -phones-cpu` starts (os.Executable is the test binary here).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "loadgen-phones" {
		if err := loadGenPhones(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestLoadGenPhonesProcess: `hotline loadgen -phones -phones-cpu N` runs the crew's phones in a
// second process and still counts the audio both ways through the gateway.
func TestLoadGenPhonesProcess(t *testing.T) {
	out, err := captureStdout(t, func() error {
		return loadGen([]string{"-agents", "4", "-phones", "-phones-cpu", strconv.Itoa(runtime.NumCPU() - 1),
			"-ramp", "3", "-rate", "2", "-duration", "3s", "-talk", "600ms", "-wrapup", "50ms", "-answer-after", "50ms"})
	})
	t.Log(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "4 agents' phones connected") {
		t.Error("no phones connected")
	}
	for _, dir := range []string{"to the agents", "from the agents"} {
		m := regexp.MustCompile(dir + `: +sent (\d+), relayed (\d+), received (\d+), lost (\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s: no audio counted", dir)
			continue
		}
		if m[3] == "0" || m[4] != "0" {
			t.Errorf("%s: received %s, lost %s", dir, m[3], m[4])
		}
	}
}

// TestLoadGenPhonesBadCPU: a CPU the phones' process cannot be pinned to is an error that says so,
// and the run stops cleanly.
func TestLoadGenPhonesBadCPU(t *testing.T) {
	_, err := captureStdout(t, func() error {
		return loadGen([]string{"-agents", "2", "-phones", "-phones-cpu", "4096", "-duration", "1s"})
	})
	if err == nil || !strings.Contains(err.Error(), "pin to CPU 4096") {
		t.Errorf("loadgen -phones-cpu 4096: %v, want an error about pinning to CPU 4096", err)
	}
}

// captureStdout runs f with os.Stdout going to a pipe and returns what it wrote, and f's error.
func captureStdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	got := make(chan string, 1)
	go func() { b, _ := io.ReadAll(r); got <- string(b) }()
	err = f()
	os.Stdout = stdout
	w.Close()
	return <-got, err
}
