package asteriskconfig_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// These tests load the shipped files into a real Asterisk 22 (scripts/asterisk.sh start, which
// writes the HOTLINE_TEST_* variables below) and look at what it made of them. Without one they
// skip; in CI (CI=true) they fail instead, so a CI that lost its Asterisk does not pass silently.

const (
	envConf    = "HOTLINE_TEST_ASTERISK_CONF" // DIR/etc/asterisk.conf of the running test Asterisk
	envLog     = "HOTLINE_TEST_ASTERISK_LOG"  // its messages.log
	envSIP     = "HOTLINE_TEST_SIP_ADDR"      // its PJSIP transport, 127.0.0.1:port
	testDID    = "8800"
	wait       = 15 * time.Second
	carrierNum = "79160000099" // the caller number testdata/sipp-carrier-call.xml sends
)

// unavailable skips the test, or fails it in CI.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI must run this test: "+format, args...)
	}
	t.Skipf(format, args...)
}

// asterisk is a running test Asterisk.
type asterisk struct {
	conf, log, sip string
	bin            string // sbin/asterisk, for its CLI
	// ARI, as DIR/env names it (fromEnvFile only)
	ariURL, ariUser, ariPassword string
}

func realAsterisk(t *testing.T) asterisk {
	t.Helper()
	a := asterisk{conf: os.Getenv(envConf), log: os.Getenv(envLog), sip: os.Getenv(envSIP)}
	if a.conf == "" || a.log == "" || a.sip == "" {
		unavailable(t, "no real Asterisk: run scripts/asterisk.sh start DIR and source DIR/env (%s, %s, %s)", envConf, envLog, envSIP)
	}
	a.bin = filepath.Join(directory(t, a.conf, "astsbindir"), "asterisk")
	return a
}

// fromEnvFile reads the variables scripts/asterisk.sh wrote to DIR/env.
func fromEnvFile(t *testing.T, path string) asterisk {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			env[k] = v
		}
	}
	a := asterisk{conf: env[envConf], log: env[envLog], sip: env[envSIP],
		ariURL: env[aritest.EnvURL], ariUser: env[aritest.EnvUser], ariPassword: env[aritest.EnvPassword]}
	a.bin = filepath.Join(directory(t, a.conf, "astsbindir"), "asterisk")
	return a
}

// directory reads one of asterisk.conf's [directories].
func directory(t *testing.T, conf, key string) string {
	t.Helper()
	raw, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + key + ` *=> *(\S+)`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("%s: no %s", conf, key)
	}
	return string(m[1])
}

// cli runs one Asterisk CLI command through the running Asterisk's control socket.
func (a asterisk) cli(t *testing.T, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	out, err := exec.CommandContext(ctx, a.bin, "-C", a.conf, "-rx", command).CombinedOutput()
	if err != nil {
		t.Fatalf("asterisk -rx %q: %v\n%s", command, err, out)
	}
	return string(out)
}

// startupProblems lists the ERROR and WARNING lines logged while Asterisk loaded its configuration
// (before "Asterisk Ready."): a file it did not find or understand, a module that did not load.
func startupProblems(t *testing.T, log string) []string {
	t.Helper()
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var problems []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Asterisk Ready.") {
			return problems
		}
		if strings.Contains(line, "] ERROR[") || strings.Contains(line, "] WARNING[") {
			problems = append(problems, line)
		}
	}
	t.Fatalf("%s: no \"Asterisk Ready.\" line: did it start? (%d problems so far: %v)", log, len(problems), problems)
	return nil
}

