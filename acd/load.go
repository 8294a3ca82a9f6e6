package acd

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/internal/yamlfile"
)

// DefaultCenter is the postal operator's center: four agent groups (250 private, 200 business,
// 20 social media, 30 payouts) and eight queues. Every agent's demo password is "hotline-demo".
//
//go:embed default-center.yaml
var DefaultCenter []byte

// titleLangs are the languages of the agent's and the supervisor's pages, which queue titles are in.
var titleLangs = []string{"ru", "en"}

// centerFile is the YAML shape of a center file. Field names are the operator's vocabulary.
type centerFile struct {
	Center    string        `yaml:"center"`
	Weights   weightsFile   `yaml:"weights"`
	Callbacks callbacksFile `yaml:"callbacks"`
	Skills    []string      `yaml:"skills"`
	Queues    []queueFile   `yaml:"queues"`
	Groups    []groupFile   `yaml:"groups"`
	Agents    []agentFile   `yaml:"agents"`
	// Supervisors are the accounts of the supervisor page: supervisors and administrators.
	Supervisors []supervisorFile `yaml:"supervisors"`
}

type supervisorFile struct {
	ID           string `yaml:"id"`
	Name         string `yaml:"name"`
	Role         string `yaml:"role"` // supervisor (default) or administrator
	PasswordHash string `yaml:"password_hash"`
	Disabled     bool   `yaml:"disabled"`
}

type callbacksFile struct {
	Attempts   *int          `yaml:"attempts"`
	RetryAfter time.Duration `yaml:"retry_after"`
}

type weightsFile struct {
	QueuePriority  time.Duration `yaml:"queue_priority"`
	CallerPriority time.Duration `yaml:"caller_priority"`
}

type queueFile struct {
	Name          string            `yaml:"name"`
	Title         map[string]string `yaml:"title"`
	Priority      int               `yaml:"priority"`
	Strategy      string            `yaml:"strategy"`
	ServiceLevel  serviceLevelFile  `yaml:"service_level"`
	WrapUp        time.Duration     `yaml:"wrapup"`
	MaxWait       time.Duration     `yaml:"max_wait"`
	Overflow      overflowFile      `yaml:"overflow"`
	AnnounceEvery time.Duration     `yaml:"announce_every"`
	Skill         string            `yaml:"skill"`
	MinLevel      int               `yaml:"min_level"`
	HandleTime    time.Duration     `yaml:"handle_time"`
	RingTimeout   time.Duration     `yaml:"ring_timeout"`
	Record        bool              `yaml:"record"`
	Survey        surveyFile        `yaml:"survey"`
}

type surveyFile struct {
	Share float64 `yaml:"share"`
}

type serviceLevelFile struct {
	Percent int           `yaml:"percent"`
	Within  time.Duration `yaml:"within"`
}

type overflowFile struct {
	To      string `yaml:"to"`
	Queue   string `yaml:"queue"`
	Message string `yaml:"message"`
}

// groupFile generates Count agents with ids fmt.Sprintf(ID, 1..Count), so 500 agents take four entries.
type groupFile struct {
	Name         string            `yaml:"name"`
	Title        map[string]string `yaml:"title"`
	Count        int               `yaml:"count"`
	ID           string            `yaml:"id"`
	AgentName    string            `yaml:"agent_name"`
	Skills       map[string]int    `yaml:"skills"`
	PasswordHash string            `yaml:"password_hash"`
}

type agentFile struct {
	ID           string         `yaml:"id"`
	Name         string         `yaml:"name"`
	Group        string         `yaml:"group"`
	Skills       map[string]int `yaml:"skills"`
	PasswordHash string         `yaml:"password_hash"`
	Disabled     bool           `yaml:"disabled"` // cannot log in; their sessions end
}

// Names end up inside Redis keys and space-separated lists, so they are kept plain.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// LoadFile reads a center file. Errors name file, line and field; all of them are returned together.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acd: %w", err)
	}
	return Load(path, data)
}

// LoadDefault returns the embedded default center.
func LoadDefault() (*Model, error) { return Load("acd/default-center.yaml", DefaultCenter) }

