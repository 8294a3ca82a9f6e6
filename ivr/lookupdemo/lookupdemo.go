// Package lookupdemo is a self-service backend with fixture data, serving the HTTP JSON contract of
// ivr/LOOKUP-API.md. `make demo` mounts it so the real ivr.HTTPLookup client runs against it, and tests
// serve it with httptest. It is a demonstration, not a tracking system: numbers not in the fixtures
// are 404, and one fixture of each kind answers 500 so the failure path can be shown.
package lookupdemo

import (
	"encoding/json"
	"net/http"

	"github.com/hotline-cc/hotline/ivr"
)

// Fixture numbers, valid under ivr's check digits (see checkdigit.go), for tests and demos.
const (
	TrackingInTransit = "10100012345674" // domestic, 101000 Moscow, in transit
	TrackingArrived   = "20000111111118" // domestic, arrived at 200001
	TrackingDelivered = "63007100000014" // domestic, delivered
	TrackingReturned  = "10112000000007" // domestic, returned to sender
	TrackingS10       = "473124829"      // S10 RA473124829CN keyed as its 9 digits: arrived
	TrackingBroken    = "14500500123450" // the backend fails (500) for this one
	ClaimInReview     = "1000000008"
	ClaimApproved     = "2000000006"
	ClaimPaid         = "3000000004"
	ClaimBroken       = "1234567897" // the backend fails (500)
)

// Tracking and Claims are the fixtures, keyed by the number as the IVR sends it.
var (
	Tracking = map[string]ivr.Answer{
		TrackingInTransit: {Number: TrackingInTransit, Status: "in_transit", Office: "101000", Date: "2026-11-20", Detail: "Moscow sorting centre"},
		TrackingArrived:   {Number: TrackingArrived, Status: "arrived", Office: "200001", Date: "2026-11-24", Detail: "awaiting collection"},
		TrackingDelivered: {Number: TrackingDelivered, Status: "delivered", Office: "630071", Date: "2026-11-02"},
		TrackingReturned:  {Number: TrackingReturned, Status: "returned", Office: "101120", Date: "2026-10-15", Detail: "not collected in 30 days"},
		TrackingS10:       {Number: "RA473124829CN", Status: "arrived", Office: "140961", Date: "2026-11-25", Detail: "international, customs cleared"},
	}
	Claims = map[string]ivr.Answer{
		ClaimInReview: {Number: ClaimInReview, Status: "in_review", Date: "2026-11-18"},
		ClaimApproved: {Number: ClaimApproved, Status: "approved", Date: "2026-11-10"},
		ClaimPaid:     {Number: ClaimPaid, Status: "paid", Date: "2026-09-30", Detail: "1500 RUB"},
	}
	broken = map[string]bool{TrackingBroken: true, ClaimBroken: true}
)

// Handler serves GET /tracking/{number} and GET /claims/{number} from the fixtures. Mount it under
// the base path the client uses, with http.StripPrefix if that is not "/".
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tracking/{number}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, Tracking, r.PathValue("number"))
	})
	mux.HandleFunc("GET /claims/{number}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, Claims, r.PathValue("number"))
	})
	return mux
}

func answer(w http.ResponseWriter, fixtures map[string]ivr.Answer, number string) {
	w.Header().Set("Content-Type", "application/json")
	if broken[number] {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"backend_unavailable"}` + "\n"))
		return
	}
	a, ok := fixtures[number]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not_found"}` + "\n"))
		return
	}
	_ = json.NewEncoder(w).Encode(a)
}
