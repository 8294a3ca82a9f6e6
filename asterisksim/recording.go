package asterisksim

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-cc/hotline/media"
)

// recording is a live recording of a bridge's mix, written as 8 kHz 16-bit WAV when it stops.
type recording struct {
	name   string
	format string
	br     *bridge
	state  string
	pcm    []int16
	max    int // samples, 0 = unlimited
	start  time.Time
}

func (rc *recording) json() LiveRecordingJSON {
	j := LiveRecordingJSON{Name: rc.name, Format: rc.format, State: rc.state, TargetURI: "bridge:" + rc.br.id}
	if rc.state == "done" || rc.state == "failed" {
		d := len(rc.pcm) / rate // whole seconds, as Asterisk counts them
		j.Duration = &d
	}
	return j
}

func (rc *recording) write(frame []int16) {
	if rc.state != "recording" {
		return
	}
	if rc.max > 0 && len(rc.pcm) >= rc.max {
		return
	}
	rc.pcm = append(rc.pcm, frame...)
}

func (s *Sim) recordingPath(name string) string {
	return filepath.Join(s.recDir, filepath.FromSlash(name))
}

func (s *Sim) emitRecordingLocked(rc *recording, typ string) {
	for _, app := range s.hub.appNames() {
		s.emitLocked(app, &recordingEvent{evHead: s.head(typ), Recording: rc.json()})
	}
}

// knownFormats are the file formats Asterisk 22 knows (ast_get_format_for_file_ext), of which the
// simulator writes wav only.
var knownFormats = map[string]bool{"wav": true, "WAV": true, "gsm": true, "ulaw": true, "alaw": true, "sln": true,
	"sln16": true, "g722": true, "g729": true, "wav16": true, "h263": true}

// recordBridge is POST /bridges/{id}/record, its checks in Asterisk 22.10.1's order (recorded in
// testdata/transcripts/bridge-record.jsonl): the format (422), terminateOn and ifExists (400), the
// name (500 when missing or outside the recordings directory: Asterisk's "Error parsing request"),
// then a stored file (ifExists=fail, the default) or a live recording of that name (409). Asterisk
// 22.10.1 crashes when format is missing; the simulator answers as for an unknown one.
func (s *Sim) recordBridge(w http.ResponseWriter, _ *http.Request, p *params, b *bridge) {
	name, format := p.get("name"), p.get("format")
	if !knownFormats[format] {
		writeError(w, 422, "specified format is unknown on this system")
		return
	}
	switch p.get("terminateOn") {
	case "", "none", "any", "*", "#":
	default:
		writeError(w, 400, "terminateOn invalid")
		return
	}
	ifExists := p.get("ifExists")
	switch ifExists {
	case "", "fail", "overwrite", "append":
	default:
		writeError(w, 400, "ifExists invalid")
		return
	}
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		writeError(w, 500, "Error parsing request")
		return
	}
	if format != "wav" {
		writeError(w, 422, "The simulator records format=wav only")
		return
	}
	_, _, stored := s.storedFile(name)
	if s.recordings[name] != nil || (stored && (ifExists == "" || ifExists == "fail")) {
		writeError(w, 409, fmt.Sprintf("Recording '%s' already exists and can not be overwritten", name))
		return
	}
	if b.rec != nil {
		writeError(w, 409, "The simulator records one recording per bridge")
		return
	}
	maxSec, _ := p.int("maxDurationSeconds", 0)
	rc := &recording{name: name, format: format, br: b, state: "queued", max: maxSec * rate, start: time.Now()}
	resp := rc.json()
	s.recordings[name] = rc
	b.rec = rc
	rc.state = "recording"
	s.emitRecordingLocked(rc, "RecordingStarted")
	writeJSON(w, 201, resp)
}

