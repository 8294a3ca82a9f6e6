package server

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hotline-cc/hotline/config"
)

// TestNewFailsCleanly: a start that fails half way (here on a missing certificate, after Redis, the
// simulator and the gateway are up) returns the reason and stops what it started, without a panic.
func TestNewFailsCleanly(t *testing.T) {
	cfg := config.Default()
	cfg.ARI.Simulate, cfg.Redis.Embedded = true, true
	cfg.Web.Listen, cfg.Softphone.ICEPort = "127.0.0.1:0", 0
	cfg.Web.TLSCert, cfg.Web.TLSKey = "/nonexistent/cert.pem", "/nonexistent/key.pem"
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), cfg, Options{LoopbackOnly: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "tls") || !strings.Contains(err.Error(), "/nonexistent/cert.pem") {
		t.Fatalf("New = %v, want the certificate's error", err)
	}
}
