/**
 * Receivers built with the real frameworks, one per adapter, each serving the same routes on
 * 127.0.0.1 port 0. A route verifies with its options, records what its handler got, answers 204.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import type { AdapterOptions, VerifiedDelivery } from '../../src/sdk/delivery.js';
import { deliveryOf as expressDelivery, webhookMiddleware } from '../../src/sdk/adapters/express.js';
import { deliveryOf as fastifyDelivery, webhookPlugin } from '../../src/sdk/adapters/fastify.js';
import { failureResponse, verifyRequest, withVerifiedWebhook } from '../../src/sdk/adapters/fetch.js';
import { sendFailure, verifyNodeRequest } from '../../src/sdk/adapters/node-http.js';

/** One webhook route. */
export interface Route {
  /** Path, e.g. /standard. */
  path: string;
  /** How the route verifies. */
  options: AdapterOptions;
}

/** What a handler received after verification. */
export interface Received {
  /** The route. */
  path: string;
  /** The verified delivery. */
  delivery: VerifiedDelivery;
  /** What the framework's own body field held in the handler (req.body, request.body), if it has one. */
  frameworkBody?: unknown;
  /** Anything else the route checked. */
  extra?: unknown;
}

/** A running receiver. */
export interface Server {
  /** http://127.0.0.1:port */
  url: string;
  close(): Promise<void>;
}

/** An adapter's receiver. Every harness also serves the routes of its own special cases (see each). */
export interface Harness {
  name: string;
  start(routes: Route[], sink: Received[]): Promise<Server>;
}

const strip = ({ ok: _ok, ...d }: { ok: true } & VerifiedDelivery): VerifiedDelivery => d;

function closeNode(server: http.Server): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections();
    });
}

function listening(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/**
 * Express. Extra routes: `/json-first` (express.json() runs before the middleware: the raw bytes are
 * gone) and `/raw-first` (express.raw() runs first: its Buffer is used), both with the first route's options.
 */
export const expressHarness: Harness = {
  name: 'express',
  async start(routes, sink) {
    const app = express();
    const record = (path: string) => (req: express.Request, res: express.Response) => {
      sink.push({ path, delivery: expressDelivery(req), frameworkBody: req.body });
      res.sendStatus(204);
    };
    const first = routes[0]!.options;
    app.post('/json-first', express.json(), webhookMiddleware(first), record('/json-first'));
    app.post('/raw-first', express.raw({ type: '*/*' }), webhookMiddleware(first), record('/raw-first'));
    for (const r of routes) app.post(r.path, webhookMiddleware(r.options), record(r.path));
    app.use(express.json());
    app.post('/echo', (req, res) => void res.json(req.body));
    const server = http.createServer(app);
    return { url: await listening(server), close: closeNode(server) };
  },
};

/**
 * Fastify. Each route is registered in its own scope with the plugin; `/echo` outside any scope keeps
 * Fastify's JSON parser. The first route declares a body schema, validated against the parsed payload.
 */
export const fastifyHarness: Harness = {
  name: 'fastify',
  async start(routes, sink) {
    const app = Fastify();
    for (const [i, r] of routes.entries()) {
      app.register(async (scope) => {
        await scope.register(webhookPlugin, r.options);
        const schema = i === 0 ? { body: { type: 'object', required: ['order'] } } : {};
        scope.post(r.path, { schema }, async (request, reply) => {
          sink.push({ path: r.path, delivery: fastifyDelivery(request), frameworkBody: request.body });
          return reply.code(204).send();
        });
      });
    }
    app.post('/echo', async (request) => request.body);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

/**
 * Hono on @hono/node-server, with the fetch adapter on `c.req.raw`. Extra routes, with the first
 * route's options: `/next` (a Next.js-style `POST = withVerifiedWebhook(...)` handler), `/keep-body`
 * (keepBody: the handler reads the body again), `/read-first` (the handler reads the body before verifying).
 */
export const fetchHarness: Harness = {
  name: 'fetch (hono)',
  async start(routes, sink) {
    const app = new Hono();
    for (const r of routes) {
      app.post(r.path, async (c) => {
        const v = await verifyRequest(c.req.raw, r.options);
        if (!v.ok) return failureResponse(v);
        sink.push({ path: r.path, delivery: strip(v) });
        return c.body(null, 204);
      });
    }
    const first = routes[0]!.options;
    const POST = withVerifiedWebhook(first, async (delivery) => {
      sink.push({ path: '/next', delivery });
      return new Response(null, { status: 204 });
    });
    app.post('/next', (c) => POST(c.req.raw));
    app.post('/keep-body', async (c) => {
      const v = await verifyRequest(c.req.raw, { ...first, keepBody: true });
      if (!v.ok) return failureResponse(v);
      sink.push({ path: '/keep-body', delivery: strip(v), extra: await c.req.raw.text() });
      return c.body(null, 204);
    });
    app.post('/read-first', async (c) => {
      await c.req.raw.text();
      const v = await verifyRequest(c.req.raw, first);
      return v.ok ? c.body(null, 204) : failureResponse(v);
    });
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        resolve({ url: `http://127.0.0.1:${info.port}`, close: closeNode(server as http.Server) });
      }) as http.Server;
    });
  },
};

/** node:http. Extra route `/read-first`: the handler drains the request before verifying. */
export const nodeHarness: Harness = {
  name: 'node:http',
  async start(routes, sink) {
    const server = http.createServer((req, res) => {
      void (async () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path === '/read-first') {
          for await (const _ of req);
          const v = await verifyNodeRequest(req, routes[0]!.options);
          return v.ok ? void res.writeHead(204).end() : sendFailure(res, v);
        }
        const route = routes.find((r) => r.path === path);
        if (!route) return void res.writeHead(404).end();
        const v = await verifyNodeRequest(req, route.options);
        if (!v.ok) return sendFailure(res, v);
        sink.push({ path, delivery: strip(v) });
        res.writeHead(204).end();
      })().catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    return { url: await listening(server), close: closeNode(server) };
  },
};

export const HARNESSES: Harness[] = [expressHarness, fastifyHarness, fetchHarness, nodeHarness];
