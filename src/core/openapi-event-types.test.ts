import { describe, expect, it } from 'vitest';
import { eventTypesFromOpenApi } from './openapi-event-types.js';

const pet = {
  required: ['id', 'name'],
  properties: { id: { type: 'integer', format: 'int64' }, name: { type: 'string' }, owner: { $ref: '#/components/schemas/Owner' } },
};

describe('eventTypesFromOpenApi', () => {
  it('turns each webhook into an event type with its resolved JSON body schema', () => {
    const { types, problems } = eventTypesFromOpenApi({
      openapi: '3.1.0',
      webhooks: {
        'pet.new': {
          post: {
            summary: 'A new pet',
            description: 'Information about a new pet in the system',
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
            'x-svix-group-name': 'pet',
          },
        },
        'pet.gone': { post: { summary: 'A pet left', deprecated: true, requestBody: { $ref: '#/components/requestBodies/Gone' } } },
        'pet.poke': { put: {} },
      },
      components: {
        schemas: { Pet: pet, Owner: { type: 'object', properties: { email: { type: 'string', format: 'email' } } } },
        requestBodies: { Gone: { content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'integer' } } } } } } },
      },
    });
    expect(problems).toEqual([]);
    expect(types).toEqual([
      {
        name: 'pet.new',
        description: 'Information about a new pet in the system',
        schemas: {
          '1': {
            required: ['id', 'name'],
            properties: {
              id: { type: 'integer', format: 'int64' },
              name: { type: 'string' },
              owner: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
            },
          },
        },
        deprecated: false,
        groupName: 'pet',
        featureFlags: null,
      },
      {
        name: 'pet.gone',
        description: 'A pet left',
        schemas: { '1': { type: 'object', properties: { id: { type: 'integer' } } } },
        deprecated: true,
        groupName: null,
        featureFlags: null,
      },
      { name: 'pet.poke', description: '', schemas: null, deprecated: false, groupName: null, featureFlags: null },
    ]);
  });

  it('reads x-webhooks too, keeps sibling keys of a reference, and stores a recursive part as any value', () => {
    const { types, problems } = eventTypesFromOpenApi({
      'x-webhooks': {
        'node.created': {
          post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Node', description: 'A node' } } } } },
        },
      },
      components: { schemas: { Node: { type: 'object', properties: { child: { $ref: '#/components/schemas/Node' } } } } },
    });
    expect(problems).toEqual([]);
    expect(types[0]!.schemas).toEqual({
      '1': { type: 'object', description: 'A node', properties: { child: {} } },
    });
  });

  it('reports what stops an import: no webhooks, a bad name, no operation, a dangling reference', () => {
    expect(eventTypesFromOpenApi({ openapi: '3.1.0', paths: {} }).problems[0]!.message).toMatch(/has no webhooks/);
    expect(eventTypesFromOpenApi('nope').problems[0]!.message).toMatch(/must be an OpenAPI document/);
    const { problems } = eventTypesFromOpenApi({
      webhooks: {
        'bad name': { post: {} },
        'no.op': { parameters: [] },
        'dangling.ref': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Missing' } } } } } },
      },
    });
    expect(problems.map((p) => p.message)).toEqual([
      'webhook name "bad name" may only contain letters, digits, "-", "_" and "." (it becomes the event type name)',
      'has no operation (post, put, patch, get or delete)',
      '#/components/schemas/Missing does not point at anything in the document',
    ]);
  });
});
