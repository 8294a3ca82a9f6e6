// Package cluster lets the controllers of one center talk to each other over the center's Redis:
// one-way messages and requests with replies, addressed to a controller by its instance name or to
// all of them, and the record of each agent's home, the controller that holds their page and
// WebRTC session. The switchboard of the controller that holds a call's channel reaches an agent
// whose page is on another controller through it (server/cluster.go).
//
// It is Redis pub/sub under the center's hash tag ({hotline:<center>}:bus:<instance> for each
// controller, {hotline:<center>}:bus for all): a message to a controller that is not listening is
// lost, so every request carries its deadline and fails with ErrNoAnswer when no reply comes; a
// one-way message is for what a later message or a reload repairs (a page's push).
//
// On a Redis Cluster it is the classic pub/sub, not the sharded one (SSUBSCRIBE), although every
// channel shares the center's slot: a classic message reaches every node, so a subscription keeps
// hearing on whichever node it is, through a failover that turns its node into a replica and after
// go-redis resubscribes elsewhere when its node dies; a sharded message reaches only the slot's
// master and replicas, and a node that loses the slot may drop its sharded subscribers (Redis tells
// them with SUNSUBSCRIBE, which go-redis does not act on), to be redone by hand. The bus carries
// little, so the cost, each message crossing the whole cluster, is small.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoAnswer means the controller asked did not answer before the request's deadline (stopped,
// cut off from Redis, or overloaded), or nobody listens under its name.
var ErrNoAnswer = errors.New("cluster: the controller did not answer")

// ErrUnknownKind means the controller asked has no handler for the request.
var ErrUnknownKind = errors.New("cluster: unknown request")

// Handler serves one kind of message. from is the sender's instance; body is the sender's value as
// JSON. A request's reply is the returned value (as JSON) or the error; a one-way message's return
// values are dropped (an error is logged).
type Handler func(ctx context.Context, from string, body json.RawMessage) (any, error)

// DefaultOneWayTimeout bounds the handling of a one-way message.
const DefaultOneWayTimeout = 5 * time.Second

// Bus is this controller's end of the center's bus. Register handlers with Handle and errors with
// Error, then Start it.
type Bus struct {
	rdb    redis.UniversalClient
	prefix string
	self   string
	log    *slog.Logger

	handlers map[string]Handler
	errs     []codedErr

	seq     atomic.Uint64
	mu      sync.Mutex // guards pending and senders
	pending map[string]chan envelope
	sub     *redis.PubSub
	ctx     context.Context // Start's
	wg      sync.WaitGroup
	senders map[string]*senderQueue // one-way messages waiting, by sender; under mu
}

// senderQueue holds one sender's one-way messages for the goroutine that handles them in order. The
// goroutine ends when the queue is empty, and the next message starts another.
type senderQueue struct {
	msgs    chan envelope
	dropped bool // the queue was full: logged once until it drains
}

// oneWayQueue is how many one-way messages of one sender may wait for their handler. Past it the
// message is dropped, not waited for: waiting would hold up every sender's messages and every reply
// behind one slow handler, and a one-way message is for what a later one or a reload repairs.
const oneWayQueue = 1024

type codedErr struct {
	code string
	err  error
}

// envelope is one message on the bus.
type envelope struct {
	ID       string          `json:"id,omitempty"` // a request's or its reply's; empty: one-way
	Kind     string          `json:"kind,omitempty"`
	From     string          `json:"from"`
	Deadline int64           `json:"deadline,omitempty"` // unix ms
	Body     json.RawMessage `json:"body,omitempty"`
	Reply    bool            `json:"reply,omitempty"`
	Code     string          `json:"code,omitempty"` // a reply's error: a registered code, or "" with Err
	Err      string          `json:"err,omitempty"`
}

// New returns the bus of the center whose keys start with prefix ("{hotline:<center>}:"), as
// instance self.
func New(rdb redis.UniversalClient, prefix, self string, log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	return &Bus{rdb: rdb, prefix: prefix, self: self, log: log.With("instance", self),
		handlers: map[string]Handler{}, pending: map[string]chan envelope{}, senders: map[string]*senderQueue{}}
}

// Self is this controller's instance name.
func (b *Bus) Self() string { return b.self }

// Handle serves kind with h. Call it before Start.
func (b *Bus) Handle(kind string, h Handler) { b.handlers[kind] = h }

// Error registers a sentinel error that crosses the bus as code: a handler's error that is (wraps)
// err comes back to the requester wrapping err, so errors.Is works on both sides. Call it before
// Start.
func (b *Bus) Error(code string, err error) { b.errs = append(b.errs, codedErr{code, err}) }

func (b *Bus) inbox(instance string) string { return b.prefix + "bus:" + instance }
func (b *Bus) all() string                  { return b.prefix + "bus" }

