// Package config holds hotline's one typed configuration: loaded from a YAML file, overridden by
// environment variables (for secrets and addresses), and validated at start with errors that name the
// file, line and field.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/hotline-cc/hotline/internal/yamlfile"
)

// Config is everything hotline reads at start. Zero values mean "the default"; see Default.
type Config struct {
	// Center names this contact center. Every Redis key of the center shares the hash tag
	// {hotline:<center>}, so several centers can share one Redis (or one Redis Cluster).
	Center string `yaml:"center"`
	// Instance names this controller among the others sharing the center; default: the host name.
	// Keep it the same across restarts: a restarted controller takes back every call whose channel
	// lives on its Asterisk whatever its name, but only under the same name does it also close the
	// calls whose callers hung up while it was down. Two controllers on one host need names of
	// their own.
	Instance string `yaml:"instance"`

	ARI       ARI       `yaml:"ari"`
	Redis     Redis     `yaml:"redis"`
	Web       Web       `yaml:"web"`
	Softphone Softphone `yaml:"softphone"`
	IVR       IVR       `yaml:"ivr"`
	ACD       ACD       `yaml:"acd"`
	Simulator Simulator `yaml:"simulator"`
	Log       Log       `yaml:"log"`
	Accounts  Accounts  `yaml:"accounts"`
}

// ARI is how to reach Asterisk's REST interface.
type ARI struct {
	URL      string `yaml:"url"` // http://host:8088/ari
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	App      string `yaml:"app"` // the Stasis application name in extensions.conf
	// Simulate runs the built-in Asterisk simulator in process instead of connecting to URL.
	Simulate bool `yaml:"simulate"`
	// RingTimeout is how long an agent's page rings before the call goes back to the head of its queue.
	RingTimeout Duration `yaml:"ring_timeout"`
	// TransferContext is the dialplan context that dials an outside number for a transfer or a callback.
	TransferContext string `yaml:"transfer_context"`
	// CallbackEndpoint is the trunk a callback is originated through, with %s for the number
	// (for example PJSIP/%s@trunk).
	CallbackEndpoint string `yaml:"callback_endpoint"`
}

// Redis is where the center's live state lives.
type Redis struct {
	Addr     string `yaml:"addr"`
	Password string `yaml:"password"`
	DB       int    `yaml:"db"`
	// Embedded runs an in-process Redis-protocol server (the demo's default): same client, same Lua.
	Embedded bool `yaml:"embedded"`
}

