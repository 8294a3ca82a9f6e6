-- hotline ACD: every state change of queues, agents and calls, with its event, in one script.
-- Go runs it by EVALSHA as: KEYS[1] = "{hotline:<center>}:events", ARGV = op, a test clock (unix ms,
-- empty outside acd's own tests), stream maxlen, op arguments. Every other key shares KEYS[1]'s hash
-- tag, so on Redis Cluster they live in the same slot. Only plain commands are used (no cjson, no
-- setresp) so miniredis runs it too.

local EV = KEYS[1]
local P = string.sub(EV, 1, #EV - 6) -- "{hotline:<center>}:"
local op = ARGV[1]
local maxlen = ARGV[3]

-- now is Redis's clock, never a controller's: controllers whose clocks disagree (one 20 s ahead
-- parked every other controller's callers as silent) then still agree on every wait, deadline and
-- heartbeat. TIME before writes is fine with effects replication (the default since Redis 5, the only
-- mode of Redis 7); replicate_commands asks for it where it is not the default yet.
local now = tonumber(ARGV[2])
if not now then
  if redis.replicate_commands then pcall(redis.replicate_commands) end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fmt(n) return string.format('%.0f', n) end
local function fail(code, msg) return redis.error_reply(code .. ' ' .. msg) end
local function akey(a) return P .. 'a:' .. a end
local function ckey(c) return P .. 'c:' .. c end
local function qkey(q) return P .. 'q:' .. q end
local function owned(o) return P .. 'owned:' .. (o or '') end

local function split(s)
  local t = {}
  if s then for w in string.gmatch(s, '[^ ,]+') do t[#t + 1] = w end end
  return t
end

local function ev(call, queue, agent, event, data)
  redis.call('XADD', EV, 'MAXLEN', '~', maxlen, '*', 'time', fmt(now), 'call', call or '',
    'queue', queue or '', 'agent', agent or '', 'event', event, 'data', data or '')
end

-- Queue configuration is read at most once per script run.
local qcache = {}
local function qcfg(q)
  local c = qcache[q]
  if c then return c end
  local v = redis.call('HMGET', qkey(q), 'prio', 'strategy', 'wrapup', 'maxwait')
  if not v[1] then return nil end
  c = {prio = tonumber(v[1]), strategy = v[2], wrapup = tonumber(v[3]), maxwait = tonumber(v[4])}
  qcache[q] = c
  return c
end

local function weights()
  local w = redis.call('HMGET', P .. 'cfg', 'wq', 'wc')
  return tonumber(w[1]) or 0, tonumber(w[2]) or 0
end

-- The rank of an available agent in a queue's set: lowest first (see ROUTING.md).
local function avail_score(q, a, idle, calls)
  local s = qcfg(q).strategy
  if s == 'least-calls' then
    return math.min(calls, 899) * 1e13 + idle
  elseif s == 'best-skill' then
    local lvl = tonumber(redis.call('HGET', akey(a), 'lv:' .. q)) or 1
    return (10 - lvl) * 1e13 + idle
  elseif s == 'linear' then
    return tonumber(redis.call('HGET', akey(a), 'ord:' .. q)) or 0
  end
  return idle -- longest-idle, ring-all
end

-- leave_sets takes an agent out of the available sets; staffed too when it stops working (pause, logout).
local function leave_sets(a, staffed, queues, popped)
  if not queues then queues = redis.call('HGET', akey(a), 'queues') end
  for _, q in ipairs(split(queues)) do
    if q ~= popped then redis.call('ZREM', P .. 'avail:' .. q, a) end
    if not staffed then redis.call('SREM', P .. 'staff:' .. q, a) end
  end
  if not staffed then redis.call('ZREM', P .. 'wrapup', a) end
end

-- set_available puts an agent in the available sets of every queue it serves.
-- idle is when it became free (kept from before for ring-all losers and abandoned offers).
local function set_available(a, idle)
  local v = redis.call('HMGET', akey(a), 'queues', 'calls', 'pausenext')
  -- The agent asked for a pause after this call: they get it instead of the next call.
  if v[3] and v[3] ~= '' then
    leave_sets(a, false, v[1])
    redis.call('HSET', akey(a), 'state', 'paused', 'since', fmt(now), 'call', '', 'reason', v[3], 'idle', fmt(idle))
    redis.call('HDEL', akey(a), 'pausenext')
    ev('', '', a, 'PAUSE', v[3])
    return
  end
  local calls = tonumber(v[2]) or 0
  redis.call('HSET', akey(a), 'state', 'available', 'since', fmt(now), 'idle', fmt(idle), 'call', '', 'reason', '')
  redis.call('ZREM', P .. 'wrapup', a)
  for _, q in ipairs(split(v[1])) do
    redis.call('ZADD', P .. 'avail:' .. q, fmt(avail_score(q, a, idle, calls)), a)
    redis.call('SADD', P .. 'staff:' .. q, a)
  end
end


-- sweep ends the wrap-ups whose time has come: no timer goroutine, any script run does it.
local function sweep()
  local due = redis.call('ZRANGEBYSCORE', P .. 'wrapup', '-inf', fmt(now), 'WITHSCORES')
  for i = 1, #due, 2 do
    local a, t = due[i], tonumber(due[i + 1])
    set_available(a, t)
    ev('', '', a, 'WRAPUPEND', '')
  end
end

local function call_score(enq, q, prio)
  local wq, wc = weights()
  return enq - qcfg(q).prio * wq - prio * wc
end

-- fix_head keeps the heads set current: one entry per non-empty queue, scored by its head call's
-- score, so Dispatch finds the most urgent call of all queues without scanning them.
local function fix_head(q)
  local h = redis.call('ZRANGE', P .. 'wait:' .. q, 0, 0, 'WITHSCORES')
  if h[1] then
    redis.call('ZADD', P .. 'heads', h[2], q)
  else
    redis.call('ZREM', P .. 'heads', q)
  end
end

-- requeue puts a call back at the head of its queue. Its enqueue time is unchanged; its score is its
-- own or just ahead of the current head, whichever is smaller, so it is the next to be served.
local function requeue(c, q)
  local v = redis.call('HMGET', ckey(c), 'score', 'deadline')
  local s = tonumber(v[1])
  local head = redis.call('ZRANGE', P .. 'wait:' .. q, 0, 0, 'WITHSCORES')
  if head[2] and tonumber(head[2]) - 1 < s then s = tonumber(head[2]) - 1 end
  redis.call('ZADD', P .. 'wait:' .. q, fmt(s), c)
  redis.call('HSET', ckey(c), 'stage', 'waiting', 'agents', '', 'score', fmt(s))
  if v[2] and v[2] ~= '' then redis.call('ZADD', P .. 'deadline', v[2], c) end
  fix_head(q)
end

-- undefer brings back to the head of their queue the callbacks whose retry time has come.
local function undefer()
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', P .. 'deferred', '-inf', fmt(now))) do
    redis.call('ZREM', P .. 'deferred', c)
    local q = redis.call('HGET', ckey(c), 'queue')
    if q then
      requeue(c, q)
      ev(c, q, '', 'CALLBACKRETRY', '')
    end
  end
end

-- drop_call forgets a call that ends: its hash and its place in the sets of calls.
local function drop_call(c)
  local o = redis.call('HGET', ckey(c), 'owner')
  redis.call('DEL', ckey(c))
  redis.call('SREM', P .. 'calls', c)
  redis.call('SREM', owned(o), c)
end

-- Controllers that send heartbeats (ops.alive) are in P owners; one whose heartbeat stops (it
-- stopped for good, under a name nobody takes again) would leave its waiting calls to be offered
-- to agents through an offers list nobody reads. park_orphans takes such calls out of their queues
-- (stage parked, ringing agents freed) until their owner beats again or another controller claims
-- them. Owners that never beat (tests, tools) are never judged.
local function unpark(c)
  local v = redis.call('HMGET', ckey(c), 'stage', 'queue', 'score')
  if v[1] ~= 'parked' then return end
  redis.call('HSET', ckey(c), 'stage', 'waiting')
  redis.call('ZADD', P .. 'wait:' .. v[2], v[3], c)
  fix_head(v[2])
  ev(c, v[2], '', 'UNPARK', '')
end

local ORPHAN_CHECK = 2000         -- ms between looks for silent owners
local ORPHAN_EXPIRY = 86400000    -- ms a call stays parked before it is given up (EXIT orphaned)

local function park_orphans()
  if now - (tonumber(redis.call('GET', P .. 'orphan_check')) or 0) < ORPHAN_CHECK then return end
  redis.call('SET', P .. 'orphan_check', fmt(now))
  -- Once an hour, give up the calls parked for a day: their callers are long gone.
  local expire = now - (tonumber(redis.call('GET', P .. 'orphan_expire')) or 0) >= 3600000
  if expire then redis.call('SET', P .. 'orphan_expire', fmt(now)) end
  for _, o in ipairs(redis.call('SMEMBERS', P .. 'owners')) do
    local silent = (tonumber(redis.call('GET', P .. 'alive:' .. o)) or 0) < now
    -- An owner already judged has nothing new to park: nobody enqueues for it.
    if silent and (expire or redis.call('SISMEMBER', P .. 'silent', o) == 0) then
      redis.call('SADD', P .. 'silent', o)
      for _, c in ipairs(redis.call('SMEMBERS', owned(o))) do
        local v = redis.call('HMGET', ckey(c), 'stage', 'queue', 'agents', 'parked', 'enq')
        if v[1] == 'waiting' then
          redis.call('ZREM', P .. 'wait:' .. v[2], c)
          fix_head(v[2])
        elseif v[1] == 'ringing' then
          for _, a in ipairs(split(v[3])) do
            set_available(a, tonumber(redis.call('HGET', akey(a), 'prev_idle')) or now)
          end
        end
        if v[1] == 'waiting' or v[1] == 'ringing' then
          redis.call('HSET', ckey(c), 'stage', 'parked', 'agents', '', 'parked', fmt(now))
          ev(c, v[2], v[3], 'PARK', o)
        elseif v[1] == 'parked' and expire and now - (tonumber(v[4]) or now) >= ORPHAN_EXPIRY then
          redis.call('ZREM', P .. 'deadline', c)
          drop_call(c)
          ev(c, v[2], '', 'EXIT', fmt(now - tonumber(v[5])) .. ' orphaned')
        end
      end
      if redis.call('SCARD', owned(o)) == 0 then
        redis.call('SREM', P .. 'owners', o)
        redis.call('SREM', P .. 'silent', o)
      end
    end
  end
end

local function agent_state(a)
  return redis.call('HMGET', akey(a), 'state', 'call', 'idle', 'prev_idle')
end

local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

-- release_consult makes the agent reserved for a consultation on call c available again, keeping
-- their idle time when talked is false (a consultation that never connected costs them no place).
-- Finish calls it too, so a call never ends with a colleague still reserved for it.
local function release_consult(c, q, why, talked)
  local b = redis.call('HGET', ckey(c), 'consult')
  if not b or b == '' then return nil end
  redis.call('HSET', ckey(c), 'consult', '')
  local st = agent_state(b)
  if st[1] == 'consult' and st[2] == c then
    local idle = now
    if not talked then idle = tonumber(st[4]) or now end
    set_available(b, idle)
  end
  ev(c, q, b, 'CONSULTEND', why)
  return b
end

-- pick takes the most urgent call among queues that have an available agent out of its queue: the
-- head of the first queue in the heads set (ordered by head score, then queue name) with an available
-- agent. Usually the first queue looked at is the one.
local function pick()
  local heads = redis.call('ZRANGE', P .. 'heads', 0, -1)
  for _, q in ipairs(heads) do
    if qcfg(q) and redis.call('ZCARD', P .. 'avail:' .. q) > 0 then
      return redis.call('ZPOPMIN', P .. 'wait:' .. q)[1], q
    end
  end
  return nil
end

-- offer_pairs pairs the most urgent waiting calls with free agents, at most limit of them, and
-- returns the offers made, each {call, seq, agents, owner}.
local function offer_pairs(limit)
  local out = {}
  while #out < limit do
    local bc, bq = pick()
    if not bc then break end
    local agents, popped
    if qcfg(bq).strategy == 'ring-all' then
      agents = redis.call('ZRANGE', P .. 'avail:' .. bq, 0, 49)
    else
      agents, popped = {redis.call('ZPOPMIN', P .. 'avail:' .. bq)[1]}, bq
    end
    redis.call('ZREM', P .. 'deadline', bc)
    fix_head(bq)
    for _, a in ipairs(agents) do
      local v = redis.call('HMGET', akey(a), 'idle', 'queues')
      leave_sets(a, true, v[2], popped)
      redis.call('HSET', akey(a), 'state', 'ringing', 'since', fmt(now), 'call', bc, 'prev_idle', v[1])
    end
    local list = table.concat(agents, ' ')
    local cv = redis.call('HMGET', ckey(bc), 'seq', 'owner')
    local seq = (tonumber(cv[1]) or 0) + 1
    redis.call('HSET', ckey(bc), 'stage', 'ringing', 'agents', list, 'rung', fmt(now), 'seq', seq)
    redis.call('LPUSH', P .. 'offers:' .. cv[2], bc .. ' ' .. seq)
    ev(bc, bq, list, 'RING', '')
    out[#out + 1] = {bc, seq, list, cv[2]}
  end
  return out
end

local ops = {}

-- enqueue call queue priority owner data offer_limit → position (before any offer it makes)
function ops.enqueue(c, q, prio, owner, data, offer_limit)
  prio = tonumber(prio) or 0
  if not qcfg(q) then return fail('ACD_UNKNOWN_QUEUE', q) end
  if redis.call('EXISTS', ckey(c)) == 1 then return fail('ACD_DUPLICATE_CALL', c) end
  local s = call_score(now, q, prio)
  local deadline = ''
  if qcfg(q).maxwait > 0 then
    deadline = fmt(now + qcfg(q).maxwait)
    redis.call('ZADD', P .. 'deadline', deadline, c)
  end
  redis.call('HSET', ckey(c), 'queue', q, 'prio', prio, 'enq', fmt(now), 'score', fmt(s), 'owner', owner,
    'stage', 'waiting', 'agents', '', 'data', data, 'deadline', deadline, 'seq', 0, 'callback', '')
  redis.call('SADD', P .. 'calls', c)
  redis.call('SADD', owned(owner), c)
  redis.call('ZADD', P .. 'wait:' .. q, fmt(s), c)
  fix_head(q)
  ev(c, q, '', 'ENQUEUE', tostring(prio))
  local pos = redis.call('ZRANK', P .. 'wait:' .. q, c) + 1
  -- A caller who finds an agent free is offered in this same run, as app_queue dials a member the
  -- moment Queue() starts: no second round trip, and no wait for the controller's dispatcher to be
  -- scheduled, which is what a busy host delays. The pairing is Dispatch's own, so the order is too.
  local limit = tonumber(offer_limit) or 0
  if limit > 0 then
    sweep()
    if redis.call('ZCARD', P .. 'avail:' .. q) > 0 then offer_pairs(limit) end
  end
  return pos
end

-- dispatch limit → list of offers made, each {call, seq, agents, owner}
function ops.dispatch(limit)
  sweep()
  undefer()
  park_orphans()
  return offer_pairs(tonumber(limit))
end

-- direct call agent → seq: offers a waiting call to one named agent, if that agent is available
-- (a transfer to an agent). The offer goes to the call's owner like any other.
function ops.direct(c, a)
  sweep()
  local v = redis.call('HMGET', ckey(c), 'stage', 'queue', 'seq', 'owner')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'waiting' then return fail('ACD_NOT_WAITING', c) end
  local st = redis.call('HMGET', akey(a), 'state', 'idle', 'queues')
  if not st[1] then return fail('ACD_UNKNOWN_AGENT', a) end
  if st[1] ~= 'available' then return fail('ACD_AGENT_BUSY', a .. ' is ' .. st[1]) end
  local q = v[2]
  redis.call('ZREM', P .. 'wait:' .. q, c)
  redis.call('ZREM', P .. 'deadline', c)
  fix_head(q)
  leave_sets(a, true, st[3], nil)
  redis.call('HSET', akey(a), 'state', 'ringing', 'since', fmt(now), 'call', c, 'prev_idle', st[2])
  local seq = (tonumber(v[3]) or 0) + 1
  redis.call('HSET', ckey(c), 'stage', 'ringing', 'agents', a, 'rung', fmt(now), 'seq', seq)
  redis.call('LPUSH', P .. 'offers:' .. v[4], c .. ' ' .. seq)
  ev(c, q, a, 'RING', 'direct')
  return seq
end

-- consult call from kind target → agent: reserves an agent for a consultation on a connected call
-- (an attended transfer's first step). kind 'agent': target, if available now; kind 'queue': the
-- agent the queue's strategy would offer its next call to. The agent goes to state consult, out of
-- every available set (still staffed), and the call names them in 'consult'. No waiting: nobody
-- free is ACD_AGENT_BUSY or ACD_NO_AGENT at once.
function ops.consult(c, from, kind, target)
  sweep()
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'consult')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'oncall' or v[2] ~= from then return fail('ACD_NOT_ON_CALL', c .. ' ' .. from) end
  if v[4] and v[4] ~= '' then return fail('ACD_CONSULTING', c .. ' already consults ' .. v[4]) end
  local b
  if kind == 'agent' then
    b = target
    if b == from then return fail('ACD_BAD_REQUEST', 'consult oneself') end
    local st = agent_state(b)
    if not st[1] then return fail('ACD_UNKNOWN_AGENT', b) end
    if st[1] ~= 'available' then return fail('ACD_AGENT_BUSY', b .. ' is ' .. st[1]) end
  elseif kind == 'queue' then
    if not qcfg(target) then return fail('ACD_UNKNOWN_QUEUE', target) end
    b = redis.call('ZRANGE', P .. 'avail:' .. target, 0, 0)[1]
    if not b then return fail('ACD_NO_AGENT', 'nobody is available in ' .. target) end
  else
    return fail('ACD_BAD_REQUEST', 'consult kind ' .. tostring(kind))
  end
  local st = redis.call('HMGET', akey(b), 'idle', 'queues')
  leave_sets(b, true, st[2], nil)
  redis.call('HSET', akey(b), 'state', 'consult', 'since', fmt(now), 'call', c, 'prev_idle', st[1])
  redis.call('HSET', ckey(c), 'consult', b)
  ev(c, v[3], b, 'CONSULT', from)
  return b
end

-- consultend call agent talked: the consultation is over without a transfer (cancelled, rejected,
-- unanswered, or the consulted agent hung up): the agent is available again, not in wrap-up. An
-- agent no longer reserved for the call is ACD_NOT_CONSULTING.
function ops.consultend(c, b, talked)
  local st = agent_state(b)
  if not st[1] then return fail('ACD_UNKNOWN_AGENT', b) end
  if st[1] ~= 'consult' or st[2] ~= c then return fail('ACD_NOT_CONSULTING', c .. ' ' .. b) end
  local v = redis.call('HMGET', ckey(c), 'queue', 'consult')
  if v[2] == b then
    release_consult(c, v[1], 'cancel', talked == '1')
  else
    -- The call is gone (or forgot the agent): free the agent all the same.
    set_available(b, talked == '1' and now or (tonumber(st[4]) or now))
    ev(c, v[1] or '', b, 'CONSULTEND', 'orphan')
  end
  return 1
end

-- handover call from to: completes an attended transfer to the consulted agent. The call stays
-- connected (its answer time kept, so its handle time is the whole conversation); from goes to
-- wrap-up for the queue's time as after any call, to is on the call and counts it as answered.
function ops.handover(c, from, to)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'consult', 'held')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'oncall' or v[2] ~= from then return fail('ACD_NOT_ON_CALL', c .. ' ' .. from) end
  local st = agent_state(to)
  if v[4] ~= to or st[1] ~= 'consult' or st[2] ~= c then return fail('ACD_NOT_CONSULTING', c .. ' ' .. to) end
  local q = v[3]
  -- The caller held through the consultation comes off hold into the colleague's call.
  if v[5] and v[5] ~= '' then ev(c, q, from, 'UNHOLD', fmt(now - tonumber(v[5]))) end
  redis.call('HSET', ckey(c), 'agents', to, 'consult', '', 'held', '')
  redis.call('HINCRBY', akey(to), 'calls', 1)
  redis.call('HSET', akey(to), 'state', 'oncall', 'since', fmt(now), 'call', c)
  ev(c, q, from, 'HANDOVER', to)
  local wrap = qcfg(q) and qcfg(q).wrapup or 0
  redis.call('HSET', akey(from), 'state', 'wrapup', 'since', fmt(now), 'call', '', 'wrapq', q)
  redis.call('ZADD', P .. 'wrapup', fmt(now + wrap), from)
  if wrap <= 0 then sweep() end
  return 1
end

-- reseat queue...: after Sync wrote a new model, rebuild the derived sets: heads, and each queue's
-- available and staffed agents (an agent's eligible queues or levels may have changed).
function ops.reseat(...)
  for _, q in ipairs({...}) do
    fix_head(q)
    redis.call('DEL', P .. 'avail:' .. q, P .. 'staff:' .. q)
  end
  for _, a in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
    local v = redis.call('HMGET', akey(a), 'state', 'queues', 'idle')
    if v[1] == 'available' then
      set_available(a, tonumber(v[3]) or now)
    elseif v[1] == 'ringing' or v[1] == 'oncall' or v[1] == 'consult' or v[1] == 'wrapup' then
      for _, q in ipairs(split(v[2])) do redis.call('SADD', P .. 'staff:' .. q, a) end
    end
  end
  return 1
end

-- accept call agent → {queue, waited ms, other agents released}
function ops.accept(c, a)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'enq')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  local agents = split(v[2])
  if v[1] ~= 'ringing' or not has(agents, a) then return fail('ACD_NOT_RINGING', c .. ' ' .. a) end
  local released = {}
  for _, o in ipairs(agents) do
    if o ~= a then
      set_available(o, tonumber(redis.call('HGET', akey(o), 'prev_idle')) or now)
      released[#released + 1] = o
    end
  end
  redis.call('HINCRBY', akey(a), 'calls', 1)
  redis.call('HSET', akey(a), 'state', 'oncall', 'since', fmt(now), 'call', c)
  redis.call('HSET', ckey(c), 'stage', 'oncall', 'agents', a, 'answered', fmt(now))
  local waited = now - tonumber(v[4])
  ev(c, v[3], a, 'CONNECT', fmt(waited))
  -- A ring-all's other agents stop ringing: their ring ends here (the records' agent intervals).
  for _, o in ipairs(released) do ev(c, v[3], o, 'RINGCANCELED', a) end
  return {v[3], waited, released}
end

-- ringnoanswer call agent: the agent is paused "no answer"; the call goes back to the head when no
-- other agent is still ringing for it.
function ops.ringnoanswer(c, a)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  local agents = split(v[2])
  if v[1] ~= 'ringing' or not has(agents, a) then return fail('ACD_NOT_RINGING', c .. ' ' .. a) end
  leave_sets(a, false)
  redis.call('HSET', akey(a), 'state', 'paused', 'since', fmt(now), 'call', '', 'reason', 'no answer')
  redis.call('HDEL', akey(a), 'pausenext')
  local rest = {}
  for _, o in ipairs(agents) do if o ~= a then rest[#rest + 1] = o end end
  ev(c, v[3], a, 'RINGNOANSWER', '')
  ev('', '', a, 'PAUSE', 'no answer')
  if #rest == 0 then
    requeue(c, v[3])
  else
    redis.call('HSET', ckey(c), 'agents', table.concat(rest, ' '))
  end
  return 1
end

-- finish call agent → handle ms. The agent goes to wrap-up for the queue's time.
function ops.finish(c, a)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'answered', 'held')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'oncall' or v[2] ~= a then return fail('ACD_NOT_ON_CALL', c .. ' ' .. a) end
  local q = v[3]
  release_consult(c, q, 'finish')
  -- A call that ends on hold was held until its end.
  if v[5] and v[5] ~= '' then ev(c, q, a, 'UNHOLD', fmt(now - tonumber(v[5]))) end
  local handle = now - tonumber(v[4])
  -- Average handle time for the wait estimator: an exponentially weighted mean (alpha 0.1).
  local aht = tonumber(redis.call('HGET', qkey(q), 'aht')) or handle
  redis.call('HSET', qkey(q), 'aht', fmt(aht * 0.9 + handle * 0.1))
  drop_call(c)
  ev(c, q, a, 'COMPLETE', fmt(handle))
  local wrap = qcfg(q) and qcfg(q).wrapup or 0
  redis.call('HSET', akey(a), 'state', 'wrapup', 'since', fmt(now), 'call', '', 'wrapq', q)
  redis.call('ZADD', P .. 'wrapup', fmt(now + wrap), a)
  if wrap <= 0 then sweep() end
  return handle
end

-- hold call agent on → the ms the call had been held when on is '0' (0 when it was not held).
-- The agent put the caller on hold (on '1') or took them back: HOLD and UNHOLD events (Data: the ms
-- held), as queue_log writes them, are what the reports' hold time adds up.
function ops.hold(c, a, on)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'held')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'oncall' or v[2] ~= a then return fail('ACD_NOT_ON_CALL', c .. ' ' .. a) end
  local since = v[4] ~= '' and tonumber(v[4]) or nil
  if on == '1' then
    if not since then
      redis.call('HSET', ckey(c), 'held', fmt(now))
      ev(c, v[3], a, 'HOLD', '')
    end
    return 0
  end
  if not since then return 0 end
  redis.call('HSET', ckey(c), 'held', '')
  ev(c, v[3], a, 'UNHOLD', fmt(now - since))
  return now - since
end

-- extendwrap agent ms cap → when the agent's wrap-up now ends (ms), or 0 when they are not in one.
-- The wrap-up lasts at most cap ms from its start, however often it is extended.
function ops.extendwrap(a, ms, cap)
  sweep()
  if redis.call('HGET', akey(a), 'state') ~= 'wrapup' then return 0 end
  local due = tonumber(redis.call('ZSCORE', P .. 'wrapup', a))
  if not due then return 0 end
  local since = tonumber(redis.call('HGET', akey(a), 'since')) or now
  local until_ = math.max(due, math.min(due + tonumber(ms), since + tonumber(cap)))
  if until_ > due then
    redis.call('ZADD', P .. 'wrapup', fmt(until_), a)
    ev('', '', a, 'WRAPUPEXTEND', fmt(until_ - due))
  end
  return until_
end

-- leave call event reason → {queue, waited ms, freed agents}. Abandon (caller hung up) or exit (the
-- controller took the caller out: overflow message, transfer). Ringing agents become available again
-- keeping their idle time: an offer that never connected does not cost them their place.
function ops.leave(c, event, reason)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'enq')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] == 'oncall' then return fail('ACD_CONNECTED', c) end
  local freed = {}
  if v[1] == 'ringing' then
    for _, a in ipairs(split(v[2])) do
      set_available(a, tonumber(redis.call('HGET', akey(a), 'prev_idle')) or now)
      freed[#freed + 1] = a
    end
  end
  if v[1] == 'waiting' then
    redis.call('ZREM', P .. 'wait:' .. v[3], c)
    fix_head(v[3])
  end
  redis.call('ZREM', P .. 'deferred', c)
  redis.call('ZREM', P .. 'deadline', c)
  drop_call(c)
  local waited = now - tonumber(v[4])
  ev(c, v[3], table.concat(freed, ' '), event, fmt(waited) .. (reason ~= '' and (' ' .. reason) or ''))
  return {v[3], waited, freed}
end

-- claim call owner → the previous owner: the controller that holds the call's channel now takes it
-- over (the one that had it stopped for good, under another instance name). Offers for the call go
-- to the new owner from now on.
function ops.claim(c, owner)
  local v = redis.call('HMGET', ckey(c), 'owner', 'queue')
  if not v[2] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= owner then
    redis.call('HSET', ckey(c), 'owner', owner)
    redis.call('SMOVE', owned(v[1]), owned(owner), c)
    ev(c, v[2], '', 'CLAIM', (v[1] or '') .. ' ' .. owner)
  end
  unpark(c)
  return v[1] or ''
end

-- cbnoanswer call agent → {attempts, due ms}: the number dialled back for a callback did not answer.
-- The agent is available again at once (no conversation to wrap up); the call waits outside its
-- queue until due and then comes back at its head, or, after the center's last attempt (due 0),
-- leaves the ACD with EXIT "callback_unanswered".
function ops.cbnoanswer(c, a)
  local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'attempts', 'enq', 'callback')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'oncall' or v[2] ~= a then return fail('ACD_NOT_ON_CALL', c .. ' ' .. a) end
  if not v[6] or v[6] == '' then return fail('ACD_BAD_REQUEST', c .. ' is not a callback') end
  local q = v[3]
  release_consult(c, q, 'finish')
  set_available(a, now)
  local n = (tonumber(v[4]) or 0) + 1
  local cfg = redis.call('HMGET', P .. 'cfg', 'cb_attempts', 'cb_after')
  ev(c, q, a, 'CALLBACKNOANSWER', tostring(n))
  if n >= (tonumber(cfg[1]) or 3) then
    redis.call('ZREM', P .. 'deadline', c)
    drop_call(c)
    ev(c, q, '', 'EXIT', fmt(now - tonumber(v[5])) .. ' callback_unanswered')
    return {n, 0}
  end
  local due = now + (tonumber(cfg[2]) or 600000)
  redis.call('HSET', ckey(c), 'stage', 'deferred', 'agents', '', 'attempts', n, 'deadline', '')
  redis.call('ZADD', P .. 'deferred', fmt(due), c)
  return {n, due}
end

-- alive instance ttl_ms → {1 when the instance was alive already, now}: its heartbeat. Coming back (or
-- beating for the first time) brings its parked calls back into their queues.
function ops.alive(o, ttl)
  local was = (tonumber(redis.call('GET', P .. 'alive:' .. o)) or 0) >= now
  redis.call('SET', P .. 'alive:' .. o, fmt(now + tonumber(ttl)), 'PX', 86400000)
  redis.call('SADD', P .. 'owners', o)
  redis.call('SREM', P .. 'silent', o)
  if not was then
    for _, c in ipairs(redis.call('SMEMBERS', owned(o))) do unpark(c) end
  end
  return {was and 1 or 0, fmt(now)}
end

-- move call queue: a waiting call changes queue keeping its enqueue time; max wait restarts.
function ops.move(c, q)
  local v = redis.call('HMGET', ckey(c), 'stage', 'queue', 'enq', 'prio')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if not qcfg(q) then return fail('ACD_UNKNOWN_QUEUE', q) end
  if v[1] ~= 'waiting' then return fail('ACD_NOT_WAITING', c) end
  redis.call('ZREM', P .. 'wait:' .. v[2], c)
  fix_head(v[2])
  local s = call_score(tonumber(v[3]), q, tonumber(v[4]))
  local deadline = ''
  redis.call('ZREM', P .. 'deadline', c)
  if qcfg(q).maxwait > 0 and redis.call('HGET', ckey(c), 'callback') == '' then
    deadline = fmt(now + qcfg(q).maxwait)
    redis.call('ZADD', P .. 'deadline', deadline, c)
  end
  redis.call('ZADD', P .. 'wait:' .. q, fmt(s), c)
  fix_head(q)
  redis.call('HSET', ckey(c), 'queue', q, 'score', fmt(s), 'deadline', deadline)
  ev(c, q, '', 'MOVE', v[2])
  return redis.call('ZRANK', P .. 'wait:' .. q, c) + 1
end

-- callback call number: the caller hangs up but keeps their place; max wait no longer applies.
function ops.callback(c, number)
  local v = redis.call('HMGET', ckey(c), 'stage', 'queue')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  if v[1] ~= 'waiting' then return fail('ACD_NOT_WAITING', c) end
  redis.call('HSET', ckey(c), 'callback', number, 'deadline', '')
  redis.call('ZREM', P .. 'deadline', c)
  ev(c, v[2], '', 'CALLBACK', '')
  return 1
end

-- position call → {queue, position, staffed agents, available agents, aht ms, wrapup ms}
function ops.position(c)
  local v = redis.call('HMGET', ckey(c), 'stage', 'queue')
  if not v[1] then return fail('ACD_UNKNOWN_CALL', c) end
  local q = v[2]
  local pos = 0
  if v[1] == 'waiting' then pos = redis.call('ZRANK', P .. 'wait:' .. q, c) + 1 end
  local aht = redis.call('HGET', qkey(q), 'aht')
  return {q, pos, redis.call('SCARD', P .. 'staff:' .. q), redis.call('ZCARD', P .. 'avail:' .. q),
    tonumber(aht) or 0, qcfg(q).wrapup}
end

-- overdue limit → {call, queue, owner, waited ms} for waiting calls past their queue's max wait.
function ops.overdue(limit)
  local ids = redis.call('ZRANGEBYSCORE', P .. 'deadline', '-inf', fmt(now), 'LIMIT', 0, tonumber(limit))
  local out = {}
  for _, c in ipairs(ids) do
    local v = redis.call('HMGET', ckey(c), 'queue', 'owner', 'enq')
    if v[1] then out[#out + 1] = {c, v[1], v[2], fmt(now - tonumber(v[3]))} end
  end
  return out
end

-- agent id action reason: login, logout, available, pause.
function ops.agent(a, action, reason)
  local v = agent_state(a)
  local st = v[1]
  if not st then return fail('ACD_UNKNOWN_AGENT', a) end
  if action == 'login' then
    if st ~= 'offline' then return 0 end
    set_available(a, now)
    ev('', '', a, 'AGENTLOGIN', '')
    return 1
  end
  if st == 'offline' then
    if action == 'logout' then return 0 end
    -- Starting a shift on a break is allowed: the agent logs in paused, never available between.
    if action ~= 'pause' and not (action == 'pausenext' and reason ~= '') then return fail('ACD_NOT_LOGGED_IN', a) end
    ev('', '', a, 'AGENTLOGIN', '')
  end
  if action == 'pausenext' then
    -- reason '' takes the request back. Idle agents pause at once.
    if st == 'ringing' or st == 'oncall' or st == 'consult' or st == 'wrapup' then
      if reason == '' then redis.call('HDEL', akey(a), 'pausenext') else redis.call('HSET', akey(a), 'pausenext', reason) end
      return 1
    end
    if reason == '' then return 0 end
    action = 'pause'
  end
  if st == 'ringing' or st == 'oncall' or st == 'consult' then return fail('ACD_AGENT_BUSY', a .. ' ' .. st) end
  -- "available" (the wrap-up submitted) keeps a pause asked for after the call: set_available
  -- gives it. A pause or a logout replaces it.
  if action ~= 'available' then redis.call('HDEL', akey(a), 'pausenext') end
  if action == 'logout' then
    leave_sets(a, false)
    redis.call('HSET', akey(a), 'state', 'offline', 'since', fmt(now), 'call', '', 'reason', '')
    ev('', '', a, 'AGENTLOGOFF', '')
  elseif action == 'available' then
    if st == 'available' then return 0 end
    set_available(a, now)
    if redis.call('HGET', akey(a), 'state') == 'available' then ev('', '', a, 'UNPAUSE', st) end
  elseif action == 'pause' then
    leave_sets(a, false)
    redis.call('HSET', akey(a), 'state', 'paused', 'since', fmt(now), 'call', '', 'reason', reason)
    ev('', '', a, 'PAUSE', reason)
  else
    return fail('ACD_BAD_REQUEST', action)
  end
  return 1
end

-- snapshot queues... → {{queue, {calls in order}}...}, {call hashes}, {agent hashes}, now
function ops.snapshot(...)
  sweep()
  local qs, calls, agents = {}, {}, {}
  for _, q in ipairs({...}) do
    qs[#qs + 1] = {q, redis.call('ZRANGE', P .. 'wait:' .. q, 0, -1), redis.call('HGET', qkey(q), 'aht') or ''}
  end
  for _, c in ipairs(redis.call('SMEMBERS', P .. 'calls')) do
    calls[#calls + 1] = {c, redis.call('HGETALL', ckey(c))}
  end
  for _, a in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
    agents[#agents + 1] = {a, redis.call('HMGET', akey(a), 'state', 'since', 'call', 'reason', 'group', 'calls')}
  end
  return {qs, calls, agents, fmt(now)}
end

-- verify → a list of broken invariants (empty when consistent). For tests and operators.
function ops.verify(...)
  local bad = {}
  local holder = {}
  for _, a in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
    local v = redis.call('HMGET', akey(a), 'state', 'call', 'queues')
    local st, c = v[1], v[2]
    for _, q in ipairs(split(v[3])) do
      local inAvail = redis.call('ZSCORE', P .. 'avail:' .. q, a)
      if (st == 'available') ~= (inAvail ~= false and inAvail ~= nil) then
        bad[#bad + 1] = 'agent ' .. a .. ' ' .. st .. ' avail:' .. q .. ' mismatch'
      end
    end
    if st == 'ringing' or st == 'oncall' then
      if not c or c == '' then
        bad[#bad + 1] = 'agent ' .. a .. ' ' .. st .. ' without a call'
      else
        local cv = redis.call('HMGET', ckey(c), 'stage', 'agents')
        if cv[1] ~= st or not has(split(cv[2]), a) then
          bad[#bad + 1] = 'agent ' .. a .. ' ' .. st .. ' with call ' .. c .. ' in ' .. tostring(cv[1])
        end
      end
    elseif st == 'consult' then
      local cv = redis.call('HMGET', ckey(c or ''), 'stage', 'consult')
      if cv[1] ~= 'oncall' or cv[2] ~= a then
        bad[#bad + 1] = 'agent ' .. a .. ' consulting on call ' .. tostring(c) .. ' in ' .. tostring(cv[1]) .. ' which consults ' .. tostring(cv[2])
      end
    elseif c and c ~= '' then
      bad[#bad + 1] = 'agent ' .. a .. ' ' .. st .. ' still holds call ' .. c
    end
  end
  for _, c in ipairs(redis.call('SMEMBERS', P .. 'calls')) do
    local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'consult')
    if v[4] and v[4] ~= '' then
      local bv = redis.call('HMGET', akey(v[4]), 'state', 'call')
      if v[1] ~= 'oncall' or bv[1] ~= 'consult' or bv[2] ~= c or v[4] == v[2] then
        bad[#bad + 1] = 'call ' .. c .. ' ' .. tostring(v[1]) .. ' consults ' .. v[4] .. ' who is ' .. tostring(bv[1]) .. ' with ' .. tostring(bv[2])
      end
    end
    local inWait = redis.call('ZSCORE', P .. 'wait:' .. v[3], c)
    inWait = inWait ~= false and inWait ~= nil
    if (v[1] == 'waiting') ~= inWait then bad[#bad + 1] = 'call ' .. c .. ' ' .. tostring(v[1]) .. ' queued mismatch' end
    local agents = split(v[2])
    if v[1] == 'waiting' and #agents > 0 then bad[#bad + 1] = 'waiting call ' .. c .. ' has agents' end
    local inDeferred = redis.call('ZSCORE', P .. 'deferred', c)
    inDeferred = inDeferred ~= false and inDeferred ~= nil
    if (v[1] == 'deferred') ~= inDeferred then bad[#bad + 1] = 'call ' .. c .. ' ' .. tostring(v[1]) .. ' deferred mismatch' end
    if (v[1] == 'deferred' or v[1] == 'parked') and #agents > 0 then bad[#bad + 1] = tostring(v[1]) .. ' call ' .. c .. ' has agents' end
    local o = redis.call('HGET', ckey(c), 'owner')
    if redis.call('SISMEMBER', owned(o), c) == 0 then bad[#bad + 1] = 'call ' .. c .. ' not in the calls of its owner ' .. tostring(o) end
    if v[1] == 'oncall' and #agents ~= 1 then bad[#bad + 1] = 'call ' .. c .. ' on call with ' .. #agents .. ' agents' end
    for _, a in ipairs(agents) do
      local av = redis.call('HMGET', akey(a), 'call')
      if av[1] ~= c then bad[#bad + 1] = 'call ' .. c .. ' names agent ' .. a .. ' who holds ' .. tostring(av[1]) end
    end
  end
  for _, q in ipairs({...}) do
    local h = redis.call('ZRANGE', P .. 'wait:' .. q, 0, 0, 'WITHSCORES')
    local hs = redis.call('ZSCORE', P .. 'heads', q)
    if (h[2] or false) ~= (hs or false) and tonumber(h[2] or 'nan') ~= tonumber(hs or 'nan') then
      bad[#bad + 1] = 'queue ' .. q .. ' head ' .. tostring(h[2]) .. ' but heads says ' .. tostring(hs)
    end
    for _, c in ipairs(redis.call('ZRANGE', P .. 'wait:' .. q, 0, -1)) do
      if redis.call('SISMEMBER', P .. 'calls', c) == 0 then bad[#bad + 1] = 'queue ' .. q .. ' holds dead call ' .. c end
    end
  end
  return bad
end

-- reconcile owner grace dry [call ringing talking]... → {{kind, call, agent}...}: frees what is stuck
-- against what the owner's controller holds live (each live call with the agents its page rings for
-- and the agent talking on it). Only states older than grace ms are judged, so an offer on its way to
-- the controller is not taken for a lost one. dry '1' reports without changing anything (Verify).
-- owner '' judges no calls (the controller cannot tell what it holds now), only agents the ACD holds
-- for a call it no longer has.
function ops.reconcile(owner, grace, dry, ...)
  grace = tonumber(grace) or 0
  dry = dry == '1'
  local args = {...}
  local live = {}
  for i = 1, #args - 2, 3 do live[args[i]] = {ring = split(args[i + 1]), talk = args[i + 2]} end
  local out = {}
  local function fixed(kind, c, a) out[#out + 1] = {kind, c or '', a or ''} end
  -- free_ringing makes agents that ring for c for nothing available again (keeping their idle time,
  -- as an offer that never connected does) and puts c back at the head of its queue once nobody rings.
  local function free_ringing(c, q, all, lost)
    local rest = {}
    for _, a in ipairs(all) do
      if has(lost, a) then
        local st = agent_state(a)
        if st[1] == 'ringing' and st[2] == c then set_available(a, tonumber(st[4]) or now) end
        ev(c, q, a, 'RECONCILE', 'ring_lost')
      else
        rest[#rest + 1] = a
      end
    end
    if #rest == 0 then requeue(c, q) else redis.call('HSET', ckey(c), 'agents', table.concat(rest, ' ')) end
  end
  if owner ~= '' then
    for _, c in ipairs(redis.call('SMEMBERS', owned(owner))) do
      local v = redis.call('HMGET', ckey(c), 'stage', 'agents', 'queue', 'callback', 'enq', 'rung', 'answered')
      local st, l, agents = v[1], live[c], split(v[2])
      local since = tonumber(v[5])
      if st == 'ringing' then since = tonumber(v[6]) elseif st == 'oncall' then since = tonumber(v[7]) end
      if st and now - (since or now) >= grace then
        if not l then
          -- The controller holds no such call: its channel is gone (the caller hung up and the end
          -- was never recorded). A callback has no channel while it waits: it is only lost if ringing.
          if st == 'ringing' and (v[4] or '') ~= '' then
            for _, a in ipairs(agents) do fixed('ring_lost', c, a) end
            if not dry then free_ringing(c, v[3], agents, agents) end
          elseif st == 'ringing' or (st == 'waiting' and (v[4] or '') == '') then
            fixed('call_gone', c, v[2])
            if not dry then ops.leave(c, 'EXIT', 'channel gone') end
          elseif st == 'oncall' then
            fixed('call_gone', c, v[2])
            if not dry then ops.finish(c, agents[1]) end
          end
        elseif st == 'ringing' then
          local lost, answered = {}, nil
          for _, a in ipairs(agents) do
            if l.talk == a then answered = a
            elseif not has(l.ring, a) then lost[#lost + 1] = a end
          end
          if answered then
            -- Connected on the controller, never recorded (Accept failed): record it now.
            fixed('answer_lost', c, answered)
            if not dry then ops.accept(c, answered) end
          elseif #lost > 0 then
            -- Ringing in Redis, not on the agent's page (RingNoAnswer failed, or the offer was lost).
            for _, a in ipairs(lost) do fixed('ring_lost', c, a) end
            if not dry then free_ringing(c, v[3], agents, lost) end
          end
        end
      end
    end
  end
  for _, a in ipairs(redis.call('SMEMBERS', P .. 'agents')) do
    local v = redis.call('HMGET', akey(a), 'state', 'call', 'since')
    if (v[1] == 'ringing' or v[1] == 'oncall' or v[1] == 'consult') and now - (tonumber(v[3]) or now) >= grace then
      local cv = redis.call('HMGET', ckey(v[2] or ''), 'stage', 'agents', 'consult')
      local held
      if v[1] == 'consult' then held = cv[1] == 'oncall' and cv[3] == a
      else held = cv[1] == v[1] and has(split(cv[2]), a) end
      if not held then
        fixed('agent_orphaned', v[2], a)
        if not dry then
          set_available(a, now)
          ev(v[2] or '', '', a, 'RECONCILE', 'agent_orphaned')
        end
      end
    end
  end
  return out
end

local f = ops[op]
if not f then return fail('ACD_BAD_REQUEST', 'unknown op ' .. tostring(op)) end
return f(unpack(ARGV, 4))
