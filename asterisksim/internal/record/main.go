// Command record runs scripted ARI scenarios against a real Asterisk 22 and writes each as a
// transcript: one JSON object a line, in the format of shared/ari-transcripts (see
// asterisksim/testdata/transcripts/README.md for the three fields it adds). asterisksim's
// TestConformance replays them against the simulator and against Asterisk.
//
//	scripts/asterisk.sh start /tmp/ast-rec
//	set -a; . /tmp/ast-rec/env; set +a
//	go run ./asterisksim/internal/record -out asterisksim/testdata/transcripts [-run regexp]
//
// The Asterisk must run the shipped asterisk-config/ with the test callers
// (asterisk-config/test/extensions-test.conf), as scripts/asterisk.sh starts it, and nothing else
// may use its Stasis app meanwhile: the scenarios count on no other channel being in it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// scenario is one transcript: name.jsonl. probe, if set, first runs trials on a session of its own
// whose transcript is dropped: what timing decides is not replayable, so the transcript tells it in
// notes (the lines probe returns) and replays only what does not depend on timing.
type scenario struct {
	name  string
	probe func(s *session) []string
	run   func(s *session)
}

var scenarios = []scenario{
	{"play-media-list", nil, playMediaList},
	{"originate-ids", nil, originateIDs},
	{"app-handover", nil, appHandover},
	{"user-event-inactive-app", nil, userEventInactiveApp},
	{"external-media-late-stasis", nil, externalMediaLateStasis},
	{"snoop-late-stasis", nil, snoopLateStasis},
	{"bridge-recreate", bridgeRecreateProbe, bridgeRecreate},
	{"bridge-record", nil, bridgeRecord},
}

func main() {
	out := flag.String("out", "asterisksim/testdata/transcripts", "directory to write <scenario>.jsonl into")
	only := flag.String("run", "", "record only the scenarios whose name matches this regular expression")
	flag.Parse()
	base := strings.TrimSuffix(strings.TrimSuffix(os.Getenv("HOTLINE_TEST_ARI_URL"), "/"), "/ari")
	user, pass := os.Getenv("HOTLINE_TEST_ARI_USER"), os.Getenv("HOTLINE_TEST_ARI_PASSWORD")
	if base == "" || user == "" {
		fmt.Fprintln(os.Stderr, "record: set HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and HOTLINE_TEST_ARI_PASSWORD (scripts/asterisk.sh start writes them)")
		os.Exit(2)
	}
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintf(os.Stderr, "record: -run: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "record: %v\n", err)
		os.Exit(1)
	}
	failed := false
	for _, sc := range scenarios {
		if !re.MatchString(sc.name) {
			continue
		}
		if err := record(ctx, sc, base, user, pass, *out); err != nil {
			fmt.Fprintf(os.Stderr, "record: %s: %v\n", sc.name, err)
			failed = true
			continue
		}
		fmt.Printf("record: %s.jsonl written\n", sc.name)
	}
	if failed {
		os.Exit(1)
	}
}

// record runs one scenario on a clean Asterisk and writes its transcript.
func record(ctx context.Context, sc scenario, base, user, pass, out string) error {
	var notes []string
	if sc.probe != nil {
		if err := run(ctx, base, user, pass, func(s *session) { notes = sc.probe(s) }); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
	}
	var s *session
	err := run(ctx, base, user, pass, func(rs *session) {
		s = rs
		for _, n := range notes {
			s.note("%s", n)
		}
		sc.run(s)
	})
	if err != nil {
		if s == nil {
			return err
		}
		// What was recorded up to the failure, for finding out why.
		_ = os.WriteFile(filepath.Join(out, sc.name+".jsonl.failed"), s.transcript(), 0o644)
		return err
	}
	return os.WriteFile(filepath.Join(out, sc.name+".jsonl"), s.transcript(), 0o644)
}

// run gives f a session on an idle Asterisk with WebSocket 1 open, and tears it down after.
func run(ctx context.Context, base, user, pass string, f func(s *session)) (err error) {
	s := newSession(ctx, base, user, pass, "hotline")
	defer func() {
		if r := recover(); r != nil {
			fail, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = fail.err
		}
		s.teardown()
	}()
	s.waitIdle()
	s.connect(1, s.app)
	s.restartClock()
	f(s)
	s.stop()
	return nil
}

// waitIdle waits until Asterisk has no channels and no bridges, so that a scenario's outcome
// (which ids are taken, whether the app has channels) depends on it alone.
func (s *session) waitIdle() {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ch, br := s.quiet(http.MethodGet, "/ari/channels"), s.quiet(http.MethodGet, "/ari/bridges")
		if ch.status == 200 && br.status == 200 && string(ch.raw) == "[]" && string(br.raw) == "[]" {
			return
		}
		if time.Now().After(deadline) {
			s.fatalf("asterisk is not idle: channels %s, bridges %s", ch.raw, br.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// teardown hangs up what a scenario left, unrecorded, and closes its WebSockets.
func (s *session) teardown() {
	s.stop()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failure); !ok {
				panic(r)
			}
			fmt.Fprintf(os.Stderr, "record: teardown: %v\n", r.(failure).err)
		}
	}()
	for _, list := range []string{"channels", "bridges"} {
		var items []map[string]any
		resp := s.quiet(http.MethodGet, "/ari/"+list)
		if err := json.Unmarshal(resp.raw, &items); err != nil {
			continue
		}
		for _, it := range items {
			if id, _ := it["id"].(string); id != "" {
				s.quiet(http.MethodDelete, "/ari/"+list+"/"+id)
			}
		}
	}
	for n, c := range s.conns {
		_ = c.ws.Close(websocket.StatusNormalClosure, "")
		<-c.done
		delete(s.conns, n)
	}
	for _, f := range s.closers {
		f()
	}
}
