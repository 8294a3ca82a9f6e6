package asterisksim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// Asterisk answers some requests before it has finished them. These tests run on the simulator,
// with delays long enough that a request sent at once always lands in them, and on Asterisk, where
// it lands in them only sometimes (there either answer is accepted, the error's body exactly).

// TestCreatedChannelsEnterAppAfterReply: an externalMedia or snoop channel enters the app a moment
// after the reply; until its StasisStart, adding it to a bridge is 422 "Channel not in Stasis
// application", and after it the same request succeeds.
func TestCreatedChannelsEnterAppAfterReply(t *testing.T) {
	cfg := asterisksim.Config{TimeScale: 0.05, StasisDelay: 300 * time.Millisecond}
	aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) {
		ev := tg.Connect(t, tg.App)
		udp := listenUDP(t)
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		br, em, sn := "async-"+run, "em-async-"+run, "sn-async-"+run
		do(t, tg, "POST", "/ari/bridges?type=mixing&bridgeId="+br, nil, 200)
		t.Cleanup(func() { cleanup(tg, "/ari/bridges/"+br) })

		do(t, tg, "POST", "/ari/channels/externalMedia?app="+tg.App+"&channelId="+em+"&format=ulaw&external_host="+udp.LocalAddr().String(), nil, 200)
		t.Cleanup(func() { cleanup(tg, "/ari/channels/"+em) })
		joined := addBeforeStasisStart(t, tg, br, em)
		ev.WaitFor(t, wait, "StasisStart "+em, aritest.Type("StasisStart", em))
		if !joined {
			do(t, tg, "POST", "/ari/bridges/"+br+"/addChannel?channel="+em, nil, 204)
		}

		do(t, tg, "POST", "/ari/channels/"+em+"/snoop?app="+tg.App+"&spy=both&snoopId="+sn, nil, 200)
		t.Cleanup(func() { cleanup(tg, "/ari/channels/"+sn) })
		joined = addBeforeStasisStart(t, tg, br, sn)
		ev.WaitFor(t, wait, "StasisStart "+sn, aritest.Type("StasisStart", sn))
		if !joined {
			do(t, tg, "POST", "/ari/bridges/"+br+"/addChannel?channel="+sn, nil, 204)
		}
	})
}

// addBeforeStasisStart adds a channel just created to a bridge at once: 422 with Asterisk's body
// (always on the simulator here), or, on Asterisk when the channel was quick, 204. It says which.
func addBeforeStasisStart(t *testing.T, tg *aritest.Target, bridge, ch string) bool {
	t.Helper()
	st, body := request(t, tg, "POST", "/ari/bridges/"+bridge+"/addChannel?channel="+ch)
	switch {
	case st == http.StatusNoContent && tg.Sim == nil:
		t.Logf("%s was in the app already", ch)
		return true
	case st != http.StatusUnprocessableEntity:
		t.Fatalf("addChannel %s before its StasisStart: %d %s, want 422", ch, st, body)
	}
	wantMessage(t, body, "Channel not in Stasis application")
	return false
}

// TestBridgeIDTakenAfterDestroy: creating a bridge whose id exists is 409, and so it is for a
// moment after the bridge is destroyed; then the id is free again. The bridge has a member when
// it is destroyed, as a call's does: Asterisk then takes longer to let the id go.
func TestBridgeIDTakenAfterDestroy(t *testing.T) {
	cfg := asterisksim.Config{TimeScale: 0.05, BridgeIDLinger: 300 * time.Millisecond}
	aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) {
		ev := tg.Connect(t, tg.App)
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		id, em := "linger-"+run, "em-linger-"+run
		create := "/ari/bridges?type=mixing&bridgeId=" + id
		do(t, tg, "POST", create, nil, 200)
		t.Cleanup(func() { cleanup(tg, "/ari/bridges/"+id) })
		do(t, tg, "POST", "/ari/channels/externalMedia?app="+tg.App+"&channelId="+em+"&format=ulaw&external_host="+listenUDP(t).LocalAddr().String(), nil, 200)
		t.Cleanup(func() { cleanup(tg, "/ari/channels/"+em) })
		ev.WaitFor(t, wait, "StasisStart "+em, aritest.Type("StasisStart", em))
		do(t, tg, "POST", "/ari/bridges/"+id+"/addChannel?channel="+em, nil, 204)
		taken := "Bridge with id '" + id + "' already exists"
		st, body := request(t, tg, "POST", create)
		if st != http.StatusConflict {
			t.Fatalf("creating an existing bridge: %d %s, want 409", st, body)
		}
		wantMessage(t, body, taken)

		do(t, tg, "DELETE", "/ari/bridges/"+id, nil, 204)
		st, body = request(t, tg, "POST", create)
		switch {
		case st == http.StatusOK && tg.Sim == nil:
			t.Logf("the id was free again already")
			return
		case st != http.StatusConflict:
			t.Fatalf("re-creating a bridge just destroyed: %d %s, want 409", st, body)
		}
		wantMessage(t, body, taken)
		waitfor.True(t, "the id free again", wait, func() bool {
			st, _ = request(t, tg, "POST", create)
			return st == http.StatusOK
		})
	})
}

// request sends one ARI request and returns its status and body.
func request(t *testing.T, tg *aritest.Target, method, path string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	st, body, err := tg.Do(ctx, method, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st, body
}

func wantMessage(t *testing.T, body []byte, want string) {
	t.Helper()
	var got struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Message != want {
		t.Fatalf("error body %s, want {\"message\":%q}", body, want)
	}
}

// cleanup deletes what a test made on a target that outlives it (a real Asterisk).
func cleanup(tg *aritest.Target, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _, _ = tg.Do(ctx, "DELETE", path, nil)
}
