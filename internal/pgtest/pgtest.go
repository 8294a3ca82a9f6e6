// Package pgtest starts a PostgreSQL server of its own for one test, from Debian's binaries: a
// cluster made by initdb in a temporary folder, on a free loopback port, without fsync. Stop and
// Start take it away and bring it back with its data, for outage tests. It is stopped and removed
// when the test ends.
package pgtest

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
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server owned by one test.
type Server struct {
	URL  string // postgres://hotline@127.0.0.1:<port>/postgres?sslmode=disable
	Port int

	tb   testing.TB
	bin  string // the folder of initdb and postgres
	dir  string // the cluster's data
	cred *syscall.Credential

	mu       sync.Mutex
	cmd      *exec.Cmd
	waitExit chan error // the running process's Wait
	log      *os.File
}

// Start makes a cluster and runs it. A machine without PostgreSQL's server binaries fails the test:
// `make test` installs them (Debian's postgresql).
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		tb.Fatalf("%v (run `make test`, which installs postgresql)", err)
	}
	// Not t.TempDir: postgres refuses to run as root, and the user it runs as must reach the folder.
	root, err := os.MkdirTemp("", "hotline-pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	s := &Server{tb: tb, bin: bin, dir: filepath.Join(root, "data")}
	if os.Geteuid() == 0 {
		cred, err := postgresUser()
		if err != nil {
			tb.Fatal(err)
		}
		s.cred = cred
		if err := os.Chown(root, int(cred.Uid), int(cred.Gid)); err != nil {
			tb.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", s.dir, "-U", "hotline", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		s.Port = port
		s.URL = fmt.Sprintf("postgres://hotline@127.0.0.1:%d/postgres?sslmode=disable", port)
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	tb.Fatalf("start postgres: %v", lastErr)
	return nil
}

// Start brings a stopped server back on its port, with its data.
func (s *Server) Start() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("restart postgres: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(s.dir), "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.dir, "-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+filepath.Dir(s.dir),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB", "-c", "max_connections=60")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.URL)
		if err == nil {
			c.Close(ctx)
			s.cmd, s.log, s.waitExit = cmd, logf, exited
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
			return fmt.Errorf("postgres on port %d did not answer: %w", s.Port, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down (fast mode: sessions cut, data kept) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.waitExit:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.waitExit
	}
	s.log.Close()
	s.cmd = nil
}

// binDir finds the PostgreSQL server binaries: $HOTLINE_PG_BINDIR, or Debian's newest
// /usr/lib/postgresql/<version>/bin, or initdb on PATH.
func binDir() (string, error) {
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
	return "", errors.New("PostgreSQL's initdb not found in /usr/lib/postgresql/*/bin or on PATH")
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
