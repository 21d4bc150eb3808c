/**
 * The benchmark's receiver, in its own process so its CPU is not the sender's: answers 200 to every
 * POST and records publish-to-arrival latency from the `t` field (epoch ms, sub-ms precision) that
 * the benchmark puts in each payload. Talks to the parent over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const now = () => performance.timeOrigin + performance.now();
let latencies: number[] = [];
let count = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    count++;
    const arrived = now();
    const body = Buffer.concat(chunks).toString();
    const m = /"t":([\d.]+)/.exec(body);
    if (m) latencies.push(arrived - Number(m[1]));
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'reset') {
    latencies = [];
    count = 0;
    process.send!({ ok: true });
  } else if (msg.cmd === 'count') {
    process.send!({ count });
  } else if (msg.cmd === 'stats') {
    process.send!({ count, latencies });
  } else if (msg.cmd === 'exit') {
    server.close();
    process.exit(0);
  }
});
