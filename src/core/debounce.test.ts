import { describe, expect, it } from 'vitest';
import {
  consolidate,
  debounceKeysOf,
  debounceSettingsProblems,
  jsonEqual,
  mergePatch,
  parsePointer,
  resolvePointer,
  type DebounceSettings,
  type WindowContent,
} from './debounce.js';

const settings = (over: Partial<DebounceSettings> = {}): DebounceSettings => ({
  quietPeriodSeconds: 60,
  maxDelaySeconds: 600,
  groupBy: '/agencyId',
  entityKey: '/agentId',
  state: '/status',
  ...over,
});

describe('JSON pointers (RFC 6901)', () => {
  it('parses tokens with ~0 and ~1 unescaped, in that order', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a/b')).toEqual(['a', 'b']);
    expect(parsePointer('/a~1b/m~0n')).toEqual(['a/b', 'm~n']);
    expect(parsePointer('/~01')).toEqual(['~1']);
    expect(parsePointer('/')).toEqual(['']);
  });

  it('refuses what is not a pointer', () => {
    expect(parsePointer('a')).toBeNull();
    expect(parsePointer('/a~2')).toBeNull();
    expect(parsePointer('/a~')).toBeNull();
  });

  it('resolves object members and array indexes, and nothing else', () => {
    const doc = { a: { b: [10, 20] }, 'x/y': 1 };
    expect(resolvePointer(doc, ['a', 'b', '1'])).toBe(20);
    expect(resolvePointer(doc, ['x/y'])).toBe(1);
    expect(resolvePointer(doc, ['a', 'b', '01'])).toBeUndefined();
    expect(resolvePointer(doc, ['a', 'b', '-'])).toBeUndefined();
    expect(resolvePointer(doc, ['toString'])).toBeUndefined();
    expect(resolvePointer(doc, ['a', 'b', '0', 'c'])).toBeUndefined();
  });
});

describe('debounceSettingsProblems', () => {
  it('accepts good settings, and a missing group or state', () => {
    expect(debounceSettingsProblems(settings())).toEqual([]);
    expect(debounceSettingsProblems(settings({ groupBy: null, state: null }))).toEqual([]);
  });

  it('names each bad pointer and a cap below the quiet period', () => {
    const problems = debounceSettingsProblems(settings({ groupBy: 'agencyId', entityKey: '', state: '/a~x', maxDelaySeconds: 30 }));
    expect(problems.map((p) => p.path)).toEqual(['groupBy', 'entityKey', 'state', 'maxDelaySeconds']);
    expect(problems[0]!.message).toMatch(/JSON pointer \(RFC 6901\)/);
  });
});

describe('debounceKeysOf', () => {
  it('takes the group, the entity and a scalar state named by its last token', () => {
    expect(debounceKeysOf(settings(), { agencyId: 'ag_1', agentId: 7, status: 'compliant' })).toEqual({
      group: '"ag_1"',
      entity: '7',
      state: { status: 'compliant' },
    });
  });

  it('takes an object state as it is, the whole payload without a state pointer, one group without groupBy', () => {
    expect(debounceKeysOf(settings({ state: '/compliance' }), { agencyId: 1, agentId: 'a', compliance: { CA: 'ok' } })).toMatchObject({
      state: { CA: 'ok' },
    });
    expect(debounceKeysOf(settings({ groupBy: null, state: null }), { agentId: 'a', x: 1 })).toEqual({
      group: 'null',
      entity: '"a"',
      state: { agentId: 'a', x: 1 },
    });
  });

  it('says why a payload cannot be debounced', () => {
    expect(debounceKeysOf(settings(), { agentId: 1, status: 'x' })).toMatch(/payload\/agencyId must be a string or a number.*groupBy/);
    expect(debounceKeysOf(settings(), { agencyId: 1, agentId: { id: 1 }, status: 'x' })).toMatch(/payload\/agentId .*entityKey/);
    expect(debounceKeysOf(settings(), { agencyId: 1, agentId: 1 })).toMatch(/payload\/status is missing/);
  });

  it('keeps 1 and "1" apart', () => {
    const a = debounceKeysOf(settings(), { agencyId: 1, agentId: 1, status: 's' });
    const b = debounceKeysOf(settings(), { agencyId: 1, agentId: '1', status: 's' });
    expect(typeof a !== 'string' && typeof b !== 'string' && a.entity !== b.entity).toBe(true);
  });
});

