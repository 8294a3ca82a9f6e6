package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
	"github.com/hotline-cc/hotline/prompts"
)

// Tones of the test: the caller's (caller-agent-tone in extensions.conf), and the agent's
// microphone before and after the restart (different, so the caller provably hears the new leg).
const (
	callerTone      = 440
	agentToneBefore = 1000
	agentToneAfter  = 1400
)

// TestRestart runs the real binary against the simulator and a real redis-server, kills it with
// SIGKILL mid-call and starts it again with the same instance name.
// Simulator only: it checks what each caller hears and whether they hung up, which a real
// Asterisk does not tell a test.
func TestRestart(t *testing.T) {
	bin := hotlineBinary(t) // built once for both subtests
	t.Run("keeps callers", func(t *testing.T) { restartKeepsCallers(t, bin) })
	t.Run("callers left while down", func(t *testing.T) { restartAfterCallersLeftWhileDown(t, bin) })
}

// restartKeepsCallers kills the controller (SIGKILL: no drain) while one caller talks to an agent
// and two wait in the queue, and starts a new process with the same instance name:
//
//   - while no controller runs, no caller is hung up: their channels stay in Asterisk and their
//     places (and the agent's call) stay in Redis;
//   - the new process takes the talking call back: a fresh externalMedia leg joins the call's bridge in
//     place of the dead process's, the agent's page reconnects with its old session cookie (no new
//     login) and the audio flows both ways again;
//   - the waiting callers keep their order, and the longest waiting is offered to the next agent;
//   - the agent hangs up the taken-back call through the new process and the caller's channel ends.
func restartKeepsCallers(t *testing.T, bin string) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	model, err := acd.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	center, err := acd.New(rdb, model, acd.Options{Center: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := writeRestartConfig(t, tg, rs.Addr)

	proc := startProcess(t, bin, cfgPath, "first")
	base := proc.base

	// p001 logs in, gets audio and waits for calls.
	p001 := connectAgent(t, base, "p001", "hotline-demo")
	phone := p001.startAudio(agentToneBefore)
	p001.setState("available")

	// Caller A reaches p001 and they talk.
	a := dial(t, tg, "79160000001", "Caller A")
	p001.waitRinging(a.ChannelID, 30*time.Second)
	p001.request("call.answer", map[string]any{"call": a.ChannelID})
	p001.waitFor("call.connected for A", 10*time.Second, isPush("call.connected", a.ChannelID))
	waitfor.True(t, "the agent's tone at caller A", 15*time.Second, func() bool {
		return media.ToneDominance(a.Sim.Heard(400*time.Millisecond), agentToneBefore, media.SampleRate) > 20
	})
	waitfor.True(t, "caller A's tone at the agent", 15*time.Second, func() bool {
		return media.ToneDominance(phone.Heard(400*time.Millisecond), callerTone, media.SampleRate) > 20
	})
	oldLeg := externalMediaLeg(t, tg, a.ChannelID, "")
	if oldLeg == "" {
		t.Fatalf("caller A's bridge has no externalMedia channel before the restart")
	}

	// Callers B then C wait: no agent is free.
	b := dial(t, tg, "79160000002", "Caller B")
	waitfor.True(t, "B waiting in Redis", 30*time.Second, func() bool { return stageOf(t, center, b.ChannelID) == acd.StageWaiting })
	c := dial(t, tg, "79160000003", "Caller C")
	waitfor.True(t, "C waiting in Redis", 30*time.Second, func() bool { return stageOf(t, center, c.ChannelID) == acd.StageWaiting })
	before := snapshot(t, center)
	wantOrder := []string{b.ChannelID, c.ChannelID}
	if got := queueWaiting(before, "general"); !slices.Equal(got, wantOrder) {
		t.Fatalf("general queue before the kill: %v, want %v", got, wantOrder)
	}

	// Kill the controller: no drain, no goodbye to Asterisk or Redis.
	proc.kill(t)
	phone.close()
	// Asterisk keeps listing an app while channels are in it, so wait for the socket itself.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := tg.Sim.WaitEventsConnections(wctx, 0); err != nil {
		t.Fatalf("Asterisk never saw the controller's events socket close: %v", err)
	}
	wcancel()

	for _, p := range []aritest.PlacedCall{a, b, c} {
		select {
		case <-p.Sim.Done():
			t.Fatalf("caller %s was hung up when the controller died", p.ChannelID)
		default:
		}
	}
	live := channelIDs(t, tg)
	for _, p := range []aritest.PlacedCall{a, b, c} {
		if !live[p.ChannelID] {
			t.Fatalf("channel %s gone from Asterisk after the kill (channels: %v)", p.ChannelID, live)
		}
	}
	dead := snapshot(t, center)
	if cs, ok := callIn(dead, a.ChannelID); !ok || cs.Stage != acd.StageOnCall || !slices.Equal(cs.Agents, []string{"p001"}) {
		t.Fatalf("A in Redis after the kill: %+v (found %v), want on call with p001", cs, ok)
	}
	if st := agentIn(dead, "p001"); st.State != acd.OnCall || st.Call != a.ChannelID {
		t.Fatalf("p001 in Redis after the kill: %+v, want on call with %s", st, a.ChannelID)
	}
	if got := queueWaiting(dead, "general"); !slices.Equal(got, wantOrder) {
		t.Fatalf("general queue after the kill: %v, want %v", got, wantOrder)
	}

	// A new process with the same instance name takes the calls back.
	startProcess(t, bin, cfgPath, "second")

	newLeg := ""
	waitfor.True(t, "a fresh externalMedia leg in A's bridge", 15*time.Second, func() bool {
		newLeg = externalMediaLeg(t, tg, a.ChannelID, oldLeg)
		return newLeg != ""
	})
	waitfor.True(t, "the dead process's externalMedia channel hung up", 10*time.Second, func() bool {
		return !channelIDs(t, tg)[oldLeg]
	})
	after := snapshot(t, center)
	if got := queueWaiting(after, "general"); !slices.Equal(got, wantOrder) {
		t.Fatalf("general queue after the restart: %v, want %v", got, wantOrder)
	}
	for _, id := range wantOrder {
		was, _ := callIn(before, id)
		now, ok := callIn(after, id)
		if !ok || !now.EnqueuedAt.Equal(was.EnqueuedAt) || now.Owner != was.Owner {
			t.Fatalf("%s after the restart: %+v (found %v), before: %+v", id, now, ok, was)
		}
	}

	// p001's page reconnects to the new process with the session of its login to the first one
	// (sessions are in Redis: a restart logs nobody out): the call is shown again and its audio
	// flows again.
	p001 = openAgent(t, base, "p001", p001.Cookie)
	p001.waitFor("call.connected for A again", 10*time.Second, isPush("call.connected", a.ChannelID))
	phone = p001.startAudio(agentToneAfter)
	waitfor.True(t, "the agent's new tone at caller A", 15*time.Second, func() bool {
		return media.ToneDominance(a.Sim.Heard(400*time.Millisecond), agentToneAfter, media.SampleRate) > 20
	})
	waitfor.True(t, "caller A's tone at the agent again", 15*time.Second, func() bool {
		return media.ToneDominance(phone.Heard(400*time.Millisecond), callerTone, media.SampleRate) > 20
	})

	// The next agent gets the longest waiting caller.
	p002 := connectAgent(t, base, "p002", "hotline-demo")
	p002.setState("available")
	if got := p002.waitRinging("", 15*time.Second); got != b.ChannelID {
		t.Fatalf("p002 was offered %s, want the longest waiting caller %s (C is %s)", got, b.ChannelID, c.ChannelID)
	}

	// p001 ends the taken-back call: the caller's channel ends.
	p001.request("call.hangup", map[string]any{"call": a.ChannelID})
	select {
	case <-a.Sim.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("caller A still up after the agent hung up")
	}
	waitfor.True(t, "A's channel gone from Asterisk", 10*time.Second, func() bool { return !channelIDs(t, tg)[a.ChannelID] })
	p001.waitFor("call.ended for A", 10*time.Second, isPush("call.ended", a.ChannelID))
	end := snapshot(t, center)
	if cs, ok := callIn(end, a.ChannelID); ok {
		t.Errorf("A still in Redis after it ended: %+v", cs)
	}
	if st := agentIn(end, "p001"); st.State != acd.WrapUp {
		t.Errorf("p001 in Redis after the call: %+v, want in wrap-up", st)
	}
	for _, p := range []aritest.PlacedCall{b, c} {
		select {
		case <-p.Sim.Done():
			t.Fatalf("caller %s hung up", p.ChannelID)
		default:
		}
	}
	proc.kill(t)
}