// Start subscribes to this controller's inbox and the center's broadcasts, and returns once Redis
// confirmed both, so a message sent after Start returns is received. It serves messages until ctx
// ends; Wait waits for its goroutines.
func (b *Bus) Start(ctx context.Context) error {
	b.ctx = ctx
	sub := b.rdb.Subscribe(ctx, b.inbox(b.self), b.all())
	for range 2 {
		if _, err := sub.Receive(ctx); err != nil {
			sub.Close()
			return fmt.Errorf("cluster: subscribe to the bus: %w", err)
		}
	}
	b.sub = sub
	msgs := sub.Channel(redis.WithChannelSize(1024))
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		<-ctx.Done()
		sub.Close()
	}()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for m := range msgs {
			b.receive(m)
		}
	}()
	return nil
}

// Wait waits for the bus's goroutines to end once Start's context is done.
func (b *Bus) Wait() { b.wg.Wait() }

func (b *Bus) receive(m *redis.Message) {
	var env envelope
	if err := json.Unmarshal([]byte(m.Payload), &env); err != nil {
		b.log.Warn("cluster: a message that is not ours", "channel", m.Channel, "err", err)
		return
	}
	if m.Channel == b.all() && env.From == b.self {
		return // our own broadcast: handled here before it was sent
	}
	if env.Reply {
		b.mu.Lock()
		ch := b.pending[env.ID]
		delete(b.pending, env.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- env
		}
		return
	}
	if env.ID == "" {
		// One-way messages are handled in the order each sender sent them (a page's pushes must
		// keep theirs), but not here: a handler that waits (on a call's goroutine, which may itself
		// wait on a reply) would hold up every reply behind it, and not behind other senders'.
		b.queueOneWay(env)
		return
	}
	// Requests run beside each other: one may wait on a request back to its sender (an answer
	// that opens a leg on the agent's gateway).
	h := b.handlers[env.Kind]
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.serve(h, env)
	}()
}

// queueOneWay hands env to its sender's queue, starting the goroutine that drains it if none runs.
func (b *Bus) queueOneWay(env envelope) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.senders[env.From]
	if q == nil {
		q = &senderQueue{msgs: make(chan envelope, oneWayQueue)}
		b.senders[env.From] = q
		b.wg.Add(1)
		go b.drain(env.From, q)
	}
	select {
	case q.msgs <- env:
	default:
		if !q.dropped {
			b.log.Warn("cluster: one-way messages dropped: their handler is behind", "from", env.From, "kind", env.Kind, "queued", oneWayQueue)
		}
		q.dropped = true
	}
}

// drain handles a sender's one-way messages in order until its queue is empty.
func (b *Bus) drain(from string, q *senderQueue) {
	defer b.wg.Done()
	for {
		select {
		case env := <-q.msgs:
			b.handleOneWay(env)
			continue
		default:
		}
		b.mu.Lock()
		if len(q.msgs) == 0 {
			// Under mu, so queueOneWay either sent before this check or finds no queue and starts
			// a new one.
			delete(b.senders, from)
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

func (b *Bus) handleOneWay(env envelope) {
	h := b.handlers[env.Kind]
	if h == nil {
		b.log.Warn("cluster: a message nobody handles", "kind", env.Kind, "from", env.From)
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, DefaultOneWayTimeout)
	defer cancel()
	if _, err := b.call(ctx, h, env); err != nil {
		b.log.Warn("cluster: handle a message", "kind", env.Kind, "from", env.From, "err", err)
	}
}

// call runs a handler. A panic in it (a bug of ours) is logged with its stack and becomes its
// error: it must not take the controller, and every call it carries, down.
func (b *Bus) call(ctx context.Context, h Handler, env envelope) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("cluster: a handler panicked", "kind", env.Kind, "from", env.From, "panic", p, "stack", string(debug.Stack()))
			v, err = nil, fmt.Errorf("cluster: %s panicked: %v", env.Kind, p)
		}
	}()
	return h(ctx, env.From, env.Body)
}

func (b *Bus) serve(h Handler, env envelope) {
	ctx, cancel := context.WithDeadline(b.ctx, time.UnixMilli(env.Deadline))
	defer cancel()
	reply := envelope{ID: env.ID, From: b.self, Reply: true}
	var v any
	var err error
	if h == nil {
		err = fmt.Errorf("%w: %q", ErrUnknownKind, env.Kind)
	} else {
		v, err = b.call(ctx, h, env)
	}
	if err != nil {
		reply.Err = err.Error()
		reply.Code = b.codeOf(err)
	} else if v != nil {
		if reply.Body, err = json.Marshal(v); err != nil {
			reply.Err = "encode the reply: " + err.Error()
		}
	}
	if ctx.Err() != nil {
		b.log.Warn("cluster: request served after its deadline", "kind", env.Kind, "from", env.From)
		return // the requester gave up; its ErrNoAnswer says so
	}
	if err := b.publish(ctx, b.inbox(env.From), reply); err != nil {
		b.log.Warn("cluster: send a reply", "kind", env.Kind, "to", env.From, "err", err)
	}
}

