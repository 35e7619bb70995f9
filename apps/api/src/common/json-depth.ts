// body-parser has no nesting limit; deeply nested JSON (within the size limit) would make
// class-transformer and class-validator recurse until the stack overflows. Checked iteratively.
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

/** Express middleware, placed right after the JSON body parser. */
export function rejectDeepJson(limit: number) {
  return (req: { body?: unknown }, _res: unknown, next: (err?: unknown) => void): void => {
    if (req.body !== undefined && jsonDepth(req.body, limit) > limit) {
      next(new BadRequestException({ message: `body is nested deeper than ${limit} levels`, field: 'body' }));
      return;
    }
    next();
  };
}
