package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultLookupTimeout bounds a lookup when nothing else does: a caller should not wait in silence.
const DefaultLookupTimeout = 2 * time.Second

// maxAnswerBytes bounds a backend's answer; a real one is a few hundred bytes.
const maxAnswerBytes = 64 << 10

// HTTPLookup is a Lookup over the HTTP JSON contract in LOOKUP-API.md:
// GET {Base}/tracking/{number} and GET {Base}/claims/{number}.
type HTTPLookup struct {
	Base    string        // e.g. "http://lookup.internal/api/v1", no trailing slash needed
	Client  *http.Client  // nil: a client of its own (see lookupClient)
	Timeout time.Duration // per request; 0: DefaultLookupTimeout
}

// NewHTTPLookup returns an HTTPLookup for base with the default client and timeout.
func NewHTTPLookup(base string) *HTTPLookup { return &HTTPLookup{Base: base} }

// lookupClient is the lookups' own client, not http.DefaultClient: it follows no redirect (a
// backend that answers 3xx is misconfigured or compromised; the caller's number must not go
// wherever it points), ignores HTTP_PROXY and friends (the backend is an internal service; an
// environment meant for something else must not route callers' numbers through a proxy), and
// bounds every stage, whatever context a caller passes.
var lookupClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   2 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

var pathOf = map[string]string{LookupTracking: "tracking", LookupClaim: "claims"}

// Find asks the backend about number. ErrNotFound on 404; an error for anything else that is not a
// 200 with a JSON Answer.
func (h *HTTPLookup) Find(ctx context.Context, kind, number string) (Answer, error) {
	seg, ok := pathOf[kind]
	if !ok {
		return Answer{}, fmt.Errorf("lookup: unknown kind %q", kind)
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	u := strings.TrimRight(h.Base, "/") + "/" + seg + "/" + url.PathEscape(number)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Answer{}, fmt.Errorf("lookup %s: %w", kind, err)
	}
	req.Header.Set("Accept", "application/json")
	client := h.Client
	if client == nil {
		client = lookupClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("lookup %s: %w", kind, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxAnswerBytes)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		_, _ = io.Copy(io.Discard, body) // let the connection be reused
		return Answer{}, fmt.Errorf("lookup %s: %w", kind, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, body)
		return Answer{}, fmt.Errorf("lookup %s: backend answered %s", kind, resp.Status)
	}
	var a Answer
	if err := json.NewDecoder(body).Decode(&a); err != nil {
		return Answer{}, fmt.Errorf("lookup %s: bad answer: %w", kind, err)
	}
	if a.Status == "" {
		return Answer{}, errors.New("lookup " + kind + ": answer without status")
	}
	return a, nil
}
