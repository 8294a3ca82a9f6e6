package ivr

import "strings"

// Text is one line for a person, in each language the agent's page speaks: "ru" and "en".
type Text map[string]string

// storyLangs are the languages of the agent's page, which the story is written in whatever
// languages the callers hear.
var storyLangs = [...]string{"ru", "en"}

// storyWords are the story's own words; the rest comes from the nodes' labels and the caller.
var storyWords = map[string]Text{
	"timeout":     {"ru": "нет ответа", "en": "no answer"},
	"invalid":     {"ru": "неверно", "en": "invalid"},
	"agent":       {"ru": "оператор", "en": "agent"},
	"last_resort": {"ru": "попытки исчерпаны", "en": "out of tries"},
	"hangup":      {"ru": "абонент положил трубку", "en": "the caller hung up"},
	"lang":        {"ru": "язык", "en": "language"},
	// lookup answers (lookupStatuses)
	"not_found":  {"ru": "не найдено", "en": "not found"},
	"error":      {"ru": "сервис недоступен", "en": "service down"},
	"in_transit": {"ru": "в пути", "en": "in transit"},
	"arrived":    {"ru": "прибыло в отделение", "en": "arrived at the office"},
	"delivered":  {"ru": "вручено", "en": "delivered"},
	"returned":   {"ru": "возвращено", "en": "returned"},
	"unknown":    {"ru": "статус неизвестен", "en": "status unknown"},
	"registered": {"ru": "зарегистрирована", "en": "registered"},
	"in_review":  {"ru": "на рассмотрении", "en": "in review"},
	"approved":   {"ru": "удовлетворена", "en": "approved"},
	"rejected":   {"ru": "отклонена", "en": "rejected"},
	"paid":       {"ru": "выплачено", "en": "paid"},
}

// story tells the session's path for the agent's screen, one line a step that says something:
// "Меню частных клиентов: 1 → Отслеживание", "Ввод трек-номера: 80085012345678". Entering a
// node and the end are left out: the next line and the queue say them.
func (s *session) story() []Text {
	out := make([]Text, 0, len(s.res.Path))
	for _, st := range s.res.Path {
		n := s.mn.nodes[st.Node]
		t := Text{}
		for _, lang := range storyLangs {
			line, ok := s.storyLine(lang, n, st)
			if !ok {
				t = nil
				break
			}
			t[lang] = s.label(lang, n, st.Node) + ": " + line
		}
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// storyLine is what happened at the node, in lang; false for a step the story leaves out.
func (s *session) storyLine(lang string, n *node, st Step) (string, bool) {
	word := func(w string) string { return storyWords[w][lang] }
	switch st.Event {
	case EventKey:
		if n != nil {
			if next, ok := n.Options[st.Value]; ok {
				return st.Value + " → " + s.label(lang, s.mn.nodes[next], next), true
			}
		}
		return st.Value, true
	case EventAgentKey:
		return strings.TrimSpace(st.Value + " → " + word("agent")), true
	case EventTimeout:
		return word("timeout"), true
	case EventInvalid:
		return word("invalid") + " «" + st.Value + "»", true
	case EventInput:
		return st.Value, true
	case EventLookup:
		if w := word(st.Value); w != "" {
			return w, true
		}
		return st.Value, true
	case EventLastResort:
		return word("last_resort"), true
	case EventHangup:
		return word("hangup"), true
	case EventLang:
		return word("lang") + " " + st.Value, true
	}
	return "", false
}

// label is what the agent's screen calls a node: its label in lang, else in the menus' language,
// else its id.
func (s *session) label(lang string, n *node, id string) string {
	if n == nil {
		return id
	}
	if l := n.Label[lang]; l != "" {
		return l
	}
	if l := n.Label[s.m.lang]; l != "" {
		return l
	}
	return id
}
