package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
)

// describing is a registry that remembers the descriptions of what is registered: a vector with
// no series yet is not in Gather's output, and its documentation must still be checked.
type describing struct {
	*prometheus.Registry
	mu    sync.Mutex
	descs map[string]string // metric name → Desc.String()
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describing) Register(c prometheus.Collector) error {
	if err := d.Registry.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	d.mu.Lock()
	defer d.mu.Unlock()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.descs[m[1]] = desc.String()
		}
	}
	return nil
}

func (d *describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

// serverMetrics are the names of the metrics a server registers.
func serverMetrics(t *testing.T) []string {
	t.Helper()
	rs := redistest.Start(t)
	cfg := config.Default()
	cfg.Center, cfg.Instance = "metrics", "metrics-1"
	cfg.ARI.Simulate = true
	cfg.Simulator.CallersPerMinute = 0
	cfg.Redis.Addr = rs.Addr
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	cfg.Records.Postgres = "postgres://nobody@127.0.0.1:1/none" // its metrics too; nothing connects before Run
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := &describing{Registry: prometheus.NewRegistry(), descs: map[string]string{}}
	srv, err := New(context.Background(), cfg, Options{LoopbackOnly: true, Registry: reg}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.close()
	var names []string
	for n := range reg.descs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// metricRef finds hotline's metric names in a text: a histogram's series carry a suffix.
var metricRef = regexp.MustCompile(`hotline_[a-z0-9_]+`)

func baseName(s string, known []string) string {
	for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(s, suffix); ok && slices.Contains(known, b) {
			return b
		}
	}
	return s
}

// TestMetricsDocumented (issue 11, deliverable 6): every metric the server exports is described
// in docs/METRICS.md, the document names no metric that does not exist, and the Grafana dashboard
// is valid JSON whose queries use only metrics that exist.
func TestMetricsDocumented(t *testing.T) {
	names := serverMetrics(t)
	if len(names) < 20 {
		t.Fatalf("only %d metrics registered: %q", len(names), names)
	}
	doc, err := os.ReadFile("../docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "hotline_") && !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/METRICS.md does not describe %s", n)
		}
	}
	for _, ref := range metricRef.FindAllString(string(doc), -1) {
		if !slices.Contains(names, baseName(ref, names)) {
			t.Errorf("docs/METRICS.md names %s, which the server does not export", ref)
		}
	}

	raw, err := os.ReadFile("../docs/grafana/hotline.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana/hotline.json: %v", err)
	}
	if dash.Title == "" || len(dash.Panels) == 0 {
		t.Fatalf("docs/grafana/hotline.json: no title or no panels")
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, ref := range metricRef.FindAllString(tg.Expr, -1) {
				if !slices.Contains(names, baseName(ref, names)) {
					t.Errorf("dashboard panel %q queries %s, which the server does not export", p.Title, ref)
				}
			}
		}
	}
}
