// Package dashboard serves the supervisor page and its live feed.
//
// The package owns what it consumes: a [Source] that gives a [View] of the center (queues, waiting
// calls, agents) and [Actions] that a supervisor may take (listen, whisper, barge, move a call,
// force an agent's state, switch the center's announcement). The controller implements both over
// the ACD state and ARI; the dashboard imports neither.
//
// # Routes
//
// [Server] is an [http.Handler] meant to be mounted at /supervisor/:
//
//	GET  /supervisor/                 the page (embedded HTML/CSS/JS, no build step)
//	GET  /supervisor/api/session      {"authRequired", "authenticated", "supervisor"}
//	POST /supervisor/api/login        {"supervisor", "password"} → session cookie
//	POST /supervisor/api/logout
//	GET  /supervisor/api/view         {"now", "view"}: a fresh snapshot
//	POST /supervisor/api/listen       {"call"}              (and "supervisor" without a session)
//	POST /supervisor/api/whisper      {"call"}
//	POST /supervisor/api/barge        {"call"}
//	POST /supervisor/api/leave        {"call"}              (stop listening, whispering, barging)
//	POST /supervisor/api/move         {"call", "queue"}
//	POST /supervisor/api/agent-state  {"agent", "state", "reason"}  state: paused|offline|available
//	POST /supervisor/api/announcement {"kind"}              kind: holiday|outage|none
//	GET  /supervisor/ws               WebSocket: {"type":"view","now","view"} when the view changes,
//	                                  {"type":"stale","error"} when the source fails
//
// Action bodies are JSON; unknown fields, trailing data and missing fields are 400. A [Actions]
// error wrapping [ErrNotFound] is 404, [ErrNotAllowed] is 409, anything else 500; every error body
// is {"error": reason}.
//
// # Login
//
// [Config].PasswordHash is the bcrypt hash of one password shared by the center's supervisors
// (make it with `htpasswd -nbBC 12 "" secret | tr -d ':\n'` or bcrypt.GenerateFromPassword). A
// supervisor logs in with their own id and the shared password and gets a session cookie
// (HttpOnly, SameSite=Strict, Secure over TLS) that the API and the feed require.
//
// An empty PasswordHash means open access, for the demo and for a center that puts its own
// authentication in front: the API and feed need no session, and the page only asks for a
// supervisor id (which listen/whisper/barge need). Never run open access on a reachable network.
//
// Sessions live in this process's memory: a restart logs supervisors out, and several instances
// behind a load balancer need sticky sessions.
//
// # The page
//
// Russian by default, English with the RU/EN button or "t" (kept in localStorage). Queues with
// waiting count, longest wait and service level (red below target; a row turns red when its head
// waits longer than the target time), the waiting calls in queue order, and a grid of agents
// grouped by group, one coloured tile per agent with the time in state.
//
// Keyboard (also behind "?" on the page):
//
//	q, c, a          go to the queues, the waiting calls, the agents
//	arrows, j/k,     move the selection (in the agent grid ↑/↓ move by a row)
//	Home, End
//	Enter            on a queue: show only its calls (again, or Esc: all)
//	l, w, b          listen, whisper, barge: the selected agent's call, or the selected call
//	m                move the selected waiting call to another queue (dialog; Enter confirms)
//	p, v, o          force the selected agent to pause (asks a reason), available, logged out
//	n                the announcement switch
//	/                find an agent by name or id (Enter goes to the first match)
//	d                dense agent grid: colour only, the whole center on one screen
//	t                русский / English
//	?, Esc           help, close
//
// # Live feed
//
// One poller per Server asks the Source for a snapshot every Config.Interval (default 1 s) while at
// least one supervisor is connected, encodes the view once, and sends it to every connection only
// when its bytes changed. Durations are not in the view: it carries the moments things started
// (a call's wait, an agent's state) and the page counts the seconds itself, so a quiet center
// sends nothing. A slow browser does not hold the others up: each connection keeps only the
// newest view it has not yet sent.
package dashboard