// Load decodes and validates a center file held in memory; name is used in error messages.
func Load(name string, data []byte) (*Model, error) {
	var f centerFile
	doc, err := yamlfile.Decode(name, data, &f)
	if doc == nil {
		return nil, err
	}
	// A field the decoder set aside is reported once, by it; the rest is checked in the same pass.
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	bad := func(path, format string, args ...any) {
		if !doc.Dropped(path) {
			errs = append(errs, doc.Errorf(path, format, args...))
		}
	}
	checkTitles := func(p string, titles map[string]string) {
		for _, lang := range slices.Sorted(maps.Keys(titles)) {
			if t := titles[lang]; !slices.Contains(titleLangs, lang) || strings.TrimSpace(t) == "" || len(t) > 120 {
				bad(p+".title."+lang, "want a name of 1 to 120 bytes in one of %v (the pages' languages)", titleLangs)
			}
		}
	}

	m := &Model{
		Name:    f.Center,
		Skills:  f.Skills,
		Weights: Weights{QueuePriority: f.Weights.QueuePriority, CallerPriority: f.Weights.CallerPriority},
	}
	if !nameRE.MatchString(f.Center) {
		bad("center", "must be 1-64 letters, digits, '_', '.', '@' or '-'")
	}
	if m.Weights.QueuePriority < 0 {
		bad("weights.queue_priority", "must be ≥ 0")
	}
	if m.Weights.CallerPriority < 0 {
		bad("weights.caller_priority", "must be ≥ 0")
	}
	m.Callbacks = Callbacks{Attempts: defaultCallbackAttempts, RetryAfter: defaultCallbackRetryAfter}
	if a := f.Callbacks.Attempts; a != nil {
		m.Callbacks.Attempts = *a
		if *a < 1 || *a > maxCallbackAttempts {
			bad("callbacks.attempts", "must be 1 to %d", maxCallbackAttempts)
		}
	}
	if d := f.Callbacks.RetryAfter; d != 0 {
		m.Callbacks.RetryAfter = d
		if d < time.Minute || d > 24*time.Hour {
			bad("callbacks.retry_after", "must be 1m to 24h")
		}
	}
	skills := map[string]bool{}
	for i, s := range f.Skills {
		p := fmt.Sprintf("skills[%d]", i)
		switch {
		case !nameRE.MatchString(s):
			bad(p, "skill %q: must be 1-64 letters, digits, '_', '.', '@' or '-'", s)
		case skills[s]:
			bad(p, "duplicate skill %q", s)
		}
		skills[s] = true
	}
	if len(f.Queues) == 0 {
		bad("queues", "a center needs at least one queue")
	}
	queues := map[string]bool{}
	for i, qf := range f.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		q := Queue{
			Name: qf.Name, Priority: qf.Priority, Strategy: Strategy(qf.Strategy),
			ServiceLevel: ServiceLevel{Percent: qf.ServiceLevel.Percent, Within: qf.ServiceLevel.Within},
			WrapUp:       qf.WrapUp, MaxWait: qf.MaxWait, AnnounceEvery: qf.AnnounceEvery,
			Skill: qf.Skill, MinLevel: qf.MinLevel, HandleTime: qf.HandleTime, RingTimeout: qf.RingTimeout,
			Overflow: Overflow{Kind: OverflowKind(qf.Overflow.To), Queue: qf.Overflow.Queue, Message: qf.Overflow.Message},
			Title:    qf.Title, SurveyShare: qf.Survey.Share, Record: qf.Record,
		}
		checkTitles(p, qf.Title)
		if q.SurveyShare < 0 || q.SurveyShare > 1 {
			bad(p+".survey.share", "must be 0 to 1 (0.25: a quarter of the callers)")
		}
		if !nameRE.MatchString(q.Name) {
			bad(p+".name", "must be 1-64 letters, digits, '_', '.', '@' or '-'")
		} else if queues[q.Name] {
			bad(p+".name", "duplicate queue %q", q.Name)
		}
		queues[q.Name] = true
		if q.Strategy == "" {
			q.Strategy = LongestIdle
		}
		if !validStrategy(q.Strategy) {
			bad(p+".strategy", "unknown strategy %q (want one of %v)", qf.Strategy, strategies)
		}
		if q.Priority < 0 || q.Priority > 100 {
			bad(p+".priority", "must be 0..100")
		}
		if !skills[q.Skill] {
			bad(p+".skill", "unknown skill %q", q.Skill)
		}
		if q.MinLevel == 0 {
			q.MinLevel = 1
		}
		if q.MinLevel < 1 || q.MinLevel > 10 {
			bad(p+".min_level", "must be 1..10")
		}
		if q.ServiceLevel.Percent < 0 || q.ServiceLevel.Percent > 100 {
			bad(p+".service_level.percent", "must be 0..100")
		}
		for field, d := range map[string]time.Duration{"wrapup": q.WrapUp, "max_wait": q.MaxWait,
			"announce_every": q.AnnounceEvery, "handle_time": q.HandleTime, "ring_timeout": q.RingTimeout,
			"service_level.within": q.ServiceLevel.Within} {
			if d < 0 {
				bad(p+"."+field, "must be ≥ 0")
			}
		}
		if q.HandleTime == 0 {
			q.HandleTime = 3 * time.Minute
		}
		if q.RingTimeout == 0 {
			q.RingTimeout = 20 * time.Second
		}
		m.Queues = append(m.Queues, q)
	}
	// Overflow targets are checked once every queue name is known.
	for i, q := range m.Queues {
		p := fmt.Sprintf("queues[%d].overflow", i)
		switch q.Overflow.Kind {
		case "":
			if q.MaxWait > 0 {
				bad(p, "max_wait is set: say where callers go after it (to: queue, callback or message)")
			}
		case OverflowQueue:
			if !queues[q.Overflow.Queue] {
				bad(p+".queue", "unknown queue %q", q.Overflow.Queue)
			} else if q.Overflow.Queue == q.Name {
				bad(p+".queue", "a queue cannot overflow into itself")
			}
		case OverflowCallback:
		case OverflowMessage:
			if q.Overflow.Message == "" {
				bad(p+".message", "the message to play is missing")
			}
		default:
			bad(p+".to", "unknown overflow %q (want queue, callback or message)", q.Overflow.Kind)
		}
	}

	groups := map[string]bool{}
	ids := map[string]string{} // id → where it was defined, for duplicate messages
	checkSkills := func(p string, sk map[string]int) {
		for s, lvl := range sk {
			if !skills[s] {
				bad(p+".skills."+s, "unknown skill %q", s)
			}
			if lvl < 1 || lvl > 10 {
				bad(p+".skills."+s, "level %d: must be 1..10", lvl)
			}
		}
	}
	addAgent := func(p string, a Agent) {
		if !nameRE.MatchString(a.ID) {
			bad(p, "agent id %q: must be 1-64 letters, digits, '_', '.', '@' or '-'", a.ID)
			return
		}
		if prev, dup := ids[a.ID]; dup {
			bad(p, "duplicate agent id %q (also %s)", a.ID, prev)
			return
		}
		ids[a.ID] = p
		m.Agents = append(m.Agents, a)
	}
	for i, g := range f.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		if !nameRE.MatchString(g.Name) {
			bad(p+".name", "must be 1-64 letters, digits, '_', '.', '@' or '-'")
		} else if groups[g.Name] {
			bad(p+".name", "duplicate group %q", g.Name)
		}
		groups[g.Name] = true
		checkSkills(p, g.Skills)
		checkTitles(p, g.Title)
		if g.Count < 0 || g.Count > 100000 {
			bad(p+".count", "must be 0..100000")
			continue
		}
		if g.Count > 0 && !onePercentD(g.ID) {
			bad(p+".id", "must hold exactly one %%d verb, such as \"p%%03d\"")
			continue
		}
		for n := 1; n <= g.Count; n++ {
			name := fmt.Sprintf("%s %d", g.Name, n)
			switch {
			case g.AgentName == "demo":
				name = demoName(g.Name, n)
			case onePercentD(g.AgentName):
				name = fmt.Sprintf(g.AgentName, n)
			}
			addAgent(p+".id", Agent{ID: fmt.Sprintf(g.ID, n), Name: name, Group: g.Name,
				Skills: g.Skills, PasswordHash: g.PasswordHash})
		}
	}
	for i, af := range f.Agents {
		p := fmt.Sprintf("agents[%d]", i)
		if !groups[af.Group] {
			bad(p+".group", "unknown group %q", af.Group)
		}
		checkSkills(p, af.Skills)
		addAgent(p+".id", Agent{ID: af.ID, Name: af.Name, Group: af.Group, Skills: af.Skills, PasswordHash: af.PasswordHash, Disabled: af.Disabled})
	}
	for i, sf := range f.Supervisors {
		p := fmt.Sprintf("supervisors[%d]", i)
		sv := Supervisor{ID: sf.ID, Name: sf.Name, Role: sf.Role, PasswordHash: sf.PasswordHash, Disabled: sf.Disabled}
		if sv.Role == "" {
			sv.Role = RoleSupervisor
		}
		if sv.Role != RoleSupervisor && sv.Role != RoleAdministrator {
			bad(p+".role", "unknown role %q (want %s or %s)", sf.Role, RoleSupervisor, RoleAdministrator)
		}
		if len(sv.Name) > 120 {
			bad(p+".name", "longer than 120 bytes")
		}
		// Unlike an agent's, a supervisor's hash is checked here: a typo would lock the page, found
		// only when someone needs it.
		if _, err := bcrypt.Cost([]byte(sv.PasswordHash)); err != nil {
			bad(p+".password_hash", "is not a bcrypt hash (make one with `hotline hash-password`)")
		}
		if !nameRE.MatchString(sv.ID) {
			bad(p+".id", "account id %q: must be 1-64 letters, digits, '_', '.', '@' or '-'", sv.ID)
			continue
		}
		// One namespace with the agents: an id names one softphone.
		if prev, dup := ids[sv.ID]; dup {
			bad(p+".id", "duplicate account id %q (also %s)", sv.ID, prev)
			continue
		}
		ids[sv.ID] = p + ".id"
		m.Supervisors = append(m.Supervisors, sv)
	}
	for _, g := range f.Groups {
		m.Groups = append(m.Groups, g.Name)
		if len(g.Title) > 0 {
			if m.GroupTitles == nil {
				m.GroupTitles = map[string]map[string]string{}
			}
			m.GroupTitles[g.Name] = g.Title
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.index()
	return m, nil
}

func validStrategy(s Strategy) bool {
	for _, v := range strategies {
		if v == s {
			return true
		}
	}
	return false
}

// onePercentD reports whether pattern is safe for fmt.Sprintf(pattern, n): one verb, and it is %d.
func onePercentD(pattern string) bool {
	return strings.Count(pattern, "%") == 1 && regexp.MustCompile(`%0?\d*d`).MatchString(pattern)
}
