// Package prompts holds the text of every recorded prompt hotline plays (catalog.yaml) and how long
// each recording lasts (durations.yaml, written by scripts/make-prompts.sh). Both are embedded, so the
// IVR loader can check a menu's prompts and the Asterisk simulator can time playback without the audio.
//
// Audio lives outside the repository as an Asterisk sounds folder: <sounds>/<lang>/hotline/<id>.wav,
// played through ARI as media "sound:hotline/<id>" with the channel's language.
package prompts

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/internal/yamlfile"
)

//go:embed catalog.yaml
var catalogYAML []byte

//go:embed durations.yaml
var durationsYAML []byte

// Text is one prompt's wording, keyed by language ("ru", "en").
type Text map[string]string

// Catalog maps a prompt id to its wording per language.
type Catalog map[string]Text

// Has reports whether prompt id has a text in lang.
func (c Catalog) Has(id, lang string) bool { return c[id][lang] != "" }

// IDs returns the prompt ids in order.
func (c Catalog) IDs() []string { return slices.Sorted(maps.Keys(c)) }

// Media returns the ARI media URI of prompt id.
func Media(id string) string { return "sound:hotline/" + id }

var loadCatalog = sync.OnceValues(func() (Catalog, error) { return ParseCatalog("prompts/catalog.yaml", catalogYAML) })

// Default returns the embedded catalog. The error can only come from a broken catalog.yaml, which the
// package's tests refuse, so callers at start-up may treat it as fatal.
func Default() (Catalog, error) {
	c, err := loadCatalog()
	return maps.Clone(c), err
}

// ParseCatalog decodes a catalog file; name is used in error messages.
func ParseCatalog(name string, data []byte) (Catalog, error) {
	var c Catalog
	if _, err := yamlfile.Decode(name, data, &c); err != nil {
		return nil, fmt.Errorf("prompt catalog: %w", err)
	}
	return c, nil
}

// durationsFile is durations.yaml: id → language → seconds.
type durationsFile map[string]map[string]float64

var loadDurations = sync.OnceValues(func() (map[string]time.Duration, error) {
	return ParseDurations("prompts/durations.yaml", durationsYAML)
})

// Durations returns how long each recorded prompt lasts, keyed like an Asterisk sound path:
// "<lang>/hotline/<id>" (e.g. "ru/hotline/welcome"). The map is a copy the caller may keep.
// It is empty if durations.yaml is broken (the package's tests refuse that).
func Durations() map[string]time.Duration {
	d, _ := loadDurations()
	return maps.Clone(d)
}

// Duration returns the length of prompt id in lang and whether it is known.
func Duration(lang, id string) (time.Duration, bool) {
	d, _ := loadDurations()
	v, ok := d[lang+"/hotline/"+id]
	return v, ok
}

// ParseDurations decodes a durations file into the map Durations returns.
func ParseDurations(name string, data []byte) (map[string]time.Duration, error) {
	var f durationsFile
	if _, err := yamlfile.Decode(name, data, &f); err != nil {
		return nil, fmt.Errorf("prompt durations: %w", err)
	}
	out := make(map[string]time.Duration, 2*len(f))
	for id, langs := range f {
		for lang, sec := range langs {
			out[lang+"/hotline/"+id] = time.Duration(sec * float64(time.Second))
		}
	}
	return out, nil
}
