package acd

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/acd.lua
var luaSource string

// script is loaded once per Redis and run by EVALSHA (go-redis falls back to EVAL on NOSCRIPT,
// which also loads it, so a Redis restart costs one round trip).
var script = redis.NewScript(luaSource)

// Options configure one Center: one controller instance's handle on a center's shared state.
type Options struct {
	Center   string // the center's name in Redis keys; defaults to the model's name
	Instance string // this controller instance: the owner of the calls it enqueues
	// Now is this process's clock, compared with Redis's at each heartbeat to warn of a host whose
	// clock is off. The script never reads it: Redis TIME is the center's one clock, so controllers
	// whose clocks disagree still agree on every wait, deadline and heartbeat.
	Now    func() time.Time
	Logger *slog.Logger
	// EventsMaxLen is the event stream's approximate length; default 1,000,000: about 75 MB in
	// Redis, a full day of a national center (the board counts its day from it) and a day of
	// PostgreSQL away at its peak hour (the records copy from it).
	EventsMaxLen int64
	// DispatchBatch is the most pairs one Dispatch makes; default 10. A run holds Redis for about
	// 30 µs a pair: 10 keeps every assignment under 2 ms at p99 with two controllers dispatching, at
	// more than half the rate of a bare EVALSHA (BENCHMARKS.md); the switchboard calls Dispatch
	// again at once while offers keep coming.
	DispatchBatch int
	// OfferOnEnqueue makes Enqueue also make Dispatch's offers, in the same script run, when an agent
	// of the caller's queue is free: the offer then waits for no second round trip nor for the
	// dispatcher goroutine, which a busy host is slow to schedule (BENCHMARKS.md, app_queue). Off,
	// Enqueue only queues, and offers come from Dispatch alone (what step-by-step tests want).
	OfferOnEnqueue bool
	// ReconcileGrace is how old a state must be before Reconcile judges it against the live calls
	// (an offer on its way to its controller is not a lost one); default 5s.
	ReconcileGrace time.Duration
}

// Center routes calls to agents. Every method is safe for concurrent use, and any number of Centers
// (in one process or many) may share one Redis: all state lives there, changed only by the Lua script.
type Center struct {
	rdb     redis.UniversalClient
	model   *Model
	opt     Options
	log     *slog.Logger
	prefix  string
	evKey   string
	queues  []any // queue names, passed to the script by Dispatch and Snapshot
	metrics *metrics

	setupMu sync.Mutex
	setUp   bool

	live     atomic.Pointer[liveHolder] // what the controller holds live (SetLive), for Reconcile and Verify
	skewWarn atomic.Int64               // unix ms of the last clock-skew warning
	// scriptNow replaces Redis TIME in the script: only acd's own tests set it, to move time by hand.
	scriptNow func() time.Time
}

