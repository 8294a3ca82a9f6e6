// Package acd is hotline's automatic call distribution: queues, agents and skills-based routing, with
// the live state in Redis so that any number of controller instances share one center and a restarted
// controller loses nothing.
//
// Every state change (enqueue, dispatch, accept, ring-no-answer, finish, abandon, agent login, pause…)
// is one run of one Lua script (lua/acd.lua, loaded once, run by EVALSHA), which also appends the
// matching event to the center's stream. Redis runs scripts one at a time, so two instances racing can
// never give one agent two calls nor one call two agents, and the state and the stream cannot diverge.
// Every key carries the hash tag {hotline:<center>}, so the script runs unchanged on Redis Cluster.
// The script avoids what miniredis lacks (no cjson or setresp), so `hotline demo` runs it embedded;
// its clock is Redis TIME, never a controller's.
//
// Routing, the fairness formula, the wait estimate and how a controller drives a call are described in
// ROUTING.md beside this file. In short, a call's effective wait is
//
//	effective wait = now − enqueued + queue priority × weights.queue_priority + caller priority × weights.caller_priority
//
// and Dispatch always serves the longest effective wait first among queues that have a free agent;
// each queue's strategy then picks the agent.
//
// Go keeps no state: Center is a handle (model, client). Snapshot reads the whole picture.
package acd
