-- pushlab's publish: one message numbered, stored and announced in one atomic step.
-- Read beside src/redis/script.rs, which sends it (EVALSHA, EVAL on NOSCRIPT).
--
-- KEYS[1]  {topic}:meta    hash: `id` the topic's last id, `epoch` the topic's epoch
-- KEYS[2]  {topic}:stream  stream: entry `<id>-0` holds `d` (data) and `t` (time)
-- ARGV[1]  data            the message, any bytes
-- ARGV[2]  time            publish time, Unix milliseconds, decimal
-- ARGV[3]  maxlen          entries the stream keeps (`--replay`)
-- ARGV[4]  epoch           a fresh epoch, kept only if the topic has none yet
-- ARGV[5]  channel         the Pub/Sub channel that announces the message
--
-- Announces `<epoch> <id> <time>\n<data>` on the channel and returns {id, epoch}.
local id = redis.call('HINCRBY', KEYS[1], 'id', 1)
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[4])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
-- Lua 5.1 numbers are doubles; '%d' writes every id below 2^53 exactly, never as 1e+15.
local sid = string.format('%d', id)
if id == 1 then
  -- The topic starts (over): entries left from an earlier life of it (its meta lost while
  -- the stream stayed, say by eviction) would hold ids the new ones reuse.
  redis.call('DEL', KEYS[2])
end
-- Exact trimming (MAXLEN without ~): the stream holds exactly the last `maxlen` entries.
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], sid .. '-0', 'd', ARGV[1], 't', ARGV[2])
redis.call('PUBLISH', ARGV[5], epoch .. ' ' .. sid .. ' ' .. ARGV[2] .. '\n' .. ARGV[1])
return {id, epoch}
