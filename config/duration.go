package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/hotline-cc/hotline/internal/yamlfile"
)

// Duration is a time.Duration written in YAML and the environment as "2s", "150ms" or "1m30s".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText accepts Go duration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 2s or 500ms", b)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reports a bad duration at its line in the file.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	if err := d.UnmarshalText([]byte(strings.Trim(n.String(), `"'`))); err != nil {
		return yamlfile.NodeError(n, "%v", err)
	}
	return nil
}

// MarshalText writes Go duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
