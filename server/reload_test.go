package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestReloadLocksOut: the operator disables x001 while a caller rings them and changes x002's
// password while x002 talks to another, then reloads (SIGHUP). Both lose their sessions at once;
// both callers go back to their queue, still on the line, and both agents leave the ACD; x002 logs
// in with the new password only. An agent new to the file waits for a restart, and a file that does
// not load changes nothing.
func TestReloadLocksOut(t *testing.T) {
	file := filepath.Join(t.TempDir(), "center.yaml")
	agents := func(extra, x2pw string) []byte {
		return append(slices.Clone(acd.DefaultCenter), []byte(`
agents:
  - {id: x001, group: private, skills: {general: 9}, password_hash: "`+hashOf(t, "x1-secret")+`"`+extra+`}
  - {id: x002, group: private, skills: {general: 9}, password_hash: "`+hashOf(t, x2pw)+`"}
`)...)
	}
	write := func(b []byte) {
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(agents("", "x2-secret"))
	srv := startSimServer(t, "reload", func(c *config.Config) { c.ACD.CenterFile = file })
	ctx := context.Background()
	login := func(id, pw string) (string, error) {
		_, tok, _, err := srv.accounts.Login(ctx, httptest.NewRequest("POST", "/agent/login", nil), account.PageAgent, id, pw)
		return tok, err
	}
	tok1, err := login("x001", "x1-secret")
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := login("x002", "x2-secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.center.Login(ctx, "x001"); err != nil {
		t.Fatal(err)
	}
	caller, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	id := caller.ChannelID()
	waitfor.True(t, "x001 ringing for the caller", 20*time.Second, func() bool {
		card, _, ok := srv.sb.ActiveCall("x001")
		return ok && card.ID == id
	})
	// x002 talks with a second caller.
	if err := srv.center.Login(ctx, "x002"); err != nil {
		t.Fatal(err)
	}
	second, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112234", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "x002 ringing for the second caller", 20*time.Second, func() bool {
		card, _, ok := srv.sb.ActiveCall("x002")
		return ok && card.ID == second.ChannelID()
	})
	if err := srv.desk.Answer(ctx, "x002", second.ChannelID()); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "x002 talking", 20*time.Second, func() bool { _, talking, _ := srv.sb.ActiveCall("x002"); return talking })

	// x002's password changes (a new hash line), x001 is disabled, x003 is new.
	b := agents(", disabled: true", "x2-new")
	b = append(b, []byte(`  - {id: x003, group: private, skills: {general: 9}, password_hash: "`+hashOf(t, "x3-secret")+`"}
`)...)
	write(b)
	changes, err := srv.reloadAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []account.Change{{Account: "x001", Reason: "account disabled"}, {Account: "x002", Reason: "password changed"}}
	if !slices.Equal(changes, want) {
		t.Fatalf("changes = %v, want %v", changes, want)
	}
	for who, tok := range map[string]string{"x001": tok1, "x002": tok2} {
		if _, _, err := srv.accounts.Authenticate(ctx, tok); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("%s's session after the reload: %v", who, err)
		}
	}
	if _, _, ok := srv.sb.ActiveCall("x001"); ok {
		t.Error("the caller still rings x001")
	}
	if c, ok := callOf(srv, id); !ok || c.Stage != acd.StageWaiting {
		t.Errorf("the caller after the reload: %+v (found %v), want waiting", c, ok)
	}
	// The caller talking with x002 goes back to the queue, still on the line, and x002 leaves the ACD.
	waitfor.True(t, "the second caller waiting again", 20*time.Second, func() bool {
		c, ok := callOf(srv, second.ChannelID())
		return ok && c.Stage == acd.StageWaiting
	})
	select {
	case <-second.Done():
		t.Error("the second caller was hung up")
	default:
	}
	for _, a := range []string{"x001", "x002"} {
		waitfor.True(t, a+" offline in the ACD", 20*time.Second, func() bool { return agentStatus(t, srv, a).State == acd.Offline })
	}
	for _, tc := range []struct {
		id, pw string
		ok     bool
	}{{"x001", "x1-secret", false}, {"x002", "x2-secret", false}, {"x002", "x2-new", true}, {"x003", "x3-secret", false}} {
		if _, err := login(tc.id, tc.pw); (err == nil) != tc.ok {
			t.Errorf("login %s with %s after the reload: %v", tc.id, tc.pw, err)
		}
	}

	write([]byte("center: postal\nqueues: [\n"))
	if _, err := srv.reloadAccounts(ctx); err == nil {
		t.Error("a broken file reloaded")
	}
	if _, ok := srv.accounts.Lookup("x002"); !ok {
		t.Error("a broken file changed the accounts")
	}
}
