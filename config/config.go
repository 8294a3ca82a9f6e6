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
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // records.time_zone works on a host without the zone files

	"github.com/hotline-cc/hotline/internal/yamlfile"
	"github.com/hotline-cc/hotline/numbering"
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
	// InsecureDemo lets `hotline run` start with what only a demo may run with: the built-in demo
	// center or the demo password, an open supervisor page, the demo lookup backend, the simulator,
	// the embedded Redis. Without it each of these stops the start with its reason.
	InsecureDemo bool `yaml:"insecure_demo"`

	ARI       ARI       `yaml:"ari"`
	Redis     Redis     `yaml:"redis"`
	Web       Web       `yaml:"web"`
	Softphone Softphone `yaml:"softphone"`
	IVR       IVR       `yaml:"ivr"`
	ACD       ACD       `yaml:"acd"`
	Dialing   Dialing   `yaml:"dialing"`
	Simulator Simulator `yaml:"simulator"`
	Log       Log       `yaml:"log"`
	Accounts  Accounts  `yaml:"accounts"`
	Records   Records   `yaml:"records"`

	doc *yamlfile.Doc // where the config came from, for Errorf
}

// Errorf is an error about field, naming the config file and the field's line as validation does:
// for checks made outside this package (server.Check's).
func (c Config) Errorf(field, format string, args ...any) error {
	doc := c.doc
	if doc == nil {
		doc = &yamlfile.Doc{Name: "(built-in config)"}
	}
	return doc.Errorf(field, format, args...)
}

