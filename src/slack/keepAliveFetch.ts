import { STATUS_CODES } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';

/**
 * The `fetch` that @slack/web-api's WebClient uses (its `fetch` option): undici's `request` over
 * one keep-alive pool, without the WHATWG stream, Request and Response objects of fetch, which
 * cost more CPU than the call itself here. Bodies other than a string (multipart file uploads)
 * go to the global fetch unchanged. undici reuses a connection only a turn of the event loop
 * after its last answer, so calls made back to back alternate between two connections.
 */
export function keepAliveFetch(): typeof fetch {
  const pool = new Agent();
  // A retry goes out on a connection of its own: the pool's other idle ones may be closed too.
  const fresh = new Agent({ pipelining: 0 });
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const body = init.body;
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof URLSearchParams))) {
      return fetch(input, init);
    }
    const url = String(input);
    const signal = init.signal ?? undefined;
    const options = { method: (init.method ?? 'GET') as Dispatcher.HttpMethod, headers: Object.fromEntries(new Headers(init.headers)), body: body?.toString(), signal };
    const res = await request(url, { ...options, dispatcher: pool }).catch((err: unknown) => {
      // The server closed a kept-alive connection as it was reused, before answering: send once more.
      if (closedAfterReuse(err) && !signal?.aborted) return request(url, { ...options, dispatcher: fresh });
      throw err;
    });
    if (init.redirect === 'error' && res.statusCode >= 300 && res.statusCode < 400) {
      await res.body.dump();
      throw new TypeError(`unexpected redirect (${res.statusCode}) from ${url}`);
    }
    return answer(url, res.statusCode, res.headers, Buffer.from(await res.body.arrayBuffer()));
  }) as typeof fetch;
}

/** undici's "other side closed" on a socket that had already carried an answer. */
function closedAfterReuse(err: unknown): boolean {
  const e = err as { code?: unknown; socket?: { bytesRead?: number } };
  return e.code === 'UND_ERR_SOCKET' && (e.socket?.bytesRead ?? 0) > 0;
}

/** The part of a `Response` the WebClient reads. */
function answer(url: string, status: number, raw: Record<string, string | string[] | undefined>, body: Buffer): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) for (const v of [value ?? []].flat()) headers.append(name, v);
  const text = () => Promise.resolve(body.toString('utf8'));
  return {
    url,
    status,
    statusText: STATUS_CODES[status] ?? '',
    ok: status >= 200 && status < 300,
    redirected: false,
    headers,
    text,
    json: async () => JSON.parse(await text()) as unknown,
    arrayBuffer: () => Promise.resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)),
  } as unknown as Response;
}
