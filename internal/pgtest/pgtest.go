// Package pgtest starts a PostgreSQL server of its own for one test (internal/pgserver: a cluster
// made by initdb in a temporary folder, on a free loopback port, without fsync). Stop and Start
// take it away and bring it back with its data, for outage tests. It is removed when the test
// ends.
package pgtest

import (
	"context"
	"testing"

	"github.com/hotline-cc/hotline/internal/pgserver"
)

// Server is a PostgreSQL server owned by one test.
type Server struct {
	URL  string // postgres://hotline@127.0.0.1:<port>/postgres?sslmode=disable
	Port int

	tb testing.TB
	c  *pgserver.Cluster
}

// Start makes a cluster and runs it. A machine without PostgreSQL's server binaries fails the test:
// `make test` installs them (Debian's postgresql).
func Start(tb testing.TB) *Server {
	tb.Helper()
	c, err := pgserver.New(context.Background(), "")
	if err != nil {
		tb.Fatalf("%v (run `make test`, which installs postgresql)", err)
	}
	tb.Cleanup(func() { c.Remove() })
	return &Server{URL: c.URL, Port: c.Port, tb: tb, c: c}
}

// Stop shuts the server down, keeping its data.
func (s *Server) Stop() { s.c.Stop() }

// Start brings a stopped server back on its port, with its data.
func (s *Server) Start() {
	s.tb.Helper()
	if err := s.c.Start(context.Background()); err != nil {
		s.tb.Fatalf("restart postgres: %v", err)
	}
}
