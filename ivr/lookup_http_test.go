package ivr_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
)

func TestHTTPLookupAgainstDemo(t *testing.T) {
	srv := httptest.NewServer(lookupdemo.Handler())
	defer srv.Close()
	l := &ivr.HTTPLookup{Base: srv.URL + "/", Client: srv.Client()}
	ctx := context.Background()

	a, err := l.Find(ctx, ivr.LookupTracking, lookupdemo.TrackingInTransit)
	if err != nil || a.Status != "in_transit" || a.Office != "101000" || a.Date != "2026-11-20" {
		t.Errorf("tracking: %+v, %v", a, err)
	}
	if a, err := l.Find(ctx, ivr.LookupClaim, lookupdemo.ClaimApproved); err != nil || a.Status != "approved" {
		t.Errorf("claim: %+v, %v", a, err)
	}
	if _, err := l.Find(ctx, ivr.LookupTracking, "10100012345681"); !errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("unknown number: %v, want ErrNotFound", err)
	}
	if _, err := l.Find(ctx, ivr.LookupTracking, lookupdemo.TrackingBroken); err == nil || errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("500: %v, want a failure", err)
	}
	if _, err := l.Find(ctx, "parcel", "1"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestHTTPLookupFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"bad json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":`)) }},
		{"no status", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"number":"1"}`)) }},
		{"503", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) }},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select { // hold the answer until the client gives up or the test ends
			case <-r.Context().Done():
			case <-release:
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			l := &ivr.HTTPLookup{Base: srv.URL, Client: srv.Client(), Timeout: 10 * time.Millisecond}
			_, err := l.Find(context.Background(), ivr.LookupTracking, "10100012345674")
			if err == nil || errors.Is(err, ivr.ErrNotFound) {
				t.Errorf("err = %v, want a failure", err)
			}
		})
	}
}
