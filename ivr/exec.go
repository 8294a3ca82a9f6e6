package ivr

import (
	"context"
	"errors"
	"slices"
)

// exec runs node n and returns the next node; the session has ended when s.res.Outcome is set.
func (s *session) exec(ctx context.Context, n *node) (string, error) {
	switch n.Type {
	case NodePlay:
		return n.Next, s.play(ctx, n.Prompt...)
	case NodeMenu:
		return s.menu(ctx, n)
	case NodeCollect:
		return s.collect(ctx, n)
	case NodeLookup:
		return s.lookup(ctx, n)
	case NodeSet:
		if n.Lang != "" && n.Lang != s.res.Lang {
			s.res.Lang = n.Lang
			s.step(n.id, EventLang, "", n.Lang)
		}
		if n.Priority > 0 {
			s.priority = n.Priority
		}
		return n.Next, nil
	case NodeQueue, NodeCallback, NodeTransfer, NodeHangup:
		if err := s.play(ctx, n.Prompt...); err != nil {
			return "", err
		}
		s.terminal(n)
		return "", nil
	default: // the loader refuses other types
		return s.agent(n.id, ""), nil
	}
}

// terminal ends the session at an end node.
func (s *session) terminal(n *node) {
	switch n.Type {
	case NodeQueue:
		s.res.Queue, s.res.Priority = n.Queue, max(n.Priority, s.priority)
		s.end(OutcomeQueue)
	case NodeCallback:
		s.res.Queue, s.res.Priority = n.Queue, max(n.Priority, s.priority)
		s.res.Number = s.in.CallerNumber
		if v := s.res.Data[n.Field]; n.Field != "" && v != "" {
			s.res.Number = v
		}
		s.end(OutcomeCallback)
	case NodeTransfer:
		s.res.Number = n.Number
		// Where the caller waits if the transfer cannot be made: they came for help, not a hang-up.
		s.res.Queue, s.res.Priority = s.m.lastResortQueue, s.priority
		s.end(OutcomeTransfer)
	case NodeHangup:
		s.end(OutcomeHangup)
	}
}

// menu offers keys: up to retries attempts, each the prompt then a wait for one key.
func (s *session) menu(ctx context.Context, n *node) (string, error) {
	var pre []string // said before the prompt on a retry: "we did not hear you", "invalid choice"
	for attempt := 1; ; attempt++ {
		if err := s.play(ctx, append(pre, n.Prompt...)...); err != nil {
			return "", err
		}
		k, err := s.call.NextDigit(ctx, n.settings.Timeout)
		switch {
		case errors.Is(err, ErrTimeout):
			s.step(n.id, EventTimeout, "", "")
			pre = []string{n.settings.TimeoutPrompt}
		case err != nil:
			return "", err
		default:
			key := string(k)
			if next, ok := n.Options[key]; ok {
				s.step(n.id, EventKey, "", key)
				return next, nil
			}
			if s.m.agentKey != 0 && k == s.m.agentKey {
				s.step(n.id, EventAgentKey, "", key)
				return s.agent(n.id, n.settings.Agent), nil
			}
			s.step(n.id, EventInvalid, "", key)
			pre = []string{n.settings.InvalidPrompt}
		}
		if attempt >= n.settings.Retries {
			s.step(n.id, EventLastResort, "", "")
			return s.agent(n.id, n.settings.LastResort), nil
		}
	}
}

