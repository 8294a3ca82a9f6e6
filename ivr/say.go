package ivr

import (
	"fmt"
	"slices"
	"time"
)

// Prompts the flow engine plays on its own (besides those a menu names). The loader checks them in
// the catalog whenever a menu could need them.
const (
	promptLookupFailed = "lookup_failed"
	promptAtOffice     = "at_office"
	promptOnDate       = "on_date"
)

// sayPrompts lists every prompt sayAnswer may use for kind.
func sayPrompts(kind string) []string {
	ids := []string{promptAtOffice, promptOnDate}
	for _, s := range lookupStatuses[kind] {
		ids = append(ids, kind+"_"+s)
	}
	for m := 1; m <= 12; m++ {
		ids = append(ids, monthPrompt(time.Month(m)))
	}
	return ids
}

func monthPrompt(m time.Month) string { return fmt.Sprintf("month_%02d", int(m)) }

// sound is the ARI media URI of a hotline prompt.
func sound(id string) string { return "sound:hotline/" + id }

// sayAnswer turns a lookup answer into media: the status phrase, then the office's postcode digit by
// digit, then the date as "<on_date> number:<day> <month name>" (the year is left out: callers ask
// about recent items, and Asterisk's number sayings carry the day; the month name is our recording
// because Russian needs the genitive). Parts the backend left out, or sent malformed, are skipped.
func sayAnswer(kind string, a Answer) []string {
	status := a.Status
	if !slices.Contains(lookupStatuses[kind], status) {
		status = "unknown"
	}
	media := []string{sound(kind + "_" + status)}
	if a.Office != "" && allDigits(a.Office) && len(a.Office) <= 10 {
		media = append(media, sound(promptAtOffice), "digits:"+a.Office)
	}
	if d, err := time.Parse(time.DateOnly, a.Date); err == nil {
		media = append(media, sound(promptOnDate), fmt.Sprintf("number:%d", d.Day()), sound(monthPrompt(d.Month())))
	}
	return media
}
