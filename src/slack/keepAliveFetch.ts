import http from 'node:http';
import https from 'node:https';

/**
 * The `fetch` that @slack/web-api's WebClient uses (its `fetch` option), over node:http(s) with
 * keep-alive agents. The WebClient only POSTs a string body and reads the status, headers and
 * text of the answer, which Node's WHATWG fetch (streams, Request and Response objects) makes
 * costly for a call this small (docs/performance.md). Bodies it does not know (multipart file
 * uploads) go to the global fetch unchanged. A request whose reused keep-alive connection turns out to have been
 * closed by the server is sent again, once, on a new one (Node's documented `reusedSocket`
 * case): otherwise the WebClient logs a warning and retries after a back-off.
 */
export function keepAliveFetch(): typeof fetch {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const body = init.body;
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof URLSearchParams))) {
      return fetch(input, init);
    }
    const url = new URL(String(input));
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!transport) throw new TypeError(`unsupported protocol ${url.protocol}`);
    const payload = body === undefined || body === null ? undefined : Buffer.from(String(body));
    const headers = new Headers(init.headers);
    if (payload) headers.set('content-length', String(payload.length));
    const signal = init.signal ?? undefined;
    const send = (retried: boolean) =>
      new Promise<Response>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const req = transport.request(
          url,
          // The second try takes a connection of its own: the pool's other idle connections
          // may have been closed by the server at the same moment (they idled out together).
          { method: init.method ?? 'GET', headers: Object.fromEntries(headers), agent: retried ? false : agents[url.protocol as 'http:' | 'https:'] },
          (res) => {
            const status = res.statusCode ?? 0;
            if (init.redirect === 'error' && status >= 300 && status < 400) {
              res.resume();
              return reject(new TypeError(`unexpected redirect (${status}) from ${url.href}`));
            }
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              signal?.removeEventListener('abort', onAbort);
              resolve(answer(url.href, status, res.statusMessage ?? '', res.rawHeaders, Buffer.concat(chunks)));
            });
          },
        );
        const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal?.addEventListener('abort', onAbort, { once: true });
        req.on('error', (err: NodeJS.ErrnoException) => {
          signal?.removeEventListener('abort', onAbort);
          // A kept-alive connection the server closed just as it was reused: the request never
          // got an answer on it. Send it once more on a new connection (what Node's docs advise
          // for `reusedSocket`), rather than fail the call.
          if (req.reusedSocket && !retried && err.code === 'ECONNRESET' && !signal?.aborted) resolve(send(true));
          else reject(err);
        });
        req.end(payload);
      });
    return send(false);
  }) as typeof fetch;
}

/** The part of a `Response` the WebClient reads. */
function answer(url: string, status: number, statusText: string, rawHeaders: string[], body: Buffer): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers.append(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  const text = () => Promise.resolve(body.toString('utf8'));
  return {
    url,
    status,
    statusText,
    ok: status >= 200 && status < 300,
    redirected: false,
    headers,
    text,
    json: async () => JSON.parse(await text()) as unknown,
    arrayBuffer: () => Promise.resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)),
  } as unknown as Response;
}
