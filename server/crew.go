package server

import (
	"context"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/softphone"
)

// crewAgents picks n agents for the demo to play: the last ones of each group, in proportion to its
// size, so p001, b001, s001 and f001 stay free for a person.
func crewAgents(m *acd.Model, n int) []string {
	if n <= 0 || len(m.Agents) == 0 {
		return nil
	}
	byGroup := map[string][]string{}
	for _, a := range m.Agents {
		byGroup[a.Group] = append(byGroup[a.Group], a.ID)
	}
	var out []string
	left := n
	for i, g := range m.Groups {
		ids := byGroup[g]
		take := len(ids) * n / len(m.Agents)
		if i == len(m.Groups)-1 || take > left {
			take = min(left, len(ids))
		}
		take = min(take, len(ids))
		out = append(out, ids[len(ids)-take:]...)
		left -= take
	}
	return out
}

// crewDesk is the desk as a crew member uses it.
type crewDesk struct{ d *desk }

func (c crewDesk) Available(ctx context.Context, agent string) error {
	return c.d.SetState(ctx, agent, softphone.StateAvailable, "")
}
func (c crewDesk) Pause(ctx context.Context, agent, reason string) error {
	return c.d.SetState(ctx, agent, softphone.StatePaused, reason)
}
func (c crewDesk) Answer(ctx context.Context, agent, call string) error {
	return c.d.Answer(ctx, agent, call)
}
func (c crewDesk) Hangup(ctx context.Context, agent, call string) error {
	return c.d.Hangup(ctx, agent, call)
}
func (c crewDesk) WrapUp(ctx context.Context, agent, call, disposition, note string) error {
	return c.d.WrapUp(ctx, agent, call, disposition, note)
}

// runCrew plays the demo's crew until ctx ends.
func (s *Server) runCrew(ctx context.Context) error {
	var codes []string
	for _, d := range s.dispositions {
		codes = append(codes, d.Code)
	}
	cfg := crew.Config{TimeScale: s.cfg.Simulator.TimeScale}
	if s.crewTiming != nil {
		cfg = *s.crewTiming
	}
	cfg.Agents, cfg.Dispositions, cfg.Bell = s.crew, codes, s.desk.phones.bell
	crew.Run(ctx, cfg,
		crewDesk{s.desk}, func(agent string) (string, bool, bool) {
			card, talking, ok := s.sb.ActiveCall(agent)
			return card.ID, talking, ok
		}, s.log.With("part", "crew"))
	return nil
}
