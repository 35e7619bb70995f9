// Times chosen async methods of an object without touching its class: a Proxy whose listed methods
// report their duration (also when they throw) under a name. Used by the simulated worker of
// bench:fleet to split an epoch report into its Postgres and Redis parts.
import { performance } from 'node:perf_hooks';

export type RecordTiming = (name: string, ms: number) => void;

/** `target` with the methods named in `names` timed; every other member is passed through. */
export function timed<T extends object>(target: T, names: Partial<Record<keyof T & string, string>>, record: RecordTiming): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      const name = typeof prop === 'string' ? (names as Record<string, string | undefined>)[prop] : undefined;
      if (name === undefined) return fn.bind(obj);
      return async (...args: unknown[]): Promise<unknown> => {
        const started = performance.now();
        try {
          return await fn.apply(obj, args);
        } finally {
          record(name, performance.now() - started);
        }
      };
    },
  });
}
