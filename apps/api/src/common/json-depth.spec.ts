import { forbiddenKeyPath, jsonDepth } from './json-depth.js';

describe('jsonDepth', () => {
  it('counts object and array nesting', () => {
    expect(jsonDepth(1, 10)).toBe(0);
    expect(jsonDepth({}, 10)).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] }, 10)).toBe(3);
  });

  it('stops early on very deep input without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(jsonDepth(v, 16)).toBe(17);
  });
});

describe('forbiddenKeyPath', () => {
  it('finds "__proto__" and "constructor" keys at any depth, and only keys', () => {
    expect(forbiddenKeyPath(JSON.parse('{"a":[{"__proto__":{}}]}'))).toBe('a[0].__proto__');
    expect(forbiddenKeyPath({ base: { constructor: 1 } })).toBe('base.constructor');
    expect(forbiddenKeyPath({ name: '__proto__', list: ['constructor'] })).toBeUndefined();
  });
});
