// Package redistest starts real redis-server processes on free loopback ports for one test: a lone
// server (Start, StartWith for TLS and ACL users), a primary with replicas watched by three sentinels
// (StartSentinel), and a Redis Cluster (StartCluster). Each is stopped when the test ends.
package redistest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvRequire, when set (or CI=true), makes a test that cannot start what it needs fail instead of
// skipping.
const EnvRequire = "HOTLINE_TEST_REQUIRE_REDIS"

// SkipOrFail skips the test with why, or fails it when Redis topologies are required.
func SkipOrFail(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv(EnvRequire) != "" || os.Getenv("CI") == "true" {
		tb.Fatalf("required Redis test cannot run: %s", why)
	}
	tb.Skip(why)
}

// Server is a redis-server process owned by one test.
type Server struct {
	Addr string
	Port int
	dir  string
	cmd  *exec.Cmd
	stop sync.Once
	bin  string // what start ran, for Restart
	args []string
	mu   sync.Mutex // cmd and dead, across Restart and Stop
	dead bool       // killed and not restarted
	// how the helper itself logs in (TLS and an admin user when the server has ACL users)
	tls            *tls.Config
	user, password string
}

// Options shape a server started by StartWith.
type Options struct {
	// TLS serves TLS only (no plain-text port), with the server certificate of certs; clients must
	// present a certificate signed by its CA.
	TLS *Certs
	// Users are ACL rules, each the rest of a redis.conf `user` line ("app on >pw ~{app}:* +@all").
	// With any, the default user is turned off; the helper logs in as an admin user of its own.
	Users []string
	// Conf are more redis.conf lines.
	Conf []string
}

// Start runs redis-server (from PATH or $HOTLINE_REDIS_SERVER) with no persistence on a free port and
// stops it when the test ends. A machine without redis-server fails the test: `make test` installs it.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		tb.Fatalf("%v (run `make test`, which installs it)", err)
	}
	return launch(tb, bin, Options{}, nil)
}

// StartWith runs one redis-server shaped by opts. Without redis-server it skips (or fails, see
// SkipOrFail).
func StartWith(tb testing.TB, opts Options) *Server {
	tb.Helper()
	return launch(tb, mustBinary(tb), opts, nil)
}

func binary() (string, error) {
	if bin := os.Getenv("HOTLINE_REDIS_SERVER"); bin != "" {
		return bin, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found on PATH: %w", err)
	}
	return bin, nil
}

func mustBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		SkipOrFail(tb, err.Error()+" (apt-get install redis-server)")
	}
	return bin
}

// launch starts one redis-server from a redis.conf made of opts and extra, on a free port (another
// one if the port was taken meanwhile), and waits until it answers PING.
func launch(tb testing.TB, bin string, opts Options, extra func(port int) []string) *Server {
	tb.Helper()
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("find a free port: %v", err)
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, dir: tb.TempDir()}
		conf := []string{"bind 127.0.0.1", "save \"\"", "appendonly no", "dir " + s.dir,
			"logfile " + filepath.Join(s.dir, "redis.log"), "loglevel notice"}
		if opts.TLS != nil {
			conf = append(conf, "port 0", fmt.Sprintf("tls-port %d", port),
				"tls-cert-file "+opts.TLS.ServerCert, "tls-key-file "+opts.TLS.ServerKey,
				"tls-ca-cert-file "+opts.TLS.CA, "tls-auth-clients yes")
			s.tls = opts.TLS.ClientTLS()
		} else {
			conf = append(conf, fmt.Sprintf("port %d", port))
		}
		if len(opts.Users) > 0 {
			s.user, s.password = "redistest-admin", "admin-"+strconv.Itoa(port)
			conf = append(conf, "user default off", "user "+s.user+" on >"+s.password+" ~* &* +@all")
			for _, u := range opts.Users {
				conf = append(conf, "user "+u)
			}
		}
		conf = append(conf, opts.Conf...)
		if extra != nil {
			conf = append(conf, extra(port)...)
		}
		lastErr = s.start(bin, conf)
		if lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	tb.Fatalf("redis-server did not come up: %v", lastErr)
	return nil
}

func (s *Server) start(bin string, conf []string, args ...string) error {
	path := filepath.Join(s.dir, "redis.conf")
	if err := os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	s.bin, s.args = bin, args
	return s.run()
}

// run starts redis-server from the redis.conf start wrote and waits until it answers.
func (s *Server) run() error {
	path := filepath.Join(s.dir, "redis.conf")
	s.mu.Lock()
	s.cmd = exec.Command(s.bin, append([]string{path}, s.args...)...)
	err := s.cmd.Start()
	s.dead = err != nil
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	if err := s.waitReady(); err != nil {
		s.Stop()
		return fmt.Errorf("%w; its log ends: %s", err, s.logTail())
	}
	return nil
}

// options are the go-redis options this helper logs in with.
func (s *Server) options() *redis.Options {
	return &redis.Options{Addr: s.Addr, TLSConfig: s.tls, Username: s.user, Password: s.password}
}

// Client returns a go-redis client for the server (as the helper's admin user when there are ACL
// users), closed when the test ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(s.options())
	tb.Cleanup(func() { c.Close() })
	return c
}

// Stop kills the server (SIGKILL: nothing is flushed). Tests use it to play a Redis outage or a
// crashed primary.
func (s *Server) Stop() {
	s.stop.Do(s.kill)
}

func (s *Server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	s.dead = true
}

// stopped says whether the server was killed and not restarted.
func (s *Server) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// Restart kills the server (SIGKILL, as a crash: nothing is flushed but what the server already
// wrote) and starts it again on the same port, directory and configuration, so what it kept on
// disk (an append-only file with `appendonly yes` in Options.Conf) is all it comes back with. It
// returns once the server answers again.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.kill()
	if err := s.run(); err != nil {
		tb.Fatalf("restart redis-server on %s: %v", s.Addr, err)
	}
}

func (s *Server) waitReady() error {
	o := s.options()
	o.MaxRetries = -1
	c := redis.NewClient(o)
	defer c.Close()
	return poll(10*time.Second, func(ctx context.Context) error { return c.Ping(ctx).Err() })
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 800 {
		b = b[len(b)-800:]
	}
	return strings.TrimSpace(string(b))
}

// poll runs f (each try with its own 2 s deadline) every 20 ms until it returns nil or timeout
// passes; it returns f's last error.
func poll(timeout time.Duration, f func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", timeout, err)
		}
		<-tick.C
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
