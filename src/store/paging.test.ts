import { describe, expect, it } from 'vitest';
import { keyset, toPage } from './paging.js';

describe('keyset', () => {
  it('walks forward in ascending order by default', () => {
    expect(keyset('id', { limit: 2 }, 2)).toEqual({ where: 'true', orderBy: 'id asc', cursor: null, backwards: false });
    expect(keyset('id', { limit: 2, iterator: 'b' }, 2)).toEqual({ where: 'id > $2', orderBy: 'id asc', cursor: 'b', backwards: false });
  });

  it('refuses a cursor no key can hold (NUL, control characters, lone surrogates) as a validation error, and treats "" as none', () => {
    for (const bad of ['a\u0000b', '\u0001', 'x\u007f', '\ud800', 'a\udc00', '-\u0000']) {
      expect(() => keyset('id', { limit: 2, iterator: bad }, 2)).toThrow(expect.objectContaining({ code: 'validation' }));
    }
    expect(keyset('name', { limit: 2, iterator: 'caf\u00e9.\ud83d\ude00' }, 2).cursor).toBe('caf\u00e9.\ud83d\ude00');
    expect(keyset('id', { limit: 2, iterator: '' }, 2).cursor).toBeNull();
  });

  it('walks backward for a "-" iterator, and mirrors both for descending order', () => {
    expect(keyset('id', { limit: 2, iterator: '-b' }, 3)).toMatchObject({ where: 'id < $3', orderBy: 'id desc', cursor: 'b', backwards: true });
    expect(keyset('id', { limit: 2, iterator: 'b', order: 'descending' }, 1)).toMatchObject({ where: 'id < $1', orderBy: 'id desc' });
    expect(keyset('id', { limit: 2, iterator: '-b', order: 'descending' }, 1)).toMatchObject({ where: 'id > $1', orderBy: 'id asc' });
  });
});

describe('toPage', () => {
  const id = (r: string) => r;
  it('uses the extra row only to tell whether more follow', () => {
    const ks = keyset('id', { limit: 2 }, 1);
    expect(toPage(['a', 'b', 'c'], ks, 2, id, id)).toEqual({ data: ['a', 'b'], iterator: 'b', prevIterator: '-a', done: false });
    expect(toPage(['a'], ks, 2, id, id)).toEqual({ data: ['a'], iterator: 'a', prevIterator: '-a', done: true });
    expect(toPage([], ks, 2, id, id)).toEqual({ data: [], iterator: null, prevIterator: null, done: true });
  });

  it('puts a backward page back in the requested order', () => {
    const ks = keyset('id', { limit: 2, iterator: '-d' }, 1);
    // Scanned descending from d: c, b, (a = more)
    expect(toPage(['c', 'b', 'a'], ks, 2, id, id)).toEqual({ data: ['b', 'c'], iterator: 'c', prevIterator: '-b', done: false });
  });
});
