package ivr

import (
	"context"
	"errors"
)

// Lookup kinds: what a lookup node asks its backend about.
const (
	LookupTracking = "tracking"
	LookupClaim    = "claim"
)

// ErrNotFound: the backend answered and does not know the number. It is an answer, not a failure:
// the caller hears so and may try another number.
var ErrNotFound = errors.New("ivr: number not found")

// Lookup is a self-service backend. Implementations must honour ctx (the flow bounds each lookup with
// the file's lookup_timeout) and return ErrNotFound (wrapped or not) for unknown numbers; any other
// error sends the caller to an agent.
type Lookup interface {
	Find(ctx context.Context, kind, number string) (Answer, error)
}

// Answer is what a backend knows about a number; it is also the JSON body of LOOKUP-API.md.
type Answer struct {
	Number string `json:"number"`
	// Status for tracking: in_transit, arrived, delivered, returned, unknown;
	// for claims: registered, in_review, approved, rejected, paid, unknown.
	// Anything else is spoken as unknown.
	Status string `json:"status"`
	Office string `json:"office,omitempty"` // postcode of the office concerned, spoken digit by digit
	Date   string `json:"date,omitempty"`   // YYYY-MM-DD of the last event
	Detail string `json:"detail,omitempty"` // free text for the agent's screen; never spoken
}

// Statuses each lookup kind may speak; others are spoken as "unknown". Each has a prompt
// "<kind>_<status>" in the catalog.
var lookupStatuses = map[string][]string{
	LookupTracking: {"in_transit", "arrived", "delivered", "returned", "unknown"},
	LookupClaim:    {"registered", "in_review", "approved", "rejected", "paid", "unknown"},
}

// LookupFunc adapts a function to Lookup.
type LookupFunc func(ctx context.Context, kind, number string) (Answer, error)

// Find calls f.
func (f LookupFunc) Find(ctx context.Context, kind, number string) (Answer, error) {
	return f(ctx, kind, number)
}
