// Package ivr runs hotline's interactive voice response: menus as data (a YAML file the operator
// edits), a flow engine that walks them over a Call, digit collection with validators (Russian Post
// 14-digit and UPU S10 tracking numbers, claim and contract numbers), self-service lookups through a
// pluggable backend, hot reload and Prometheus metrics.
//
// The package knows nothing of ARI or HTTP serving: switchboard implements Call over Asterisk and
// hands the Result (a queue, a priority, what the caller entered and the path they took) to acd.
//
// A flow in brief:
//
//	menus, err := ivr.LoadFile("menus.yaml")      // or ivr.LoadDefault() for the embedded default center
//	flows := ivr.NewFlows(menus, lookup, log)     // menus may be a *Reloader for hot reload
//	res, err := flows.Run(ctx, call, ivr.Inbound{CallID: id, DID: "8800", CallerNumber: from})
package ivr
