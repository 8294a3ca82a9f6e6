package acd

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotline-cc/hotline/internal/yamlfile"
)

func TestDefaultCenter(t *testing.T) {
	m, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, a := range m.Agents {
		groups[a.Group]++
	}
	want := map[string]int{"private": 250, "business": 200, "social": 20, "payouts": 30}
	for g, n := range want {
		if groups[g] != n {
			t.Errorf("group %s: %d agents, want %d", g, groups[g], n)
		}
	}
	if len(m.Agents) != 500 {
		t.Errorf("%d agents, want 500", len(m.Agents))
	}
	for _, id := range []string{"p001", "p250", "b200", "s020", "f030"} {
		if _, ok := m.Agent(id); !ok {
			t.Errorf("agent %s missing", id)
		}
	}
	var names []string
	for _, q := range m.Queues {
		names = append(names, q.Name)
	}
	if got := strings.Join(names, ","); got != "general,tracking,claims,international,business,business_claims,payouts,social" {
		t.Errorf("queues %s", got)
	}
	a, _ := m.Agent("p001")
	if err := a.CheckPassword("hotline-demo"); err != nil {
		t.Errorf("demo password: %v", err)
	}
	if err := a.CheckPassword("wrong"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if got := strings.Join(a.Queues(), ","); got != "general,tracking,claims,international" {
		t.Errorf("p001 serves %s", got)
	}
	s, _ := m.Agent("s001")
	if got := strings.Join(s.Queues(), ","); got != "general,tracking,social" {
		t.Errorf("s001 serves %s", got)
	}
}

func TestLoadErrors(t *testing.T) {
	src := `center: t
skills: [a, b]
queues:
  - name: q1
    skill: a
    strategy: random
  - name: q1
    skill: nope
    min_level: 11
    max_wait: 1m
  - name: q3
    skill: b
    max_wait: 1m
    overflow: {to: queue, queue: missing}
groups:
  - name: g
    count: 2
    id: x%02d
    skills: {a: 0, c: 3}
agents:
  - id: x01
    group: g
  - id: y
    group: h
callbacks: {attempts: 0, retry_after: 10s}
`
	_, err := Load("c.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`c.yaml:6: queues[0].strategy: unknown strategy "random"`,
		`c.yaml:7: queues[1].name: duplicate queue "q1"`,
		`c.yaml:8: queues[1].skill: unknown skill "nope"`,
		`c.yaml:9: queues[1].min_level: must be 1..10`,
		`c.yaml:7: queues[1].overflow: max_wait is set`,
		`c.yaml:14: queues[2].overflow.queue: unknown queue "missing"`,
		`c.yaml:19: groups[0].skills.a: level 0: must be 1..10`,
		`c.yaml:19: groups[0].skills.c: unknown skill "c"`,
		`c.yaml:21: agents[0].id: duplicate agent id "x01" (also groups[0].id)`,
		`c.yaml:24: agents[1].group: unknown group "h"`,
		`c.yaml:25: callbacks.attempts: must be 1 to 10`,
		`c.yaml:25: callbacks.retry_after: must be 1m to 24h`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	var ye *yamlfile.Error
	if !errors.As(err, &ye) || ye.Line == 0 {
		t.Errorf("errors are not *yamlfile.Error with a line: %T", err)
	}
}

func TestLoadStrict(t *testing.T) {
	_, err := Load("c.yaml", []byte("center: t\nskills: [a]\nqueues:\n  - {name: q, skill: a, wrapupp: 3s}\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4") {
		t.Fatalf("unknown field: %v", err)
	}
}

// TestLoadEveryMistake: check-config reports a center file's type errors and its checks of the
// rest in one pass.
func TestLoadEveryMistake(t *testing.T) {
	_, err := Load("c.yaml", []byte("center: t\nskills: [a]\nqueues:\n  - {name: q, skill: a, wrapup: soon}\n  - {name: r, skill: b}\ngroups:\n  - {name: g, count: many}\n"))
	for _, want := range []string{"c.yaml:4: queues[0].wrapup:", "c.yaml:5: queues[1].skill:", "c.yaml:7: groups[0].count: must be a whole number"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v\nwant one starting %q", err, want)
		}
	}
}

// FuzzLoad: no center file, however broken, panics the loader.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultCenter)
	f.Add([]byte(testCenter))
	f.Add([]byte("groups: [{name: g, count: 3, id: \"%d%d\"}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load("fuzz.yaml", data)
		if err == nil && m == nil {
			t.Fatal("nil model without error")
		}
	})
}

// TestLoadSupervisors: supervisors and administrators are accounts of the center file, checked with
// line-pointing errors; their ids share one namespace with the agents'.
func TestLoadSupervisors(t *testing.T) {
	const hash = "$2a$04$hnRzy3gcIf99BRQx0yhiFeaqiLYyOiqQUDA4DFqoN3dTy2inV.0Aq"
	src := `center: t
skills: [a]
queues: [{name: q, skill: a}]
groups: [{name: g, count: 2, id: "x%02d", skills: {a: 1}}]
supervisors:
  - {id: boss, name: Boss, role: administrator, password_hash: "` + hash + `"}
  - {id: sup, name: Sup, password_hash: "` + hash + `"}
  - {id: x01, name: Clash, password_hash: "` + hash + `"}
  - {id: god, role: root, password_hash: "` + hash + `"}
  - {id: typo, password_hash: "plain-text"}
  - {id: "bad id", password_hash: "` + hash + `"}
`
	_, err := Load("c.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`c.yaml:8: supervisors[2].id: duplicate account id "x01" (also groups[0].id)`,
		`c.yaml:9: supervisors[3].role: unknown role "root"`,
		`c.yaml:10: supervisors[4].password_hash: is not a bcrypt hash`,
		`c.yaml:11: supervisors[5].id: account id "bad id"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	for _, clean := range []string{"supervisors[0]", "supervisors[1]"} {
		if strings.Contains(err.Error(), clean) {
			t.Errorf("%s is valid:\n%v", clean, err)
		}
	}
	m, err := Load("c.yaml", []byte(strings.Join(strings.Split(src, "\n")[:7], "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Supervisors) != 2 || m.Supervisors[0].Role != RoleAdministrator || m.Supervisors[1].Role != RoleSupervisor {
		t.Errorf("supervisors %+v", m.Supervisors)
	}
	if _, ok := m.Agent("boss"); ok {
		t.Error("a supervisor is an ACD agent")
	}
}

// TestDefaultCenterSupervisors: the demo has a supervisor and an administrator with the demo password.
func TestDefaultCenterSupervisors(t *testing.T) {
	m, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, s := range m.Supervisors {
		roles[s.ID] = s.Role
		if err := (Agent{PasswordHash: s.PasswordHash}).CheckPassword("hotline-demo"); err != nil {
			t.Errorf("%s: demo password: %v", s.ID, err)
		}
	}
	if roles["sup1"] != RoleSupervisor || roles["admin1"] != RoleAdministrator {
		t.Errorf("demo supervisors %v, want sup1 (supervisor) and admin1 (administrator)", roles)
	}
}

// TestQueueRecord: a queue records its agents' calls when the file says so; the default center
// records its claims queues only; a value that is not a yes/no names its line and field.
func TestQueueRecord(t *testing.T) {
	m, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	var rec []string
	for _, q := range m.Queues {
		if q.Record {
			rec = append(rec, q.Name)
		}
	}
	if got := strings.Join(rec, ","); got != "claims,business_claims" {
		t.Errorf("the default center records %q, want claims,business_claims", got)
	}
	_, err = Load("c.yaml", []byte("center: t\nskills: [a]\nqueues:\n  - name: q\n    skill: a\n    record: sometimes\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:6: queues[0].record:") {
		t.Errorf("record: sometimes: %v, want an error at c.yaml:6: queues[0].record", err)
	}
}