// New returns a Center for model over rdb. It does no I/O: the model is written to Redis on first use
// (or by Sync).
func New(rdb redis.UniversalClient, model *Model, opt Options) (*Center, error) {
	if rdb == nil || model == nil {
		return nil, fmt.Errorf("acd.New: %w: nil client or model", ErrBadRequest)
	}
	if model.queueIdx == nil {
		model.index()
	}
	if opt.Center == "" {
		opt.Center = model.Name
	}
	if !nameRE.MatchString(opt.Center) {
		return nil, fmt.Errorf("acd.New: %w: center name %q", ErrBadRequest, opt.Center)
	}
	if opt.Instance == "" {
		opt.Instance = "default"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.EventsMaxLen <= 0 {
		opt.EventsMaxLen = 1_000_000
	}
	if opt.DispatchBatch <= 0 {
		opt.DispatchBatch = 10
	}
	if opt.ReconcileGrace <= 0 {
		opt.ReconcileGrace = 5 * time.Second
	}
	c := &Center{rdb: rdb, model: model, opt: opt, prefix: "{hotline:" + opt.Center + "}:"}
	c.evKey = c.prefix + "events"
	c.log = opt.Logger.With("center", opt.Center, "instance", opt.Instance)
	for _, q := range model.Queues {
		c.queues = append(c.queues, q.Name)
	}
	return c, nil
}

// Model returns the center's model.
func (c *Center) Model() *Model { return c.model }

// Key returns the Redis key for name under the center's hash tag (for tools and tests).
func (c *Center) Key(name string) string { return c.prefix + name }

// Sync writes the model (queue settings, agents' groups, eligible queues and levels) to Redis and
// rebuilds the sets derived from it. Live state (who is logged in, who waits, who talks) is kept, so a
// controller can restart, or load an edited center file, at any moment. It is O(agents): once per start.
func (c *Center) Sync(ctx context.Context) error {
	c.setupMu.Lock()
	defer c.setupMu.Unlock()
	return c.syncLocked(ctx)
}

func (c *Center) syncLocked(ctx context.Context) error {
	pipe := c.rdb.Pipeline()
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	pipe.HSet(ctx, c.prefix+"cfg", "wq", ms(c.model.Weights.QueuePriority), "wc", ms(c.model.Weights.CallerPriority),
		"cb_attempts", c.model.Callbacks.Attempts, "cb_after", ms(c.model.Callbacks.RetryAfter))
	for _, q := range c.model.Queues {
		k := c.prefix + "q:" + q.Name
		pipe.HSet(ctx, k, "prio", q.Priority, "strategy", string(q.Strategy), "wrapup", ms(q.WrapUp), "maxwait", ms(q.MaxWait))
		pipe.HSetNX(ctx, k, "aht", ms(q.HandleTime))
		pipe.SAdd(ctx, c.prefix+"queues", q.Name)
	}
	for i, a := range c.model.Agents {
		k := c.prefix + "a:" + a.ID
		fields := []any{"group", a.Group, "queues", strings.Join(a.queues, ",")}
		for _, q := range a.queues {
			qs, _ := c.model.Queue(q)
			fields = append(fields, "lv:"+q, a.Skills[qs.Skill], "ord:"+q, i)
		}
		pipe.HSet(ctx, k, fields...)
		pipe.HSetNX(ctx, k, "state", string(Offline))
		pipe.HSetNX(ctx, k, "calls", 0)
		pipe.SAdd(ctx, c.prefix+"agents", a.ID)
		if i%500 == 499 {
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("acd: write model: %w", err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("acd: write model: %w", err)
	}
	if err := script.Load(ctx, c.rdb).Err(); err != nil {
		return fmt.Errorf("acd: load script: %w", err)
	}
	c.setUp = true
	if _, err := c.runLocked(ctx, "reseat", c.queues...); err != nil {
		return err
	}
	return nil
}

// run executes one op of the script, writing the model first if this Center has not yet.
func (c *Center) run(ctx context.Context, op string, args ...any) (any, error) {
	c.setupMu.Lock()
	if !c.setUp {
		// Every caller waits for the one write; a failed write is retried by the next call.
		if err := c.syncLocked(ctx); err != nil {
			c.setupMu.Unlock()
			return nil, err
		}
	}
	c.setupMu.Unlock()
	return c.runLocked(ctx, op, args...)
}

// runLocked runs the script without checking setup.
func (c *Center) runLocked(ctx context.Context, op string, args ...any) (any, error) {
	argv := make([]any, 0, 3+len(args))
	now := "" // the script reads Redis TIME
	if c.scriptNow != nil {
		now = strconv.FormatInt(c.scriptNow().UnixMilli(), 10)
	}
	argv = append(argv, op, now, c.opt.EventsMaxLen)
	argv = append(argv, args...)
	v, err := script.Run(ctx, c.rdb, []string{c.evKey}, argv...).Result()
	if err != nil {
		return nil, scriptError(op, err)
	}
	return v, nil
}

// Waiting is a caller handed to the ACD by the IVR.
type Waiting struct {
	CallID   string
	Queue    string
	Priority int               // higher is served sooner (see ROUTING.md)
	Owner    string            // the controller instance holding the caller's channel; default: this one
	Data     map[string]string // what the caller gave the IVR, shown to the agent
}

// Enqueue puts a caller in a queue and returns their position (1 = next). With OfferOnEnqueue, when
// an agent of the queue is free, the same script run also makes Dispatch's offers (read them with
// Offers).
func (c *Center) Enqueue(ctx context.Context, w Waiting) (int, error) {
	if !nameRE.MatchString(w.CallID) {
		return 0, fmt.Errorf("acd: enqueue: %w: call id %q", ErrBadRequest, w.CallID)
	}
	if _, ok := c.model.Queue(w.Queue); !ok {
		return 0, fmt.Errorf("acd: enqueue %s: queue %q: %w", w.CallID, w.Queue, ErrUnknownQueue)
	}
	if w.Owner == "" {
		w.Owner = c.opt.Instance
	}
	data, err := json.Marshal(w.Data)
	if err != nil {
		return 0, fmt.Errorf("acd: enqueue %s: %w", w.CallID, err)
	}
	offerLimit := 0
	if c.opt.OfferOnEnqueue {
		offerLimit = c.opt.DispatchBatch
	}
	v, err := c.run(ctx, "enqueue", w.CallID, w.Queue, w.Priority, w.Owner, string(data), offerLimit)
	if err != nil {
		return 0, err
	}
	c.metrics.offered(w.Queue)
	c.log.Debug("enqueued", "call", w.CallID, "queue", w.Queue, "priority", w.Priority)
	return toInt(v), nil
}

// Offer is a call given to one agent (or, for ring-all, several): ring them. Exactly one of Accept,
// RingNoAnswer (per agent) or Abandon must follow.
type Offer struct {
	CallID     string
	Queue      string
	Agent      string   // the agent to ring (the first of Agents)
	Agents     []string // every agent to ring: one, or several for a ring-all queue
	Owner      string   // the instance holding the caller's channel
	Priority   int
	EnqueuedAt time.Time
	Data       map[string]string
	Callback   string // non-empty: the caller asked to be called back at this number; originate to it
	Seq        int64  // how many times the call has been offered; tells a stale offer from a fresh one
}

// Dispatch pairs waiting callers with free agents in one atomic script run (see ROUTING.md): each
// agent paired goes to ringing, each call leaves its queue. The offers go to their owners' lists (read
// them with Offers) and are also returned, for logging. Any instance may dispatch at any time.
func (c *Center) Dispatch(ctx context.Context) ([]Offer, error) {
	v, err := c.run(ctx, "dispatch", c.opt.DispatchBatch)
	if err != nil {
		return nil, err
	}
	rows, _ := v.([]any)
	offers := make([]Offer, 0, len(rows))
	for _, r := range rows {
		f, _ := r.([]any)
		if len(f) < 4 {
			continue
		}
		o := Offer{CallID: toString(f[0]), Seq: int64(toInt(f[1])), Agents: strings.Fields(toString(f[2])), Owner: toString(f[3])}
		if len(o.Agents) > 0 {
			o.Agent = o.Agents[0]
		}
		offers = append(offers, o)
		c.log.Debug("offered", "call", o.CallID, "agent", o.Agent, "owner", o.Owner)
	}
	return offers, nil
}

// Offers delivers the offers for calls owned by owner, whichever instance dispatched them, until ctx
// ends; then the channel is closed. Offers made stale by an abandon or ring-no-answer are dropped.
// Run one reader per owner.
func (c *Center) Offers(ctx context.Context, owner string) <-chan Offer {
	ch := make(chan Offer)
	go func() {
		defer close(ch)
		key := c.prefix + "offers:" + owner
		for ctx.Err() == nil {
			res, err := c.rdb.BRPop(ctx, time.Second, key).Result()
			if err == redis.Nil {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				c.log.Warn("read offers", "owner", owner, "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(200 * time.Millisecond): // back off while Redis is away
				}
				continue
			}
			callID, seq, _ := strings.Cut(res[1], " ")
			o, ok, err := c.offer(ctx, callID, seq)
			if err != nil {
				c.log.Warn("read offer", "call", callID, "err", err)
				continue
			}
			if !ok {
				continue
			}
			select {
			case ch <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// offer reads a call's record and makes it an Offer if it is still ringing under that offer number.
func (c *Center) offer(ctx context.Context, callID, seq string) (Offer, bool, error) {
	h, err := c.rdb.HGetAll(ctx, c.prefix+"c:"+callID).Result()
	if err != nil {
		return Offer{}, false, err
	}
	if h["stage"] != string(StageRinging) || h["seq"] != seq {
		return Offer{}, false, nil
	}
	cs := parseCall(callID, h)
	o := Offer{CallID: callID, Queue: cs.Queue, Agents: cs.Agents, Owner: cs.Owner, Priority: cs.Priority,
		EnqueuedAt: cs.EnqueuedAt, Data: cs.Data, Callback: cs.Callback, Seq: cs.Seq}
	if len(o.Agents) > 0 {
		o.Agent = o.Agents[0]
	}
	return o, true, nil
}

// Accept records that agent answered the call: agent on call, call connected. For ring-all it returns
// the other agents that were ringing, now free again: stop their ringing.
func (c *Center) Accept(ctx context.Context, callID, agentID string) ([]string, error) {
	v, err := c.run(ctx, "accept", callID, agentID)
	if err != nil {
		return nil, err
	}
	f, _ := v.([]any)
	if len(f) == 3 {
		waited := time.Duration(toInt(f[1])) * time.Millisecond
		c.metrics.answered(toString(f[0]), waited)
		c.log.Debug("answered", "call", callID, "agent", agentID, "queue", toString(f[0]), "waited", waited)
		return toStrings(f[2]), nil
	}
	return nil, nil
}

// RingNoAnswer records that agent let the call ring out: the agent is paused with reason "no answer"
// and the call goes back to the head of its queue with its original enqueue time.
func (c *Center) RingNoAnswer(ctx context.Context, callID, agentID string) error {
	_, err := c.run(ctx, "ringnoanswer", callID, agentID)
	if err == nil {
		c.log.Info("ring no answer", "call", callID, "agent", agentID)
	}
	return err
}

// Finish records the end of a connected call: the agent goes to wrap-up for the queue's time, then
// to available by itself (the next script run after the time sees it).
func (c *Center) Finish(ctx context.Context, callID, agentID string) error {
	_, err := c.run(ctx, "finish", callID, agentID)
	return err
}

// CallbackNoAnswer records that the number dialled back for a callback did not answer: the agent is
// available again at once, and the call waits outside its queue until retryAt, then comes back at
// its head; after the center's last attempt (Callbacks.Attempts) it leaves the ACD and retryAt is
// zero. attempts counts the tries so far.
func (c *Center) CallbackNoAnswer(ctx context.Context, callID, agentID string) (attempts int, retryAt time.Time, err error) {
	v, err := c.run(ctx, "cbnoanswer", callID, agentID)
	if err != nil {
		return 0, time.Time{}, err
	}
	f, _ := v.([]any)
	if len(f) != 2 {
		return 0, time.Time{}, fmt.Errorf("acd: callback no answer %s: unexpected reply %v", callID, v)
	}
	attempts = toInt(f[0])
	if due := toInt(f[1]); due > 0 {
		retryAt = time.UnixMilli(int64(due))
	}
	return attempts, retryAt, nil
}

// Alive is this instance's heartbeat: call it more often than ttl. An instance that has beaten once
// and then stops for longer than ttl has its waiting and ringing calls taken out of their queues
// (StageParked, the ringing agents freed), since nobody would connect them, until it beats again or
// another instance claims them (Claim). It reports whether the instance was alive already.
func (c *Center) Alive(ctx context.Context, ttl time.Duration) (bool, error) {
	v, err := c.run(ctx, "alive", c.opt.Instance, ttl.Milliseconds())
	if err != nil {
		return false, err
	}
	f, _ := v.([]any)
	if len(f) != 2 {
		return false, fmt.Errorf("acd: alive: unexpected reply %v", v)
	}
	c.checkClock(time.UnixMilli(int64(toInt(f[1]))))
	return toInt(f[0]) == 1, nil
}

// maxClockSkew is how far this host's clock may stray from Redis's before the heartbeat says so.
// Routing does not depend on it (the script reads Redis TIME); logs, call records and TLS do.
const maxClockSkew = 2 * time.Second

func (c *Center) checkClock(redisNow time.Time) {
	local := c.opt.Now()
	skew := local.Sub(redisNow)
	if skew < maxClockSkew && skew > -maxClockSkew {
		return
	}
	// At most one warning a minute: the heartbeat runs every few seconds.
	if last := c.skewWarn.Load(); local.UnixMilli()-last < time.Minute.Milliseconds() && last != 0 {
		return
	}
	c.skewWarn.Store(local.UnixMilli())
	c.log.Warn("this host's clock differs from Redis's; routing uses Redis's", "skew", skew.Round(time.Millisecond))
}

// Claim makes owner the call's owner: the controller that holds the call's channel takes over a
// call whose controller stopped for good (another instance name: a new pod, a replaced host). It
// returns the previous owner; claiming one's own call changes nothing.
func (c *Center) Claim(ctx context.Context, callID, owner string) (string, error) {
	if owner == "" {
		return "", fmt.Errorf("acd: claim %s: %w: no owner", callID, ErrBadRequest)
	}
	v, err := c.run(ctx, "claim", callID, owner)
	return toString(v), err
}

// Abandon records that a caller hung up while waiting or ringing. It returns the agents that were
// ringing, now available again: stop their ringing.
func (c *Center) Abandon(ctx context.Context, callID string) ([]string, error) {
	v, err := c.run(ctx, "leave", callID, "ABANDON", "")
	if err != nil {
		return nil, err
	}
	f, _ := v.([]any)
	if len(f) == 3 {
		c.metrics.abandoned(toString(f[0]))
		return toStrings(f[2]), nil
	}
	return nil, nil
}

// Exit takes a waiting caller out of the ACD for another reason than hanging up (an overflow message,
// a transfer out): event EXIT with the reason. It returns the agents freed, as Abandon does.
func (c *Center) Exit(ctx context.Context, callID, reason string) ([]string, error) {
	v, err := c.run(ctx, "leave", callID, "EXIT", reason)
	if err != nil {
		return nil, err
	}
	f, _ := v.([]any)
	if len(f) == 3 {
		return toStrings(f[2]), nil
	}
	return nil, nil
}

// Move sends a waiting call to another queue, keeping its enqueue time (so its place in time);
// the new queue's maximum wait counts from now. It returns the new position.
func (c *Center) Move(ctx context.Context, callID, queue string) (int, error) {
	v, err := c.run(ctx, "move", callID, queue)
	return toInt(v), err
}

// Direct offers a waiting call to one named agent, if that agent is available now: a transfer to a
// colleague. ErrAgentBusy when they are not (the call keeps waiting in its queue); the offer reaches
// the call's owner through Offers like any other.
func (c *Center) Direct(ctx context.Context, callID, agentID string) error {
	if _, ok := c.model.Agent(agentID); !ok {
		return fmt.Errorf("acd: direct %s: %w: %q", callID, ErrUnknownAgent, agentID)
	}
	_, err := c.run(ctx, "direct", callID, agentID)
	return err
}

// ConsultAgent reserves agentID for a consultation on callID, which fromAgent is talking on (the
// first step of an attended transfer): the colleague leaves every available set, so nothing else is
// routed to them, and shows as Consulting. ErrAgentBusy when they are not available now (no waiting).
// Exactly one of EndConsult or HandOver must follow (Finish of the call also frees them).
func (c *Center) ConsultAgent(ctx context.Context, callID, fromAgent, agentID string) error {
	if _, ok := c.model.Agent(agentID); !ok {
		return fmt.Errorf("acd: consult on %s: %w: %q", callID, ErrUnknownAgent, agentID)
	}
	_, err := c.run(ctx, "consult", callID, fromAgent, "agent", agentID)
	if err == nil {
		c.log.Debug("consult", "call", callID, "agent", fromAgent, "target", agentID)
	}
	return err
}

// ConsultQueue reserves for a consultation on callID the agent the queue would offer its next call
// to (its strategy's first available agent) and returns them. ErrNoAgent when nobody in the queue
// is available now: a consultation does not wait in the queue.
func (c *Center) ConsultQueue(ctx context.Context, callID, fromAgent, queue string) (string, error) {
	if _, ok := c.model.Queue(queue); !ok {
		return "", fmt.Errorf("acd: consult on %s: queue %q: %w", callID, queue, ErrUnknownQueue)
	}
	v, err := c.run(ctx, "consult", callID, fromAgent, "queue", queue)
	if err != nil {
		return "", err
	}
	agent := toString(v)
	c.log.Debug("consult", "call", callID, "agent", fromAgent, "queue", queue, "target", agent)
	return agent, nil
}

// EndConsult frees an agent reserved by ConsultAgent or ConsultQueue when the consultation ends
// without a transfer (cancelled, rejected, unanswered, hung up): they are available again at once,
// not in wrap-up. talked says whether they answered; if not, they keep their place (idle time) in
// the queues. ErrNotConsulting when they are no longer reserved for the call.
func (c *Center) EndConsult(ctx context.Context, callID, agentID string, talked bool) error {
	t := "0"
	if talked {
		t = "1"
	}
	_, err := c.run(ctx, "consultend", callID, agentID, t)
	return err
}

// HandOver completes an attended transfer: the call, still connected, now belongs to the consulted
// agent toAgent (on call, the call counted as theirs), and fromAgent goes to wrap-up as after any
// call. The call's handle time keeps running from its first answer.
func (c *Center) HandOver(ctx context.Context, callID, fromAgent, toAgent string) error {
	_, err := c.run(ctx, "handover", callID, fromAgent, toAgent)
	return err
}

// RequestCallback marks a waiting call as a callback to number: the caller may hang up and keeps
// their place and priority; the offer will carry Callback so the owner originates the call.
// Maximum wait no longer applies to it.
func (c *Center) RequestCallback(ctx context.Context, callID, number string) error {
	if number == "" || strings.ContainsAny(number, " \t\n") {
		return fmt.Errorf("acd: callback %s: %w: number %q", callID, ErrBadRequest, number)
	}
	_, err := c.run(ctx, "callback", callID, number)
	return err
}

// Login makes an agent available. Logging in twice is not an error.
func (c *Center) Login(ctx context.Context, agentID string) error {
	return c.agentOp(ctx, agentID, "login", "")
}

// Logout takes an agent offline. ErrAgentBusy while ringing or on a call.
func (c *Center) Logout(ctx context.Context, agentID string) error {
	return c.agentOp(ctx, agentID, "logout", "")
}

// SetAvailable makes a paused or wrapping-up agent available. ErrAgentBusy while ringing or on a call.
func (c *Center) SetAvailable(ctx context.Context, agentID string) error {
	return c.agentOp(ctx, agentID, "available", "")
}

// PauseAfterCall asks for a pause with reason once the agent's present call and its wrap-up are
// over: they get it instead of the next call. An idle agent pauses at once; reason "" takes the
// request back.
func (c *Center) PauseAfterCall(ctx context.Context, agentID, reason string) error {
	return c.agentOp(ctx, agentID, "pausenext", reason)
}

// MaxWrapUp bounds a wrap-up however often the agent extends it: past it, the next caller waits.
const MaxWrapUp = 10 * time.Minute

// ExtendWrapUp gives an agent in wrap-up by more time before the next call, up to MaxWrapUp from
// the wrap-up's start, and returns when it now ends. ErrNotWrappingUp when the agent is not in one.
func (c *Center) ExtendWrapUp(ctx context.Context, agentID string, by time.Duration) (time.Time, error) {
	if _, ok := c.model.Agent(agentID); !ok {
		return time.Time{}, fmt.Errorf("acd: extend wrap-up %s: %w", agentID, ErrUnknownAgent)
	}
	if by <= 0 {
		return time.Time{}, fmt.Errorf("acd: extend wrap-up %s by %v: %w", agentID, by, ErrBadRequest)
	}
	v, err := c.run(ctx, "extendwrap", agentID, by.Milliseconds(), MaxWrapUp.Milliseconds())
	if err != nil {
		return time.Time{}, err
	}
	ms, _ := v.(int64)
	if ms == 0 {
		return time.Time{}, fmt.Errorf("acd: extend wrap-up %s: %w", agentID, ErrNotWrappingUp)
	}
	return time.UnixMilli(ms), nil
}

// Hold records that the agent put the talking call on hold (on) or took the caller back, for the
// reports' hold time; a second hold or a resume of a call not held changes nothing. A call that
// ends on hold is taken off hold by Finish. It returns how long the hold lasted when it ends.
func (c *Center) Hold(ctx context.Context, callID, agentID string, on bool) (time.Duration, error) {
	flag := "0"
	if on {
		flag = "1"
	}
	v, err := c.run(ctx, "hold", callID, agentID, flag)
	if err != nil {
		return 0, err
	}
	ms, _ := v.(int64)
	return time.Duration(ms) * time.Millisecond, nil
}

// Pause stops calls to an agent, with a reason for the dashboard (break, training, …). An agent not
// logged in is logged in paused.
func (c *Center) Pause(ctx context.Context, agentID, reason string) error {
	return c.agentOp(ctx, agentID, "pause", reason)
}

func (c *Center) agentOp(ctx context.Context, agentID, action, reason string) error {
	if _, ok := c.model.Agent(agentID); !ok {
		return fmt.Errorf("acd: %s %s: %w", action, agentID, ErrUnknownAgent)
	}
	_, err := c.run(ctx, "agent", agentID, action, reason)
	if err == nil {
		c.log.Debug("agent", "agent", agentID, "action", action, "reason", reason)
	}
	return err
}

// Overdue is a waiting call past its queue's maximum wait, and where the queue sends it.
type Overdue struct {
	CallID   string
	Queue    string
	Owner    string
	Waited   time.Duration
	Overflow Overflow
}

// Overdue lists waiting calls past their queue's maximum wait, longest first (at most limit). The
// owner acts on each: Move for OverflowQueue, RequestCallback after asking the caller for
// OverflowCallback, play the message then Exit for OverflowMessage. A call stays listed until then.
func (c *Center) Overdue(ctx context.Context, limit int) ([]Overdue, error) {
	if limit <= 0 {
		limit = 100
	}
	v, err := c.run(ctx, "overdue", limit)
	if err != nil {
		return nil, err
	}
	rows, _ := v.([]any)
	out := make([]Overdue, 0, len(rows))
	for _, r := range rows {
		f, _ := r.([]any)
		if len(f) < 4 {
			continue
		}
		o := Overdue{CallID: toString(f[0]), Queue: toString(f[1]), Owner: toString(f[2]),
			Waited: time.Duration(toInt(f[3])) * time.Millisecond}
		if q, ok := c.model.Queue(o.Queue); ok {
			o.Overflow = q.Overflow
		}
		out = append(out, o)
	}
	return out, nil
}

// Verify checks the invariants of the live state (no agent with two calls, no call with two agents
// unless ring-all, sets agreeing with states) and returns an error listing every breach. With a
// controller's live calls (SetLive), it also lists what Reconcile would free: states stuck against
// what the controller holds.
func (c *Center) Verify(ctx context.Context) error {
	v, err := c.run(ctx, "verify", c.queues...)
	if err != nil {
		return err
	}
	bad := toStrings(v)
	if c.live.Load() != nil {
		stuck, err := c.reconcile(ctx, true)
		if err != nil {
			return err
		}
		for _, f := range stuck {
			bad = append(bad, "stuck: "+f.String())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("acd: inconsistent state: %s", strings.Join(bad, "; "))
	}
	return nil
}

func toInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case string:
		n, _ := strconv.ParseFloat(x, 64)
		return int(n)
	}
	return 0
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, toString(x))
	}
	return out
}
