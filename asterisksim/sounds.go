package asterisksim

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// coreSounds holds the durations of the Asterisk core sounds (en) hotline and the transcripts use.
// Measured from PlaybackStarted→PlaybackFinished in shared/ari-transcripts where they appear
// (hello-world 1421 ms; beep ~440 ms); the others are the lengths of the en core-sounds files,
// rounded; digits and letters are the lengths of Debian's asterisk-core-sounds-en-gsm files.
var coreSounds = map[string]time.Duration{
	"hello-world":             1420 * time.Millisecond,
	"beep":                    440 * time.Millisecond,
	"queue-periodic-announce": 5200 * time.Millisecond,
	"queue-thereare":          800 * time.Millisecond,
	"queue-callswaiting":      1160 * time.Millisecond,
	"queue-youarenext":        1300 * time.Millisecond,
	"queue-holdtime":          1900 * time.Millisecond,
	"queue-minutes":           700 * time.Millisecond,
	"queue-seconds":           700 * time.Millisecond,
	"queue-thankyou":          1800 * time.Millisecond,
	"queue-less-than":         700 * time.Millisecond,
	"queue-reporthold":        1200 * time.Millisecond,
	"pls-hold-while-try":      2100 * time.Millisecond,
	"please-hold":             1000 * time.Millisecond,
	"vm-goodbye":              800 * time.Millisecond,
	"goodbye":                 700 * time.Millisecond,
	"demo-congrats":           6500 * time.Millisecond,
	"tt-monkeys":              5800 * time.Millisecond,
	"conf-onlyperson":         2400 * time.Millisecond,
	"agent-loginok":           900 * time.Millisecond,
	"transfer":                1100 * time.Millisecond,
	"pbx-invalid":             2300 * time.Millisecond,
	"silence/1":               time.Second,
}

// sayingsMS are the digits and letters SayNumber and SayDigits play, in milliseconds.
var sayingsMS = map[string]int{
	"digits/0": 880, "digits/1": 920, "digits/2": 760, "digits/3": 840, "digits/4": 820, "digits/5": 840,
	"digits/6": 900, "digits/7": 840, "digits/8": 700, "digits/9": 860, "digits/10": 660, "digits/11": 980,
	"digits/12": 820, "digits/13": 940, "digits/14": 1060, "digits/15": 1160, "digits/16": 1200,
	"digits/17": 1220, "digits/18": 1100, "digits/19": 1240, "digits/20": 940, "digits/30": 920,
	"digits/40": 960, "digits/50": 1240, "digits/60": 1040, "digits/70": 1040, "digits/80": 840,
	"digits/90": 1040, "digits/hundred": 860, "digits/thousand": 900, "digits/million": 860,
	"digits/star": 820, "digits/pound": 760, "digits/minus": 900,
	"letters/a": 620, "letters/b": 760, "letters/c": 880, "letters/d": 720, "letters/e": 680, "letters/f": 600,
	"letters/g": 700, "letters/h": 660, "letters/i": 680, "letters/j": 760, "letters/k": 720, "letters/l": 600,
	"letters/m": 620, "letters/n": 620, "letters/o": 660, "letters/p": 660, "letters/q": 760, "letters/r": 740,
	"letters/s": 620, "letters/t": 680, "letters/u": 800, "letters/v": 780, "letters/w": 920, "letters/x": 660,
	"letters/y": 760, "letters/z": 820,
}

func init() {
	for name, ms := range sayingsMS {
		coreSounds[name] = time.Duration(ms) * time.Millisecond
	}
	for i := 2; i <= 10; i++ {
		coreSounds["silence/"+strconv.Itoa(i)] = time.Duration(i) * time.Second
	}
}

// sound is a resolved prompt: how long it lasts and, when a WAV was found, its samples.
type sound struct {
	dur time.Duration
	pcm []int16
}