func (b *Bus) codeOf(err error) string {
	if errors.Is(err, ErrUnknownKind) {
		return "unknown_kind"
	}
	for _, c := range b.errs {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

func (b *Bus) errOf(code string) error {
	if code == "unknown_kind" {
		return ErrUnknownKind
	}
	for _, c := range b.errs {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

func (b *Bus) publish(ctx context.Context, channel string, env envelope) error {
	_, err := b.send(ctx, channel, env)
	return err
}

func (b *Bus) send(ctx context.Context, channel string, env envelope) (int64, error) {
	raw, err := json.Marshal(env)
	if err != nil {
		return 0, fmt.Errorf("cluster: encode %s: %w", env.Kind, err)
	}
	n, err := b.rdb.Publish(ctx, channel, raw).Result()
	if err != nil {
		return 0, fmt.Errorf("cluster: publish %s: %w", env.Kind, err)
	}
	return n, nil
}

// listenersKnown says whether PUBLISH's count of receivers is the whole center's: not on a Redis
// Cluster, where it counts one node's.
func (b *Bus) listenersKnown() bool {
	_, cluster := b.rdb.(*redis.ClusterClient)
	return !cluster
}

// Send delivers a one-way message to instance. It returns once Redis took it; ErrNoAnswer when
// nobody listens under that name (known on one server or Sentinel, not on a Cluster).
func (b *Bus) Send(ctx context.Context, instance, kind string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("cluster: encode %s: %w", kind, err)
	}
	n, err := b.send(ctx, b.inbox(instance), envelope{Kind: kind, From: b.self, Body: raw})
	if err != nil {
		return err
	}
	if n == 0 && b.listenersKnown() {
		return fmt.Errorf("%w: nobody listens as %q", ErrNoAnswer, instance)
	}
	return nil
}

// Broadcast delivers a one-way message to every other controller of the center.
func (b *Bus) Broadcast(ctx context.Context, kind string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("cluster: encode %s: %w", kind, err)
	}
	return b.publish(ctx, b.all(), envelope{Kind: kind, From: b.self, Body: raw})
}

// Call sends a request to instance and decodes its reply into reply (nil: no reply value). ctx
// must have a deadline (the handler gets the same one); without one, DefaultCallTimeout applies.
// A handler's error comes back wrapping the sentinel registered for it (Error), or as text.
func (b *Bus) Call(ctx context.Context, instance, kind string, body, reply any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("cluster: encode %s: %w", kind, err)
	}
	id, ch, done := b.await()
	defer done()
	n, err := b.send(ctx, b.inbox(instance), envelope{ID: id, Kind: kind, From: b.self, Deadline: deadline.UnixMilli(), Body: raw})
	if err != nil {
		return err
	}
	if n == 0 && b.listenersKnown() {
		return fmt.Errorf("%w: %s: nobody listens as %q", ErrNoAnswer, kind, instance)
	}
	select {
	case env := <-ch:
		if env.Err != "" || env.Code != "" {
			if s := b.errOf(env.Code); s != nil {
				return fmt.Errorf("%s at %s: %w: %s", kind, instance, s, env.Err)
			}
			return fmt.Errorf("%s at %s: %s", kind, instance, env.Err)
		}
		if reply != nil && len(env.Body) > 0 {
			if err := json.Unmarshal(env.Body, reply); err != nil {
				return fmt.Errorf("cluster: decode the reply to %s: %w", kind, err)
			}
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %s to %q: %w", ErrNoAnswer, kind, instance, ctx.Err())
	}
}

// await registers a new request id, whose reply receive delivers on ch until done.
func (b *Bus) await() (id string, ch chan envelope, done func()) {
	id = b.self + ":" + strconv.FormatUint(b.seq.Add(1), 36)
	ch = make(chan envelope, 1)
	b.mu.Lock()
	b.pending[id] = ch
	b.mu.Unlock()
	return id, ch, func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}
}

// Check says whether the bus listens: it sends itself a reply through Redis and returns nil once
// it came back, or ErrNoAnswer: at once when Redis says nobody listens (one server or Sentinel),
// else at ctx's end. Redis answering is not enough: after a cut it answers again a moment before
// the bus has resubscribed, a moment in which the others' requests to this controller are lost.
func (b *Bus) Check(ctx context.Context) error {
	id, ch, done := b.await()
	defer done()
	n, err := b.send(ctx, b.inbox(b.self), envelope{ID: id, From: b.self, Reply: true})
	if err != nil {
		return err
	}
	if n == 0 && b.listenersKnown() {
		return fmt.Errorf("%w: the bus is not subscribed", ErrNoAnswer)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: the bus did not hear itself: %w", ErrNoAnswer, ctx.Err())
	}
}

// DefaultCallTimeout is a request's deadline when its context has none.
const DefaultCallTimeout = 5 * time.Second
