import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPModuleFunctions, defaultBodyLimit, verifySlackRequest, type HTTPReceiver, type Logger } from '@slack/bolt';
import { malformedReason } from './payloadShape.js';
import { teamIdOf } from './values.js';

const FORM = 'application/x-www-form-urlencoded';
/** Slack refuses (and so do we) a timestamp further than this from now, in either direction. */
const MAX_CLOCK_SKEW_S = 5 * 60;
/** Slack's unsigned `ssl_check` is a handful of fields; an unsigned form larger than this is not one. */
const SSL_CHECK_MAX_BYTES = 4096;

export interface RequestGuardOptions {
  signingSecret: string;
  /** The paths Slack posts to (Bolt's `endpoints`). */
  endpoints: string[];
  logger: Logger;
  /** Largest body accepted (413 above it); default Bolt's 4 MB. */
  bodyLimit?: number;
  /** Bytes of bodies held at once, across requests (503 above it); default 64 MB. */
  bufferedLimit?: number;
  /** The wall clock Slack's timestamps are checked against (not the app's own, which tests move). */
  now?: () => number;
}

/**
 * The door of `/slack/events`: every request is verified over its raw bytes before anything in it
 * is parsed, and only then handed to Bolt (whose receiver runs with `signatureVerification: false`).
 *
 * - The signature headers are checked first, before the body is read: a request without a
 *   well-formed `v0=` signature, or with a timestamp more than 5 minutes from now (either way),
 *   gets 401 at once and its body is discarded unread. The only unsigned request answered is
 *   Slack's `ssl_check`: a small form whose flag is answered here and nothing else of it used.
 * - The body is read up to `bodyLimit` (413 above it, also when `content-length` says so up
 *   front), then its signature is checked by Bolt's `verifySlackRequest` (`verifySignature`).
 *   Bodies held at once are capped in all (`bufferedLimit`, 503 above it).
 * - Only a verified body is decoded (JSON, or a form whose `payload` field is JSON). A payload
 *   that is not what Slack sends (see `malformedReason`) gets 400; `app_rate_limited`, which Bolt
 *   cannot route, is logged and answered 200 here.
 * - The media type is compared without its parameters (`; charset=utf-8`), and handed to Bolt
 *   bare, since Bolt compares the whole header.
 *
 * Bolt then takes the body as read here (`rawBody`), without reading or verifying it again, but
 * decodes it a second time: its receiver has no way to be handed a decoded body.
 */
