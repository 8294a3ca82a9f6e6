package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// maxTransitions bounds the nodes one call may walk. The loader refuses loops without input, so only a
// caller pressing keys for a very long time gets here; they go to an agent rather than loop forever.
const maxTransitions = 500

// Observer is told each step of each call as it happens (for the event stream). It runs on the call's
// goroutine and must not block.
type Observer func(in Inbound, s Step)

// Flows runs IVR sessions over the menus of a MenuSource.
type Flows struct {
	src      MenuSource
	lookup   Lookup
	log      *slog.Logger
	metrics  *Metrics
	observe  Observer
	preamble Preamble
}

// Preamble returns prompt ids every caller hears before the menu, such as a holiday or outage
// message a supervisor switched on; none when it returns nil. It is asked once per call.
type Preamble func(ctx context.Context) []string

// WithPreamble plays fn's prompts before every menu.
func WithPreamble(fn Preamble) FlowOption { return func(f *Flows) { f.preamble = fn } }

// FlowOption configures Flows.
type FlowOption func(*Flows)

// WithMetrics records sessions in m.
func WithMetrics(m *Metrics) FlowOption { return func(f *Flows) { f.metrics = m } }

// WithObserver calls fn for every step of every session.
func WithObserver(fn Observer) FlowOption { return func(f *Flows) { f.observe = fn } }

// NewFlows returns Flows over src (a *Menus, or a *Reloader for hot reload). lookup may be nil: lookup
// nodes then send the caller to an agent. log may be nil.
func NewFlows(src MenuSource, lookup Lookup, log *slog.Logger, opts ...FlowOption) *Flows {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Flows{src: src, lookup: lookup, log: log}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Run walks the menu for in.DID over call until an outcome. The menus are taken once, at the start:
// a reload does not change a call in progress.
//
// A caller hanging up is an outcome (OutcomeAbandoned, or OutcomeResolved after self-service), not an
// error. The error is non-nil only when no menu answers in.DID (ErrNoMenu), ctx ends, or call fails
// otherwise; the Result then still holds the path so far, and Queue the menus' last resort queue,
// where a caller the menu could not serve is best sent.
func (f *Flows) Run(ctx context.Context, call Call, in Inbound) (Result, error) {
	m := f.src.Current()
	if m == nil {
		return Result{Outcome: OutcomeAbandoned}, fmt.Errorf("ivr: no menus loaded: %w", ErrNoMenu)
	}
	id, ok := m.MenuFor(in.DID)
	mn := m.menus[id]
	if !ok || mn == nil {
		return Result{Outcome: OutcomeAbandoned, Lang: m.lang, Queue: m.lastResortQueue}, fmt.Errorf("ivr: DID %q: %w", in.DID, ErrNoMenu)
	}
	s := &session{
		f: f, m: m, mn: mn, call: &strayTerminator{Call: call}, in: in,
		log: f.log.With("call", in.CallID, "menu", id),
		res: Result{Lang: m.lang, Menu: id, Data: map[string]string{}},
	}
	err := s.run(ctx)
	s.finish(err)
	if err != nil && s.res.Queue == "" {
		s.res.Queue = m.lastResortQueue
	}
	return s.res, err
}

// session is one call's walk through a menu.
type session struct {
	f        *Flows
	m        *Menus
	mn       *menu
	call     *strayTerminator
	in       Inbound
	log      *slog.Logger
	res      Result
	priority int  // raised by set nodes (e.g. a business contract)
	served   bool // a lookup answered the caller
}

func (s *session) run(ctx context.Context) error {
	if s.f.preamble != nil {
		var media []string
		for _, id := range s.f.preamble(ctx) {
			media = append(media, sound(id))
		}
		if len(media) > 0 {
			if err := s.call.Play(ctx, s.res.Lang, media...); err != nil {
				if errors.Is(err, ErrHangup) {
					s.end(OutcomeAbandoned)
					return nil
				}
				return err
			}
		}
	}
	cur := s.mn.start
	for range maxTransitions {
		n := s.mn.nodes[cur]
		if n == nil { // the loader prevents this; stay safe if a Menus is built by hand
			s.agent(cur, "")
			return nil
		}
		s.res.Node = n.id
		s.step(n.id, EventNode, "", "")
		for _, k := range sortedKeys(n.Set) {
			s.res.Data[k] = n.Set[k]
		}
		next, err := s.exec(ctx, n)
		if err != nil {
			if errors.Is(err, ErrHangup) {
				s.step(n.id, EventHangup, "", "")
				s.f.metrics.hangup(s.mn.id, n.id)
				s.log.Info("caller hung up in the IVR", "node", n.id)
				s.end(OutcomeAbandoned)
				return nil
			}
			return fmt.Errorf("ivr: call %s at node %s: %w", s.in.CallID, n.id, err)
		}
		if s.res.Outcome != "" {
			return nil
		}
		cur = next
	}
	s.step(cur, EventLastResort, "", "too many steps")
	s.agent(cur, "")
	return nil
}

// end sets the outcome; hanging up after self-service counts as resolved.
func (s *session) end(o Outcome) {
	if s.served && (o == OutcomeAbandoned || o == OutcomeHangup) {
		o = OutcomeResolved
	}
	s.res.Outcome = o
}

func (s *session) finish(err error) {
	if err != nil && s.res.Outcome == "" {
		s.res.Outcome = OutcomeAbandoned
	}
	s.step(s.res.Node, EventEnd, "", string(s.res.Outcome))
	s.res.Story = s.story()
	s.f.metrics.call(s.mn.id, s.res.Outcome, err != nil, s.served)
	s.log.Info("IVR finished", "node", s.res.Node, "outcome", s.res.Outcome, "queue", s.res.Queue, "priority", s.res.Priority)
}

// step records one event in the path and tells the observer.
func (s *session) step(node string, ev Event, field, value string) {
	st := Step{Node: node, Event: ev, Field: field, Value: value}
	s.log.Debug("ivr step", "node", node, "event", ev, "field", field)
	if len(s.res.Path) < 4*maxTransitions {
		s.res.Path = append(s.res.Path, st)
	}
	if s.f.observe != nil {
		s.f.observe(s.in, st)
	}
}

// agent ends the session in the agent queue: target is a node to go to instead when the menu names
// one; otherwise the built-in agent, the last_resort_queue with everything the caller gave.
// It returns the node to go to, or "" when the session has ended.
func (s *session) agent(from, target string) string {
	if target != "" {
		return target
	}
	s.res.Queue = s.m.lastResortQueue
	s.res.Priority = s.priority
	s.res.Node = from
	s.end(OutcomeQueue)
	return ""
}

// play plays prompt ids (and raw media URIs, which contain ':') in the call's language.
func (s *session) play(ctx context.Context, items ...string) error {
	if len(items) == 0 {
		return nil
	}
	media := make([]string, 0, len(items))
	for _, it := range items {
		if it == "" {
			continue
		}
		if !containsColon(it) {
			it = sound(it)
		}
		media = append(media, it)
	}
	return s.call.Play(ctx, s.res.Lang, media...)
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}