// restartAfterCallersLeftWhileDown kills the controller while caller A talks to p001 and caller
// B waits; both hang up while no controller runs. The new process must clean up after them: neither is
// left in Redis, the queue is empty, p001 is no longer on a call (wrap-up), and A's bridge and the dead
// process's externalMedia channel are gone from Asterisk.
func restartAfterCallersLeftWhileDown(t *testing.T, bin string) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	rs := redistest.Start(t)
	model, err := acd.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	center, err := acd.New(rs.Client(t), model, acd.Options{Center: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := writeRestartConfig(t, tg, rs.Addr)
	proc := startProcess(t, bin, cfgPath, "first")

	p001 := connectAgent(t, proc.base, "p001", "hotline-demo")
	p001.setState("available")
	a := dial(t, tg, "79160000001", "Caller A")
	p001.waitRinging(a.ChannelID, 30*time.Second)
	p001.request("call.answer", map[string]any{"call": a.ChannelID})
	p001.waitFor("call.connected for A", 10*time.Second, isPush("call.connected", a.ChannelID))
	oldLeg := ""
	waitfor.True(t, "A's externalMedia leg", 10*time.Second, func() bool {
		oldLeg = externalMediaLeg(t, tg, a.ChannelID, "")
		return oldLeg != ""
	})
	b := dial(t, tg, "79160000002", "Caller B")
	waitfor.True(t, "B waiting in Redis", 30*time.Second, func() bool { return stageOf(t, center, b.ChannelID) == acd.StageWaiting })

	proc.kill(t)
	for _, p := range []aritest.PlacedCall{a, b} {
		if err := p.Sim.Hangup(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Sim.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("caller %s did not hang up", p.ChannelID)
		}
	}

	startProcess(t, bin, cfgPath, "second")
	waitfor.True(t, "B out of the queue", 10*time.Second, func() bool {
		_, ok := callIn(snapshot(t, center), b.ChannelID)
		return !ok
	})
	if got := queueWaiting(snapshot(t, center), "general"); len(got) != 0 {
		t.Errorf("general queue after the restart: %v, want empty", got)
	}

	waitfor.True(t, "A out of Redis and p001 off the call", 10*time.Second, func() bool {
		s := snapshot(t, center)
		_, ok := callIn(s, a.ChannelID)
		return !ok && agentIn(s, "p001").State != acd.OnCall
	})
	waitfor.True(t, "A's bridge and the dead process's externalMedia channel gone", 10*time.Second, func() bool {
		return len(callBridges(t, tg, a.ChannelID)) == 0 && !channelIDs(t, tg)[oldLeg]
	})
}

// dial places a caller who presses 1 then 0 (to an agent) and then sends 440 Hz.
func dial(t *testing.T, tg *aritest.Target, number, name string) aritest.PlacedCall {
	t.Helper()
	p, err := tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: number, Name: name, Context: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func snapshot(t *testing.T, center *acd.Center) acd.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := center.Snapshot(ctx)
	if err != nil {
		t.Fatalf("acd snapshot: %v", err)
	}
	return s
}

func callIn(s acd.Snapshot, id string) (acd.CallState, bool) {
	for _, c := range s.Calls {
		if c.ID == id {
			return c, true
		}
	}
	return acd.CallState{}, false
}

func agentIn(s acd.Snapshot, id string) acd.AgentStatus {
	for _, a := range s.Agents {
		if a.ID == id {
			return a
		}
	}
	return acd.AgentStatus{}
}

func queueWaiting(s acd.Snapshot, queue string) []string {
	for _, q := range s.Queues {
		if q.Name == queue {
			return q.Waiting
		}
	}
	return nil
}

func stageOf(t *testing.T, center *acd.Center, callID string) acd.Stage {
	cs, _ := callIn(snapshot(t, center), callID)
	return cs.Stage
}

// channelIDs lists the channels Asterisk has.
func channelIDs(t *testing.T, tg *aritest.Target) map[string]bool {
	t.Helper()
	st, body, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels", nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("list channels: %d %s %v", st, body, err)
	}
	var chans []struct{ ID string }
	if err := json.Unmarshal(body, &chans); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range chans {
		ids[c.ID] = true
	}
	return ids
}

