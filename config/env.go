package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Every scalar field can be overridden by an environment variable named after its YAML path:
// HOTLINE_ + the path in upper case with dots as underscores. ari.password is HOTLINE_ARI_PASSWORD,
// redis.addr is HOTLINE_REDIS_ADDR, web.listen is HOTLINE_WEB_LISTEN. Lists take comma-separated values.

// EnvNames lists every variable that overrides a field, for the README and `hotline help`.
func EnvNames() []string {
	var names []string
	walkEnv(reflect.ValueOf(&Config{}).Elem(), "HOTLINE", func(name string, _ reflect.Value) { names = append(names, name) })
	return names
}

func applyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	var err error
	walkEnv(reflect.ValueOf(cfg).Elem(), "HOTLINE", func(name string, v reflect.Value) {
		s, ok := lookup(name)
		if !ok || err != nil {
			return
		}
		if e := setScalar(v, s); e != nil {
			err = fmt.Errorf("environment %s=%q: %w", name, s, e)
		}
	})
	return err
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func walkEnv(v reflect.Value, prefix string, visit func(string, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && !reflect.PointerTo(fv.Type()).Implements(textUnmarshaler) {
			walkEnv(fv, name, visit)
			continue
		}
		if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() != reflect.String {
			continue // lists of structs live in the file only
		}
		visit(name, fv)
	}
}

func setScalar(v reflect.Value, s string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		v.SetFloat(f)
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
