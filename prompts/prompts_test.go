package prompts_test

import (
	"testing"

	"github.com/hotline-cc/hotline/prompts"
)

func TestCatalogParsesAndHasBothLanguages(t *testing.T) {
	c, err := prompts.Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(c) == 0 {
		t.Fatal("empty catalog")
	}
	for _, id := range c.IDs() {
		for _, lang := range []string{"ru", "en"} {
			if !c.Has(id, lang) {
				t.Errorf("%s: no %s text", id, lang)
			}
		}
	}
}

// durations.yaml must be regenerated (scripts/make-prompts.sh) whenever the catalog changes.
func TestDurationsCoverCatalog(t *testing.T) {
	c, err := prompts.Default()
	if err != nil {
		t.Fatal(err)
	}
	d := prompts.Durations()
	for _, id := range c.IDs() {
		for lang := range c[id] {
			v, ok := d[lang+"/hotline/"+id]
			if !ok || v <= 0 {
				t.Errorf("%s/hotline/%s: no duration; run scripts/make-prompts.sh", lang, id)
			}
		}
	}
	if v, ok := prompts.Duration("ru", "welcome"); !ok || v <= 0 {
		t.Errorf("Duration(ru, welcome) = %v, %v", v, ok)
	}
	if prompts.Media("welcome") != "sound:hotline/welcome" {
		t.Error("Media")
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := prompts.ParseCatalog("c.yaml", []byte("a: {ru: x, de: [1]}")); err == nil {
		t.Error("bad catalog accepted")
	}
	if _, err := prompts.ParseDurations("d.yaml", []byte("a: {ru: fast}")); err == nil {
		t.Error("bad durations accepted")
	}
}
