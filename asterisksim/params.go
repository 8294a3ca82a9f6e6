package asterisksim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// params are a request's ARI parameters: the query string and, as ari/v5 sends them, a JSON body
// object. Asterisk accepts both; body values win over the query.
type params struct {
	vals      map[string][]string
	variables map[string]string
	body      map[string]any // the JSON body as sent, for what must keep its JSON types
}

func parseParams(r *http.Request) (*params, error) {
	p := &params{vals: map[string][]string{}, variables: map[string]string{}}
	for k, v := range r.URL.Query() {
		p.vals[k] = append(p.vals[k], v...)
	}
	if r.Body == nil {
		return p, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return p, nil
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	p.body = body
	for k, v := range body {
		if k == "variables" {
			if err := p.addVariables(v); err != nil {
				return nil, err
			}
			continue
		}
		switch x := v.(type) {
		case []any:
			p.vals[k] = nil
			for _, e := range x {
				p.vals[k] = append(p.vals[k], scalar(e))
			}
		case nil:
		default:
			p.vals[k] = []string{scalar(x)}
		}
	}
	return p, nil
}

// addVariables accepts {"variables": {"K": "v"}} and Asterisk's wrapped {"variables": {"variables": {...}}}.
func (p *params) addVariables(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("variables must be an object")
	}
	if inner, ok := m["variables"].(map[string]any); ok && len(m) == 1 {
		m = inner
	}
	for k, val := range m {
		p.variables[k] = scalar(val)
	}
	return nil
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		raw, _ := json.Marshal(x)
		return string(raw)
	}
}

func (p *params) get(k string) string {
	if v := p.vals[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// list returns all values of k, also splitting comma-separated ones (media=a,b; channel=x,y).
func (p *params) list(k string) []string {
	var out []string
	for _, v := range p.vals[k] {
		out = append(out, splitList(v)...)
	}
	return out
}

// media reads play's media parameter as Asterisk's generated handler does: in a JSON body an array
// is the list and a string is one URI, commas and all; in the query each media parameter replaces
// the one before, and the last is split at commas as ast_app_separate_args splits.
func (p *params) media() []string {
	if v, ok := p.body["media"]; ok && v != nil {
		if list, ok := v.([]any); ok {
			out := make([]string, 0, len(list))
			for _, e := range list {
				out = append(out, scalar(e))
			}
			return out
		}
		return []string{scalar(v)}
	}
	if q := p.vals["media"]; len(q) > 0 {
		return separateArgs(q[len(q)-1])
	}
	return nil
}

// separateArgs splits s at commas as ast_app_separate_args does: a comma inside double quotes,
// parentheses or brackets does not split, quotes are dropped, a backslash makes the next character
// literal, nothing is trimmed, and a trailing comma adds an empty item. "" is one empty item (ARI's
// handlers special-case it).
func separateArgs(s string) []string {
	if s == "" {
		return []string{""}
	}
	var out []string
	var cur []byte
	paren, bracket, quote, started := 0, 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		started = true
		switch {
		case c == '(':
			paren++
		case c == ')' && paren > 0:
			paren--
		case c == '[':
			bracket++
		case c == ']' && bracket > 0:
			bracket--
		case c == '"':
			quote = !quote
			continue
		case c == '\\':
			if i+1 < len(s) {
				i++
				cur = append(cur, s[i])
			}
			continue
		case c == ',' && paren == 0 && bracket == 0 && !quote:
			out = append(out, string(cur))
			cur, started = nil, false
			continue
		}
		cur = append(cur, c)
	}
	if started || s[len(s)-1] == ',' {
		out = append(out, string(cur))
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *params) int(k string, def int) (int, error) {
	v := p.get(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: not an integer", k)
	}
	return n, nil
}

func (p *params) seconds(k string) (time.Duration, error) {
	n, err := p.int(k, 0)
	return time.Duration(n) * time.Second, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg})
}

func writeAPIError(w http.ResponseWriter, err error) {
	if ae, ok := err.(*apiError); ok {
		writeJSON(w, ae.status, ae.body)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}
