import { describe, expect, it } from 'vitest';
import { compileLatestSchema, latestSchemaVersion, schemaProblems, SCHEMA_DIALECT } from './json-schema.js';

const order = {
  type: 'object',
  required: ['id', 'total_pence'],
  properties: {
    id: { type: 'string' },
    total_pence: { type: 'integer', minimum: 0 },
    email: { type: 'string', format: 'email' },
    status: { enum: ['paid', 'refunded'] },
    items: { type: 'array', items: { $ref: '#/$defs/Item' } },
    'customer.name': { type: 'string' },
  },
  $defs: { Item: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } }, additionalProperties: false } },
};

describe('latestSchemaVersion', () => {
  it('is the highest numbered version; other keys do not count', () => {
    expect(latestSchemaVersion(null)).toBeNull();
    expect(latestSchemaVersion({})).toBeNull();
    expect(latestSchemaVersion({ '1': {}, '10': {}, '2': {} })).toBe('10');
    expect(latestSchemaVersion({ v3: {}, '2': {} })).toBe('2');
    expect(latestSchemaVersion({ v3: {} })).toBeNull();
  });
});

describe('schemaProblems', () => {
  it('accepts draft 2020-12 schemas, with or without $schema, boolean schemas and annotations it does not know', () => {
    expect(schemaProblems({ '1': order })).toEqual([]);
    expect(schemaProblems({ '1': { $schema: SCHEMA_DIALECT, type: 'object' }, '2': true })).toEqual([]);
    expect(schemaProblems({ '1': { type: 'object', example: { a: 1 }, 'x-internal': true } })).toEqual([]);
  });

  it('names the bad value inside the schema', () => {
    expect(schemaProblems({ '1': { type: 'object', properties: { total: { type: 'integr' } } } })).toContainEqual({
      path: 'schemas.1.properties.total.type',
      segments: ['schemas', '1', 'properties', 'total', 'type'],
      message: expect.stringContaining('must be equal to one of the allowed values'),
    });
    expect(schemaProblems({ '1': { type: 'object', required: 'id' } }).map((f) => f.path)).toContain('schemas.1.required');
    expect(schemaProblems({ '1': { minimum: 'one' } }).map((f) => f.path)).toEqual(['schemas.1.minimum']);
  });

  it('refuses unresolvable references, bad patterns, other drafts, non-schemas and bad version keys', () => {
    const [ref] = schemaProblems({ '1': { $ref: '#/$defs/Missing' } });
    expect(ref).toMatchObject({ path: 'schemas.1', message: expect.stringMatching(/cannot be compiled: .*Missing/) });
    expect(schemaProblems({ '1': { type: 'string', pattern: '([a-z' } })[0]!.path).toMatch(/^schemas\.1/);
    expect(schemaProblems({ '1': { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' } })).toEqual([
      { path: 'schemas.1.$schema', segments: ['schemas', '1', '$schema'], message: expect.stringContaining('draft 2020-12') },
    ]);
    expect(schemaProblems({ '1': 'object' })[0]!.message).toMatch(/must be a JSON Schema/);
    expect(schemaProblems({ '1': [] })[0]!.message).toMatch(/must be a JSON Schema/);
    expect(schemaProblems({ v1: {} })[0]).toMatchObject({ path: 'schemas.v1', message: expect.stringContaining('whole numbers') });
    expect(schemaProblems({ '0': {} })[0]!.path).toBe('schemas.0');
  });
});

describe('compileLatestSchema', () => {
  const compiled = compileLatestSchema({ '1': { type: 'object', required: ['old'] }, '2': order })!;

  it('compiles the newest version and accepts a payload that matches it', () => {
    expect(compiled.version).toBe('2');
    expect(compiled.validate({ id: 'o_1', total_pence: 1200, items: [{ sku: 'a' }], email: 'a@example.com', status: 'paid' })).toEqual([]);
    expect(compileLatestSchema(null)).toBeNull();
    expect(compileLatestSchema({ x: {} })).toBeNull();
  });

  it('names each failing path, with the property a required names', () => {
    expect(compiled.validate({ id: 'o_1' })).toEqual([
      { path: 'payload.total_pence', segments: ['payload', 'total_pence'], message: "is required (must have required property 'total_pence')" },
    ]);
    expect(compiled.validate({ id: 'o_1', total_pence: -1 })).toEqual([{ path: 'payload.total_pence', segments: ['payload', 'total_pence'], message: 'must be >= 0' }]);
    expect(compiled.validate({ id: 'o_1', total_pence: 1.5 })[0]!.message).toBe('must be integer');
  });

  it('indexes arrays as numbers, reports extra properties, enums with their values, formats, and keys with dots whole', () => {
    const problems = compiled.validate({ id: 7, total_pence: 1, items: [{ sku: 'a' }, { sku: 'b', qty: 2 }], email: 'nope', status: 'lost', 'customer.name': 3 });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'payload.id', segments: ['payload', 'id'], message: 'must be string' },
        { path: 'payload.items[1].qty', segments: ['payload', 'items', 1, 'qty'], message: expect.stringContaining('additionalProperties is false') },
        { path: 'payload.email', segments: ['payload', 'email'], message: 'must match format "email"' },
        { path: 'payload.status', segments: ['payload', 'status'], message: 'must be equal to one of the allowed values: "paid", "refunded"' },
        { path: 'payload.customer.name', segments: ['payload', 'customer.name'], message: 'must be string' },
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('keeps an object key that looks like an index a string, and reports at most 20 problems', () => {
    const c = compileLatestSchema({ '1': { type: 'object', additionalProperties: { type: 'string' } } })!;
    expect(c.validate({ '0': 1 })).toEqual([{ path: 'payload.0', segments: ['payload', '0'], message: 'must be string' }]);
    expect(c.validate(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])))).toHaveLength(20);
    const rooted = compileLatestSchema({ '1': { type: 'object', properties: { 'a/b~c': { type: 'string' } } } })!;
    expect(rooted.validate({ 'a/b~c': 1 })[0]!.segments).toEqual(['payload', 'a/b~c']);
  });

  it('throws for a schema that does not compile', () => {
    expect(() => compileLatestSchema({ '1': { $ref: '#/nowhere' } })).toThrow();
  });
});

describe('compiling many schemas', () => {
  it('lets schemas share an $id and keeps earlier validators working', () => {
    const a = compileLatestSchema({ '1': { $id: 'https://example.com/order', type: 'object', required: ['a'], properties: { a: { $ref: '#/$defs/S' } }, $defs: { S: { type: 'string' } } } })!;
    const b = compileLatestSchema({ '1': { $id: 'https://example.com/order', type: 'object', required: ['b'] } })!;
    expect(schemaProblems({ '1': { $id: 'https://example.com/order', type: 'object' } })).toEqual([]);
    expect(a.validate({ a: 'x' })).toEqual([]);
    expect(a.validate({ a: 1 })[0]!.path).toBe('payload.a');
    expect(b.validate({ a: 'x' })[0]!.path).toBe('payload.b');
  });
});
