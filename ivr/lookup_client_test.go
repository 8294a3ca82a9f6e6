package ivr

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestHTTPLookupFollowsNoRedirect: a backend that answers 3xx does not send the caller's number
// (and the lookup) wherever it points; the lookup fails instead.
func TestHTTPLookupFollowsNoRedirect(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"delivered"}`)
	}))
	defer elsewhere.Close()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer backend.Close()

	a, err := (&HTTPLookup{Base: backend.URL}).Find(context.Background(), LookupTracking, "10100012345678")
	if err == nil {
		t.Errorf("lookup through a redirect = %+v, want an error", a)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want 0", n)
	}
}

// TestHTTPLookupClientOwnTransport: the default lookup client is not http.DefaultClient, takes no
// proxy from the environment, and bounds the whole request.
func TestHTTPLookupClientOwnTransport(t *testing.T) {
	if lookupClient == http.DefaultClient {
		t.Fatal("the lookup client is http.DefaultClient")
	}
	tr, ok := lookupClient.Transport.(*http.Transport)
	if !ok || tr == http.DefaultTransport {
		t.Fatalf("transport %T: want a transport of its own", lookupClient.Transport)
	}
	if tr.Proxy != nil {
		t.Error("the lookup transport takes a proxy (HTTP_PROXY): want none")
	}
	if lookupClient.Timeout <= 0 || tr.ResponseHeaderTimeout <= 0 || tr.TLSHandshakeTimeout <= 0 {
		t.Errorf("timeouts: client %v, header %v, tls %v: want all set", lookupClient.Timeout, tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout)
	}
}
