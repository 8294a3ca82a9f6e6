package lookupdemo_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
)

// Fixture numbers must pass the IVR's own checks, or a demo caller could never reach them.
func TestFixturesAreValidNumbers(t *testing.T) {
	for n := range lookupdemo.Tracking {
		if !ivr.ValidTracking(n) {
			t.Errorf("tracking fixture %s fails its check digit", n)
		}
	}
	if !ivr.ValidTracking(lookupdemo.TrackingBroken) {
		t.Error("TrackingBroken fails its check digit")
	}
	for n := range lookupdemo.Claims {
		if len(n) != 10 {
			t.Errorf("claim fixture %s is not 10 digits", n)
		}
	}
}

func TestHandlerCodes(t *testing.T) {
	h := lookupdemo.Handler()
	for path, code := range map[string]int{
		"/tracking/" + lookupdemo.TrackingArrived: http.StatusOK,
		"/tracking/" + lookupdemo.TrackingBroken:  http.StatusInternalServerError,
		"/tracking/1":                             http.StatusNotFound,
		"/claims/" + lookupdemo.ClaimPaid:         http.StatusOK,
		"/other":                                  http.StatusNotFound,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != code {
			t.Errorf("%s: %d, want %d", path, rec.Code, code)
		}
	}
}
