package asterisksim

import (
	"math"
	"sync"

	"github.com/hotline-cc/hotline/media"
)

const (
	rate        = 8000
	frameLen    = 160 // 20 ms at 8 kHz
	framePeriod = 20  // ms
)

// source produces audio frame by frame. next fills frame (len frameLen) and reports false once the
// source is exhausted (the frame is then silence).
type source interface {
	next(frame []int16) bool
}

// loopSource plays a precomputed table forever: tones, music on hold, ringback, synthetic speech.
// Tables are shared and read-only; only the position is per source, so a thousand callers playing
// the same tone cost no sine computations.
type loopSource struct {
	table []int16
	pos   int
}

func (l *loopSource) next(frame []int16) bool {
	for i := range frame {
		frame[i] = l.table[l.pos]
		l.pos++
		if l.pos == len(l.table) {
			l.pos = 0
		}
	}
	return true
}

// limitSource cuts a source after n samples.
type limitSource struct {
	src source
	n   int
}

func (l *limitSource) next(frame []int16) bool {
	if l.n <= 0 {
		clear(frame)
		return false
	}
	l.src.next(frame)
	if l.n < len(frame) {
		clear(frame[l.n:])
	}
	l.n -= len(frame)
	return true
}

// pcmSource plays samples once.
type pcmSource struct {
	pcm []int16
	pos int
}

func (p *pcmSource) next(frame []int16) bool {
	if p.pos >= len(p.pcm) {
		clear(frame)
		return false
	}
	n := copy(frame, p.pcm[p.pos:])
	clear(frame[n:])
	p.pos += n
	return true
}

// seqSource plays sources one after the other.
type seqSource struct {
	items []source
}

func (q *seqSource) next(frame []int16) bool {
	for len(q.items) > 0 {
		if q.items[0].next(frame) {
			return true
		}
		q.items = q.items[1:]
	}
	clear(frame)
	return false
}

var (
	tableMu    sync.Mutex
	toneTables = map[float64][]int16{}
)

// toneTable is one second of a sine at freq: for whole frequencies it loops without a phase jump.
func toneTable(freq float64) []int16 {
	tableMu.Lock()
	defer tableMu.Unlock()
	if t, ok := toneTables[freq]; ok {
		return t
	}
	t := make([]int16, rate)
	g := media.Tone{Freq: freq, Amplitude: 8000}
	g.Next(t)
	toneTables[freq] = t
	return t
}

func newTone(freq float64) source { return &loopSource{table: toneTable(freq)} }

var (
	musicOnce, speechOnce, ringOnce sync.Once
	musicTable, speechTable, ring   []int16
)

// music is a slow arpeggio: clearly not silence, clearly not one pure tone, like hold music.
func newMusic() source {
	musicOnce.Do(func() {
		notes := []float64{262, 330, 392, 523, 392, 330}
		musicTable = make([]int16, 0, len(notes)*rate/4)
		for _, f := range notes {
			seg := make([]int16, rate/4)
			for i := range seg {
				env := math.Sin(math.Pi * float64(i) / float64(len(seg)))
				x := math.Sin(2*math.Pi*f*float64(i)/rate) + 0.4*math.Sin(2*math.Pi*2*f*float64(i)/rate)
				seg[i] = int16(5000 * env * x)
			}
			musicTable = append(musicTable, seg...)
		}
	})
	return &loopSource{table: musicTable}
}

// speech is a quiet speech-like signal (syllables of mixed partials) for prompts with no file.
func newSpeech() source {
	speechOnce.Do(func() {
		speechTable = make([]int16, rate)
		for i := range speechTable {
			t := float64(i) / rate
			env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
			x := math.Sin(2*math.Pi*310*t) + 0.6*math.Sin(2*math.Pi*620*t) + 0.3*math.Sin(2*math.Pi*1240*t)
			speechTable[i] = int16(1200 * env * x)
		}
	})
	return &loopSource{table: speechTable}
}

// ringback is 425 Hz, one second on, three off.
func newRingback() source {
	ringOnce.Do(func() {
		ring = make([]int16, 4*rate)
		copy(ring, toneTable(425))
	})
	return &loopSource{table: ring}
}

// frameBuf memoises one channel's frame for the current clock tick.
type frameBuf struct {
	pcm  [frameLen]int16
	tick uint64
	busy bool // being computed: breaks cycles (snoop whisper, echo) with silence
}

func mixInto(dst, src []int16) {
	for i := range dst {
		v := int32(dst[i]) + int32(src[i])
		if v > math.MaxInt16 {
			v = math.MaxInt16
		} else if v < math.MinInt16 {
			v = math.MinInt16
		}
		dst[i] = int16(v)
	}
}
