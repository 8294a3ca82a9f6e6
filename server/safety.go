package server

import (
	"errors"
	"regexp"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/config"
)

// DemoPassword is every agent's password in the built-in demo center; the README publishes it.
const DemoPassword = "hotline-demo"

// Unsafe returns every setting of cfg that only a demo may run with, each naming file, line and
// field and what to do instead; nil when there is none. `hotline run` refuses to start on any of
// them unless cfg.InsecureDemo, and `hotline check-config` reports them all. Unsafe itself does
// not look at InsecureDemo.
func Unsafe(cfg config.Config) error {
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, cfg.Errorf(field, format, args...)) }
	if cfg.ARI.Simulate {
		bad("ari.simulate", "is true: calls would go to the built-in Asterisk simulator, not to Asterisk; remove it and set ari.url")
	}
	if cfg.Redis.Embedded {
		bad("redis.embedded", "is true: the center's live state would live in this process alone (lost on restart, shared with no other controller); remove it and set redis.addr")
	}
	if cfg.Records.Embedded {
		bad("records.embedded", "is true: the records would go to a throwaway PostgreSQL in a temporary folder, deleted at stop; remove it and set records.postgres")
	}
	if cfg.ACD.CenterFile == "" {
		bad("acd.center_file", "is empty: the built-in demo center would run, 500 agents sharing the published password %q; name your center file (acd/default-center.yaml is a template) with each agent's own hash from `hotline hash-password`", DemoPassword)
	} else if weak, err := acd.WeakPasswords(cfg.ACD.CenterFile, isPublishedHash); err == nil {
		errs = append(errs, weak...) // a file that does not load is Check's and New's to report
	}
	if cfg.IVR.LookupURL == "" {
		bad("ivr.lookup_url", "is empty: callers would hear the demo lookup backend's made-up parcels and claims; point it at your tracking backend (ivr/LOOKUP-API.md)")
	}
	// ARI is the whole of Asterisk: whoever has its password can originate calls through the trunk,
	// listen in on them and hang them up.
	switch {
	case cfg.ARI.Simulate:
	case cfg.ARI.Password == shippedARIPassword:
		bad("ari.password", "is the shipped asterisk-config/ari.conf's %q: set a long random one there and here (better: HOTLINE_ARI_PASSWORD)", shippedARIPassword)
	case len(cfg.ARI.Password) < minARIPassword:
		bad("ari.password", "has %d characters: at least %d, random (`openssl rand -base64 24`), the same in asterisk-config/ari.conf", len(cfg.ARI.Password), minARIPassword)
	}
	if plainOffLoopback(cfg.Web) {
		bad("web.listen", "%s serves the pages over plain HTTP to other machines: passwords and session cookies would cross the network in clear, and browsers give the microphone to no such page; set web.tls_cert and web.tls_key, or listen on 127.0.0.1 behind a TLS proxy named in web.trusted_proxies", cfg.Web.Listen)
	}
	if len(cfg.Web.Hosts) == 0 {
		bad("web.hosts", "is empty: the pages would answer any Host header, so another site's page could reach them through DNS rebinding (even on 127.0.0.1); list the names they are served under")
	}
	return errors.Join(errs...)
}

// shippedARIPassword is asterisk-config/ari.conf's and hotline.example.yaml's placeholder.
const (
	shippedARIPassword = "change-me"
	minARIPassword     = 16
)

// plainOffLoopback tells whether web serves plain HTTP on an address other machines reach, with no
// TLS proxy in front.
func plainOffLoopback(web config.Web) bool {
	return web.TLSCert == "" && !web.SelfSigned && len(web.TrustedProxies) == 0 && !web.OnLoopback()
}

// secureCookies tells whether the session cookies are marked Secure: when the pages are served over
// TLS here, or behind a trusted proxy, which in production ends TLS (browsers give the microphone
// only to a secure page), so that a browser never sends the session over plain HTTP.
func secureCookies(web config.Web) bool {
	return web.TLSCert != "" || web.SelfSigned || len(web.TrustedProxies) > 0
}

// publishedHashes are the demo password's hashes the built-in demo center publishes, which a center
// file made from it as a template carries. They are matched as strings: comparing every account's
// hash with the demo password in bcrypt would take a quarter of a second per account at the cost
// hash-password gives, minutes before a controller of 500 agents could take its calls back. A hash
// of the demo password made anew is caught at login instead (account.Config.RefusedPasswords).
var publishedHashes = func() map[string]bool {
	m := map[string]bool{}
	for _, h := range regexp.MustCompile(`password_hash:\s*"?(\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53})`).FindAllSubmatch(acd.DefaultCenter, -1) {
		m[string(h[1])] = true
	}
	return m
}()

func isPublishedHash(hash string) bool { return publishedHashes[hash] }
