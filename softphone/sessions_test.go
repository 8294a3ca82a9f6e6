package softphone

import (
	"testing"
	"time"
)

func TestMemorySessions(t *testing.T) {
	now := time.Unix(1000, 0)
	m := NewMemorySessions(time.Hour)
	m.Now = func() time.Time { return now }
	tok, err := m.Create(Agent{ID: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := m.Create(Agent{ID: "b1"})
	for _, tc := range []struct {
		name    string
		advance time.Duration
		token   string
		want    string
		ok      bool
	}{
		{"fresh", 0, tok, "a1", true},
		{"other agent", 0, other, "b1", true},
		{"unknown token", 0, "nope", "", false},
		{"before expiry", 59 * time.Minute, tok, "a1", true},
		{"expired", 2 * time.Minute, tok, "", false},
	} {
		now = now.Add(tc.advance)
		a, ok := m.Get(tc.token)
		if ok != tc.ok || a.ID != tc.want {
			t.Errorf("%s: Get = %q %v, want %q %v", tc.name, a.ID, ok, tc.want, tc.ok)
		}
	}
	m.Delete(other)
	if _, ok := m.Get(other); ok {
		t.Error("deleted session still there")
	}
}
