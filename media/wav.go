package media

import (
	"encoding/binary"
	"fmt"
	"io"
)

// WriteWAV writes 16-bit mono PCM as a RIFF WAVE file. Chromium's fake microphone
// (--use-file-for-fake-audio-capture) and Asterisk's sounds folders both read it.
func WriteWAV(w io.Writer, pcm []int16, rate int) error {
	dataLen := uint32(len(pcm) * 2)
	hdr := make([]byte, 0, 44)
	hdr = append(hdr, "RIFF"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 36+dataLen)
	hdr = append(hdr, "WAVEfmt "...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 16)
	hdr = binary.LittleEndian.AppendUint16(hdr, 1) // PCM
	hdr = binary.LittleEndian.AppendUint16(hdr, 1) // mono
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(rate))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(rate*2))
	hdr = binary.LittleEndian.AppendUint16(hdr, 2)
	hdr = binary.LittleEndian.AppendUint16(hdr, 16)
	hdr = append(hdr, "data"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, dataLen)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("write wav header: %w", err)
	}
	if err := binary.Write(w, binary.LittleEndian, pcm); err != nil {
		return fmt.Errorf("write wav samples: %w", err)
	}
	return nil
}

// ToneWAV writes seconds of a sine tone at freq as a WAV file at rate.
func ToneWAV(w io.Writer, freq float64, seconds float64, rate int) error {
	n := int(seconds * float64(rate))
	pcm := make([]int16, n)
	t := Tone{Freq: freq * SampleRate / float64(rate), Amplitude: 12000}
	t.Next(pcm)
	return WriteWAV(w, pcm, rate)
}
