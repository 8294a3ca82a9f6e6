package account

import (
	"context"
	"errors"
	"slices"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-cc/hotline/internal/redistest"
)

// TestReplace: a reloaded directory ends at once the sessions of every account it disables,
// removes, or gives a new password or role, tells the listeners (the pages close their sockets)
// and audits each; untouched accounts keep theirs, and the new directory decides the next login.
func TestReplace(t *testing.T) {
	rs := redistest.Start(t)
	s, _, rec := newTestService(t, rs.Client(t), Config{})
	ctx := context.Background()
	tokens := map[string]string{}
	for _, l := range []struct{ id, pw string }{{"a1", "secret-a"}, {"a2", "secret-a2"}, {"sup1", "secret-s"}} {
		_, tok, err := login(s, "192.0.2.1:1", l.id, l.pw, PageAgent)
		if err != nil {
			t.Fatalf("login %s: %v", l.id, err)
		}
		tokens[l.id] = tok
	}
	var heard []string
	s.OnRevoke(func(r Revocation) { heard = append(heard, r.Account+": "+r.Reason) })

	old := s.dir.Load()
	a1, _ := old.Lookup("a1")
	a1.Disabled = true
	a2, _ := old.Lookup("a2")
	a2.PasswordHash = hash(t, "new-secret")
	sup, _ := old.Lookup("sup1")
	sup.Role = RoleAdministrator
	nohash, _ := old.Lookup("nohash")
	gone, _ := old.Lookup("gone") // stays disabled: nothing to end
	dir, err := NewDirectory([]Account{a1, a2, sup, nohash, gone,
		{ID: "sup2", Role: RoleSupervisor, PasswordHash: hash(t, "secret-s2")}})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := s.Replace(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{"a1", "account disabled"}, {"a2", "password changed"}, {"sup1", "role changed"}}
	if !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if w := []string{"a1: account disabled", "a2: password changed", "sup1: role changed"}; !slices.Equal(heard, w) {
		t.Errorf("listeners heard %v, want %v", heard, w)
	}
	for id, tok := range tokens {
		if _, _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Errorf("%s's session after the reload: %v", id, err)
		}
	}
	revoked := 0
	for _, e := range rec.Entries() {
		if e.Action == "sessions.revoke" {
			revoked++
			if e.Actor != "system" || e.Outcome != "ok" || e.Detail["reason"] == "" {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	if revoked != len(want) {
		t.Errorf("%d revocations audited, want %d", revoked, len(want))
	}

	for _, tc := range []struct {
		id, pw string
		ok     bool
	}{
		{"a1", "secret-a", false},   // disabled
		{"a2", "secret-a2", false},  // the old password
		{"a2", "new-secret", true},  // the new one
		{"sup2", "secret-s2", true}, // added
	} {
		if _, _, err := login(s, "192.0.2.2:1", tc.id, tc.pw, PageAgent); (err == nil) != tc.ok {
			t.Errorf("login %s/%s after the reload: %v, want ok=%v", tc.id, tc.pw, err, tc.ok)
		}
	}

	// A second reload of the same file changes nothing.
	if changes, err := s.Replace(ctx, dir, nil); err != nil || len(changes) != 0 {
		t.Errorf("reloading the same directory: %v %v", changes, err)
	}
	// Removing an account ends its sessions too.
	_, tok, err := login(s, "192.0.2.1:1", "sup2", "secret-s2", PageSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	smaller, _ := NewDirectory([]Account{a1, a2, sup, nohash, gone})
	if changes, _ := s.Replace(ctx, smaller, nil); !slices.Equal(changes, []Change{{"sup2", "account removed"}}) {
		t.Errorf("removing sup2: %v", changes)
	}
	if _, _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("a removed account's session: %v", err)
	}
}

// TestReplaceDummyCost: after a reload whose accounts are hashed at another cost, an unknown id is
// compared against a dummy of the new cost, so its answer time still does not tell it is unknown.
func TestReplaceDummyCost(t *testing.T) {
	s, _, _ := newTestService(t, redistest.Start(t).Client(t), Config{})
	h, err := bcrypt.GenerateFromPassword([]byte("secret-a"), bcrypt.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewDirectory([]Account{{ID: "a1", Role: RoleAgent, PasswordHash: string(h)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	var compared []byte
	s.compare = func(h, pw []byte) error { compared = h; return bcrypt.CompareHashAndPassword(h, pw) }
	if _, _, err := login(s, "192.0.2.1:1", "nobody", "secret-a", PageAgent); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("an unknown id: %v", err)
	}
	if c, err := bcrypt.Cost(compared); err != nil || c != bcrypt.MinCost+1 {
		t.Errorf("an unknown id compared at cost %d (%v), want the reloaded accounts' %d", c, err, bcrypt.MinCost+1)
	}
}
