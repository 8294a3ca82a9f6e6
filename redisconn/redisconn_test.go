package redisconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

func base() config.Redis {
	return config.Default().Redis
}

func TestOptionsPerMode(t *testing.T) {
	single := base()
	o, err := Options(single)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Addrs) != 1 || o.Addrs[0] != single.Addr || o.IsClusterMode || o.MasterName != "" ||
		o.ReadTimeout != 3*time.Second || o.DialTimeout != 5*time.Second {
		t.Errorf("single: %+v", o)
	}

	sent := base()
	sent.Mode, sent.Addrs, sent.MasterName, sent.SentinelPassword = config.RedisSentinel, []string{"a:1", "b:2"}, "m", "sp"
	o, _ = Options(sent)
	if o.MasterName != "m" || len(o.Addrs) != 2 || o.SentinelPassword != "sp" {
		t.Errorf("sentinel: %+v", o)
	}

	// One seed is still a cluster: NewUniversalClient alone would make it a single-node client.
	cl := base()
	cl.Mode, cl.Addrs = config.RedisCluster, []string{"a:1"}
	c, err := New(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*redis.ClusterClient); !ok {
		t.Errorf("cluster client is a %T", c)
	}
}

func TestTLSFiles(t *testing.T) {
	certs := redistest.NewCerts(t)
	r := base()
	r.TLS = config.RedisTLS{Enabled: true, CAFile: certs.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey, ServerName: "x"}
	o, err := Options(r)
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSConfig == nil || o.TLSConfig.RootCAs == nil || len(o.TLSConfig.Certificates) != 1 || o.TLSConfig.ServerName != "x" {
		t.Errorf("tls = %+v", o.TLSConfig)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	r.TLS.CAFile = bad
	if _, err := Options(r); !errors.Is(err, ErrTLS) {
		t.Errorf("bad CA file: %v", err)
	}
}

// TestClusterFollowsDeadMaster: when the master serving a key dies and the cluster promotes its
// replica, the client reads the key from the new master within a few seconds, not after go-redis's
// default topology reload of a minute (its commands to a dead master fail to dial, which does not
// make it reload).
func TestClusterFollowsDeadMaster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	cfg := base()
	cfg.Mode, cfg.Addrs = config.RedisCluster, cl.Addrs[:1]
	cfg.DialTimeout, cfg.ReadTimeout, cfg.WriteTimeout = config.Duration(time.Second), config.Duration(time.Second), config.Duration(time.Second)
	rdb, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Set(ctx, "{k}", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "WAIT", 1, 5000).Err(); err != nil { // on the replica before the kill
		t.Fatal(err)
	}
	from, to := cl.KillMaster(t, "{k}", 30*time.Second)
	t.Logf("killed %s, %s promoted", from, to)
	start := time.Now()
	waitfor.True(t, "the client reading from the promoted replica", 3*ClusterStateReload+5*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return rdb.Get(ctx, "{k}").Val() == "v"
	})
	t.Logf("read again %v after the promotion", time.Since(start).Round(time.Millisecond))
}
