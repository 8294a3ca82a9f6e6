// Package records is the center's memory in PostgreSQL: what happened to every call, agent and
// account, kept after Redis has moved on. A Recorder copies the center's Redis streams (the ACD's
// events, the IVR's steps, the audit log) into tables, at least once and idempotently: each row
// is keyed by its stream entry id, so a batch copied twice is one row, and the recorder's position
// in each stream moves in the same transaction as the rows. PostgreSQL may be away for as long as
// the streams keep their entries; calls never wait for it.
package records

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the center's tables in one PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	center  string
	reports chan struct{} // a slot per report running (maxReports)
}

// maxReports is how many reports run at once: each may hold a connection for seconds, and the
// screen pops' lookups and the copy of the streams must find one free.
const maxReports = 3

// Open connects lazily (the first query dials): a controller starts while PostgreSQL is down, and
// its recorder waits for it.
func Open(url, center string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	// One held by the copier's lock, one by its transactions, at most maxReports by reports, the
	// rest for the screen pops' lookups, which must not wait behind a long report.
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return &Store{pool: pool, center: center, reports: make(chan struct{}, maxReports)}, nil
}

// Close closes the connections.
func (s *Store) Close() { s.pool.Close() }

// Migrate brings the schema to this binary's version. Controllers starting together take turns
// (a PostgreSQL session lock).
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("records: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("records: migrate: %w", err)
	}
	return nil
}

// streamID is a Redis stream entry id, <ms>-<seq>.
type streamID struct{ ms, seq int64 }

func parseID(id string) (streamID, error) {
	a, b, ok := strings.Cut(id, "-")
	ms, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("records: stream id %q", id)
	}
	return streamID{ms, seq}, nil
}

func (id streamID) before(o streamID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

func (id streamID) String() string {
	return strconv.FormatInt(id.ms, 10) + "-" + strconv.FormatInt(id.seq, 10)
}

// position is where the recorder stands in a stream ("0-0" before the first entry).
func (s *Store) position(ctx context.Context, stream string) (streamID, error) {
	var id streamID
	err := s.pool.QueryRow(ctx, `SELECT id_ms, id_seq FROM recorder_positions WHERE center = $1 AND stream = $2`,
		s.center, stream).Scan(&id.ms, &id.seq)
	if errors.Is(err, errNoRows) {
		return streamID{}, nil
	}
	return id, err
}