// bridgeJSON is the part of an ARI bridge these tests read.
type bridgeJSON struct {
	ID       string   `json:"id"`
	Channels []string `json:"channels"`
}

// listBridges lists every bridge on the target.
func listBridges(t *testing.T, tg *aritest.Target) []bridgeJSON {
	t.Helper()
	st, body, err := tg.Do(context.Background(), http.MethodGet, "/ari/bridges", nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("list bridges: %d %s %v", st, body, err)
	}
	var all []bridgeJSON
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatal(err)
	}
	return all
}

// callBridges lists the call's conversation bridges: br-<call id>-<suffix>, a fresh id each time
// the controller makes one.
func callBridges(t *testing.T, tg *aritest.Target, callID string) []bridgeJSON {
	t.Helper()
	var out []bridgeJSON
	for _, b := range listBridges(t, tg) {
		if strings.HasPrefix(b.ID, "br-"+callID+"-") {
			out = append(out, b)
		}
	}
	return out
}

// externalMediaLeg returns the em-… channel other than except in the call's bridge that holds the
// caller ("" if there is none).
func externalMediaLeg(t *testing.T, tg *aritest.Target, callID, except string) string {
	t.Helper()
	for _, br := range callBridges(t, tg, callID) {
		if !slices.Contains(br.Channels, callID) {
			continue
		}
		for _, ch := range br.Channels {
			if strings.HasPrefix(ch, "em-") && ch != except {
				return ch
			}
		}
	}
	return ""
}

