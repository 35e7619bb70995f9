import { PickleError, PyDict, PyTuple, unpickle } from './unpickler.js';

const b = (...parts: (number | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : Array.from(Buffer.from(p, 'latin1')))));

it('reads scalars: ints of every width, longs, floats, strings, bools and None', () => {
  const pickle = b(0x80, 2, '(', 'J', 0xfe, 0xff, 0xff, 0xff, 'K', 200, 'M', 0x34, 0x12, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 'X', 2, 0, 0, 0, 0xc3, 0xa9, 'U', 2, 'ab', 0x88, 0x89, 'N', 't', '.');
  const { value, end } = unpickle(pickle);
  expect(end).toBe(pickle.length);
  expect((value as PyTuple).items).toEqual([-2, 200, 0x1234, 1n << 64n, 1.5, 'é', 'ab', true, false, null]);
});

it('builds dicts, lists and memo references', () => {
  // {'a': [1, 2], 'b': <same list>}
  const pickle = b(0x80, 2, '}', 'q', 0, '(', 'X', 1, 0, 0, 0, 'a', ']', 'q', 1, '(', 'K', 1, 'K', 2, 'e', 'X', 1, 0, 0, 0, 'b', 'h', 1, 'u', '.');
  const dict = unpickle(pickle).value as PyDict;
  expect(dict.entries.get('a')).toEqual([1, 2]);
  expect(dict.entries.get('b')).toBe(dict.entries.get('a'));
});

it("reads Python 2.7's OrderedDict([[k, v], ...]) form", () => {
  const pickle = b(0x80, 2, 'c', 'collections\nOrderedDict\n', ']', '(', ']', '(', 'U', 1, 'x', 'K', 7, 'e', 'e', 0x85, 'R', '.');
  const dict = unpickle(pickle).value as PyDict;
  expect(dict.ordered).toBe(true);
  expect([...dict.entries]).toEqual([['x', 7]]);
});

it('refuses non-allow-listed globals before any REDUCE', () => {
  expect(() => unpickle(b(0x80, 2, 'c', 'builtins\ngetattr\n', ')', 'R', '.'))).toThrow(/refusing global builtins\.getattr/);
  expect(() => unpickle(b(0x80, 2, 'c', 'torch._utils\n_rebuild_tensor_v3\n', '.'))).toThrow(PickleError);
});

it('reports truncation, stack underflow and unknown memo keys', () => {
  expect(() => unpickle(b(0x80, 2, 'X', 10, 0, 0, 0, 'ab'))).toThrow(/truncated/);
  expect(() => unpickle(b(0x80, 2, 's', '.'))).toThrow(/stack underflow/);
  expect(() => unpickle(b(0x80, 2, 'h', 3, '.'))).toThrow(/memo key 3/);
  expect(() => unpickle(b(0x80, 2, 'K', 1))).toThrow(/truncated/);
});
