package softphone_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"github.com/hotline-cc/hotline/account"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/softphone"
)

// TestTURNRESTCredential: coturn's use-auth-secret scheme, against a vector made by another
// implementation:
//
//	printf '%s' '1767225600:p001' | openssl dgst -sha1 -hmac 'north-star-secret-0123' -binary | base64
func TestTURNRESTCredential(t *testing.T) {
	turn := softphone.TURNREST{URLs: []string{"turn:turn.example.net:3478"}, Secret: "north-star-secret-0123", TTL: 24 * time.Hour}
	got := turn.Server("p001", time.Unix(1767225600, 0).Add(-24*time.Hour))
	if got.Username != "1767225600:p001" || got.Credential != "dZC2QAfeHt1z5b6L1Fc5QOLSZEs=" {
		t.Fatalf("username %q credential %q, want 1767225600:p001 and dZC2QAfeHt1z5b6L1Fc5QOLSZEs=", got.Username, got.Credential)
	}
	if len(got.URLs) != 1 || got.URLs[0] != "turn:turn.example.net:3478" {
		t.Fatalf("urls %v", got.URLs)
	}
}

// TestHelloTURNCredentials: each logged-in agent's page gets TURN credentials of its own, naming
// it and expiring after the TTL, beside the static servers; without a session there is no page
// config at all.
func TestHelloTURNCredentials(t *testing.T) {
	const secret, ttl = "a-shared-secret-of-some-length", 10 * time.Hour
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gw, err := softphone.NewGateway(softphone.GatewayConfig{
		ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true,
		ICEServers: []softphone.ICEServer{{URLs: []string{"stun:stun.example.net:3478"}}},
		TURN:       &softphone.TURNREST{URLs: []string{"turns:turn.example.net:5349"}, Secret: secret, TTL: ttl},
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	desk := newFakeDesk(t, gw)
	srv := softphone.NewServer(gw, desk, softphone.ServerConfig{StatsInterval: -1, Accounts: testAccounts(t, account.Config{})}, log)
	desk.srv = srv
	mux := http.NewServeMux()
	mux.Handle("/agent/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); hs.Close() })

	if resp, err := http.Get(hs.URL + "/agent/ws"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("page config without a session: %d, want 401", resp.StatusCode)
	}
	for _, agent := range []struct{ id, password string }{{"a1", "secret-a"}, {"b1", "secret-b"}} {
		c, resp := login(t, hs.URL, agent.id, agent.password)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("login %s: %d", agent.id, resp.StatusCode)
		}
		before := time.Now()
		hello := readHello(t, hs.URL, c)
		after := time.Now()
		if len(hello.ICEServers) != 2 || hello.ICEServers[0].URLs[0] != "stun:stun.example.net:3478" || hello.ICEServers[0].Username != "" {
			t.Fatalf("%s: ice servers %+v, want the STUN server then the TURN one", agent.id, hello.ICEServers)
		}
		turn := hello.ICEServers[1]
		expiry, id, ok := strings.Cut(turn.Username, ":")
		if !ok || id != agent.id || turn.URLs[0] != "turns:turn.example.net:5349" {
			t.Fatalf("%s: TURN server %+v, want a username naming the agent", agent.id, turn)
		}
		exp, err := strconv.ParseInt(expiry, 10, 64)
		if err != nil || exp < before.Add(ttl).Unix() || exp > after.Add(ttl).Unix() {
			t.Errorf("%s: expiry %q, want now + %v", agent.id, expiry, ttl)
		}
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write([]byte(turn.Username))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); turn.Credential != want {
			t.Errorf("%s: credential %q, want %q", agent.id, turn.Credential, want)
		}
	}
}

func readHello(t *testing.T, base string, c *http.Client) softphone.Hello {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/agent/ws", &websocket.DialOptions{HTTPClient: c})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hello struct {
		Type string `json:"type"`
		softphone.Hello
	}
	if err := json.Unmarshal(b, &hello); err != nil || hello.Type != softphone.MsgHello {
		t.Fatalf("first message %s (%v), want hello", b, err)
	}
	return hello.Hello
}
