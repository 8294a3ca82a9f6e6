package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/pgtest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
)

// TestSeveralNodesRecording: a supervisor whose page is on controller A plays a recording that node
// B's Asterisk holds, read through controller B over the bus. A caller on node B asks for a claims
// agent (the claims queue records its calls) and p001, whose page is on A, answers, talks for 20 s
// and hangs up. The recording's row reaches PostgreSQL with node ctl-b, and the supervisor's search
// on A lists it; node A's Asterisk has no such file, so A can only have it from B. sup1, logged in
// on A's page, gets its audio: 200, a WAV larger than one of the relay's chunks whose
// Content-Length is what came, holding the conversation (the caller's 440 Hz and p001's 1000 Hz),
// byte for byte what B's own page serves from its Asterisk.
func TestSeveralNodesRecording(t *testing.T) {
	const number = "79160000091"
	// talk is how long p001 and the caller talk: a recording of 8 kHz 16-bit samples, 16 kB a
	// second, larger than the relay's chunk (server.relayChunk, 256 KiB), so that A reads it from B
	// over the bus in more than one request.
	const talk, relayChunk = 20 * time.Second, 256 << 10
	var pg *pgtest.Server
	onTwoNodesWith(t, startRedisServer, func(t *testing.T) func(*config.Config) {
		pg = pgtest.Start(t)
		return func(c *config.Config) { c.Records.Postgres = pg.URL }
	}, func(t *testing.T, n *twoNodes) {
		baseA, baseB := "http://"+n.a.WebAddr().String(), "http://"+n.b.WebAddr().String()
		p001 := connectAgent(t, baseA, "p001", "hotline-demo")
		phone := p001.startAudio(1000)
		p001.setState("available")
		sup := loginSupervisor(t, baseA, "sup1", "hotline-demo")

		caller, err := n.tgB.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: number, Name: "Claim on B", Context: "caller-claims-tone"})
		if err != nil {
			t.Fatal(err)
		}
		id := caller.ChannelID
		p001.waitRinging(id, 30*time.Second)
		if cs, ok := callIn(snapshot(t, n.b.Center()), id); !ok || cs.Owner != "ctl-b" || cs.Queue != "claims" {
			t.Fatalf("the call in the ACD: %+v (found %v), want in the claims queue, owned by ctl-b", cs, ok)
		}
		p001.request("call.answer", map[string]any{"call": id})
		p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", id))
		talkFrom := phone.HeardFor()
		hears := callerEar(t, n.tgB, caller)
		waitfor.True(t, "p001 (page on A) hearing the caller on node B", 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })
		waitfor.True(t, "the caller on node B hearing p001", 15*time.Second, func() bool { return has(hears(500*time.Millisecond), 1000) })
		// Long enough a talk for a recording of more than one of the relay's chunks: the audio p001
		// has heard measures the conversation, which the bridge's recording holds.
		waitfor.True(t, "p001 talking for "+talk.String(), talk+30*time.Second, func() bool { return phone.HeardFor()-talkFrom >= talk })
		p001.request("call.hangup", map[string]any{"call": id})
		waitCallerGone(t, n.tgB, caller, "the caller on node B still up after p001 hung up on A's page")

		// The row, once complete (its end copied too), straight from PostgreSQL: the name is never
		// given to a page.
		ctx := context.Background()
		db, err := pgx.Connect(ctx, pg.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close(ctx)
		var (
			recID            int64
			node, name, q, a string
		)
		waitfor.True(t, "the recording's row, ended, in PostgreSQL", 30*time.Second, func() bool {
			return db.QueryRow(ctx, `SELECT id, node, name, queue, agent FROM recordings WHERE call_id = $1 AND duration_ms IS NOT NULL`, id).
				Scan(&recID, &node, &name, &q, &a) == nil
		})
		if node != "ctl-b" || q != "claims" || a != "p001" {
			t.Fatalf("the recording's row: node %q, queue %q, agent %q; want ctl-b's, of the claims queue, p001's", node, q, a)
		}
		stored := "/ari/recordings/stored/" + url.PathEscape(name)
		t.Cleanup(func() { n.tgB.Do(context.Background(), http.MethodDelete, stored, nil) })

		// What the page lists, from A.
		resp := sup.get("/supervisor/api/recordings?number=" + number)
		var found struct {
			Recordings []struct {
				ID    int64  `json:"id"`
				Call  string `json:"call_id"`
				Node  string `json:"node"`
				Audio string `json:"audio"`
			} `json:"recordings"`
		}
		err = json.NewDecoder(resp.Body).Decode(&found)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("search the recordings on A: %s (%v)", resp.Status, err)
		}
		if len(found.Recordings) != 1 || found.Recordings[0].ID != recID || found.Recordings[0].Call != id || found.Recordings[0].Node != "ctl-b" {
			t.Fatalf("the recordings of %s on A's page: %+v, want the one of call %s (id %d, ctl-b's)", number, found.Recordings, id, recID)
		}
		audioPath := "/supervisor/" + found.Recordings[0].Audio

		// Asterisk has written the file whole once the recording is no longer live.
		waitfor.True(t, "node B's Asterisk done with the recording", 15*time.Second, func() bool {
			live, _, err1 := n.tgB.Do(ctx, http.MethodGet, "/ari/recordings/live/"+url.PathEscape(name), nil)
			st, _, err2 := n.tgB.Do(ctx, http.MethodGet, stored, nil)
			return err1 == nil && err2 == nil && live == http.StatusNotFound && st == http.StatusOK
		})
		if st, body, err := n.tgA.Do(ctx, http.MethodGet, stored, nil); err != nil || st != http.StatusNotFound {
			t.Fatalf("node A's Asterisk on node B's recording: %d %s %v, want 404", st, body, err)
		}

		fromA, length := fetchRecording(t, sup, audioPath)
		if length < 0 {
			t.Error("the recording through A came without a Content-Length: the relay knows the size from the first chunk")
		}
		if len(fromA) <= 44 || string(fromA[:4]) != "RIFF" || string(fromA[8:12]) != "WAVE" {
			t.Fatalf("the recording through A: %d bytes starting %q, want a WAV with audio", len(fromA), fromA[:min(12, len(fromA))])
		}
		if len(fromA) <= relayChunk {
			t.Errorf("the recording through A: %d bytes, want over %d, a talk of %v: more than one chunk of the relay", len(fromA), relayChunk, talk)
		}
		pcm := wavSamples(t, fromA)
		t.Logf("the recording through A: %d bytes, %v of audio", len(fromA), time.Duration(len(pcm))*time.Second/media.SampleRate)
		if !has(pcm, 440) || !has(pcm, 1000) {
			t.Errorf("the recording (%d samples) lacks the conversation: the caller's 440 Hz %v, p001's 1000 Hz %v", len(pcm), has(pcm, 440), has(pcm, 1000))
		}
		fromB, _ := fetchRecording(t, loginSupervisor(t, baseB, "sup1", "hotline-demo"), audioPath)
		if !bytes.Equal(fromA, fromB) {
			t.Errorf("the recording through A (%d bytes) differs from what B serves (%d bytes)", len(fromA), len(fromB))
		}
	})
}

