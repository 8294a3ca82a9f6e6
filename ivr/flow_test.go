package ivr_test

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
)

// demoLookup serves the fixture backend over httptest and returns the real HTTP client for it.
func demoLookup(t *testing.T) ivr.Lookup {
	t.Helper()
	srv := httptest.NewServer(lookupdemo.Handler())
	t.Cleanup(srv.Close)
	return &ivr.HTTPLookup{Base: srv.URL, Client: srv.Client()}
}

func mustDefault(t testing.TB) *ivr.Menus {
	t.Helper()
	m, err := ivr.LoadDefault()
	if err != nil {
		t.Fatalf("LoadDefault: %v", err)
	}
	return m
}

func TestDefaultCenterFlows(t *testing.T) {
	const (
		dom      = lookupdemo.TrackingInTransit
		badDom   = "10100012345670" // check digit should be 4
		s10      = lookupdemo.TrackingS10
		notFound = "10100012345681" // valid check digit, not in the fixtures
	)
	tests := []struct {
		name     string
		script   string
		outcome  ivr.Outcome
		queue    string
		priority int
		lang     string
		data     map[string]string // must be present (others may be too)
		heard    []string          // must appear in order among what was played
	}{
		{name: "english then private agent", script: "910", outcome: ivr.OutcomeQueue, queue: "general", lang: "en",
			data: map[string]string{"caller_type": "private"}},
		{name: "agent key at greeting", script: "0", outcome: ivr.OutcomeQueue, queue: "general", lang: "ru"},
		{name: "private payouts", script: "13", outcome: ivr.OutcomeQueue, queue: "payouts"},
		{name: "private international", script: "14", outcome: ivr.OutcomeQueue, queue: "international"},
		{name: "private file claim", script: "121", outcome: ivr.OutcomeQueue, queue: "claims",
			data: map[string]string{"claim_action": "file"}},
		{name: "claim status then hang up", script: "122" + lookupdemo.ClaimInReview + "!", outcome: ivr.OutcomeResolved,
			data:  map[string]string{"claim": lookupdemo.ClaimInReview, "claim_status": "in_review"},
			heard: []string{"sound:hotline/claim_in_review", "sound:hotline/on_date", "number:18", "sound:hotline/month_11"}},
		{name: "claim status then agent", script: "122" + lookupdemo.ClaimPaid + "0", outcome: ivr.OutcomeQueue, queue: "claims",
			data: map[string]string{"claim": lookupdemo.ClaimPaid, "claim_status": "paid"}},
		{name: "claim not found then agent", script: "1220000000000" + "0", outcome: ivr.OutcomeQueue, queue: "claims",
			data: map[string]string{"claim_status": "not_found"}},
		{name: "track domestic, hang up during the status", script: "11" + dom + "!", outcome: ivr.OutcomeResolved,
			data: map[string]string{"tracking": dom, "tracking_status": "in_transit", "tracking_office": "101000"},
			heard: []string{"sound:hotline/enter_tracking", "sound:hotline/tracking_in_transit", "sound:hotline/at_office",
				"digits:101000", "sound:hotline/on_date", "number:20", "sound:hotline/month_11"}},
		{name: "track domestic then agent", script: "11" + dom + "0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data: map[string]string{"tracking": dom, "tracking_status": "in_transit"}},
		{name: "track silence after status says goodbye", script: "11" + dom + "~", outcome: ivr.OutcomeResolved,
			heard: []string{"sound:hotline/goodbye"}},
		{name: "track domestic with a habitual hash, then agent", script: "11" + dom + "#0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data:  map[string]string{"tracking": dom, "tracking_status": "in_transit"},
			heard: []string{"sound:hotline/tracking_in_transit", "sound:hotline/tracking_in_transit", "sound:hotline/tracking_after"}},
		{name: "track s10 with hash", script: "11" + s10 + "#0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data: map[string]string{"tracking": s10, "tracking_status": "arrived"}},
		{name: "track s10 with pause", script: "11" + s10 + "~0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data: map[string]string{"tracking": s10}},
		{name: "track invalid then valid", script: "11" + badDom + dom + "0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data:  map[string]string{"tracking": dom, "tracking_status": "in_transit"},
			heard: []string{"sound:hotline/tracking_invalid", "digits:" + badDom, "sound:hotline/enter_tracking"}},
		{name: "track retries exhausted", script: "11" + badDom + badDom + "12345#", outcome: ivr.OutcomeQueue, queue: "tracking",
			data:  map[string]string{"tracking": "12345", "tracking_invalid": "true"},
			heard: []string{"digits:" + badDom, "digits:" + badDom}},
		{name: "track bad s10 check digit", script: "11" + "473124828#~~", outcome: ivr.OutcomeQueue, queue: "tracking",
			data: map[string]string{"tracking": "473124828", "tracking_invalid": "true"}},
		{name: "track agent key while entering", script: "110#", outcome: ivr.OutcomeQueue, queue: "tracking"},
		{name: "track star restarts entry", script: "11" + "123*" + dom + "0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data: map[string]string{"tracking": dom}},
		{name: "track not found", script: "11" + notFound + "0", outcome: ivr.OutcomeQueue, queue: "tracking",
			data:  map[string]string{"tracking": notFound, "tracking_status": "not_found"},
			heard: []string{"sound:hotline/tracking_not_found"}},
		{name: "track backend 500", script: "11" + lookupdemo.TrackingBroken, outcome: ivr.OutcomeQueue, queue: "tracking",
			data:  map[string]string{"tracking": lookupdemo.TrackingBroken, "tracking_status": "error"},
			heard: []string{"sound:hotline/lookup_failed"}},
		{name: "business no contract shipments", script: "2#1", outcome: ivr.OutcomeQueue, queue: "business",
			data: map[string]string{"caller_type": "business", "topic": "shipments"}},
		{name: "business silence on contract", script: "2~3", outcome: ivr.OutcomeQueue, queue: "business",
			data: map[string]string{"topic": "billing"}},
		{name: "business contract claims", script: "2" + "12345678#" + "2", outcome: ivr.OutcomeQueue, queue: "business_claims", priority: 5,
			data: map[string]string{"contract": "12345678", "topic": "claims"}},
		{name: "business agent", script: "2#0", outcome: ivr.OutcomeQueue, queue: "business"},
		{name: "business bad contract thrice", script: "2" + "12#12#12#" + "1", outcome: ivr.OutcomeQueue, queue: "business",
			data: map[string]string{"contract_invalid": "true"}},
		{name: "wrong keys to last resort", script: "777", outcome: ivr.OutcomeQueue, queue: "general",
			heard: []string{"sound:hotline/invalid_key", "sound:hotline/welcome"}},
		{name: "wrong key then right", script: "710", outcome: ivr.OutcomeQueue, queue: "general",
			data: map[string]string{"caller_type": "private"}},
		{name: "silence to last resort", script: "~~~", outcome: ivr.OutcomeQueue, queue: "general",
			heard: []string{"sound:hotline/no_input", "sound:hotline/no_input"}},
		{name: "hang up mid greeting", script: "!", outcome: ivr.OutcomeAbandoned},
		{name: "hang up in private menu", script: "1!", outcome: ivr.OutcomeAbandoned},
	}
	menus := mustDefault(t)
	lookup := demoLookup(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call := newFake(tc.script)
			res, err := ivr.NewFlows(menus, lookup, nil).Run(context.Background(), call, ivr.Inbound{CallID: "c1", DID: "8800", CallerNumber: "+79990001122"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Outcome != tc.outcome || res.Queue != tc.queue || res.Priority != tc.priority {
				t.Errorf("got %s %q prio %d, want %s %q prio %d\npath: %v", res.Outcome, res.Queue, res.Priority, tc.outcome, tc.queue, tc.priority, res.Path)
			}
			if tc.lang != "" && res.Lang != tc.lang {
				t.Errorf("lang %q, want %q", res.Lang, tc.lang)
			}
			for k, v := range tc.data {
				if res.Data[k] != v {
					t.Errorf("Data[%q] = %q, want %q (data %v)", k, res.Data[k], v, res.Data)
				}
			}
			if !inOrder(call.heard(), tc.heard) {
				t.Errorf("heard %v\nwant in order %v", call.heard(), tc.heard)
			}
		})
	}
}

// TestStory: the agent's screen tells the caller's way through the menus in the nodes' labels, in
// Russian and English, whatever language the caller spoke; unlabelled nodes show their ids.
func TestStory(t *testing.T) {
	lines := func(l ...string) []string { return l }
	tests := []struct {
		name   string
		menus  *ivr.Menus
		did    string
		script string
		ru, en []string
	}{
		{name: "tracking, status, agent", menus: mustDefault(t), script: "11" + lookupdemo.TrackingInTransit + "0",
			ru: lines("Приветствие: 1 → Частный клиент", "Меню частных клиентов: 1 → Ввод трек-номера",
				"Ввод трек-номера: "+lookupdemo.TrackingInTransit, "Статус отправления: в пути", "После статуса: 0 → Оператор: отслеживание"),
			en: lines("Greeting: 1 → Private customer", "Private customers menu: 1 → Tracking number",
				"Tracking number: "+lookupdemo.TrackingInTransit, "Parcel status: in transit", "After the status: 0 → Agent: tracking")},
		{name: "english caller, wrong key, silence, agent key", menus: mustDefault(t), script: "97~0",
			ru: lines("Приветствие: 9 → Выбор английского", "Выбор английского: язык en", "Тип клиента: неверно «7»",
				"Тип клиента: нет ответа", "Тип клиента: 0 → оператор"),
			en: lines("Greeting: 9 → English chosen", "English chosen: language en", "Caller type: invalid «7»",
				"Caller type: no answer", "Caller type: 0 → agent")},
		{name: "no labels", menus: mustLoad(t, goodMenu), did: "100", script: "1",
			ru: lines("greet: 1 → claims"), en: lines("greet: 1 → claims")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			did := cmp.Or(tc.did, "8800")
			res, err := ivr.NewFlows(tc.menus, demoLookup(t), nil).Run(context.Background(), newFake(tc.script), ivr.Inbound{CallID: "c1", DID: did})
			if err != nil {
				t.Fatal(err)
			}
			var gotRU, gotEN []string
			for _, line := range res.Story {
				gotRU, gotEN = append(gotRU, line["ru"]), append(gotEN, line["en"])
			}
			if !slices.Equal(gotRU, tc.ru) {
				t.Errorf("ru:\n%s\nwant\n%s", strings.Join(gotRU, "\n"), strings.Join(tc.ru, "\n"))
			}
			if !slices.Equal(gotEN, tc.en) {
				t.Errorf("en:\n%s\nwant\n%s", strings.Join(gotEN, "\n"), strings.Join(tc.en, "\n"))
			}
		})
	}
}

func mustLoad(t *testing.T, src string) *ivr.Menus {
	t.Helper()
	m, err := loadTest(src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// inOrder reports whether want appears in got as a subsequence.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestEnglishPlaysInEnglish(t *testing.T) {
	call := newFake("91!")
	if _, err := ivr.NewFlows(mustDefault(t), nil, nil).Run(context.Background(), call, ivr.Inbound{DID: "8800"}); err != nil {
		t.Fatal(err)
	}
	if got, want := call.langs(), []string{"ru", "en", "en"}; !slices.Equal(got, want) {
		t.Errorf("languages of plays %v, want %v", got, want)
	}
}

func TestLookupFailures(t *testing.T) {
	slow := ivr.LookupFunc(func(ctx context.Context, kind, number string) (ivr.Answer, error) {
		if _, ok := ctx.Deadline(); !ok {
			return ivr.Answer{}, errors.New("lookup called without a deadline")
		}
		<-ctx.Done() // a backend that never answers: the flow's deadline must end the wait
		return ivr.Answer{}, ctx.Err()
	})
	badJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{not json")) }))
	defer badJSON.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connection refused
	tests := []struct {
		name   string
		lookup ivr.Lookup
	}{
		{"no backend", nil},
		{"slow", slow},
		{"bad json", &ivr.HTTPLookup{Base: badJSON.URL}},
		{"down", &ivr.HTTPLookup{Base: down.URL}},
	}
	// A short lookup_timeout keeps the slow case quick; nothing asserts on time.
	src := strings.Replace(string(ivr.DefaultCenter), "lookup_timeout: 2s", "lookup_timeout: 5ms", 1)
	menus, err := ivr.Load("fast.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call := newFake("11" + lookupdemo.TrackingArrived)
			res, err := ivr.NewFlows(menus, tc.lookup, nil).Run(context.Background(), call, ivr.Inbound{DID: "8800"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != ivr.OutcomeQueue || res.Queue != "tracking" || res.Data["tracking"] != lookupdemo.TrackingArrived || res.Data["tracking_status"] != "error" {
				t.Errorf("got %s %q data %v", res.Outcome, res.Queue, res.Data)
			}
			if !slices.Contains(call.heard(), "sound:hotline/lookup_failed") {
				t.Errorf("caller not told: %v", call.heard())
			}
		})
	}
}

func TestPathObserverAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics, err := ivr.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var observed []ivr.Step
	flows := ivr.NewFlows(mustDefault(t), demoLookup(t), nil, ivr.WithMetrics(metrics),
		ivr.WithObserver(func(in ivr.Inbound, s ivr.Step) { observed = append(observed, s) }))

	res, err := flows.Run(context.Background(), newFake("11"+lookupdemo.TrackingDelivered+"!"), ivr.Inbound{CallID: "c1", DID: "8800"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(observed, res.Path) {
		t.Errorf("observer saw %v\npath %v", observed, res.Path)
	}
	want := []ivr.Step{
		{Node: "greeting", Event: ivr.EventNode},
		{Node: "greeting", Event: ivr.EventKey, Value: "1"},
		{Node: "private", Event: ivr.EventNode},
		{Node: "private_menu", Event: ivr.EventNode},
		{Node: "private_menu", Event: ivr.EventKey, Value: "1"},
		{Node: "track_enter", Event: ivr.EventNode},
		{Node: "track_enter", Event: ivr.EventInput, Field: "tracking", Value: lookupdemo.TrackingDelivered},
		{Node: "track_lookup", Event: ivr.EventNode},
		{Node: "track_lookup", Event: ivr.EventLookup, Field: "tracking", Value: "delivered"},
		{Node: "track_lookup", Event: ivr.EventHangup},
		{Node: "track_lookup", Event: ivr.EventEnd, Value: "resolved"},
	}
	if !slices.Equal(res.Path, want) {
		t.Errorf("path\n got %v\nwant %v", res.Path, want)
	}

	if _, err := flows.Run(context.Background(), newFake("!"), ivr.Inbound{CallID: "c2", DID: "8800"}); err != nil {
		t.Fatal(err)
	}
	checks := map[string]float64{
		`calls resolved`:   counterValue(t, reg, "hotline_ivr_calls_total", "resolved"),
		`calls abandoned`:  counterValue(t, reg, "hotline_ivr_calls_total", "abandoned"),
		`self-service`:     counterValue(t, reg, "hotline_ivr_self_service_total", "resolved"),
		`lookup delivered`: counterValue(t, reg, "hotline_ivr_lookups_total", "delivered"),
		`hangup greeting`:  counterValue(t, reg, "hotline_ivr_hangups_total", "greeting"),
	}
	for name, v := range checks {
		if v != 1 {
			t.Errorf("%s = %v, want 1", name, v)
		}
	}
}

// counterValue returns the counter of family name having a label with value v.
func counterValue(t *testing.T, reg *prometheus.Registry, name, v string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == v {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{…=%q}", name, v)
	return 0
}

func TestUnknownDID(t *testing.T) {
	res, err := ivr.NewFlows(mustDefault(t), nil, nil).Run(context.Background(), newFake("1"), ivr.Inbound{DID: "12345"})
	if !errors.Is(err, ivr.ErrNoMenu) || res.Queue != "general" {
		t.Fatalf("err = %v, queue %q; want ErrNoMenu and the last resort queue", err, res.Queue)
	}
}

// brokenCall is a call whose playback fails (Asterisk refused it, say): not a hang-up.
type brokenCall struct{}

func (brokenCall) Play(context.Context, string, ...string) error {
	return errors.New("playback refused")
}
func (brokenCall) NextDigit(context.Context, time.Duration) (rune, error) { return 0, ivr.ErrTimeout }

// TestFailedCallLastResort: a session the call fails in returns the error with the menus' last
// resort queue, where the controller sends the caller rather than drop them.
func TestFailedCallLastResort(t *testing.T) {
	m, err := loadTest(customMenu)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ivr.NewFlows(m, nil, nil).Run(context.Background(), brokenCall{}, ivr.Inbound{DID: "any"})
	if err == nil || res.Queue != "claims" {
		t.Fatalf("err = %v, queue %q; want the call's error and the last resort queue claims", err, res.Queue)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := ivr.NewFlows(mustDefault(t), nil, nil).Run(ctx, newFake("1111"), ivr.Inbound{DID: "8800"})
	if !errors.Is(err, context.Canceled) || res.Outcome != ivr.OutcomeAbandoned {
		t.Fatalf("got %v, %v", res.Outcome, err)
	}
}
