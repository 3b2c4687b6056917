-- pushlab's history read: a topic's last id, its epoch and the entries after a cursor, in
-- one atomic step. Read beside src/redis/script.rs.
--
-- KEYS[1]  {topic}:meta    hash: `id` the topic's last id, `epoch` the topic's epoch
-- KEYS[2]  {topic}:stream  stream: entry `<id>-0` holds `d` (data) and `t` (time)
-- ARGV[1]  after           the cursor: entries with a greater id are returned
-- ARGV[2]  count           most entries returned
-- ARGV[3]  epoch           a fresh epoch, kept only if the topic has none yet
--
-- Returns {last_id, epoch, entries}, entries as XRANGE gives them:
-- {{'<id>-0', {'d', data, 't', time}}, ...}. A topic never published to has last_id 0,
-- and already its epoch, so the first publish does not look like a lost history.
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[3])
local meta = redis.call('HMGET', KEYS[1], 'id', 'epoch')
local last = tonumber(meta[1]) or 0
local entries = {}
if tonumber(ARGV[1]) < last and tonumber(ARGV[2]) > 0 then
  -- '(' makes the start exclusive (Redis 6.2 and later).
  entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
return {last, meta[2], entries}
