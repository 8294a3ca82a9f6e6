package ivr

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hotline-cc/hotline/internal/yamlfile"
	"github.com/hotline-cc/hotline/prompts"
)

// Defaults the file may leave out.
const (
	defaultLang          = "ru"
	defaultAgentKey      = "0"
	defaultLastResort    = "general"
	defaultRetries       = 3
	defaultMenuTimeout   = 5 * time.Second
	defaultFirstTimeout  = 8 * time.Second
	defaultInterTimeout  = 4 * time.Second
	defaultTerminator    = "#"
	maxRetries           = 10
	maxPromptsPerNode    = 20
	maxLabel             = 120 // bytes of a node label: a line on the agent's screen
	maxIDLen             = 64
	noTerminator         = "none"
	builtinAgentNodeName = "" // an empty target means the built-in agent: last_resort_queue with the data
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// LoadOption adjusts what the loader checks a file against.
type LoadOption func(*loadConfig)

type loadConfig struct {
	queues      []string
	catalog     prompts.Catalog
	hasCatalog  bool
	checkNumber func(string) error
}

// WithQueues gives the queues that exist (from the center's configuration); a menu naming any other
// is refused. Without it the file's own queues list is used, and without that queues are not checked.
func WithQueues(names ...string) LoadOption {
	return func(c *loadConfig) { c.queues = slices.Clone(names) }
}

// WithCatalog checks prompts against c instead of the embedded prompts/catalog.yaml.
func WithCatalog(c prompts.Catalog) LoadOption {
	return func(lc *loadConfig) { lc.catalog, lc.hasCatalog = c, true }
}

// WithNumberCheck checks each transfer node's number with check (the center's dialing rules): a
// number they refuse is refused in the file, at its line, rather than when a caller reaches the
// node and cannot be transferred.
func WithNumberCheck(check func(number string) error) LoadOption {
	return func(c *loadConfig) { c.checkNumber = check }
}

// LoadFile reads and checks the menu file at path. The error lists every mistake found, each as
// "file:line: field: message" (a *yamlfile.Error), joined with errors.Join.
func LoadFile(path string, opts ...LoadOption) (*Menus, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ivr: %w", err)
	}
	return Load(path, data, opts...)
}

// LoadDefault loads the embedded default center (DefaultCenter).
func LoadDefault(opts ...LoadOption) (*Menus, error) {
	return Load("ivr/default-center.yaml", DefaultCenter, opts...)
}

// Load checks a menu file's content; name is used in error messages.
func Load(name string, data []byte, opts ...LoadOption) (m *Menus, err error) {
	var cfg loadConfig
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.hasCatalog {
		c, err := prompts.Default()
		if err != nil {
			return nil, err
		}
		cfg.catalog = c
	}
	var f File
	doc, err := decode(name, data, &f)
	if err != nil {
		return nil, err
	}
	l := &loader{doc: doc, cfg: cfg, f: &f}
	m = l.compile()
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return m, nil
}

// decode is yamlfile.Decode made safe against a decoder panic on hostile input: a menu file is
// edited by people and fuzzed by tests, and a reload must never take the server down.
func decode(name string, data []byte, v any) (doc *yamlfile.Doc, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, &yamlfile.Error{File: name, Msg: fmt.Sprintf("cannot parse: %v", r)}
		}
	}()
	return yamlfile.Decode(name, data, v)
}

// loader compiles a File into Menus, collecting every mistake.
type loader struct {
	doc    *yamlfile.Doc
	cfg    loadConfig
	f      *File
	queues []string // known queues; nil: unchecked
	langs  []string
	errs   []error
}

func (l *loader) errorf(path, format string, args ...any) {
	l.errs = append(l.errs, l.doc.Errorf(path, format, args...))
}

