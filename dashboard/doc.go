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
//	GET  /supervisor/api/session      {"authenticated", "account", "name", "role", "canAnnounce"}
//	POST /supervisor/api/login        {"account", "password"} → session cookie
//	POST /supervisor/api/logout
//	GET  /supervisor/api/view         {"now", "view"}: a fresh snapshot
//	POST /supervisor/api/listen       {"call"}
//	POST /supervisor/api/whisper      {"call"}
//	POST /supervisor/api/barge        {"call"}
//	POST /supervisor/api/leave        {"call"}              (stop listening, whispering, barging)
//	POST /supervisor/api/move         {"call", "queue"}
//	POST /supervisor/api/agent-state  {"agent", "state", "reason"}  state: paused|offline|available
//	POST /supervisor/api/announcement {"kind"}              kind: holiday|outage|none (administrators)
//	GET  /supervisor/ws               WebSocket: {"type":"view","now","view"} when the view changes,
//	                                  {"type":"stale","error"} when the source fails
//
// Action bodies are JSON; unknown fields, trailing data and missing fields are 400. A [Actions]
// error wrapping [ErrNotFound] is 404, [ErrNotAllowed] is 409, [ErrUnavailable] is 503, anything
// else 500; every error body is {"error": reason}.
//
// # Login and roles
//
// Supervisors and administrators are accounts of the center file (see package account). Every route
// but the page, /api/session and /api/login needs a live session of one of them: 401 without a
// session, 403 with any other role's (an agent's). Actions run as the session's account: listen,
// whisper and barge bring the call's audio into that account's own softphone (they log in on the
// agent page too), and a body that names a supervisor is refused (400, unknown field). The
// announcement switch, which every caller hears, is an administrator's (403 for a supervisor).
// There is no open access.
//
// A login is throttled per account and per address (429 with Retry-After) and costs one bcrypt
// comparison whatever the id. The session cookie (HttpOnly, SameSite=Strict, Secure over TLS)
// names a session in Redis, so a restart or another instance keeps it. A revoked session (logout,
// the per-account bound, a disabled account) ends its live feed at once on every instance.
//
// Every action, done or refused, is audited with the actor, role and client address.
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
