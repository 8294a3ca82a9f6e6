package media

import (
	"bytes"
	"testing"
)

func TestULawRoundTrip(t *testing.T) {
	for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32000, -32000} {
		got := DecodeULaw(EncodeULaw(s))
		diff := int(got) - int(s)
		if diff < 0 {
			diff = -diff
		}
		// µ-law keeps about 3% relative precision, and at least 8 steps near zero.
		limit := int(s) / 16
		if limit < 0 {
			limit = -limit
		}
		if limit < 8 {
			limit = 8
		}
		if diff > limit {
			t.Errorf("round trip of %d gave %d", s, got)
		}
	}
}

func TestToneSurvivesPCMU(t *testing.T) {
	tests := []struct {
		name string
		freq float64
	}{{"440 Hz", 440}, {"1000 Hz", 1000}, {"1800 Hz", 1800}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tone := Tone{Freq: tc.freq, Amplitude: 8000}
			pcm := make([]int16, 1600)
			tone.Next(pcm)
			decoded := DecodePCMU(nil, EncodePCMU(nil, pcm))
			if d := ToneDominance(decoded, tc.freq, SampleRate); d < 100 {
				t.Errorf("dominance of %v Hz after PCMU = %.1f, want ≥ 100", tc.freq, d)
			}
			if d := ToneDominance(decoded, tc.freq+500, SampleRate); d > 1 {
				t.Errorf("a %v Hz tone claims %v Hz with dominance %.2f", tc.freq, tc.freq+500, d)
			}
		})
	}
}

func TestWAVHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := ToneWAV(&buf, 1000, 0.5, 48000); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.Len(), 44+48000; got != want {
		t.Fatalf("wav size = %d, want %d", got, want)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("RIFF")) {
		t.Fatal("no RIFF header")
	}
}