// Web is the HTTP(S) server for the agent and supervisor pages, the APIs and /metrics.
type Web struct {
	Listen  string `yaml:"listen"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// SelfSigned serves TLS with a certificate made at start, for trying the softphone from another
	// machine (browsers give the microphone only to a secure context beyond localhost).
	SelfSigned bool `yaml:"self_signed"`
	// SupervisorPasswordHash is no longer read: supervisors are accounts of the center file
	// (supervisors:). Setting it is an error that says so, so no one believes it protects the page.
	SupervisorPasswordHash string `yaml:"supervisor_password_hash"`
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose X-Forwarded-For names the
	// client for login throttling and the audit; from anyone else the header is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Accounts bounds logins and sessions of both pages (the accounts themselves are in the center file).
type Accounts struct {
	// MaxFailures wrong passwords lock an account for Lockout, doubling with each further failure up
	// to MaxLockout; failures are forgotten FailureWindow after the last one.
	MaxFailures   int      `yaml:"max_failures"`
	Lockout       Duration `yaml:"lockout"`
	MaxLockout    Duration `yaml:"max_lockout"`
	FailureWindow Duration `yaml:"failure_window"`
	// AddressFailures failed logins are allowed from one client address at once, then one per
	// AddressRefill. Successful logins are free (an office behind one NAT address).
	AddressFailures int      `yaml:"address_failures"`
	AddressRefill   Duration `yaml:"address_refill"`
	// LoginConcurrency bounds bcrypt comparisons at once, so a login flood leaves CPU to the audio.
	LoginConcurrency int `yaml:"login_concurrency"`
	// SessionsPerAccount, past which a login revokes the account's oldest session.
	SessionsPerAccount int `yaml:"sessions_per_account"`
	// SessionIdle ends an unused session; SessionLifetime ends any session that long after login.
	SessionIdle     Duration `yaml:"session_idle"`
	SessionLifetime Duration `yaml:"session_lifetime"`
	// SessionRecheck is how often an open page re-checks its session (revocations missed by
	// pub/sub, and keeping an open page's session from idling out). Below SessionIdle.
	SessionRecheck Duration `yaml:"session_recheck"`
}

// Softphone is the WebRTC gateway between agents' browsers and Asterisk's externalMedia RTP.
type Softphone struct {
	// ICEPort is the one UDP port for every agent's WebRTC media.
	ICEPort int `yaml:"ice_port"`
	// PublicIPs are announced to browsers behind NAT (1:1 NAT mapping).
	PublicIPs []string `yaml:"public_ips"`
	// RTPHost is the address Asterisk sends externalMedia RTP to; it must be reachable from Asterisk.
	RTPHost    string      `yaml:"rtp_host"`
	ICEServers []ICEServer `yaml:"ice_servers"`
	// AutoAnswer connects a ringing call at once.
	AutoAnswer bool `yaml:"auto_answer"`
}

// ICEServer is a STUN or TURN server handed to the browser.
type ICEServer struct {
	URLs       []string `yaml:"urls"`
	Username   string   `yaml:"username"`
	Credential string   `yaml:"credential"`
}

// IVR is where the menus are and where self-service looks things up.
type IVR struct {
	// Menus is a menu file; empty means the built-in default center.
	Menus string `yaml:"menus"`
	// LookupURL is the tracking/claims backend (ivr/LOOKUP-API.md); empty means the built-in demo backend.
	LookupURL     string   `yaml:"lookup_url"`
	LookupTimeout Duration `yaml:"lookup_timeout"`
	// ReloadEvery polls the menu file for changes; 0 turns polling off (SIGHUP still reloads).
	ReloadEvery Duration `yaml:"reload_every"`
}

// ACD is the center's queues and agents.
type ACD struct {
	// CenterFile is a queues-and-agents file; empty means the built-in default center.
	CenterFile string `yaml:"center_file"`
}

// Simulator shapes the built-in Asterisk simulator and its simulated callers.
type Simulator struct {
	// TimeScale shortens prompts and waits (1 is real time).
	TimeScale float64 `yaml:"time_scale"`
	// CallersPerMinute is how often a simulated caller dials the hotline; 0 means none.
	CallersPerMinute float64 `yaml:"callers_per_minute"`
	// DID is the number simulated callers dial.
	DID string `yaml:"did"`
	// SoundsDir holds generated prompts (scripts/make-prompts.sh) the simulator plays as real audio.
	SoundsDir string `yaml:"sounds_dir"`
}

// Log sets the log level: debug, info, warn or error.
type Log struct {
	Level string `yaml:"level"`
	JSON  bool   `yaml:"json"`
}

// Default is the configuration `hotline demo` runs with: everything in one process on localhost.
func Default() Config {
	return Config{
		Center: "postal",
		ARI: ARI{
			URL: "http://127.0.0.1:8088/ari", User: "hotline", App: "hotline",
			RingTimeout: Duration(20 * time.Second), TransferContext: "hotline-transfer",
			CallbackEndpoint: "PJSIP/%s@trunk",
		},
		Redis:     Redis{Addr: "127.0.0.1:6379"},
		Web:       Web{Listen: "127.0.0.1:8080"},
		Softphone: Softphone{ICEPort: 40000, RTPHost: "127.0.0.1"},
		IVR:       IVR{LookupTimeout: Duration(2 * time.Second)},
		Simulator: Simulator{TimeScale: 1, CallersPerMinute: 2, DID: "8800", SoundsDir: "sounds"},
		Log:       Log{Level: "info"},
		Accounts: Accounts{
			MaxFailures: 5, Lockout: Duration(time.Minute), MaxLockout: Duration(time.Hour),
			FailureWindow: Duration(15 * time.Minute), AddressFailures: 20, AddressRefill: Duration(30 * time.Second),
			LoginConcurrency: 2, SessionsPerAccount: 5, SessionIdle: Duration(30 * time.Minute),
			SessionLifetime: Duration(12 * time.Hour), SessionRecheck: Duration(30 * time.Second),
		},
	}
}

// Load reads the YAML file at path over the defaults, applies HOTLINE_* environment overrides
// (see Env), and validates the result. Every mistake is reported, each with file, line and field.
func Load(path string) (Config, error) {
	cfg := Default()
	doc, err := yamlfile.ReadFile(path, &cfg)
	if err != nil {
		return Config{}, err
	}
	if err := applyEnv(&cfg, os.LookupEnv); err != nil {
		return Config{}, err
	}
	if err := cfg.validate(doc); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Resolve applies environment overrides and validates a config built in code (the demo's).
func Resolve(cfg Config) (Config, error) {
	if err := applyEnv(&cfg, os.LookupEnv); err != nil {
		return Config{}, err
	}
	return cfg, cfg.validate(&yamlfile.Doc{Name: "(built-in config)"})
}

func (c *Config) validate(doc *yamlfile.Doc) error {
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, doc.Errorf(field, format, args...)) }

	if c.Center == "" {
		bad("center", "must name the center")
	}
	if !c.ARI.Simulate {
		if u, err := url.Parse(c.ARI.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("ari.url", "%q is not an http(s) URL such as http://127.0.0.1:8088/ari", c.ARI.URL)
		}
		if c.ARI.Password == "" {
			bad("ari.password", "is empty: set it here or in HOTLINE_ARI_PASSWORD")
		}
	}
	if c.ARI.User == "" {
		bad("ari.user", "is empty")
	}
	if c.ARI.App == "" {
		bad("ari.app", "is empty: it must match Stasis(...) in extensions.conf")
	}
	if c.ARI.RingTimeout.D() < time.Second {
		bad("ari.ring_timeout", "%v is too short: at least 1s", c.ARI.RingTimeout.D())
	}
	if !c.Redis.Embedded {
		if _, _, err := net.SplitHostPort(c.Redis.Addr); err != nil {
			bad("redis.addr", "%q is not host:port", c.Redis.Addr)
		}
	}
	if _, _, err := net.SplitHostPort(c.Web.Listen); err != nil {
		bad("web.listen", "%q is not host:port", c.Web.Listen)
	}
	if (c.Web.TLSCert == "") != (c.Web.TLSKey == "") {
		bad("web.tls_cert", "tls_cert and tls_key go together")
	}
	if c.Web.SupervisorPasswordHash != "" {
		bad("web.supervisor_password_hash", "is no longer used: supervisors are accounts in the center file (supervisors: id, name, role, password_hash); remove it")
	}
	for i, p := range c.Web.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			bad(fmt.Sprintf("web.trusted_proxies[%d]", i), "%q is not an address or a CIDR", p)
		}
	}
	c.Accounts.validate(bad)
	if c.Softphone.ICEPort < 0 || c.Softphone.ICEPort > 65535 {
		bad("softphone.ice_port", "%d is not a UDP port", c.Softphone.ICEPort)
	}
	for i, ip := range c.Softphone.PublicIPs {
		if net.ParseIP(ip) == nil {
			bad(fmt.Sprintf("softphone.public_ips[%d]", i), "%q is not an IP address", ip)
		}
	}
	if net.ParseIP(c.Softphone.RTPHost) == nil {
		bad("softphone.rtp_host", "%q is not an IP address", c.Softphone.RTPHost)
	}
	for i, s := range c.Softphone.ICEServers {
		if len(s.URLs) == 0 {
			bad(fmt.Sprintf("softphone.ice_servers[%d].urls", i), "needs at least one stun: or turn: URL")
		}
	}
	if c.IVR.LookupURL != "" {
		if u, err := url.Parse(c.IVR.LookupURL); err != nil || u.Host == "" {
			bad("ivr.lookup_url", "%q is not a URL", c.IVR.LookupURL)
		}
	}
	if c.IVR.LookupTimeout.D() <= 0 {
		bad("ivr.lookup_timeout", "must be positive")
	}
	if c.Simulator.TimeScale <= 0 {
		bad("simulator.time_scale", "must be positive")
	}
	if c.Simulator.CallersPerMinute < 0 {
		bad("simulator.callers_per_minute", "must not be negative")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	return errors.Join(errs...)
}

// ParsePrefix reads a trusted proxy: a CIDR, or one address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (a *Accounts) validate(bad func(field, format string, args ...any)) {
	positive := func(field string, n int, limit int) {
		if n < 1 || n > limit {
			bad("accounts."+field, "%d: must be 1 to %d", n, limit)
		}
	}
	positive("max_failures", a.MaxFailures, 1000)
	positive("address_failures", a.AddressFailures, 100000)
	positive("login_concurrency", a.LoginConcurrency, 64)
	positive("sessions_per_account", a.SessionsPerAccount, 100)
	for _, f := range []struct {
		name string
		d    Duration
	}{{"lockout", a.Lockout}, {"max_lockout", a.MaxLockout}, {"failure_window", a.FailureWindow}, {"address_refill", a.AddressRefill},
		{"session_idle", a.SessionIdle}, {"session_lifetime", a.SessionLifetime}, {"session_recheck", a.SessionRecheck}} {
		if f.d.D() < time.Second {
			bad("accounts."+f.name, "%v is too short: at least 1s", f.d.D())
		}
	}
	if a.MaxLockout < a.Lockout {
		bad("accounts.max_lockout", "%v is shorter than lockout (%v)", a.MaxLockout.D(), a.Lockout.D())
	}
	if a.SessionIdle > a.SessionLifetime {
		bad("accounts.session_idle", "%v is longer than session_lifetime (%v)", a.SessionIdle.D(), a.SessionLifetime.D())
	}
	if a.SessionRecheck >= a.SessionIdle {
		bad("accounts.session_recheck", "%v: must be shorter than session_idle (%v), or an open page's session idles out", a.SessionRecheck.D(), a.SessionIdle.D())
	}
}
