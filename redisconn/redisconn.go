// Package redisconn makes the go-redis client that hotline's live state is reached through, from
// config.Redis: one server, a primary watched by Sentinel, or a Redis Cluster, each with TLS, an ACL
// user and timeouts. Every part of hotline takes the result as a redis.UniversalClient, so none of
// them knows which of the three it runs on.
package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/config"
)

// ErrTLS is returned when the TLS files cannot be used.
var ErrTLS = errors.New("redis tls")

// Options turns the config into go-redis options. The config is expected to be validated
// (config.Load does it); the TLS files are read here.
func Options(cfg config.Redis) (*redis.UniversalOptions, error) {
	o := &redis.UniversalOptions{
		Username:         cfg.Username,
		Password:         cfg.Password,
		SentinelUsername: cfg.SentinelUsername,
		SentinelPassword: cfg.SentinelPassword,
		DB:               cfg.DB,
		DialTimeout:      cfg.DialTimeout.D(),
		ReadTimeout:      cfg.ReadTimeout.D(),
		WriteTimeout:     cfg.WriteTimeout.D(),
		PoolSize:         cfg.PoolSize,
	}
	switch cfg.Mode {
	case config.RedisSentinel:
		o.Addrs, o.MasterName = cfg.Addrs, cfg.MasterName
	case config.RedisCluster:
		// IsClusterMode: one seed address is a cluster too (NewUniversalClient would make it a
		// single-node client).
		o.Addrs, o.IsClusterMode = cfg.Addrs, true
	default:
		o.Addrs = []string{cfg.Addr}
	}
	if cfg.TLS.Enabled {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		o.TLSConfig = tc
	}
	return o, nil
}

// ClusterStateReload bounds how long a cluster client goes on using a topology it read: when a
// master dies, its commands fail to dial rather than meet a MOVED (the only error go-redis reloads
// the topology on), so without it the client, and a bus subscription reconnecting, would keep
// dialing the dead master for go-redis's default minute after the cluster promoted its replica. It
// costs a CLUSTER SLOTS per second while commands flow.
const ClusterStateReload = time.Second

// New returns a client for cfg. It does no I/O: the first command connects.
func New(cfg config.Redis) (redis.UniversalClient, error) {
	o, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == config.RedisCluster {
		co := o.Cluster()
		co.ClusterStateReloadInterval = ClusterStateReload
		return redis.NewClusterClient(co), nil
	}
	return redis.NewUniversalClient(o), nil
}

// Describe names where cfg points, for logs and errors (no secrets).
func Describe(cfg config.Redis) string {
	var s string
	switch cfg.Mode {
	case config.RedisSentinel:
		s = fmt.Sprintf("sentinel master %q via %s", cfg.MasterName, strings.Join(cfg.Addrs, ","))
	case config.RedisCluster:
		s = "cluster via " + strings.Join(cfg.Addrs, ",")
	default:
		s = cfg.Addr
	}
	if cfg.TLS.Enabled {
		s += " (tls)"
	}
	if cfg.Username != "" {
		s += " as " + cfg.Username
	}
	return s
}

func tlsConfig(t config.RedisTLS) (*tls.Config, error) {
	// ServerName left empty makes crypto/tls check each node against the host it dials, which is
	// what a cluster or a failover (several hosts) needs.
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca_file: %w", ErrTLS, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca_file %s: no PEM certificate in it", ErrTLS, t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %w", ErrTLS, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
