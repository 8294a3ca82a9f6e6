package softphone_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/softphone"
)

// TestServeTLSSelfSigned: a self-signed certificate for the demo's names, served until the
// context ends, and the session cookie is Secure over TLS.
func TestServeTLSSelfSigned(t *testing.T) {
	cfg, err := softphone.TLSConfig("", "", []string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	desk := newFakeDesk(t, nil)
	srv := softphone.NewServer(nil, desk, softphone.ServerConfig{Accounts: testAccounts(t, account.Config{})}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	desk.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- softphone.ServeTLS(ctx, ln, srv, cfg) }()

	pool := x509.NewCertPool()
	pool.AddCert(cfg.Certificates[0].Leaf)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Post("https://"+ln.Addr().String()+"/agent/login", "application/json",
		strings.NewReader(`{"agent":"a1","password":"secret-a"}`))
	if err != nil {
		t.Fatalf("login over TLS (certificate must verify for 127.0.0.1): %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Fatalf("login over TLS: %d %v, want 200 and a Secure cookie", resp.StatusCode, resp.Cookies())
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("ServeTLS after cancel: %v", err)
	}
	if _, err := softphone.TLSConfig("cert.pem", "", nil); err == nil {
		t.Fatal("TLSConfig took a certificate without a key")
	}
}

// TestNAT1To1: the answer offers the configured public address instead of the host's.
func TestNAT1To1(t *testing.T) {
	gw, err := softphone.NewGateway(softphone.GatewayConfig{
		ICEAddr:      netip.MustParseAddrPort("127.0.0.1:0"),
		LoopbackOnly: true,
		NAT1To1IPs:   []string{"203.0.113.7"},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := gw.Negotiate(ctx, "a1", offer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	port := gw.ICEAddr().Port()
	if !strings.Contains(answer, "203.0.113.7 "+itoa(int(port))) {
		t.Fatalf("answer does not offer 203.0.113.7:%d:\n%s", port, answer)
	}
	if !strings.Contains(answer, "PCMU/8000") || strings.Contains(answer, "opus") {
		t.Fatalf("answer is not PCMU only:\n%s", answer)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