func (l *loader) compile() *Menus {
	f := l.f
	m := &Menus{name: l.doc.Name, menus: map[string]*menu{}, dids: map[string]string{}}

	m.lang = f.DefaultLang
	if m.lang == "" {
		m.lang = defaultLang
	}
	l.langs = f.Langs
	if len(l.langs) == 0 {
		l.langs = []string{m.lang}
	}
	for i, lang := range l.langs {
		if !idRE.MatchString(lang) {
			l.errorf(fmt.Sprintf("langs[%d]", i), "bad language %q", lang)
		}
	}
	if !slices.Contains(l.langs, m.lang) {
		l.errorf("default_lang", "%q is not among langs %v", m.lang, l.langs)
	}
	m.langs = slices.Clone(l.langs)

	key := defaultAgentKey
	if f.AgentKey != nil {
		key = *f.AgentKey
	}
	if key != "" && !isDTMFKey(key) {
		l.errorf("agent_key", "%q is not a key (0-9, * or #)", key)
	} else if key != "" {
		m.agentKey = rune(key[0])
	}

	l.queues = l.cfg.queues
	if l.queues == nil && len(f.Queues) > 0 {
		l.queues = f.Queues
	}
	m.lastResortQueue = f.LastResortQueue
	if m.lastResortQueue == "" {
		m.lastResortQueue = defaultLastResort
	}
	l.checkQueue("last_resort_queue", m.lastResortQueue)

	m.lookupTimeout = f.LookupTimeout
	switch {
	case m.lookupTimeout < 0:
		l.errorf("lookup_timeout", "must not be negative")
	case m.lookupTimeout == 0:
		m.lookupTimeout = DefaultLookupTimeout
	}

	base := Defaults{Retries: defaultRetries, Timeout: defaultMenuTimeout}
	l.checkDefaults("defaults", f.Defaults)
	if f.Defaults.LastResort != "" {
		l.errorf("defaults.last_resort", "names a node, so it belongs in a menu or a node")
	}
	if f.Defaults.Agent != "" {
		l.errorf("defaults.agent", "names a node, so it belongs in a menu or a node")
	}
	base = inherit(base, f.Defaults)

	if len(f.Menus) == 0 {
		l.errorf("menus", "no menus")
	}
	for _, id := range sortedKeys(f.Menus) {
		if mn := l.compileMenu(id, f.Menus[id], base); mn != nil {
			m.menus[id] = mn
		}
	}
	for _, did := range sortedKeys(f.DIDs) {
		if _, ok := f.Menus[f.DIDs[did]]; !ok {
			l.errorf("dids."+did, "unknown menu %q", f.DIDs[did])
		}
		m.dids[did] = f.DIDs[did]
	}
	if f.DefaultMenu != "" {
		if _, ok := f.Menus[f.DefaultMenu]; !ok {
			l.errorf("default_menu", "unknown menu %q", f.DefaultMenu)
		}
	}
	m.defaultMenu = f.DefaultMenu
	return m
}

func (l *loader) checkQueue(path, q string) {
	if l.queues != nil && !slices.Contains(l.queues, q) {
		l.errorf(path, "unknown queue %q (known: %s)", q, strings.Join(l.queues, ", "))
	}
}

// checkDefaults checks retry settings wherever they are written (file, menu, node).
func (l *loader) checkDefaults(path string, d Defaults) {
	if d.Retries < 0 || d.Retries > maxRetries {
		l.errorf(join(path, "retries"), "must be between 1 and %d", maxRetries)
	}
	if d.Timeout < 0 {
		l.errorf(join(path, "timeout"), "must not be negative")
	}
	l.checkPrompt(join(path, "timeout_prompt"), d.TimeoutPrompt)
	l.checkPrompt(join(path, "invalid_prompt"), d.InvalidPrompt)
}

// checkPrompt reports a prompt id missing from the catalog in any language.
func (l *loader) checkPrompt(path, id string) {
	if id == "" {
		return
	}
	var missing []string
	for _, lang := range l.langs {
		if !l.cfg.catalog.Has(id, lang) {
			missing = append(missing, lang)
		}
	}
	if len(missing) > 0 {
		l.errorf(path, "prompt %q is not in the catalog in %s", id, strings.Join(missing, ", "))
	}
}

// inherit overlays the settings d sets on base.
func inherit(base, d Defaults) Defaults {
	if d.Retries > 0 {
		base.Retries = d.Retries
	}
	if d.Timeout > 0 {
		base.Timeout = d.Timeout
	}
	if d.TimeoutPrompt != "" {
		base.TimeoutPrompt = d.TimeoutPrompt
	}
	if d.InvalidPrompt != "" {
		base.InvalidPrompt = d.InvalidPrompt
	}
	if d.LastResort != "" {
		base.LastResort = d.LastResort
	}
	if d.Agent != "" {
		base.Agent = d.Agent
	}
	return base
}

func isDTMFKey(k string) bool {
	return len(k) == 1 && (k[0] >= '0' && k[0] <= '9' || k[0] == '*' || k[0] == '#')
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