// finishRecordingLocked writes the WAV and reports RecordingFinished (or RecordingFailed).
func (s *Sim) finishRecordingLocked(rc *recording, state string) {
	if rc.state != "recording" {
		return
	}
	rc.state = state
	rc.br.rec = nil
	delete(s.recordings, rc.name)
	if state == "canceled" {
		return
	}
	if err := writeWAVFile(s.recordingPath(rc.name)+"."+rc.format, rc.pcm); err != nil {
		s.log.Error("write recording", "name", rc.name, "err", err)
		rc.state = "failed"
		s.emitRecordingLocked(rc, "RecordingFailed")
		return
	}
	s.emitRecordingLocked(rc, "RecordingFinished")
}

func writeWAVFile(path string, pcm []int16) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("recording dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create recording: %w", err)
	}
	if err := media.WriteWAV(f, pcm, rate); err != nil {
		f.Close()
		return fmt.Errorf("write recording: %w", err)
	}
	return f.Close()
}

func (s *Sim) withRecording(w http.ResponseWriter, r *http.Request) *recording {
	rc := s.recordings[r.PathValue("name")]
	if rc == nil {
		writeError(w, 404, "Recording not found")
	}
	return rc
}

func (s *Sim) getLiveRecording(w http.ResponseWriter, r *http.Request, _ *params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rc := s.withRecording(w, r); rc != nil {
		writeJSON(w, 200, rc.json())
	}
}

func (s *Sim) stopLiveRecording(w http.ResponseWriter, r *http.Request, _ *params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rc := s.withRecording(w, r); rc != nil {
		s.finishRecordingLocked(rc, "done")
		w.WriteHeader(204)
	}
}

func (s *Sim) cancelLiveRecording(w http.ResponseWriter, r *http.Request, _ *params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rc := s.withRecording(w, r); rc != nil {
		s.finishRecordingLocked(rc, "canceled")
		w.WriteHeader(204)
	}
}

// StoredRecordingJSON is ARI's StoredRecording model.
type StoredRecordingJSON struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

// storedFile finds the file of stored recording name: <dir>/<name>.<format>. Names with ".." or an
// absolute path are not found, as Asterisk refuses to leave its recordings directory.
func (s *Sim) storedFile(name string) (path, format string, ok bool) {
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return "", "", false
	}
	matches, _ := filepath.Glob(s.recordingPath(name) + ".*")
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			return m, strings.TrimPrefix(filepath.Ext(m), "."), true
		}
	}
	return "", "", false
}

func (s *Sim) listStoredRecordings(w http.ResponseWriter, _ *http.Request, _ *params) {
	out := []StoredRecordingJSON{}
	_ = filepath.WalkDir(s.recDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.recDir, path)
		if err != nil {
			return nil
		}
		ext := filepath.Ext(rel)
		out = append(out, StoredRecordingJSON{Name: filepath.ToSlash(strings.TrimSuffix(rel, ext)), Format: strings.TrimPrefix(ext, ".")})
		return nil
	})
	writeJSON(w, 200, out)
}

func (s *Sim) getStoredRecording(w http.ResponseWriter, r *http.Request, _ *params) {
	name := r.PathValue("name")
	if _, format, ok := s.storedFile(name); ok {
		writeJSON(w, 200, StoredRecordingJSON{Name: name, Format: format})
		return
	}
	writeError(w, 404, "Recording not found")
}

func (s *Sim) storedRecordingFile(w http.ResponseWriter, r *http.Request, _ *params) {
	name := r.PathValue("name")
	path, format, ok := s.storedFile(name)
	if !ok {
		writeError(w, 404, "Recording not found")
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		// Asterisk answers a file it cannot open this way (resource_recordings.c).
		writeError(w, 403, "Recording could not be opened")
		return
	}
	w.Header().Set("Content-Type", "audio/"+format)
	w.Header().Set("Cache-Control", "no-cache, no-store")
	// Asterisk sends the file's size (http.c, ast_http_send), never chunks: a reader may rely on it.
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(200)
	_, _ = w.Write(data)
}

func (s *Sim) deleteStoredRecording(w http.ResponseWriter, r *http.Request, _ *params) {
	path, _, ok := s.storedFile(r.PathValue("name"))
	if !ok {
		writeError(w, 404, "Recording not found")
		return
	}
	if err := os.Remove(path); err != nil {
		writeError(w, 500, "Internal Server Error")
		return
	}
	w.WriteHeader(204)
}
