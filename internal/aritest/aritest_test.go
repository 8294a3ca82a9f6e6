package aritest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
)

func TestRealTargetFromEnv(t *testing.T) {
	tests := []struct {
		name, url, user string
		wantOK          bool
		wantBase        string
	}{
		{"unset", "", "", false, ""},
		{"no user", "http://127.0.0.1:8088", "", false, ""},
		{"plain", "http://127.0.0.1:8088", "hotline", true, "http://127.0.0.1:8088"},
		{"with /ari/", "http://127.0.0.1:8088/ari/", "hotline", true, "http://127.0.0.1:8088"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvURL, tc.url)
			t.Setenv(EnvUser, tc.user)
			t.Setenv(EnvPassword, "secret")
			tg, ok := RealTarget()
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if ok && tg.BaseURL != tc.wantBase {
				t.Fatalf("BaseURL = %q, want %q", tg.BaseURL, tc.wantBase)
			}
		})
	}
}

// TestRealPairFromEnv: the pair needs both nodes named, and two different ones.
func TestRealPairFromEnv(t *testing.T) {
	tests := []struct {
		name, url1, url2 string
		wantOK           bool
	}{
		{"none", "", "", false},
		{"first only", "http://127.0.0.1:8088", "", false},
		{"second only", "", "http://127.0.0.1:8089", false},
		{"the same twice", "http://127.0.0.1:8088", "http://127.0.0.1:8088/ari", false},
		{"two", "http://127.0.0.1:8088", "http://127.0.0.1:8089/ari", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvURL, tc.url1)
			t.Setenv(EnvUser, "hotline")
			t.Setenv(EnvPassword, "secret")
			t.Setenv(EnvURL2, tc.url2)
			t.Setenv(EnvUser2, "hotline")
			t.Setenv(EnvPassword2, "secret2")
			a, b, ok := RealPair()
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if ok && (a.BaseURL != "http://127.0.0.1:8088" || b.BaseURL != "http://127.0.0.1:8089" || b.Password != "secret2") {
				t.Fatalf("pair = %+v, %+v", a, b)
			}
		})
	}
}

// TestCallerDriver places a caller through the driver on every target and sees it enter Stasis.
func TestCallerDriver(t *testing.T) {
	Run(t, asterisksim.Config{TimeScale: 0.05}, func(t *testing.T, tg *Target) {
		ev := tg.Connect(t, tg.App)
		ctx := context.Background()
		call, err := tg.Callers.Dial(ctx, CallerSpec{DID: "8800", Number: "100", Name: "Test", Context: "caller-hangup"})
		if err != nil {
			t.Fatal(err)
		}
		ev.WaitFor(t, 10*time.Second, "StasisStart", Type("StasisStart", call.ChannelID))
		st, body, err := tg.Do(ctx, http.MethodPost, "/ari/channels/"+call.ChannelID+"/answer", nil)
		if err != nil || st != http.StatusNoContent {
			t.Fatalf("answer: %d %s %v", st, body, err)
		}
		// caller-hangup waits 2 s after the answer, then hangs up.
		ev.WaitFor(t, 10*time.Second, "StasisEnd", Type("StasisEnd", call.ChannelID))
	})
}
