package config

import (
	"strings"
	"testing"
	"time"
)

// Issue 10, finding 8: the Redis config knew one server only (addr, password, db): no Sentinel,
// Cluster, TLS, ACL user nor timeouts.
func TestRedisSentinelClusterTLSLoad(t *testing.T) {
	ca := writeFile(t, "not checked here")
	p := writeFile(t, `ari:
  password: s
redis:
  mode: sentinel
  addrs: [10.0.0.1:26379, 10.0.0.2:26379, 10.0.0.3:26379]
  master_name: hotline
  username: hotline
  password: fromfile
  tls:
    enabled: true
    ca_file: `+ca+`
    server_name: redis.internal
  read_timeout: 500ms
  pool_size: 20
`)
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redis
	if r.Mode != RedisSentinel || len(r.Addrs) != 3 || r.MasterName != "hotline" || r.Username != "hotline" ||
		!r.TLS.Enabled || r.TLS.ServerName != "redis.internal" || r.ReadTimeout.D() != 500*time.Millisecond ||
		r.WriteTimeout.D() != 3*time.Second || r.DialTimeout.D() != 5*time.Second || r.PoolSize != 20 {
		t.Errorf("redis = %+v", r)
	}
}

func TestRedisDefaultsToSingle(t *testing.T) {
	cfg, err := Load(writeFile(t, "ari:\n  password: s\nredis:\n  addr: 10.0.0.6:6379\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Redis.Mode != RedisSingle || cfg.Redis.Addr != "10.0.0.6:6379" {
		t.Errorf("redis = %+v", cfg.Redis)
	}
}

func TestRedisConfigErrorsNameLine(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"sentinel without master name", "redis:\n  mode: sentinel\n  addrs: [a:1]\n", []string{":3: redis.master_name:", "sentinel mode needs"}},
		{"sentinel without sentinels", "redis:\n  mode: sentinel\n  master_name: m\n", []string{":3: redis.addrs:", "the sentinels"}},
		{"sentinel given addr", "redis:\n  mode: sentinel\n  master_name: m\n  addrs: [a:1]\n  addr: b:2\n", []string{":6: redis.addr:", "single mode"}},
		{"cluster db", "redis:\n  mode: cluster\n  addrs: [a:1, b:2]\n  db: 3\n", []string{":5: redis.db:", "only db 0"}},
		{"cluster bad addr", "redis:\n  mode: cluster\n  addrs:\n    - a:1\n    - nope\n", []string{":6: redis.addrs[1]:", "host:port"}},
		{"unknown mode", "redis:\n  mode: replicated\n", []string{":3: redis.mode:", "single, sentinel, cluster"}},
		{"addrs in single mode", "redis:\n  addrs: [a:1, b:2]\n", []string{":3: redis.addrs:", "set mode"}},
		{"user without password", "redis:\n  username: hotline\n", []string{":3: redis.password:", "HOTLINE_REDIS_PASSWORD"}},
		{"zero timeout", "redis:\n  read_timeout: 0s\n", []string{":3: redis.read_timeout:", "positive"}},
		{"negative pool", "redis:\n  pool_size: -1\n", []string{":3: redis.pool_size:"}},
		{"tls files without enabled", "redis:\n  tls:\n    ca_file: /x\n", []string{"redis.tls.enabled:", "enabled: true"}},
		{"tls missing ca file", "redis:\n  tls:\n    enabled: true\n    ca_file: /nonexistent/ca.pem\n", []string{":5: redis.tls.ca_file:", "no such file"}},
		{"tls cert without key", "redis:\n  tls:\n    enabled: true\n    cert_file: /x\n", []string{":5: redis.tls.cert_file:", "go together"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Line 1 is ARI's; redis: is line 2. A missing field is reported at its section's first line.
			p := writeFile(t, "ari: {password: s}\n"+tc.body)
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Secrets come from the environment, so the file can be committed without them.
func TestRedisEnvOverrides(t *testing.T) {
	p := writeFile(t, "ari:\n  password: s\nredis:\n  mode: cluster\n")
	t.Setenv("HOTLINE_REDIS_ADDRS", "10.0.0.1:7000, 10.0.0.2:7000")
	t.Setenv("HOTLINE_REDIS_USERNAME", "hotline")
	t.Setenv("HOTLINE_REDIS_PASSWORD", "secret")
	t.Setenv("HOTLINE_REDIS_SENTINEL_PASSWORD", "s2")
	t.Setenv("HOTLINE_REDIS_TLS_ENABLED", "true")
	t.Setenv("HOTLINE_REDIS_TLS_SERVER_NAME", "redis.internal")
	t.Setenv("HOTLINE_REDIS_DIAL_TIMEOUT", "1s")
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redis
	if len(r.Addrs) != 2 || r.Addrs[1] != "10.0.0.2:7000" || r.Username != "hotline" || r.Password != "secret" ||
		r.SentinelPassword != "s2" || !r.TLS.Enabled || r.TLS.ServerName != "redis.internal" || r.DialTimeout.D() != time.Second {
		t.Errorf("redis = %+v", r)
	}
}
