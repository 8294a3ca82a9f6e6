package dashboard

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/account"
)

// BenchmarkView500 is what one poll costs the dashboard for the customer's center: complete the
// view (totals, service levels) and encode it once.
func BenchmarkView500(b *testing.B) {
	v := bigView()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		w := v
		w.complete()
		out, err := json.Marshal(&w)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/view")
}

// flipSource alternates between two views when the benchmark flips it, so that the poll after
// each flip is a change to send, and any other poll is not.
type flipSource struct {
	mu sync.Mutex
	vs [2]View
	n  int
}

func (f *flipSource) flip() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
}

func newFlipSource() *flipSource {
	a, c := bigView(), bigView()
	c.Agents[0].State = StatePaused
	return &flipSource{vs: [2]View{a, c}}
}

func (f *flipSource) Snapshot(context.Context) (View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vs[f.n%2], nil
}

// BenchmarkHubFanOut50 is one changed poll handed to 50 subscribers' mailboxes.
func BenchmarkHubFanOut50(b *testing.B) {
	src := newFlipSource()
	ticks := make(chan time.Time)
	h := newHub(src, time.Hour, time.Second, discard(), ticks)
	defer h.close(context.Background())
	subs := make([]*subscriber, 50)
	for i := range subs {
		s, _ := h.subscribe()
		subs[i] = s
	}
	// The first subscriber asked the poller for a view. Two ticks taken mean that poll is over;
	// then empty the mailboxes so each round below reads exactly its own message.
	ticks <- time.Now()
	ticks <- time.Now()
	for _, s := range subs {
		<-s.ch
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		src.flip()
		h.poll(ctx)
		for _, s := range subs {
			<-s.ch
		}
	}
}

// BenchmarkFeedFanOut50 is the same over real WebSockets on loopback: a changed view from the
// poll until all 50 supervisors have read it.
func BenchmarkFeedFanOut50(b *testing.B) {
	ticks := make(chan time.Time)
	src := newFlipSource()
	s := newServer(src, newFakeActions(), Config{Accounts: testAccounts(b, account.Config{}, nil)}, nil, ticks)
	defer s.Close(context.Background())
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	clients := make([]*feedClient, 50)
	for i := range clients {
		clients[i] = dialFeed(b, ctx, srv)
		if _, _, err := clients[i].c.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		src.flip()
		ticks <- time.Now()
		var wg sync.WaitGroup
		for _, cl := range clients {
			wg.Go(func() {
				if _, _, err := cl.c.Read(ctx); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}
