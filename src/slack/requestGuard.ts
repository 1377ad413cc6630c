import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPModuleFunctions, defaultBodyLimit, isRawBodyError, type HTTPReceiver, type Logger } from '@slack/bolt';
import { malformedReason } from './payloadShape.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * The one place a request to the events endpoint is verified and parsed, before Bolt sees it.
 *
 * - Unsigned, wrongly signed and stale requests get 401 (Bolt's answer and log line). The
 *   receiver is built with `signatureVerification: false` because this guard has checked every
 *   request Bolt's receiver would take as an event (a POST to one of `endpoints`, matched as Bolt
 *   matches it); Bolt would otherwise verify and parse each request a second time.
 * - A correctly signed request whose payload is not what Slack sends (see `malformedReason`)
 *   gets 400 (SPEC S9: a malformed request gets a 4xx, never a crash). Without this, a body of
 *   JSON `null` (or `payload=null`) is an unhandled rejection inside Bolt's HTTPReceiver, which
 *   ends a Node process and leaves the request unanswered; a block_actions without `user` or a
 *   view_submission without `view` is a TypeError in Bolt (a 500); and a command without `text`
 *   or an event without its fields is a TypeError in a listener.
 *
 * Everything else goes to Bolt unchanged, with the body already read (Bolt reuses `rawBody`), so
 * oversized and unparseable requests keep Bolt's own answers (413, 400), and Slack's unsigned
 * `ssl_check` is passed on stripped of anything else, as Bolt does.
 */
export function rejectMalformedRequests(receiver: HTTPReceiver, opts: { signingSecret: string; endpoints: string[]; logger: Logger }): void {
  const next = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method?.toUpperCase() !== 'POST' || !opts.endpoints.includes(path)) {
      next(req, res);
      return;
    }
    void (async () => {
      let buffered: IncomingMessage & { rawBody: Buffer };
      try {
        buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, defaultBodyLimit);
      } catch (err) {
        // The stream is spent: answer as Bolt would (413 for too large, else 400).
        const status = isRawBodyError(err) && (err as { statusCode?: number }).statusCode === 413 ? 413 : 400;
        opts.logger.warn(`Request body could not be read (${status})`);
        HTTPModuleFunctions.buildNoBodyResponse(res, status);
        return;
      }
      const text = buffered.rawBody.toString();
      const form = req.headers['content-type'] === FORM ? parseQuery(text) : undefined;
      if (form?.['ssl_check'] === '1') {
        // Slack's SSL check is not signed: only the flag itself goes on (Bolt answers it).
        buffered.rawBody = Buffer.from('ssl_check=1');
        next(req, res);
        return;
      }
      try {
        verifySignature(opts.signingSecret, text, req.headers, Date.now());
      } catch (err) {
        opts.logger.warn(`Failed to parse and verify the request data: ${(err as Error).message}`);
        HTTPModuleFunctions.buildNoBodyResponse(res, 401);
        return;
      }
      let body: unknown;
      try {
        // As Bolt parses it: a form's `payload` field is JSON, other forms (commands) are the fields.
        body = form === undefined ? JSON.parse(text) : typeof form['payload'] === 'string' ? JSON.parse(form['payload']) : form;
      } catch {
        next(req, res); // Bolt answers 400 ("Malformed request body") and logs it.
        return;
      }
      const reason = malformedReason(body);
      if (reason !== undefined) {
        opts.logger.warn(`Malformed request ignored (400): ${reason} (${kindOf(body)})`);
        HTTPModuleFunctions.buildNoBodyResponse(res, 400);
        return;
      }
      next(req, res);
    })().catch((err: unknown) => {
      opts.logger.error(`request guard: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) HTTPModuleFunctions.buildNoBodyResponse(res, 500);
    });
  };
}

const VERIFY = 'Failed to verify authenticity';

/**
 * Slack's request signature (SLACK-FACTS: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the
 * signing secret; a timestamp more than 5 minutes old is refused). The same rules and messages as
 * Bolt's `verifySlackRequest`, compared with `crypto.timingSafeEqual` (Bolt's tsscmp draws 32
 * random bytes and computes two more HMACs per request to compare in constant time). Throws when
 * the request is not Slack's.
 */
export function verifySignature(signingSecret: string, body: string, headers: IncomingMessage['headers'], nowMs: number): void {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  for (const [name, value] of [['x-slack-signature', signature], ['x-slack-request-timestamp', timestamp]] as const) {
    if (typeof value !== 'string') throw new Error(`${VERIFY}: header ${name} did not have the expected type (received ${typeof value}, expected string)`);
  }
  const seconds = Number(timestamp);
  if (Number.isNaN(seconds)) throw new Error(`${VERIFY}: header x-slack-request-timestamp did not have the expected type (${timestamp as string})`);
  if (seconds < Math.floor(nowMs / 1000) - 5 * 60) {
    throw new Error(`${VERIFY}: x-slack-request-timestamp must differ from system time by no more than 5 minutes or request is stale`);
  }
  const [version, hash] = (signature as string).split('=');
  if (version !== 'v0') throw new Error(`${VERIFY}: unknown signature version`);
  const ours = createHmac('sha256', signingSecret).update(`v0:${seconds}:${body}`).digest();
  const theirs = hash !== undefined && /^[0-9a-f]{64}$/.test(hash) ? Buffer.from(hash, 'hex') : undefined;
  if (theirs === undefined || !timingSafeEqual(theirs, ours)) throw new Error(`${VERIFY}: signature mismatch`);
}

/** What a payload is, for the log: its type or command and team, never its content. */
function kindOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an object';
  const b = body as { type?: unknown; command?: unknown; team_id?: unknown; team?: { id?: unknown } | null; event?: { type?: unknown } };
  const kind = typeof b.command === 'string' ? 'slash_command' : typeof b.type === 'string' ? b.type : 'unknown';
  const sub = typeof b.event?.type === 'string' ? ` ${b.event.type}` : '';
  const team = typeof b.team_id === 'string' ? b.team_id : typeof b.team?.id === 'string' ? b.team.id : '?';
  return `${kind.slice(0, 40)}${sub.slice(0, 40)}, team ${team.slice(0, 20)}`;
}