// collect asks for a number until it passes the node's validator or retries run out. A wrong number
// is read back digit by digit before asking again; after the last try the caller goes to the last
// resort with what they entered in Data[field] and Data[field+"_invalid"] = "true".
func (s *session) collect(ctx context.Context, n *node) (string, error) {
	spec := CollectSpec{Min: n.minLen, Max: n.maxLen, Terminator: n.term, FirstTimeout: n.first, InterTimeout: n.inter}
	var pre []string
	for attempt := 1; ; attempt++ {
		if err := s.play(ctx, append(pre, n.Prompt...)...); err != nil {
			return "", err
		}
		digits, err := Collect(ctx, s.call, spec)
		if err == nil && spec.Terminator != 0 && len(digits) == spec.Max {
			s.call.expect(spec.Terminator)
		}
		switch {
		case errors.Is(err, ErrTimeout) || err == nil && digits == "":
			s.step(n.id, EventTimeout, n.Field, "")
			if n.OnEmpty != "" {
				return n.OnEmpty, nil
			}
			pre = []string{n.settings.TimeoutPrompt}
		case err != nil:
			return "", err
		case s.m.agentKey != 0 && digits == string(s.m.agentKey):
			// The agent key alone, then # or a pause: the caller wants a person, not a number.
			s.step(n.id, EventAgentKey, n.Field, digits)
			return s.agent(n.id, n.settings.Agent), nil
		case len(digits) >= n.minLen && len(digits) <= n.maxLen && n.validate != nil && n.validate(digits):
			s.res.Data[n.Field] = digits
			delete(s.res.Data, n.Field+"_invalid")
			s.step(n.id, EventInput, n.Field, digits)
			return n.Next, nil
		default:
			s.step(n.id, EventInvalid, n.Field, digits)
			s.res.Data[n.Field] = digits
			s.res.Data[n.Field+"_invalid"] = "true"
			pre = []string{n.settings.InvalidPrompt, "digits:" + digits}
		}
		if attempt >= n.settings.Retries {
			s.step(n.id, EventLastResort, n.Field, "")
			return s.agent(n.id, n.settings.LastResort), nil
		}
	}
}

// lookup asks the backend about Data[field] and speaks the answer. Not found goes to not_found; any
// failure (no backend, timeout, error answer) says so and goes to on_error or the agent: never silence.
func (s *session) lookup(ctx context.Context, n *node) (string, error) {
	number := s.res.Data[n.Field]
	var (
		a   Answer
		err = errors.New("no lookup backend")
	)
	if s.f.lookup != nil && number != "" && s.res.Data[n.Field+"_invalid"] == "" {
		lctx, cancel := context.WithTimeout(ctx, s.m.lookupTimeout)
		a, err = s.f.lookup.Find(lctx, n.Lookup, number)
		cancel()
	}
	if ctx.Err() != nil {
		return "", ctx.Err() // the call ended (or the server is stopping), not the backend
	}
	switch {
	case errors.Is(err, ErrNotFound):
		s.lookedUp(n, "not_found")
		if n.NotFound != "" {
			return n.NotFound, nil
		}
		return s.agent(n.id, n.OnError), nil
	case err != nil:
		s.log.Warn("lookup failed", "node", n.id, "lookup", n.Lookup, "err", err)
		s.lookedUp(n, "error")
		if err := s.play(ctx, promptLookupFailed); err != nil {
			return "", err
		}
		return s.agent(n.id, n.OnError), nil
	}
	status := a.Status
	if !slices.Contains(lookupStatuses[n.Lookup], status) {
		status = "unknown"
	}
	s.lookedUp(n, status)
	if a.Office != "" {
		s.res.Data[n.Field+"_office"] = clip(a.Office)
	}
	if a.Date != "" {
		s.res.Data[n.Field+"_date"] = clip(a.Date)
	}
	// The caller has their answer once it starts: hanging up during it counts as resolved.
	s.served = true
	if err := s.play(ctx, sayAnswer(n.Lookup, a)...); err != nil {
		return "", err
	}
	return n.Next, nil
}

func (s *session) lookedUp(n *node, answer string) {
	s.res.Data[n.Field+"_status"] = answer
	s.step(n.id, EventLookup, n.Field, answer)
	s.f.metrics.lookup(n.Lookup, answer)
}

// clip bounds a backend's string before it joins the call's data: the screen pop is not a data dump.
func clip(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		return s[:maxLen]
	}
	return s
}