export function guardRequests(receiver: HTTPReceiver, opts: RequestGuardOptions): void {
  const next = receiver.requestListener;
  const limit = opts.bodyLimit ?? defaultBodyLimit;
  const now = opts.now ?? Date.now;
  const refusals = new RefusalLog(opts.logger, now);
  const budget = new ByteBudget(opts.bufferedLimit ?? 64 * 1024 * 1024);
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method?.toUpperCase() !== 'POST' || !opts.endpoints.includes(path)) {
      next(req, res);
      return;
    }
    void guard(req, res).catch((err: unknown) => {
      opts.logger.error(`request guard: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) HTTPModuleFunctions.buildNoBodyResponse(res, 500);
    });
  };

  async function guard(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const declared = declaredLength(req.headers);
    if (declared === 'invalid') return refuse(req, res, 400, 'the content-length header is not a number');
    if (declared !== undefined && declared > limit) return refuse(req, res, 413, `the body (${declared} bytes) is over the ${limit}-byte limit`);
    const mediaType = mediaTypeOf(req.headers);
    const signed = signedHeaders(req.headers, now());

    if (!signed.ok) {
      if (mediaType === FORM && declared !== undefined && declared <= SSL_CHECK_MAX_BYTES) {
        const small = await readBody(req, SSL_CHECK_MAX_BYTES, budget.holdUntilDone(res));
        if (small.ok && parseQuery(Buffer.concat(small.chunks).toString())['ssl_check'] === '1') {
          HTTPModuleFunctions.buildSSLCheckResponse(res);
          return;
        }
      }
      return refuse(req, res, 401, signed.reason);
    }

    const read = await readBody(req, limit, budget.holdUntilDone(res));
    if (!read.ok) {
      if (read.why === 'aborted') return; // the client went away: nobody to answer
      if (read.why === 'busy') return refuse(req, res, 503, 'too many request bodies arriving at once');
      return refuse(req, res, 413, `the body is over the ${limit}-byte limit`);
    }

    const raw = Buffer.concat(read.chunks);
    // Verified as text, as Bolt verifies it: the very string that is decoded below.
    const text = raw.toString();
    try {
      verifySignature(opts.signingSecret, text, req.headers, now());
    } catch (err) {
      return refuse(req, res, 401, (err as Error).message.replace(/^Failed to verify authenticity: /, ''));
    }
    let body: unknown;
    try {
      body = decodeBody(text, mediaType);
    } catch {
      opts.logger.warn(`Malformed request body (400): not ${mediaType === FORM ? 'a form with a JSON payload' : 'JSON'}`);
      HTTPModuleFunctions.buildNoBodyResponse(res, 400);
      return;
    }
    const reason = malformedReason(body);
    if (reason !== undefined) {
      opts.logger.warn(`Malformed request ignored (400): ${reason} (${kindOf(body)})`);
      HTTPModuleFunctions.buildNoBodyResponse(res, 400);
      return;
    }
    if ((body as { type?: unknown }).type === 'app_rate_limited') {
      const b = body as { team_id?: unknown; minute_rate_limited?: unknown };
      opts.logger.warn(`Slack rate-limited event delivery for team ${String(b.team_id ?? '?')} (minute ${String(b.minute_rate_limited ?? '?')})`);
      HTTPModuleFunctions.buildNoBodyResponse(res, 200);
      return;
    }
    // Bolt reuses `rawBody` (no second read, but a second decode) and compares the content type as a whole string.
    (req as IncomingMessage & { rawBody: Buffer }).rawBody = raw;
    req.headers['content-type'] = mediaType === FORM ? FORM : 'application/json';
    next(req, res);
  }

  /**
   * Answers `status` once the rest of the body has arrived, discarded unread: answering earlier
   * and closing would reset the connection under a client still sending, which then never sees
   * the answer. A body that goes on past the limit is answered at once and its socket cut.
   */
  function refuse(req: IncomingMessage, res: ServerResponse, status: 400 | 401 | 413 | 503, why: string): void {
    refusals.note(status, why);
    const answer = (close: boolean) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-length': '0', ...(close ? { connection: 'close' } : {}) });
      res.end();
      if (close) res.once('finish', () => req.socket.destroy());
    };
    if (req.readableEnded || status === 413 || status === 503) {
      answer(!req.readableEnded);
      return;
    }
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) answer(true);
    });
    req.once('end', () => answer(false));
    req.resume();
  }
}

type SignedHeaders = { ok: true; timestamp: number; signature: string } | { ok: false; reason: string };

/** The signature headers, checked without the body: present once each, `v0=<64 hex>`, timestamp within 5 minutes. */
export function signedHeaders(headers: IncomingHttpHeaders, nowMs: number): SignedHeaders {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string') return { ok: false, reason: 'no x-slack-signature header' };
  if (typeof timestamp !== 'string') return { ok: false, reason: 'no x-slack-request-timestamp header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'the x-slack-request-timestamp header is not a unix time' };
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > MAX_CLOCK_SKEW_S) {
    return { ok: false, reason: 'x-slack-request-timestamp must differ from system time by no more than 5 minutes' };
  }
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: signature.startsWith('v0=') ? 'signature mismatch' : 'unknown signature version' };
  return { ok: true, timestamp: Number(timestamp), signature };
}

/**
 * Slack's request signature, checked by Bolt's `verifySlackRequest` (`v0=` HMAC-SHA256 of
 * `v0:{timestamp}:{body}`, compared in constant time). The header checks come first: Bolt lets
 * through a timestamp far ahead of now, and would crash on a missing or repeated header.
 * Throws (with the reason) when the request is not Slack's.
 */
export function verifySignature(signingSecret: string, body: string, headers: IncomingHttpHeaders, nowMs: number): void {
  const signed = signedHeaders(headers, nowMs);
  if (!signed.ok) throw new Error(`Failed to verify authenticity: ${signed.reason}`);
  verifySlackRequest({
    signingSecret,
    body,
    headers: { 'x-slack-signature': signed.signature, 'x-slack-request-timestamp': signed.timestamp },
    nowMilliseconds: nowMs,
  });
}

/** The media type without parameters, lower case (`application/x-www-form-urlencoded; charset=utf-8` → the bare type). */
export function mediaTypeOf(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function declaredLength(headers: IncomingHttpHeaders): number | undefined | 'invalid' {
  const value = headers['content-length'];
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : 'invalid';
}

/** As Bolt decodes a body: a form's `payload` field is JSON, other forms (commands) are the fields; anything else is JSON. */
function decodeBody(text: string, mediaType: string): unknown {
  if (mediaType !== FORM) return JSON.parse(text);
  const form = parseQuery(text);
  return typeof form['payload'] === 'string' ? JSON.parse(form['payload']) : form;
}

type BodyRead = { ok: true; chunks: Buffer[] } | { ok: false; why: 'too large' | 'busy' | 'aborted' };

/** Reads the body up to `limit` bytes, each chunk counted against `budget` as it arrives. */
function readBody(req: IncomingMessage, limit: number, budget: Budget): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyRead) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      if (!result.ok) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish({ ok: false, why: 'too large' });
      if (!budget.take(chunk.length)) return finish({ ok: false, why: 'busy' });
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish({ ok: true, chunks }));
    req.once('error', () => finish({ ok: false, why: 'aborted' }));
    req.once('close', () => finish({ ok: false, why: 'aborted' }));
  });
}

interface Budget {
  take(bytes: number): boolean;
}

/** Bytes held across all requests; what a request took is given back when its response is done. */
class ByteBudget {
  private used = 0;

  constructor(private readonly max: number) {}

  holdUntilDone(res: ServerResponse): Budget {
    let held = 0;
    res.once('close', () => {
      this.used -= held;
      held = 0;
    });
    return {
      take: (bytes) => {
        if (this.used + bytes > this.max) return false;
        this.used += bytes;
        held += bytes;
        return true;
      },
    };
  }
}

/**
 * Refused requests are logged without flooding: the first of each kind in a 10 s window is a
 * line of its own; the rest are counted and reported with the next line after the window.
 */
class RefusalLog {
  private windowStart = 0;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  note(status: number, why: string): void {
    const t = this.now();
    if (t - this.windowStart > 10_000) {
      const skipped = [...this.seen.values()].reduce((a, n) => a + n - 1, 0);
      if (skipped > 0) this.logger.warn(`Refused ${skipped} more request(s) to /slack/events in the last ${Math.round((t - this.windowStart) / 1000)} s`);
      this.seen.clear();
      this.windowStart = t;
    }
    const key = `${status} ${why}`;
    const count = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, count);
    if (count === 1) this.logger.warn(`Refused a request to /slack/events (${status}): ${why}`);
  }
}

/** What a payload is, for the log: its type or command and team, never its content. */
function kindOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an object';
  const b = body as { type?: unknown; command?: unknown; event?: { type?: unknown } };
  const kind = typeof b.command === 'string' ? 'slash_command' : typeof b.type === 'string' ? b.type : 'unknown';
  const sub = typeof b.event?.type === 'string' ? ` ${b.event.type}` : '';
  const team = teamIdOf(body) || '?';
  return `${kind.slice(0, 40)}${sub.slice(0, 40)}, team ${team.slice(0, 20)}`;
}
