// Package pgserver runs a throwaway PostgreSQL cluster from Debian's binaries: initdb in a folder
// of its own, postgres on a free loopback port, trust authentication for its one user, no fsync.
// The demo keeps its records in one; tests start one each (internal/pgtest).
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running (or stopped) PostgreSQL cluster.
type Cluster struct {
	URL  string // postgres://hotline@127.0.0.1:<port>/postgres?sslmode=disable
	Port int

	root string // the cluster's folder: data/ and the log
	bin  string
	cred *syscall.Credential

	mu       sync.Mutex
	cmd      *exec.Cmd
	waitExit chan error
	log      *os.File
}

// ErrNoBinaries is returned when PostgreSQL's server binaries are not installed.
var ErrNoBinaries = errors.New("PostgreSQL's initdb not found in /usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)")

// New makes a cluster in a new folder under parent ("" for the system's temporary folder) and
// starts it. Remove removes the folder.
func New(ctx context.Context, parent string) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	// postgres refuses to run as root, and the user it runs as must reach the folder.
	root, err := os.MkdirTemp(parent, "hotline-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{root: root, bin: bin}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(root)
		return nil, err
	}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return fail(err)
		}
		if err := os.Chown(root, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fail(err)
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "hotline", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	var lastErr error
	for range 5 {
		if c.Port, err = freePort(); err != nil {
			return fail(err)
		}
		c.URL = fmt.Sprintf("postgres://hotline@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
		if lastErr = c.Start(ctx); lastErr == nil {
			return c, nil
		}
	}
	return fail(fmt.Errorf("start postgres: %w", lastErr))
}

func (c *Cluster) dataDir() string { return filepath.Join(c.root, "data") }

// Start runs a stopped cluster again, on its port, with its data, and waits until it answers.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return errors.New("pgserver: already running")
	}
	logf, err := os.OpenFile(filepath.Join(c.root, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.dataDir(), "-p", strconv.Itoa(c.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+c.root,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB", "-c", "max_connections=60")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.URL)
		if err == nil {
			conn.Close(ctx)
			c.cmd, c.log, c.waitExit = cmd, logf, exited
			return nil
		}
		select {
		case werr := <-exited:
			logf.Close()
			b, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("postgres exited (%v): %s", werr, tail(string(b)))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			logf.Close()
			return fmt.Errorf("postgres on port %d did not answer: %w", c.Port, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the cluster down (fast: sessions are cut, data is kept) and waits for it.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.waitExit:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.waitExit
	}
	c.log.Close()
	c.cmd = nil
}

// Remove stops the cluster and deletes its folder.
func (c *Cluster) Remove() error {
	c.Stop()
	return os.RemoveAll(c.root)
}

// BinDir finds the PostgreSQL server binaries: $HOTLINE_PG_BINDIR, or Debian's newest
// /usr/lib/postgresql/<version>/bin, or initdb on PATH.
func BinDir() (string, error) {
	if d := os.Getenv("HOTLINE_PG_BINDIR"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoBinaries
}

// version is the major version in a Debian path (/usr/lib/postgresql/15/bin/initdb → 15).
func version(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, postgres needs a user of its own: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}
