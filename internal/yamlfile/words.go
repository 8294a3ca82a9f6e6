package yamlfile

import (
	"bytes"
	"regexp"
	"strings"
)

// typeMsg is the decoder's message for a value of the wrong type.
var typeMsg = regexp.MustCompile(`^cannot unmarshal (.+?) into Go (?:struct field|value) .*of type (\S+)$`)

// plainWords says a decoder message in an operator's words: what the value must be, not which Go
// type it failed to fill.
func plainWords(msg string) string {
	if m := typeMsg.FindStringSubmatch(msg); m != nil {
		got := kindOf(m[1])
		switch t := strings.TrimLeft(m[2], "*[]"); {
		case strings.HasPrefix(t, "uint"):
			return "must be a whole number, 0 or more (got " + got + ")"
		case strings.HasPrefix(t, "int"):
			return "must be a whole number (got " + got + ")"
		case strings.HasPrefix(t, "float"):
			return "must be a number (got " + got + ")"
		case t == "bool":
			return "must be true or false (got " + got + ")"
		case t == "string":
			return "must be text; put it in quotes (got " + got + ")"
		}
		return "has the wrong kind of value (got " + got + ")"
	}
	switch {
	case strings.HasSuffix(msg, "where sequence is expected"):
		return "must be a list: items on their own lines starting with \"- \", or [a, b]"
	case strings.HasSuffix(msg, "where mapping is expected"):
		return "must be a set of fields (name: value), one per line, indented under it"
	case strings.HasPrefix(msg, "unknown field"):
		return msg + ": not a setting here (misspelt, or indented under the wrong parent?)"
	case strings.Contains(msg, "that cannot start any token") && strings.Contains(msg, "'\t'"):
		return "a tab: YAML is indented with spaces only"
	}
	return msg
}

// misindented finds the first line whose indentation fits no block above it: deeper than its
// previous line without that line opening a block ("key:" or a "- " item), or back out to a depth
// no line above stood at. It is what "value is not allowed in this context" usually means, and the
// parser names the line before or after. 0 when every line fits.
func misindented(data []byte) int {
	levels := []int{0}
	opens := false // the previous line opens a block
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := string(bytes.TrimRight(raw, " \r"))
		content := strings.TrimLeft(line, " ")
		if content == "" || strings.HasPrefix(content, "#") {
			continue
		}
		if strings.HasPrefix(content, "\t") {
			return i + 1
		}
		indent := len(line) - len(content)
		top := levels[len(levels)-1]
		switch {
		case indent > top:
			if !opens {
				return i + 1
			}
			levels = append(levels, indent)
		case indent < top:
			for len(levels) > 1 && levels[len(levels)-1] > indent {
				levels = levels[:len(levels)-1]
			}
			if levels[len(levels)-1] != indent {
				return i + 1
			}
		}
		// A "- " item holds its mapping one level in: "- name: a" then "  wrapup: 10s".
		for strings.HasPrefix(content, "- ") {
			indent += 2
			levels = append(levels, indent)
			content = strings.TrimLeft(content[2:], " ")
		}
		body := content
		if j := strings.Index(body, " #"); j >= 0 {
			body = strings.TrimRight(body[:j], " ")
		}
		opens = strings.HasSuffix(body, ":") || strings.HasSuffix(body, "|") || strings.HasSuffix(body, ">") ||
			strings.HasSuffix(body, "|-") || strings.HasSuffix(body, ">-")
		if strings.HasSuffix(body, "|") || strings.HasSuffix(body, ">") || strings.HasSuffix(body, "|-") || strings.HasSuffix(body, ">-") {
			return 0 // a block scalar: its text may be indented any way; stop judging
		}
	}
	return 0
}

// kindOf names a decoded Go type as the YAML that made it.
func kindOf(goType string) string {
	switch {
	case goType == "string":
		return "text"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map"):
		return "a set of fields"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return goType
}