// writeRestartConfig writes the config both processes run with: the same instance, so the second
// takes back the calls of the first.
func writeRestartConfig(t *testing.T, tg *aritest.Target, redisAddr string) string {
	return writeControllerConfig(t, tg, "restart", "restart-1", tg.ARIURL(), redisAddr)
}

// process is one `hotline run` subprocess.
type process struct {
	name   string
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	exited chan struct{}
	log    *lockedBuffer
}

// startProcess runs `hotline run -config cfgPath` and waits until /healthz says ok. Its log goes to
// stderr with -v, and into the test's log if the test fails.
func startProcess(t *testing.T, bin, cfgPath, name string) *process {
	t.Helper()
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var listen string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "listen:"); ok {
			listen = strings.TrimSpace(v)
		}
	}
	p := &process{name: name, base: "http://" + listen, exited: make(chan struct{}), log: &lockedBuffer{}}
	p.cmd = exec.Command(bin, "run", "-config", cfgPath)
	p.cmd.Env = hotlineEnv()
	var out io.Writer = p.log
	if testing.Verbose() {
		out = io.MultiWriter(p.log, prefixWriter{w: os.Stderr, prefix: "[" + name + "] "})
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start hotline: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() && !testing.Verbose() {
			t.Logf("log of the %s hotline process:\n%s", name, p.log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s hotline process never became healthy (last: %v)\n%s", name, err, p.log.String())
		}
		select {
		case <-p.exited:
			t.Fatalf("the %s hotline process exited: %v\n%s", name, p.cmd.ProcessState, p.log.String())
		case <-tick.C:
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill the %s hotline process: %v", p.name, err)
	}
	<-p.exited
}

// hotlineEnv is the test's environment without HOTLINE_* variables, which would override the config.
func hotlineEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOTLINE_") {
			env = append(env, kv)
		}
	}
	return env
}

// hotlineBinary builds ./cmd/hotline into t's temporary directory: build it once in a parent test and
// pass the path to its subtests.
func hotlineBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot build the hotline binary to run it as a process")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hotline")
	cmd := exec.Command(goBin, "build", "-o", path, "./cmd/hotline")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hotline: %v\n%s", err, out)
	}
	return path
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// prefixWriter marks each line of a process's log with prefix (slog writes whole lines).
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	var out strings.Builder
	for line := range strings.Lines(string(b)) {
		out.WriteString(p.prefix + line)
	}
	if _, err := io.WriteString(p.w, out.String()); err != nil {
		return 0, err
	}
	return len(b), nil
}
