package asterisksim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	asteriskconfig "github.com/hotline-cc/hotline/asterisk-config"
	"github.com/hotline-cc/hotline/internal/rtpseq"
)

// Config configures a simulator.
type Config struct {
	User, Password string // ARI credentials; empty User disables authentication
	// TimeScale multiplies every simulated duration: playbacks, dialplan Wait, caller script waits,
	// answer delays. 0 means 1 (real time). Audio itself always runs at real time (20 ms frames).
	TimeScale float64
	// SystemName prefixes channel ids ("<name>-<epoch>.<n>") as asterisk.conf's systemname does, so
	// two nodes of one center never give two callers the same id.
	SystemName string
	// Dialplan is extensions.conf text; empty means asterisk-config/extensions.conf (embedded).
	Dialplan []byte
	// SoundsDir holds <lang>/<name>.wav|gsm|ulaw|alaw|sln16|sln files: their content is played and
	// their size gives the prompt's duration.
	SoundsDir string
	// Sounds adds or overrides sound durations by name ("hotline/greeting"), for any language, or
	// by language and name ("ru/hotline/greeting", as prompts.Durations gives them).
	Sounds map[string]time.Duration
	// RecordingDir is where bridge recordings are written and stored recordings are read (Asterisk's
	// recording spool); empty means a temporary directory of this simulator's, removed by Close.
	RecordingDir string
	// Outbound decides what the far end of an originated PJSIP/SIP channel does. Nil: it answers
	// after one (scaled) second and stays silent.
	Outbound func(endpoint string) Outbound
	// AsteriskID is the entity id in events; default "02:fc:00:00:00:01".
	AsteriskID string
	Logger     *slog.Logger

	// Asterisk answers some requests before it has finished them, and so does the simulator, after
	// a random delay of up to these (not scaled: they are thread scheduling, not call time; 0 means
	// the default, negative none):
	//   - StasisDelay: an externalMedia or snoop channel enters the app (StasisStart) on a thread of
	//     its own after the reply; until then adding it to a bridge is 422. Default 5 ms.
	//   - BridgeIDLinger: a destroyed bridge's id stays taken (create: 409) until Asterisk drops its
	//     last reference to the bridge. Default 10 ms.
	StasisDelay    time.Duration
	BridgeIDLinger time.Duration
}

// Defaults of Config.StasisDelay and Config.BridgeIDLinger, from Asterisk 22.10.1 on a 2-core VM
// (20 tries each): StasisStart came up to 11 ms after the reply (median 1.6 ms for externalMedia,
// 0.6 ms for snoop; an addChannel sent at once failed 10 and 7 times in 20), and a bridge that had
// members took up to 12 ms (median 3 ms) to free its id. The simulator's delays are never near 0,
// so code that races them fails on the simulator every time, not one run in five.
const (
	defaultStasisDelay    = 5 * time.Millisecond
	defaultBridgeIDLinger = 10 * time.Millisecond
)

// Outbound scripts the far end of an originated PJSIP/SIP channel.
type Outbound struct {
	AnswerAfter time.Duration // before scaling
	Reject      bool          // never answers: the channel is hung up with Cause after AnswerAfter
	Cause       int           // hangup cause when rejected (default 17, busy)
	Tone        float64       // once answered the far end sends this tone (0: silence)
}

// Sim is a simulated Asterisk. It is an http.Handler serving /ari/.
type Sim struct {
	cfg     Config
	log     *slog.Logger
	plan    *dialplan
	scale   float64
	mux     *http.ServeMux
	start   time.Time
	recDir  string
	recTemp bool // recDir is the simulator's own temporary directory

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	hub *hub

	// The externalMedia legs' RTP, all of them since the start (RTPCounts).
	rtpIn   rtpseq.Totals
	rtpSent atomic.Uint64

	// mu guards every piece of call state below and the channel/bridge/playback objects: one lock
	// keeps event order identical to the order of state changes, as Asterisk's stasis topic does.
	mu         sync.Mutex
	channels   map[string]*channel
	bridges    map[string]*bridge
	playbacks  map[string]*playback
	recordings map[string]*recording
	lingering  map[string]time.Time  // destroyed bridges' ids → when they may be used again
	sinks      map[*channel]struct{} // channels whose audio must be computed every tick
	uniqueSeq  int                   // the ".n" of channel ids
	localSeq   int                   // the "-0000001c" of Local/UnicastRTP/Snoop names
	epoch      int64
	tick       uint64
	closed     bool
}

