package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Reloader holds the current menus and replaces them when the file changes. New calls get the new
// version; calls in progress keep the *Menus they started with (Flows takes it once per call).
// A file that does not load is refused, its errors logged, and the old version stays.
type Reloader struct {
	path string
	opts []LoadOption
	log  *slog.Logger
	cur  atomic.Pointer[Menus]

	mu sync.Mutex // serialises reloads; guards modTime and size
	// modTime and size of the file last seen, so polling reloads only on change.
	modTime time.Time
	size    int64
}

// NewReloader loads path; it fails if the file does not load, since there is no old version to keep.
func NewReloader(path string, log *slog.Logger, opts ...LoadOption) (*Reloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{path: path, opts: opts, log: log}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Current returns the menus new calls should run.
func (r *Reloader) Current() *Menus { return r.cur.Load() }

// Reload re-reads the file now. On error the current menus stay and the error says why.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, statErr := os.Stat(r.path)
	m, err := LoadFile(r.path, r.opts...)
	if err != nil {
		r.log.Error("menu file refused; keeping the current menus", "file", r.path, "err", err)
		return fmt.Errorf("ivr: reload %s: %w", r.path, err)
	}
	if statErr == nil {
		r.modTime, r.size = st.ModTime(), st.Size()
	}
	r.cur.Store(m)
	r.log.Info("menus loaded", "file", r.path, "menus", m.MenuIDs())
	return nil
}

// Run reloads when a value arrives on trigger (wire SIGHUP to it) and, if poll > 0, whenever the
// file's modification time or size changes, until ctx ends. Reload errors are logged, never fatal.
func (r *Reloader) Run(ctx context.Context, trigger <-chan os.Signal, poll time.Duration) error {
	var tick <-chan time.Time
	if poll > 0 {
		t := time.NewTicker(poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return ctx.Err()
		case <-trigger:
			_ = r.Reload()
		case <-tick:
			st, err := os.Stat(r.path)
			if err != nil {
				r.log.Warn("cannot stat menu file", "file", r.path, "err", err)
				continue
			}
			r.mu.Lock()
			changed := !st.ModTime().Equal(r.modTime) || st.Size() != r.size
			r.mu.Unlock()
			if changed {
				_ = r.Reload()
			}
		}
	}
}
