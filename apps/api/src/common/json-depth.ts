// Checks on every parsed JSON body before Nest sees it. body-parser has no nesting limit, and deeply
// nested JSON (within the size limit) would make class-transformer and class-validator recurse
// until the stack overflows: depth is checked iteratively. Keys "__proto__" and "constructor" are
// refused outright: class-transformer drops them and class-validator's whitelist misses them, so
// they would otherwise be silently ignored instead of reported as unknown fields.
import { BadRequestException } from '@nestjs/common';

/** Depth of a parsed JSON value (a scalar is 0, {} or [] is 1), stopping once past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    const d = depth + 1;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, d]);
  }
  return max;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Dotted path of the first forbidden key in a parsed JSON value, if any. */
export function forbiddenKeyPath(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, at] = stack.pop() as [unknown, string];
    if (typeof node !== 'object' || node === null) continue;
    for (const [key, child] of Object.entries(node)) {
      const here = Array.isArray(node) ? `${at}[${key}]` : at ? `${at}.${key}` : key;
      if (!Array.isArray(node) && FORBIDDEN_KEYS.has(key)) return here;
      stack.push([child, here]);
    }
  }
  return undefined;
}

/** Express middleware, placed right after the JSON body parser (the depth check runs first, so the key walk is bounded). */
export function checkJsonBody(limit: number) {
  return (req: { body?: unknown }, _res: unknown, next: (err?: unknown) => void): void => {
    if (req.body === undefined) return next();
    if (jsonDepth(req.body, limit) > limit) return next(new BadRequestException({ message: `body is nested deeper than ${limit} levels`, field: 'body' }));
    const forbidden = forbiddenKeyPath(req.body);
    if (forbidden !== undefined) return next(new BadRequestException({ message: `property ${forbidden} should not exist`, field: forbidden }));
    next();
  };
}
