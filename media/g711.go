// Package media holds the small pieces of audio handling that several parts of hotline share:
// G.711 µ-law (PCMU) coding, tone generation and tone detection, and WAV files for test fixtures.
package media

// Asterisk's externalMedia and the browser both speak PCMU at 8 kHz, 20 ms a packet, so hotline
// relays audio untouched; decoding is needed only to generate or check audio (the simulator,
// tests, quality metrics).

const (
	// SampleRate is the G.711 clock rate.
	SampleRate = 8000
	// FrameSamples is one 20 ms packet of G.711.
	FrameSamples = 160
	// PayloadTypePCMU is the static RTP payload type for µ-law.
	PayloadTypePCMU = 0
)

const (
	ulawBias = 0x84
	ulawClip = 32635
)

var ulawDecodeTable = func() [256]int16 {
	var t [256]int16
	for i := range 256 {
		u := ^byte(i)
		sign := u & 0x80
		exponent := (u >> 4) & 0x07
		mantissa := u & 0x0F
		sample := (int(mantissa)<<3 + ulawBias) << exponent
		sample -= ulawBias
		if sign != 0 {
			sample = -sample
		}
		t[i] = int16(sample)
	}
	return t
}()

// EncodeULaw converts one 16-bit linear sample to µ-law.
func EncodeULaw(sample int16) byte {
	s := int(sample)
	sign := 0
	if s < 0 {
		s = -s
		sign = 0x80
	}
	if s > ulawClip {
		s = ulawClip
	}
	s += ulawBias
	exponent := 7
	for mask := 0x4000; s&mask == 0 && exponent > 0; mask >>= 1 {
		exponent--
	}
	mantissa := (s >> (exponent + 3)) & 0x0F
	return ^byte(sign | exponent<<4 | mantissa)
}

// DecodeULaw converts one µ-law byte to a 16-bit linear sample.
func DecodeULaw(u byte) int16 { return ulawDecodeTable[u] }

// EncodePCMU appends the µ-law encoding of pcm to dst.
func EncodePCMU(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, EncodeULaw(s))
	}
	return dst
}

// DecodePCMU appends the linear samples of a µ-law payload to dst.
func DecodePCMU(dst []int16, payload []byte) []int16 {
	for _, u := range payload {
		dst = append(dst, ulawDecodeTable[u])
	}
	return dst
}

// SilencePCMU is the µ-law code for a zero sample.
const SilencePCMU = 0xFF
