package redistest

import (
	"context"
	"testing"
)

func TestStart(t *testing.T) {
	c := Start(t).Client(t)
	if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(context.Background(), "k").Val(); got != "v" {
		t.Fatalf("get = %q", got)
	}
}