describe('mergePatch (RFC 7396)', () => {
  it('is undefined for equal states, whatever the key order', () => {
    expect(mergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBeUndefined();
  });

  it('keeps only changed fields, recursing into objects, with removed fields as null', () => {
    const from = { status: 'pending', states: { CA: { life: 'ok', health: 'pending' }, NY: { life: 'ok' } }, old: 1, tags: [1] };
    const to = { status: 'pending', states: { CA: { life: 'ok', health: 'compliant' }, NY: { life: 'ok' } }, added: true, tags: [1, 2] };
    expect(mergePatch(from, to)).toEqual({ states: { CA: { health: 'compliant' } }, old: null, added: true, tags: [1, 2] });
  });

  it('replaces a value whose kind changed', () => {
    expect(mergePatch({ a: { b: 1 } }, { a: 'x' })).toEqual({ a: 'x' });
    expect(mergePatch({ a: 'x' }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(mergePatch({ a: null }, { a: 0 })).toEqual({ a: 0 });
  });
});

describe('jsonEqual', () => {
  it('compares deeply', () => {
    expect(jsonEqual([1, { a: null }], [1, { a: null }])).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
  });
});

describe('consolidate', () => {
  const window = (entities: WindowContent['entities']): WindowContent => ({
    eventType: 'agent.compliance.updated',
    group: '"ag_1"',
    entities,
    msgIds: ['msg_1', 'msg_2', 'msg_3'],
    openedAt: new Date('2026-01-01T00:00:00Z'),
    lastChangeAt: new Date('2026-01-01T00:00:20Z'),
  });
  const closedAt = new Date('2026-01-01T00:01:20Z');

  it('sends every entity in full the first time, in key order, with the window and what it consolidates', () => {
    const c = consolidate(window({ '"b"': { status: 'ok' }, '2': { status: 'x' }, '10': { status: 'y' }, '"a"': { status: 'z' } }), new Map(), closedAt);
    expect(c.payload).toEqual({
      type: 'agent.compliance.updated',
      group: 'ag_1',
      entities: [
        { key: 2, changes: { status: 'x' } },
        { key: 10, changes: { status: 'y' } },
        { key: 'a', changes: { status: 'z' } },
        { key: 'b', changes: { status: 'ok' } },
      ],
      consolidates: ['msg_1', 'msg_2', 'msg_3'],
      window: { openedAt: '2026-01-01T00:00:00.000Z', lastChangeAt: '2026-01-01T00:00:20.000Z', closedAt: '2026-01-01T00:01:20.000Z' },
    });
    expect(c.sent).toHaveLength(4);
  });

  it('leaves out unchanged fields and entities, and records only what it sends', () => {
    const last = new Map([
      ['"a"', { status: 'ok', score: 1 }],
      ['"b"', { status: 'ok', score: 1 }],
    ]);
    const c = consolidate(window({ '"a"': { status: 'ok', score: 2 }, '"b"': { score: 1, status: 'ok' } }), last, closedAt);
    expect(c.payload!.entities).toEqual([{ key: 'a', changes: { score: 2 } }]);
    expect(c.sent).toEqual([{ entity: '"a"', state: { status: 'ok', score: 2 } }]);
  });

  it('sends nothing when nothing changed', () => {
    const c = consolidate(window({ '"a"': { status: 'ok' } }), new Map([['"a"', { status: 'ok' }]]), closedAt);
    expect(c).toEqual({ payload: null, sent: [] });
  });

  it('gives a null group for a type without groupBy', () => {
    expect(consolidate({ ...window({ '"a"': { s: 1 } }), group: 'null' }, new Map(), closedAt).payload!.group).toBeNull();
  });
});
