package media

import "math"

// Tone generates a continuous sine wave, frame by frame, without phase jumps between frames.
type Tone struct {
	Freq      float64 // Hz
	Amplitude float64 // 0..32767
	phase     float64
}

// Next fills pcm with the next samples of the tone.
func (t *Tone) Next(pcm []int16) {
	step := 2 * math.Pi * t.Freq / SampleRate
	for i := range pcm {
		pcm[i] = int16(t.Amplitude * math.Sin(t.phase))
		t.phase += step
		if t.phase > 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}

// Power returns the Goertzel power of freq in pcm sampled at rate, normalised by length so that
// windows of different sizes compare.
func Power(pcm []int16, freq float64, rate int) float64 {
	if len(pcm) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(pcm))
	return p / (n * n)
}

// Energy returns the mean square of pcm.
func Energy(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, x := range pcm {
		sum += float64(x) * float64(x)
	}
	return sum / float64(len(pcm))
}

// ToneDominance says how much stronger freq is in pcm than the strongest of the probe
// frequencies that are not within 100 Hz of it. A pure tone at freq gives a large ratio; speech,
// silence or another tone gives a ratio near or below 1.
func ToneDominance(pcm []int16, freq float64, rate int) float64 {
	target := Power(pcm, freq, rate)
	var other float64
	for f := 200.0; f < float64(rate)/2-100; f += 50 {
		if math.Abs(f-freq) < 100 {
			continue
		}
		if p := Power(pcm, f, rate); p > other {
			other = p
		}
	}
	if other == 0 {
		if target == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return target / other
}
