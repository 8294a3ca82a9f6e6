package softphone_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/browsertest"
)

// TestBrowserSupervisorSoftphone: a supervisor logs in on the agent page and gets a softphone for
// monitoring (audio up, no state or call controls); revoking their sessions (a forced logout) takes
// the page back to the login form.
func TestBrowserSupervisorSoftphone(t *testing.T) {
	browsertest.RunInNetNS(t, func(t *testing.T) {
		rig := newRig(t)
		b := browsertest.Chromium(t, browsertest.Options{MicFreq: 1000})
		step(t, b, "log in as a supervisor", 20*time.Second, browsertest.AgentLogin(rig.url, "sup1", "secret-s")...)
		step(t, b, "a monitoring softphone", 5*time.Second,
			poll(`document.body.dataset.role === 'supervisor' && !document.getElementById('monitor-note').hidden &&
				document.getElementById('state-card').hidden && document.getElementById('call-card').hidden`))
		if err := rig.accounts.RevokeAccount(context.Background(), "sup1", "forced logout"); err != nil {
			t.Fatal(err)
		}
		step(t, b, "back to the login form", 10*time.Second,
			poll(`!document.getElementById('login').hidden && document.body.dataset.ws === 'closed'`))
	})
}