// fetchRecording gets a recording's audio as the supervisor's page plays it: 200, an audio type,
// and a Content-Length, when sent, that is what came. It returns the body and the Content-Length
// (-1 when not sent).
func fetchRecording(t *testing.T, s *supervisorClient, path string) ([]byte, int64) {
	t.Helper()
	resp := s.get(path)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s at %s: %v after %d bytes", path, s.base, err, len(body))
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s at %s: %s %s", path, s.base, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "audio/") {
		t.Errorf("%s at %s: Content-Type %q", path, s.base, ct)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(body)) {
		t.Errorf("%s at %s: Content-Length %d, %d bytes came", path, s.base, resp.ContentLength, len(body))
	}
	return body, resp.ContentLength
}

// wavSamples reads the 16-bit samples of a WAV's data chunk.
func wavSamples(t *testing.T, wav []byte) []int16 {
	t.Helper()
	for off := 12; off+8 <= len(wav); {
		id, size := string(wav[off:off+4]), int(binary.LittleEndian.Uint32(wav[off+4:off+8]))
		off += 8
		if id == "data" {
			data := wav[off:min(off+size, len(wav))]
			pcm := make([]int16, len(data)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			return pcm
		}
		off += size + size%2
	}
	t.Fatalf("no data chunk in the WAV (%d bytes)", len(wav))
	return nil
}