// resolveSound finds name in lang the way Asterisk's file lookup does, simplified: Config.Sounds,
// then SoundsDir/<lang>/name.<ext> (then SoundsDir/name.<ext>), then the core table, in every
// language (the test Asterisk has Debian's en and ru core sounds).
func (s *Sim) resolveSound(name, lang string) (sound, bool) {
	if strings.Contains(name, "..") {
		return sound{}, false
	}
	if d, ok := s.cfg.Sounds[lang+"/"+name]; ok {
		return sound{dur: d}, true
	}
	if d, ok := s.cfg.Sounds[name]; ok {
		return sound{dur: d}, true
	}
	if s.cfg.SoundsDir != "" {
		langs := []string{lang}
		if i := strings.IndexByte(lang, '_'); i > 0 {
			langs = append(langs, lang[:i])
		}
		langs = append(langs, "")
		for _, l := range langs {
			if snd, ok := soundFile(filepath.Join(s.cfg.SoundsDir, l, name)); ok {
				return snd, true
			}
		}
	}
	d, ok := coreSounds[name]
	if !ok {
		return sound{}, false
	}
	return sound{dur: d}, true
}

// soundFile looks for base.<ext> and derives its duration from the size (and, for WAV, loads the
// samples when they are 8 kHz 16-bit mono).
func soundFile(base string) (sound, bool) {
	perSecond := map[string]float64{"gsm": 1650, "ulaw": 8000, "alaw": 8000, "sln": 16000, "sln16": 32000, "g722": 8000}
	if raw, err := os.ReadFile(base + ".wav"); err == nil {
		return parseWAV(raw)
	}
	for ext, bps := range perSecond {
		if fi, err := os.Stat(base + "." + ext); err == nil && !fi.IsDir() {
			return sound{dur: time.Duration(float64(fi.Size()) / bps * float64(time.Second))}, true
		}
	}
	return sound{}, false
}

func parseWAV(raw []byte) (sound, bool) {
	if len(raw) < 12 || string(raw[0:4]) != "RIFF" || string(raw[8:12]) != "WAVE" {
		return sound{}, false
	}
	var channels, bits uint16
	var sampleRate uint32
	for p := 12; p+8 <= len(raw); {
		id := string(raw[p : p+4])
		size := int(binary.LittleEndian.Uint32(raw[p+4 : p+8]))
		body := raw[p+8:]
		if size > len(body) {
			size = len(body)
		}
		switch id {
		case "fmt ":
			if size >= 16 {
				channels = binary.LittleEndian.Uint16(body[2:4])
				sampleRate = binary.LittleEndian.Uint32(body[4:8])
				bits = binary.LittleEndian.Uint16(body[14:16])
			}
		case "data":
			if channels == 0 || sampleRate == 0 || bits == 0 {
				return sound{}, false
			}
			bytesPerSec := float64(sampleRate) * float64(channels) * float64(bits) / 8
			snd := sound{dur: time.Duration(float64(size) / bytesPerSec * float64(time.Second))}
			if sampleRate == rate && channels == 1 && bits == 16 {
				snd.pcm = make([]int16, size/2)
				for i := range snd.pcm {
					snd.pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
				}
			}
			return snd, true
		}
		p += 8 + size + size%2
	}
	return sound{}, false
}

// sayNumber lists the en files Asterisk's SayNumber would play for n.
func sayNumber(n int) []string {
	if n < 0 {
		return append([]string{"digits/minus"}, sayNumber(-n)...)
	}
	var out []string
	if n >= 1000 {
		out = append(out, sayNumber(n/1000)...)
		out = append(out, "digits/thousand")
		n %= 1000
		if n == 0 {
			return out
		}
	}
	if n >= 100 {
		out = append(out, "digits/"+strconv.Itoa(n/100), "digits/hundred")
		n %= 100
		if n == 0 {
			return out
		}
	}
	if n > 20 {
		out = append(out, "digits/"+strconv.Itoa(n/10*10))
		n %= 10
		if n == 0 {
			return out
		}
	}
	return append(out, "digits/"+strconv.Itoa(n))
}

func sayDigits(d string) []string {
	var out []string
	for _, c := range d {
		switch {
		case c >= '0' && c <= '9':
			out = append(out, "digits/"+string(c))
		case c == '*':
			out = append(out, "digits/star")
		case c == '#':
			out = append(out, "digits/pound")
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			out = append(out, "letters/"+strings.ToLower(string(c)))
		}
	}
	return out
}