// TestShippedConfigLoads: every shipped file loads without an error or warning, every module of
// modules.conf runs (and nothing else: autoload is off), and what the files configure is in force.
func TestShippedConfigLoads(t *testing.T) {
	a := realAsterisk(t)
	for _, p := range startupProblems(t, a.log) {
		t.Errorf("logged while loading the configuration: %s", p)
	}

	// modules.conf: each listed module is Running; the count of loaded modules is the list's.
	raw, err := os.ReadFile("modules.conf")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^load *=> *(\S+)\.so`).FindAllSubmatch(raw, -1) {
		want = append(want, string(m[1]))
	}
	running := map[string]bool{}
	for _, line := range strings.Split(a.cli(t, "module show"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[0], ".so") && strings.Contains(line, " Running ") {
			running[strings.TrimSuffix(f[0], ".so")] = true
		}
	}
	for _, m := range want {
		if !running[m] {
			t.Errorf("module %s (modules.conf) is not running", m)
		}
	}
	for m := range running {
		if !slices.Contains(want, m) {
			t.Errorf("module %s runs but modules.conf does not load it", m)
		}
	}
	for _, need := range []string{"res_ari", "app_stasis", "res_http_websocket", "chan_pjsip", "res_rtp_asterisk", "chan_rtp",
		"res_musiconhold", "app_playback", "app_senddtmf", "app_playtones", "app_echo", "app_dial", "pbx_config",
		"codec_gsm", "format_gsm", "format_wav", "bridge_simple", "bridge_softmix", "res_stasis_snoop", "res_stasis_recording"} {
		if !running[need] {
			t.Errorf("hotline needs %s, which is not running", need)
		}
	}

	// http.conf: ARI on loopback only.
	if st := a.cli(t, "http show status"); !regexp.MustCompile(`Bound to 127\.0\.0\.1:\d+`).MatchString(st) {
		t.Errorf("http server not bound to loopback:\n%s", st)
	}
	// extensions.conf's [globals], overridden by the test include's, read after it.
	if g := a.cli(t, "dialplan show globals"); !strings.Contains(g, "HOTLINE_EMERGENCY=Local/duty@hotline-test-emergency") {
		t.Errorf("HOTLINE_EMERGENCY is not the test include's value (a later [globals] should win):\n%s", g)
	}
	// musiconhold.conf: class default plays Debian's asterisk-moh-opsound-gsm files.
	if files := a.cli(t, "moh show files"); !regexp.MustCompile(`Class: default\n\s+File: \S+/moh/\S+`).MatchString(files) {
		t.Errorf("music on hold class default has no files:\n%s", files)
	}
	// Sounds: Asterisk's own digits and hotline's prompts, in both languages.
	for _, snd := range []string{"hotline/unavailable", "hotline/welcome", "digits/1"} {
		out := a.cli(t, "core show sound "+snd)
		for _, lang := range []string{"ru", "en"} {
			if !strings.Contains(out, "Language "+lang+":") {
				t.Errorf("sound %s has no %s version:\n%s", snd, lang, out)
			}
		}
	}
	// pjsip.conf with the IP trunk: the carrier's endpoint, identified by its address.
	if ep := a.cli(t, "pjsip show endpoint trunk"); !strings.Contains(ep, "Match: 127.0.0.1/32") || !strings.Contains(ep, "from-carrier") {
		t.Errorf("trunk endpoint not as pjsip-trunk-ip.conf.sample makes it:\n%s", ep)
	}
}

// freeUDPPort returns a loopback UDP port nothing listens on now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sipp starts SIPp with args in a fresh directory (it writes its traces into the working
// directory); the returned channel gives its exit error. The test's end stops it.
func sipp(t *testing.T, args ...string) (done <-chan error, dir string) {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		unavailable(t, "no sipp: apt-get install sip-tester")
	}
	dir = t.TempDir()
	cmd := exec.Command(bin, append([]string{"-nostdin", "-trace_err", "-trace_msg"}, args...)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		err := cmd.Wait()
		if err != nil {
			err = fmt.Errorf("sipp: %w\n%s", err, tail(out.String(), 2000))
		}
		result <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return result, dir
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func scenario(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// carrierCall places testdata/sipp-carrier-call.xml's call from fromIP to the Asterisk at sipAddr
// (uriParams are added to its Request-URI) and checks it reaches Stasis(hotline,inbound,<did>) on
// the trunk's endpoint with the carrier's caller number, then answers and hangs it up through ARI
// as the controller does, and SIPp sees the call through (200, ACK, then BYE).
func carrierCall(t *testing.T, tg *aritest.Target, events *aritest.Events, sipAddr, fromIP, uriParams string) {
	t.Helper()
	done, _ := sipp(t, "-sf", scenario(t, "sipp-carrier-call.xml"), "-s", testDID, "-key", "uri_params", uriParams,
		"-i", fromIP, "-mi", fromIP, "-p", fmt.Sprint(freeUDPPort(t)), "-m", "1", "-timeout", "30s", "-timeout_error", sipAddr)
	start := events.WaitFor(t, wait, "StasisStart of the carrier's call", aritest.Type("StasisStart", ""))
	ch, _ := start["channel"].(map[string]any)
	id, _ := ch["id"].(string)
	if name, _ := ch["name"].(string); !strings.HasPrefix(name, "PJSIP/trunk-") {
		t.Errorf("channel %q is not on the trunk endpoint", name)
	}
	if caller, _ := ch["caller"].(map[string]any); caller["number"] != carrierNum {
		t.Errorf("caller %v, want number %s", ch["caller"], carrierNum)
	}
	if args, _ := start["args"].([]any); !slices.Equal(args, []any{"inbound", testDID}) {
		t.Errorf("StasisStart args %v, want [inbound %s]", args, testDID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if st, body, err := tg.Do(ctx, http.MethodPost, "/ari/channels/"+id+"/answer", nil); err != nil || st != http.StatusNoContent {
		t.Fatalf("answer: %d %s %v", st, body, err)
	}
	events.WaitFor(t, wait, "the call up", func(ev map[string]any) bool {
		c, _ := ev["channel"].(map[string]any)
		return ev["type"] == "ChannelStateChange" && c["id"] == id && c["state"] == "Up"
	})
	if st, body, err := tg.Do(ctx, http.MethodDelete, "/ari/channels/"+id, nil); err != nil || st != http.StatusNoContent {
		t.Fatalf("hang up: %d %s %v", st, body, err)
	}
	waitSIPp(t, done)
}

// strangerCall sends testdata/sipp-stranger-call.xml's INVITE from fromIP with fromUser in From,
// which Asterisk must refuse with a 401 before any channel exists.
func strangerCall(t *testing.T, events *aritest.Events, sipAddr, fromIP, fromUser string) {
	t.Helper()
	done, _ := sipp(t, "-sf", scenario(t, "sipp-stranger-call.xml"), "-s", testDID, "-key", "from_user", fromUser,
		"-i", fromIP, "-mi", fromIP, "-p", fmt.Sprint(freeUDPPort(t)), "-m", "1", "-timeout", "30s", "-timeout_error", sipAddr)
	waitSIPp(t, done) // it got its 401
	// The 401 came before any channel: nothing of this call can be queued now.
	noStasisStart(t, events, "a stranger's call")
}

// waitSIPp waits for a SIPp run of one call to end, and fails the test if it failed or hung.
func waitSIPp(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("sipp did not finish the call")
	}
}

// noStasisStart fails the test if a StasisStart is among the events already received: what, a
// call that must not have reached the controller, did.
func noStasisStart(t *testing.T, events *aritest.Events, what string) {
	t.Helper()
	for {
		select {
		case ev := <-events.C:
			if ev["type"] == "StasisStart" {
				t.Fatalf("%s reached Stasis: %v", what, ev)
			}
		default:
			return
		}
	}
}

// TestIPTrunk: the carrier, calling from 127.0.0.1 as pjsip-trunk-ip.conf.sample identifies it,
// reaches the controller's Stasis app; a stranger at another address is refused, even one who
// names the trunk in From; past HOTLINE_MAX_CALLS the carrier gets 503.
func TestIPTrunk(t *testing.T) {
	a := realAsterisk(t)
	tg, ok := aritest.RealTarget()
	if !ok {
		unavailable(t, "no real Asterisk for ARI: set %s, %s and %s", aritest.EnvURL, aritest.EnvUser, aritest.EnvPassword)
	}
	tg.Isolate(t)
	events := tg.Connect(t, tg.App) // the test holds the hotline app, as a controller would
	t.Run("carrier", func(t *testing.T) { carrierCall(t, tg, events, a.sip, "127.0.0.1", "") })
	// 127.0.0.2 is loopback too, but no identify matches it.
	t.Run("stranger", func(t *testing.T) { strangerCall(t, events, a.sip, "127.0.0.2", "79160000098") })
	t.Run("stranger as trunk", func(t *testing.T) { strangerCall(t, events, a.sip, "127.0.0.2", "trunk") })
	t.Run("node full", func(t *testing.T) { fullCall(t, a, tg, events) })
}

// fullCall sets HOTLINE_MAX_CALLS to 1 live, fills the node with one caller, and checks that the
// carrier's next call is refused with 503 (cause 34 from [from-carrier]) before reaching Stasis, and
// that Asterisk's log says so.
func fullCall(t *testing.T, a asterisk, tg *aritest.Target, events *aritest.Events) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	tg.NodeCeiling(t, 1)
	first, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: testDID, Number: "79160000097", Name: "First", Context: "caller-long", Entry: "from-carrier"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_, _, _ = tg.Do(context.Background(), http.MethodDelete, "/ari/channels/"+first.ChannelID, nil)
	}()
	events.WaitFor(t, wait, "the first caller in Stasis", aritest.Type("StasisStart", first.ChannelID))

	done, _ := sipp(t, "-sf", scenario(t, "sipp-carrier-refused.xml"), "-s", testDID,
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(freeUDPPort(t)), "-m", "1", "-timeout", "30s", "-timeout_error", a.sip)
	waitSIPp(t, done) // it got its 503
	waitfor.True(t, "the refusal in Asterisk's log", wait, func() bool {
		b, err := os.ReadFile(a.log)
		return err == nil && strings.Contains(string(b), "hotline: node full at HOTLINE_MAX_CALLS=1: caller "+carrierNum)
	})
	noStasisStart(t, events, "a call past HOTLINE_MAX_CALLS")
}

// TestRegistrationTrunk: pjsip-trunk-register.conf.sample, pointed at a registrar (SIPp on a free
// loopback port) and nothing else changed, loads cleanly and registers: SIPp challenges the
// REGISTER, checks the digest against the sample's user and password, and answers 200, which
// Asterisk shows as Registered. The carrier's call to the registered contact (its line parameter)
// then reaches the controller's Stasis app; a call from the same address without it is refused,
// even naming the trunk in From. A second Asterisk is started for it, from the same build.
func TestRegistrationTrunk(t *testing.T) {
	realAsterisk(t) // the build is there
	port := freeUDPPort(t)
	registrar := fmt.Sprintf("127.0.0.1:%d", port)
	done, dir := sipp(t, "-sf", scenario(t, "sipp-registrar.xml"), "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-timeout", "120s")

	run := t.TempDir()
	script, err := filepath.Abs(filepath.Join("..", "scripts", "asterisk.sh"))
	if err != nil {
		t.Fatal(err)
	}
	start := exec.Command(script, "start", run)
	start.Env = append(os.Environ(), "HOTLINE_TEST_REGISTRAR="+registrar)
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("asterisk.sh start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", run).CombinedOutput(); err != nil {
			t.Errorf("asterisk.sh stop: %v\n%s", err, out)
		}
	})
	a := fromEnvFile(t, filepath.Join(run, "env"))

	waitfor.True(t, "the trunk Registered", 2*wait, func() bool {
		select {
		case err := <-done:
			t.Fatalf("the registrar stopped: %v", errors.Join(err, errors.New(readTraces(dir))))
		default:
		}
		return strings.Contains(a.cli(t, "pjsip show registrations"), "Registered")
	})
	for _, p := range startupProblems(t, a.log) {
		t.Errorf("logged while loading the configuration: %s", p)
	}
	msgs := readTraces(dir)
	if !strings.Contains(msgs, "Authorization: Digest") || !strings.Contains(msgs, `username="hotline-user"`) {
		t.Errorf("no authenticated REGISTER in SIPp's trace:\n%s", tail(msgs, 3000))
	}
	// The line parameter Asterisk put in the Contact it registered, as the carrier will send it back.
	m := regexp.MustCompile(`(?m)^Contact: <sip:8800@[^>]*;line=([a-z0-9]+)`).FindStringSubmatch(msgs)
	if m == nil {
		t.Fatalf("no Contact with a line parameter in the REGISTER:\n%s", tail(msgs, 3000))
	}

	tg := &aritest.Target{Name: "asterisk", BaseURL: a.ariURL, User: a.ariUser, Password: a.ariPassword, App: aritest.App, TimeScale: 1}
	events := tg.Connect(t, tg.App)
	t.Run("carrier on the line", func(t *testing.T) { carrierCall(t, tg, events, a.sip, "127.0.0.1", ";line="+m[1]) })
	t.Run("stranger as trunk", func(t *testing.T) { strangerCall(t, events, a.sip, "127.0.0.1", "trunk") })
}

// readTraces returns SIPp's message and error traces in dir.
func readTraces(dir string) string {
	var b strings.Builder
	for _, pat := range []string{"*_messages.log", "*_errors.log"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			b.Write(raw)
		}
	}
	return b.String()
}
