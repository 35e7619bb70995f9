// Wakes several idle BullMQ workers at once when many jobs land together (a sweep).
//
// Why: an idle BullMQ worker blocks in BZPOPMIN on the queue's marker sorted set. Adding jobs puts
// ONE member ("0") there, so one worker wakes; its moveToActive puts "0" back while jobs remain,
// which wakes the next, and so on. A sweep landing on N idle workers therefore starts them one after
// another, each hop a Redis round trip plus a turn of that worker's event loop: bench:fleet measured
// the 200th worker starting 1.1 s after the sweep. Redis hands one member to each blocked client, so
// adding k distinct members wakes k workers together.
//
// BullMQ reads only a marker's score (0 = "a job is ready now"), never its member, and pops it
// once; a woken worker that finds no job simply blocks again. The members here are a fixed set
// (wake:1 .. wake:k), so markers nobody consumed are overwritten, not piled up: the set never holds
// more than MAX_WAKE of them. Like BullMQ's own addBaseMarkerIfNeeded, nothing is added while the
// queue is paused or at its global concurrency.
import type { KeysMap } from 'bullmq';
import type { RedisConnection } from './redis-connection.js';

/** The most workers one call wakes (Lua unpack stays far below its stack limit). */
export const MAX_WAKE = 1000;

// KEYS: meta, active, marker. ARGV: count. Returns the number of markers added.
const WAKE_SCRIPT = `
local attrs = redis.call("HMGET", KEYS[1], "paused", "concurrency")
if attrs[1] then return 0 end
if attrs[2] and redis.call("LLEN", KEYS[2]) >= tonumber(attrs[2]) then return 0 end
local n = tonumber(ARGV[1])
local args = {}
for i = 1, n do
  args[#args + 1] = 0
  args[#args + 1] = "wake:" .. i
end
redis.call("ZADD", KEYS[3], unpack(args))
return n
`;

/**
 * Adds min(count, MAX_WAKE) ready-now markers to the queue, waking that many blocked workers at
 * once. Returns how many were added (0 for count < 1, a paused or maxed queue).
 */
export async function wakeIdleWorkers(redis: RedisConnection, queueKeys: KeysMap, count: number): Promise<number> {
  const n = Math.min(Math.floor(count), MAX_WAKE);
  if (!(n >= 1)) return 0;
  const keys = (['meta', 'active', 'marker'] as const).map((name) => {
    const key = queueKeys[name];
    if (!key) throw new Error(`BullMQ queue keys have no "${name}" key`);
    return key;
  });
  const added = await redis.eval(WAKE_SCRIPT, 3, ...keys, n);
  return Number(added);
}
