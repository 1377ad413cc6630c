// src/slack/keepAliveFetch.ts: the fetch the WebClient uses. Everything the suite sends to the
// fake Slack already goes through it; this pins the edges the WebClient relies on: status,
// headers (Retry-After), body, keep-alive reuse, timeouts, redirects refused, other bodies
// handed to the global fetch.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepAliveFetch } from '../../src/slack/keepAliveFetch.js';

let server: http.Server;
const served = new WeakSet<object>();
let base: string;
const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string; port: number }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString(), port: req.socket.remotePort ?? 0 });
      if (req.url === '/slow') return; // never answers
      if (req.url === '/drop-reused' && served.has(req.socket)) {
        // A server that closed this idle keep-alive connection just as the client reused it.
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere' }).end();
        return;
      }
      if (req.url === '/limited') {
        res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"ok":false,"error":"ratelimited"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-slack-req-id': 'r1' }).end(JSON.stringify({ ok: true, echo: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('keepAliveFetch', () => {
  const f = keepAliveFetch();

  it('POSTs the body with its headers and answers status, headers and text like fetch', async () => {
    const res = await f(`${base}/api/chat.postMessage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer xoxb-1' }, body: 'channel=C1&text=h%C3%A9' });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Object.fromEntries(res.headers.entries())['x-slack-req-id']).toBe('r1');
    expect(JSON.parse(await res.text())).toEqual({ ok: true, echo: 'channel=C1&text=h%C3%A9' });
    const got = seen.at(-1);
    expect(got).toMatchObject({ method: 'POST', url: '/api/chat.postMessage', body: 'channel=C1&text=h%C3%A9' });
    expect(got?.headers['content-length']).toBe(String(Buffer.byteLength('channel=C1&text=h%C3%A9')));
    expect(got?.headers.authorization).toBe('Bearer xoxb-1');
  });

  it('reuses its connections (keep-alive): ten calls in a row take at most two', async () => {
    // undici hands a connection out again only after a turn of the event loop (to see whether
    // the server closed it), so back-to-back calls may alternate between two.
    const before = seen.length;
    for (let i = 0; i < 10; i++) await (await f(`${base}/seq`, { method: 'POST', body: String(i) })).text();
    expect(new Set(seen.slice(before).map((s) => s.port)).size).toBeLessThanOrEqual(2);
  });

  it('sends a request again on a new connection when the reused one was closed by the server, once', async () => {
    await (await f(`${base}/warm`, { method: 'POST', body: 'w' })).text();
    const before = seen.length;
    const res = await f(`${base}/drop-reused`, { method: 'POST', body: 'again' });
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toEqual({ ok: true, echo: 'again' });
    const tries = seen.slice(before);
    expect(tries.map((s) => s.url)).toEqual(['/drop-reused', '/drop-reused']);
    expect(tries[1]?.port).not.toBe(tries[0]?.port);
  });

  it('the second try is on a connection of its own, even when every pooled connection was closed at once', async () => {
    // Two idle keep-alive connections in the pool, both of which the server will drop on reuse.
    await Promise.all([f(`${base}/warm`, { method: 'POST', body: 'a' }), f(`${base}/warm`, { method: 'POST', body: 'b' })].map(async (r) => (await r).text()));
    const before = seen.length;
    const res = await f(`${base}/drop-reused`, { method: 'POST', body: 'third' });
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toEqual({ ok: true, echo: 'third' });
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/drop-reused', '/drop-reused']);
  });

  it('lets the caller read a 429 and its Retry-After (the WebClient then waits and retries)', async () => {
    const res = await f(`${base}/limited`, { method: 'POST', body: '' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  it('rejects when the signal times out, and when a redirect is refused', async () => {
    await expect(f(`${base}/slow`, { method: 'POST', body: 'z', signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await expect(f(`${base}/moved`, { method: 'POST', body: '', redirect: 'error' })).rejects.toThrow(/redirect/);
  });

  it('hands bodies it does not build (multipart uploads) to the global fetch', async () => {
    const form = new FormData();
    form.append('file', new Blob(['hello']), 'a.txt');
    const res = await f(`${base}/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(seen.at(-1)?.headers['content-type']).toMatch(/^multipart\/form-data/);
    expect(seen.at(-1)?.body).toContain('hello');
  });
});