// New builds a simulator and starts its media clock. Close stops it.
func New(cfg Config) (*Sim, error) {
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.AsteriskID == "" {
		cfg.AsteriskID = "02:fc:00:00:00:01"
	}
	if cfg.StasisDelay == 0 {
		cfg.StasisDelay = defaultStasisDelay
	}
	if cfg.BridgeIDLinger == 0 {
		cfg.BridgeIDLinger = defaultBridgeIDLinger
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	text := cfg.Dialplan
	if len(text) == 0 {
		text = asteriskconfig.Dialplan()
	}
	plan, err := parseDialplan(text)
	if err != nil {
		return nil, fmt.Errorf("asterisksim: dialplan: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sim{
		cfg:        cfg,
		log:        log.With("component", "asterisksim"),
		plan:       plan,
		scale:      cfg.TimeScale,
		start:      time.Now(),
		ctx:        ctx,
		cancel:     cancel,
		channels:   map[string]*channel{},
		bridges:    map[string]*bridge{},
		playbacks:  map[string]*playback{},
		recordings: map[string]*recording{},
		lingering:  map[string]time.Time{},
		sinks:      map[*channel]struct{}{},
		epoch:      time.Now().Unix(),
		recDir:     cfg.RecordingDir,
	}
	if s.recDir == "" {
		if s.recDir, err = os.MkdirTemp("", "asterisksim-recordings-"); err != nil {
			cancel()
			return nil, fmt.Errorf("asterisksim: recordings: %w", err)
		}
		s.recTemp = true
	}
	s.hub = newHub(s)
	s.routes()
	s.wg.Add(1)
	go s.clock()
	return s, nil
}

// Close hangs up every channel, closes every WebSocket and RTP socket and waits for every goroutine.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, ch := range s.channels {
		s.hangupLocked(ch, causeNormal, hangupQuiet)
	}
	for _, b := range s.bridges {
		s.stopBridgePlaybacksLocked(b, "failed")
	}
	s.mu.Unlock()
	s.cancel()
	s.hub.closeAll()
	s.wg.Wait()
	if s.recTemp {
		_ = os.RemoveAll(s.recDir)
	}
	return nil
}

// scaled converts a simulated duration to wall-clock time.
func (s *Sim) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * s.scale) }

// sleep waits d (already scaled) or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// go runs f as a tracked goroutine that Close waits for.
func (s *Sim) goTracked(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// jitter returns a random duration between a quarter of upTo and upTo (0 when upTo is not positive):
// how long Asterisk's own threads take to finish what a request started.
func jitter(upTo time.Duration) time.Duration {
	if upTo <= 0 {
		return 0
	}
	return upTo/4 + mrand.N(upTo-upTo/4+1)
}

// later runs f with s.mu held after d, off the request path, unless the simulator closes first.
func (s *Sim) later(d time.Duration, f func()) {
	s.goTracked(func() {
		if sleep(s.ctx, d) != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			f()
		}
	})
}

// newUniqueIDLocked returns an id shaped like Asterisk's uniqueid: "<epoch>.<n>", after
// "<systemname>-" when the config names the system.
func (s *Sim) newUniqueIDLocked() string {
	s.uniqueSeq++
	id := strconv.FormatInt(s.epoch, 10) + "." + strconv.Itoa(s.uniqueSeq)
	if s.cfg.SystemName != "" {
		id = s.cfg.SystemName + "-" + id
	}
	return id
}

func (s *Sim) nextLocalSeqLocked() string {
	s.localSeq++
	return fmt.Sprintf("%08x", s.localSeq)
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var errClosed = errors.New("asterisksim: closed")