// dialEndpoint is a channel to originate with %s for the number: one technology, one resource, and
// none of the characters Dial or the dialplan read as separators (",", "&", "|", quotes, spaces).
var dialEndpoint = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*/[A-Za-z0-9_.@:+=/-]*%s[A-Za-z0-9_.@:+=/-]*$`)

// dialplanName is a context name as extensions.conf writes it.
var dialplanName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

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
	// CallbackEndpoint is the trunk phone numbers are dialled through (callbacks, consultations,
	// blind transfers), with %s for the number (for example PJSIP/%s@trunk).
	CallbackEndpoint string `yaml:"callback_endpoint"`
	// InternalEndpoint is where internal extensions (dialing.extension_length) are dialled, the
	// center's PBX, with %s for the extension (for example PJSIP/%s@pbx). Empty: none are dialled.
	InternalEndpoint string `yaml:"internal_endpoint"`
	// RequestTimeout bounds each ARI REST request: a hung Asterisk costs a call this much, not forever.
	RequestTimeout Duration `yaml:"request_timeout"`
	// DrainContext is where the dialplan takes callers who arrive while this controller drains
	// (after SIGTERM), at the number they dialled: another node's. Empty: they are served here.
	DrainContext string `yaml:"drain_context"`
	// DrainTimeout bounds the drain: how long the callers in the IVR may take to finish it.
	DrainTimeout Duration `yaml:"drain_timeout"`
}

// Redis is where the center's live state lives: one server, a primary watched by Sentinel, or a
// Redis Cluster (README "Redis in production").
type Redis struct {
	// Mode is single (default), sentinel or cluster.
	Mode string `yaml:"mode"`
	// Addr is the server in single mode.
	Addr string `yaml:"addr"`
	// Addrs are the sentinels in sentinel mode, or some of the nodes in cluster mode (the client
	// discovers the rest).
	Addrs []string `yaml:"addrs"`
	// MasterName is the name the sentinels monitor the primary under (sentinel mode).
	MasterName string `yaml:"master_name"`
	// Username is an ACL user (empty: the default user); Password is its password (or requirepass).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// SentinelUsername and SentinelPassword log in to the sentinels themselves, when they ask.
	SentinelUsername string   `yaml:"sentinel_username"`
	SentinelPassword string   `yaml:"sentinel_password"`
	DB               int      `yaml:"db"` // single and sentinel modes; a cluster has only db 0
	TLS              RedisTLS `yaml:"tls"`
	// Timeouts of one connection attempt and of one command's read and write. A command that times
	// out fails (and the caller retries): better than a call frozen behind a hung Redis.
	DialTimeout  Duration `yaml:"dial_timeout"`
	ReadTimeout  Duration `yaml:"read_timeout"`
	WriteTimeout Duration `yaml:"write_timeout"`
	// PoolSize is the most connections per Redis node; 0 means 10 per CPU.
	PoolSize int `yaml:"pool_size"`
	// Embedded runs an in-process Redis-protocol server (the demo's default): same client, same Lua.
	Embedded bool `yaml:"embedded"`
}

// Redis modes.
const (
	RedisSingle   = "single"
	RedisSentinel = "sentinel"
	RedisCluster  = "cluster"
)

// RedisTLS is TLS to every Redis node (and, in sentinel mode, to the sentinels).
type RedisTLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile holds the CA certificates the servers' certificates are checked against; empty: the
	// system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate, for servers that ask for one (tls-auth-clients).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name the servers' certificates must carry; empty: the host dialled.
	ServerName string `yaml:"server_name"`
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
	// ReadTimeout bounds reading one request with its body, WriteTimeout writing its answer,
	// IdleTimeout a keep-alive connection between requests. WebSockets are exempt once upgraded.
	ReadTimeout  Duration `yaml:"read_timeout"`
	WriteTimeout Duration `yaml:"write_timeout"`
	IdleTimeout  Duration `yaml:"idle_timeout"`
	// MaxConnsPerIP refuses a client address's connections beyond this many at once (each page
	// holds a few; an office behind one NAT address holds many). Through a trusted proxy it counts
	// the client the proxy names, by requests in flight (429 beyond), not the proxy.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// OpsListen serves /metrics, /healthz and /readyz on a listener of their own (host:port) and
	// no longer on Listen; empty keeps them on Listen.
	OpsListen string `yaml:"ops_listen"`
	// Hosts are the names the pages are served under (the Host header, port aside); a request for
	// any other gets 421. Empty accepts any (check-config warns): DNS rebinding is then possible.
	Hosts []string `yaml:"hosts"`
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose X-Forwarded-For names the
	// client for login throttling and the audit; from anyone else the header is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Accounts bounds logins and sessions of both pages (the accounts themselves are in the center file).
type Accounts struct {
	// MaxFailures wrong passwords from one client address lock an account at that address for
	// Lockout, doubling with each further failure up to MaxLockout; MaxFailuresTotal from all
	// addresses lock it everywhere. Failures are forgotten FailureWindow after the last one.
	MaxFailures      int      `yaml:"max_failures"`
	MaxFailuresTotal int      `yaml:"max_failures_total"`
	Lockout          Duration `yaml:"lockout"`
	MaxLockout       Duration `yaml:"max_lockout"`
	FailureWindow    Duration `yaml:"failure_window"`
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
	RTPHost string `yaml:"rtp_host"`
	// ICENetworks are the networks agents' browsers (and their TURN relays) may be in: the gateway
	// checks no ICE candidate elsewhere. Default: PrivateNetworks().
	ICENetworks []string    `yaml:"ice_networks"`
	ICEServers  []ICEServer `yaml:"ice_servers"`
	// TURN is a TURN server with credentials made for each agent; see TURN.
	TURN TURN `yaml:"turn"`
	// AutoAnswer connects a ringing call at once.
	AutoAnswer bool `yaml:"auto_answer"`
	// DisconnectGrace is how long an agent may be without an open page (on any controller) before
	// they stop being offered calls: an available or wrapping-up agent is paused "disconnected", a
	// call ringing them goes on to the next agent. A page back within it finds everything as it was.
	// 0 turns it off.
	DisconnectGrace Duration `yaml:"disconnect_grace"`
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
	// ReconcileEvery is how often the controller frees agents and calls stuck in Redis against the
	// calls it holds live (a write lost in a Redis outage); a state is judged once it is 5s old.
	ReconcileEvery Duration `yaml:"reconcile_every"`
}

// Dialing is what the center may dial: every transfer, consultation and callback number is
// checked against it (package numbering) and only its canonical form reaches Asterisk.
type Dialing struct {
	// Classes allowed: mobile, geographic, tollfree, premium, international, emergency, internal.
	Classes []string `yaml:"classes"`
	// AllowPrefixes are canonical prefixes (+375, +7809555) dialled whatever their class.
	AllowPrefixes []string `yaml:"allow_prefixes"`
	// DenyPrefixes are canonical prefixes never dialled; they win over everything else.
	DenyPrefixes []string `yaml:"deny_prefixes"`
	// ExtensionLength is the length of internal extensions; 0: none (short numbers are refused).
	ExtensionLength int `yaml:"extension_length"`
}

// Rules are the dialling rules in the numbering package's terms (the Russian plan).
func (d Dialing) Rules() *numbering.Rules {
	plan := numbering.Russia
	plan.ExtensionLength = d.ExtensionLength
	r := &numbering.Rules{Plan: plan, AllowPrefixes: d.AllowPrefixes, DenyPrefixes: d.DenyPrefixes}
	for _, c := range d.Classes {
		r.Classes = append(r.Classes, numbering.Class(c))
	}
	return r
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
	// Crew is how many agents the process plays itself (the last ones of each group, in
	// proportion), so a demo's queues move; only with ari.simulate.
	Crew int `yaml:"crew"`
}

// Records is the center's memory in PostgreSQL (package records): the ACD's events, the IVR's
// steps and the audit log, copied from Redis by a recorder in every controller (one at a time).
type Records struct {
	// Postgres is the database URL, postgres://user:password@host:5432/db; empty keeps nothing
	// beyond what Redis holds (the event streams are trimmed). HOTLINE_RECORDS_POSTGRES sets it
	// without writing a password in the file. The schema is created and migrated at start.
	Postgres string `yaml:"postgres"`
	// RetentionDays: rows older than this are deleted; 0 keeps them for ever.
	RetentionDays int `yaml:"retention_days"`
	// MaskNumbersAfterDays: callers' numbers and numbers dialled out keep only their first and
	// last two characters after this many days; 0 never masks.
	MaskNumbersAfterDays int `yaml:"mask_numbers_after_days"`
	// RecordingRetentionDays: call recordings older than this are deleted from the Asterisk that
	// holds them (each controller its own node's, once an hour) and their rows marked deleted; 0
	// keeps them for ever.
	RecordingRetentionDays int `yaml:"recording_retention_days"`
	// TimeZone is where the center's days begin in reports (an IANA name); default Europe/Moscow.
	TimeZone string `yaml:"time_zone"`
	// Embedded starts a throwaway PostgreSQL from Debian's binaries for the records (the demo's),
	// deleted at stop; only with insecure_demo. Without the binaries the demo runs without records.
	Embedded bool `yaml:"embedded"`
}

// Location is TimeZone loaded (validated at load, so UTC only for a config not validated).
func (r Records) Location() *time.Location {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
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
			CallbackEndpoint: "PJSIP/%s@trunk", RequestTimeout: Duration(3 * time.Second),
			DrainTimeout: Duration(2 * time.Minute),
		},
		Redis: Redis{Mode: RedisSingle, Addr: "127.0.0.1:6379", DialTimeout: Duration(5 * time.Second),
			ReadTimeout: Duration(3 * time.Second), WriteTimeout: Duration(3 * time.Second)},
		Web: Web{
			Listen:      "127.0.0.1:8080",
			ReadTimeout: Duration(30 * time.Second), WriteTimeout: Duration(60 * time.Second),
			IdleTimeout: Duration(60 * time.Second), MaxConnsPerIP: 256,
		},
		Softphone: Softphone{ICEPort: 40000, RTPHost: "127.0.0.1", ICENetworks: PrivateNetworks(), TURN: TURN{TTL: Duration(24 * time.Hour)},
			DisconnectGrace: Duration(15 * time.Second)},
		IVR:       IVR{LookupTimeout: Duration(2 * time.Second)},
		ACD:       ACD{ReconcileEvery: Duration(5 * time.Second)},
		Dialing:   Dialing{Classes: defaultClasses()},
		Simulator: Simulator{TimeScale: 1, CallersPerMinute: 2, DID: "8800", SoundsDir: "sounds"},
		Log:       Log{Level: "info"},
		Records:   Records{RetentionDays: 3 * 365, MaskNumbersAfterDays: 90, RecordingRetentionDays: 90, TimeZone: "Europe/Moscow"},
		Accounts: Accounts{
			MaxFailures: 5, MaxFailuresTotal: 50, Lockout: Duration(time.Minute), MaxLockout: Duration(time.Hour),
			FailureWindow: Duration(15 * time.Minute), AddressFailures: 20, AddressRefill: Duration(30 * time.Second),
			LoginConcurrency: 2, SessionsPerAccount: 5, SessionIdle: Duration(30 * time.Minute),
			SessionLifetime: Duration(12 * time.Hour), SessionRecheck: Duration(30 * time.Second),
		},
	}
}

func defaultClasses() []string {
	var cs []string
	for _, c := range numbering.DefaultClasses {
		cs = append(cs, string(c))
	}
	return cs
}

// Load reads the YAML file at path over the defaults, applies HOTLINE_* environment overrides
// (see Env), and validates the result. Every mistake is reported, each with file, line and field.
func Load(path string) (Config, error) {
	cfg := Default()
	doc, err := yamlfile.ReadFile(path, &cfg)
	if doc == nil {
		return Config{}, err
	}
	if err := applyEnv(&cfg, os.LookupEnv); err != nil {
		return Config{}, err
	}
	// Every mistake in one pass: the decoder's (its fields set aside) and then the checks of the rest.
	if err := errors.Join(err, cfg.validate(doc)); err != nil {
		return Config{}, err
	}
	cfg.doc = doc
	return cfg, nil
}

// Resolve applies environment overrides and validates a config built in code (the demo's).
func Resolve(cfg Config) (Config, error) {
	if err := applyEnv(&cfg, os.LookupEnv); err != nil {
		return Config{}, err
	}
	cfg.doc = &yamlfile.Doc{Name: "(built-in config)"}
	return cfg, cfg.validate(cfg.doc)
}

// Warnings are what check-config reports about a config that loads but is risky in production.
func (c Config) Warnings() []string {
	var w []string
	if c.Web.OpsListen == "" && !c.Web.OnLoopback() {
		w = append(w, "web.ops_listen is empty: /metrics, /healthz and /readyz answer anyone who reaches the pages, without a login (queue names, call volumes, which part is down); give them a listener on the operations network")
	}
	return append(w, c.Softphone.Warnings()...)
}

// OnLoopback tells whether the pages listen on this machine only (a name other than localhost, or
// no host, may be any interface).
func (w Web) OnLoopback() bool {
	host, _, err := net.SplitHostPort(w.Listen)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func (c *Config) validate(doc *yamlfile.Doc) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		if !doc.Dropped(field) {
			errs = append(errs, doc.Errorf(field, format, args...))
		}
	}

	if c.Center == "" {
		bad("center", "must name the center")
	}
	if c.Records.Embedded && c.Records.Postgres != "" {
		bad("records.embedded", "and records.postgres are both set: the records go to one database")
	}
	if p := c.Records.Postgres; p != "" {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			// The URL may hold a password: it is not repeated.
			bad("records.postgres", "is not a URL such as postgres://hotline@db.example:5432/hotline")
		}
	}
	if c.Records.RetentionDays < 0 {
		bad("records.retention_days", "must be 0 (keep for ever) or more")
	}
	if c.Records.MaskNumbersAfterDays < 0 {
		bad("records.mask_numbers_after_days", "must be 0 (never mask) or more")
	}
	if c.Records.RecordingRetentionDays < 0 {
		bad("records.recording_retention_days", "must be 0 (keep for ever) or more")
	}
	if _, err := time.LoadLocation(c.Records.TimeZone); err != nil || c.Records.TimeZone == "" {
		bad("records.time_zone", "%q is not a time zone such as Europe/Moscow", c.Records.TimeZone)
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
	if d := c.ARI.RequestTimeout.D(); d < 100*time.Millisecond || d > time.Minute {
		bad("ari.request_timeout", "%v is out of range: between 100ms and 1m", d)
	}
	if !dialEndpoint.MatchString(c.ARI.CallbackEndpoint) || strings.Count(c.ARI.CallbackEndpoint, "%") != 1 {
		bad("ari.callback_endpoint", "%q is not TECH/resource with one %%s for the number, such as PJSIP/%%s@trunk (no other %%, commas, & or spaces: they would reach Dial)", c.ARI.CallbackEndpoint)
	}
	if c.ARI.InternalEndpoint != "" && (!dialEndpoint.MatchString(c.ARI.InternalEndpoint) || strings.Count(c.ARI.InternalEndpoint, "%") != 1) {
		bad("ari.internal_endpoint", "%q is not TECH/resource with one %%s for the extension, such as PJSIP/%%s@pbx (no other %%, commas, & or spaces: they would reach Dial)", c.ARI.InternalEndpoint)
	}
	if c.ARI.DrainContext != "" && !dialplanName.MatchString(c.ARI.DrainContext) {
		bad("ari.drain_context", "%q is not a dialplan context name (letters, digits, - and _)", c.ARI.DrainContext)
	}
	if d := c.ARI.DrainTimeout.D(); d < 0 || d > 30*time.Minute {
		bad("ari.drain_timeout", "%v is out of range: between 0 (stop at once) and 30m", d)
	}
	if !dialplanName.MatchString(c.ARI.TransferContext) {
		bad("ari.transfer_context", "%q is not a dialplan context name (letters, digits, - and _)", c.ARI.TransferContext)
	}
	if !c.Redis.Embedded {
		c.Redis.validate(doc, bad)
	}
	if _, _, err := net.SplitHostPort(c.Web.Listen); err != nil {
		bad("web.listen", "%q is not host:port", c.Web.Listen)
	}
	if c.Web.OpsListen != "" {
		if _, port, err := net.SplitHostPort(c.Web.OpsListen); err != nil {
			bad("web.ops_listen", "%q is not host:port", c.Web.OpsListen)
		} else if c.Web.OpsListen == c.Web.Listen && port != "0" {
			bad("web.ops_listen", "is the same address as web.listen")
		}
	}
	for _, t := range []struct {
		field string
		d     Duration
	}{{"web.read_timeout", c.Web.ReadTimeout}, {"web.write_timeout", c.Web.WriteTimeout}, {"web.idle_timeout", c.Web.IdleTimeout}} {
		if t.d.D() <= 0 {
			bad(t.field, "must be positive")
		}
	}
	if c.Web.MaxConnsPerIP < 1 {
		bad("web.max_conns_per_ip", "%d: at least 1", c.Web.MaxConnsPerIP)
	}
	for i, h := range c.Web.Hosts {
		if h == "" || (strings.ContainsAny(h, ":/ []") && net.ParseIP(h) == nil) {
			bad(fmt.Sprintf("web.hosts[%d]", i), "%q is not a host name (no port, no scheme)", h)
		}
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
	if c.Simulator.Crew < 0 || (c.Simulator.Crew > 0 && !c.ARI.Simulate) {
		bad("simulator.crew", "%d: agents played by the process answer callers with silence, so only with ari.simulate, and 0 or more", c.Simulator.Crew)
	}
	if g := c.Softphone.DisconnectGrace.D(); g != 0 && (g < time.Second || g > 10*time.Minute) {
		bad("softphone.disconnect_grace", "%v is out of range: 0 (off), or between 1s and 10m", g)
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
	c.Softphone.validate(bad)
	if c.IVR.LookupURL != "" {
		if u, err := url.Parse(c.IVR.LookupURL); err != nil || u.Host == "" {
			bad("ivr.lookup_url", "%q is not a URL", c.IVR.LookupURL)
		}
	}
	if c.IVR.LookupTimeout.D() <= 0 {
		bad("ivr.lookup_timeout", "must be positive")
	}
	if d := c.ACD.ReconcileEvery.D(); d < 100*time.Millisecond || d > 10*time.Minute {
		bad("acd.reconcile_every", "%v is out of range: from 100ms (each run reads every agent) to 10m (stuck agents wait that long)", d)
	}
	for i, cl := range c.Dialing.Classes {
		if !slices.Contains(numbering.Classes, numbering.Class(cl)) {
			bad(fmt.Sprintf("dialing.classes[%d]", i), "%q is not one of %v", cl, numbering.Classes)
		}
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"dialing.allow_prefixes", c.Dialing.AllowPrefixes}, {"dialing.deny_prefixes", c.Dialing.DenyPrefixes}} {
		for i, p := range l.list {
			if !numbering.ValidPrefix(p) {
				bad(fmt.Sprintf("%s[%d]", l.field, i), "%q is not the start of a canonical number: + and digits, such as +7809 or +375", p)
			}
		}
	}
	if n := c.Dialing.ExtensionLength; n != 0 && (n < 2 || n > 6) {
		bad("dialing.extension_length", "%d: internal extensions have 2 to 6 digits (0: none)", n)
	} else if n != 0 && c.ARI.InternalEndpoint == "" {
		bad("dialing.extension_length", "%d needs ari.internal_endpoint, the PBX route extensions are dialled through (such as PJSIP/%%s@pbx): on the carrier's trunk a short number may be a paid service", n)
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
	if a.MaxFailuresTotal < a.MaxFailures || a.MaxFailuresTotal > 100000 {
		bad("accounts.max_failures_total", "%d: must be max_failures (%d) to 100000", a.MaxFailuresTotal, a.MaxFailures)
	}
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

func (r *Redis) validate(doc *yamlfile.Doc, bad func(field, format string, args ...any)) {
	hostPort := func(field, addr string) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(field, "%q is not host:port", addr)
		}
	}
	addrs := func(what string) {
		if len(r.Addrs) == 0 {
			bad("redis.addrs", "%s mode needs %s", r.Mode, what)
		}
		for i, a := range r.Addrs {
			hostPort(fmt.Sprintf("redis.addrs[%d]", i), a)
		}
		if doc.Has("redis.addr") {
			bad("redis.addr", "is for single mode: in %s mode list %s in addrs", r.Mode, what)
		}
	}
	switch r.Mode {
	case "", RedisSingle:
		r.Mode = RedisSingle
		hostPort("redis.addr", r.Addr)
		if len(r.Addrs) > 0 {
			bad("redis.addrs", "is for the sentinel and cluster modes: set mode, or use addr for one server")
		}
		if r.MasterName != "" {
			bad("redis.master_name", "is for sentinel mode: set mode: sentinel")
		}
	case RedisSentinel:
		addrs("the sentinels")
		if r.MasterName == "" {
			bad("redis.master_name", "sentinel mode needs the name the sentinels monitor the primary under")
		}
	case RedisCluster:
		addrs("some of the cluster's nodes")
		if r.DB != 0 {
			bad("redis.db", "a Redis Cluster has only db 0")
		}
		if r.MasterName != "" {
			bad("redis.master_name", "is for sentinel mode")
		}
	default:
		bad("redis.mode", "%q is not one of single, sentinel, cluster", r.Mode)
	}
	if r.DB < 0 {
		bad("redis.db", "must not be negative")
	}
	if r.Username != "" && r.Password == "" {
		bad("redis.password", "is empty for ACL user %q: set it here or in HOTLINE_REDIS_PASSWORD", r.Username)
	}
	if r.SentinelUsername != "" && r.SentinelPassword == "" {
		bad("redis.sentinel_password", "is empty for sentinel user %q: set it here or in HOTLINE_REDIS_SENTINEL_PASSWORD", r.SentinelUsername)
	}
	for _, d := range []struct {
		field string
		v     Duration
	}{{"redis.dial_timeout", r.DialTimeout}, {"redis.read_timeout", r.ReadTimeout}, {"redis.write_timeout", r.WriteTimeout}} {
		if d.v.D() <= 0 {
			bad(d.field, "must be positive")
		}
	}
	if r.PoolSize < 0 {
		bad("redis.pool_size", "must not be negative (0: 10 per CPU)")
	}
	t := r.TLS
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" {
			bad("redis.tls.enabled", "is false while other tls fields are set: set enabled: true")
		}
		return
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("redis.tls.cert_file", "cert_file and key_file go together")
	}
	for _, f := range []struct{ field, path string }{{"redis.tls.ca_file", t.CAFile}, {"redis.tls.cert_file", t.CertFile}, {"redis.tls.key_file", t.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			bad(f.field, "%v", err)
		}
	}
}
