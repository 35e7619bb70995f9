// Fleet-wide histograms of finished epochs (duration, train images/s) by backend and strategy, kept
// in one Redis hash. Workers add each stored epoch; the API reads the hash at scrape time and serves
// it on /metrics, so one scrape target gives the fleet's throughput however many workers there are
// and wherever they run, it survives API restarts, and every API replica reports the same totals.
// One hash (not one key per series) so a write is atomic and Redis Cluster keeps it in one slot.
import type { RedisConnection } from './redis-connection.js';

/** Upper bounds (le) of fleet_epoch_duration_seconds: ~1 s epochs of tiny test runs to a 224 px CPU epoch (~26 s) and beyond. */
export const EPOCH_SECONDS_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

/** Upper bounds (le) of fleet_epoch_images_per_second (train images per second of the epoch's train phase). */
export const IMAGES_PER_SECOND_BUCKETS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] as const;

export type EpochHistogramName = 'duration' | 'images';

const BUCKETS: Record<EpochHistogramName, readonly number[]> = { duration: EPOCH_SECONDS_BUCKETS, images: IMAGES_PER_SECOND_BUCKETS };

/** The hash holding every series. */
export function epochStatsKey(prefix: string): string {
  return `${prefix}:metrics:epochs`;
}

export interface EpochObservation {
  backend: string;
  strategy: string;
  /** Wall time of the whole epoch (train + val). */
  seconds: number;
  imagesPerSec: number;
}

/** One series as the API exposes it: cumulative bucket counts in `le` order (the last is +Inf). */
export interface EpochHistogramSeries {
  histogram: EpochHistogramName;
  backend: string;
  strategy: string;
  /** Upper bounds, ending with Infinity. */
  le: number[];
  /** Cumulative counts, one per `le`. */
  cumulative: number[];
  count: number;
  sum: number;
}

// Field layout: "<histogram>|<backend>|<strategy>|<part>", part = bucket index, "count" or "sum".
// Backend and strategy names come from fixed lists without "|".
const SEP = '|';

function field(histogram: EpochHistogramName, o: EpochObservation, part: string): string {
  return [histogram, o.backend, o.strategy, part].join(SEP);
}

/** Index of the first bucket whose bound holds the value; bounds.length is the +Inf bucket. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  const i = bounds.findIndex((le) => value <= le);
  return i < 0 ? bounds.length : i;
}

/** Adds one epoch to both histograms in one MULTI (a scrape never sees a count without its bucket). */
export async function recordEpochStats(redis: RedisConnection, prefix: string, o: EpochObservation): Promise<void> {
  if (o.backend.includes(SEP) || o.strategy.includes(SEP)) throw new Error(`epoch stats: "${SEP}" in backend or strategy name`);
  const key = epochStatsKey(prefix);
  const multi = redis.multi();
  for (const [histogram, value] of [['duration', o.seconds], ['images', o.imagesPerSec]] as const) {
    if (!Number.isFinite(value) || value < 0) continue;
    multi.hincrby(key, field(histogram, o, String(bucketIndex(BUCKETS[histogram], value))), 1);
    multi.hincrby(key, field(histogram, o, 'count'), 1);
    multi.hincrbyfloat(key, field(histogram, o, 'sum'), value);
  }
  await multi.exec();
}

/** Turns the hash (HGETALL) into series; unknown fields are ignored. */
export function parseEpochStats(hash: Record<string, string>): EpochHistogramSeries[] {
  const series = new Map<string, EpochHistogramSeries & { perBucket: number[] }>();
  for (const [name, raw] of Object.entries(hash)) {
    const parts = name.split(SEP);
    if (parts.length !== 4) continue;
    const [histogram, backend, strategy, part] = parts as [string, string, string, string];
    if (histogram !== 'duration' && histogram !== 'images') continue;
    const bounds = BUCKETS[histogram];
    const id = [histogram, backend, strategy].join(SEP);
    let s = series.get(id);
    if (!s) {
      s = { histogram, backend, strategy, le: [...bounds, Infinity], cumulative: [], perBucket: new Array<number>(bounds.length + 1).fill(0), count: 0, sum: 0 };
      series.set(id, s);
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    if (part === 'count') s.count = value;
    else if (part === 'sum') s.sum = value;
    else if (/^\d+$/.test(part) && Number(part) <= bounds.length) s.perBucket[Number(part)] = value;
  }
  return [...series.values()].map(({ perBucket, ...s }) => {
    let running = 0;
    return { ...s, cumulative: perBucket.map((n) => (running += n)) };
  });
}
