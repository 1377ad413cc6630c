import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, defaultBodyLimit, isRawBodyError, type HTTPReceiver, type Logger } from '@slack/bolt';
import { malformedReason } from './payloadShape.js';

/**
 * Answers 400 to a correctly signed request whose payload is not what Slack sends (see
 * `malformedReason`), before Bolt sees it (SPEC S9: a malformed request gets a 4xx, never a crash).
 * Without this, a body of JSON `null` (or `payload=null`) is an unhandled rejection inside Bolt's
 * HTTPReceiver, which ends a Node process and leaves the request unanswered; a block_actions
 * without `user` or a view_submission without `view` is a TypeError in Bolt (a 500); and a
 * command without `text` or an event without its fields is a TypeError in a listener.
 *
 * Everything else goes to Bolt unchanged, with the body already read (Bolt reuses `rawBody`), so
 * unsigned, stale, oversized and unparseable requests keep Bolt's own answers (401, 413, 400).
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
      let body: unknown;
      try {
        const buffered = await HTTPModuleFunctions.parseAndVerifyHTTPRequest({ enabled: true, signingSecret: opts.signingSecret, bodyLimit: defaultBodyLimit }, req);
        body = HTTPModuleFunctions.parseHTTPRequestBody(buffered);
      } catch (err) {
        if (isRawBodyError(err)) {
          // The stream is spent: answer as Bolt would (413 for too large, else 400).
          const status = (err as { statusCode?: number }).statusCode === 413 ? 413 : 400;
          opts.logger.warn(`Request body could not be read (${status})`);
          HTTPModuleFunctions.buildNoBodyResponse(res, status);
          return;
        }
        // Not signed, stale, or not parseable: Bolt says so itself (its 401 or 400, and its log line).
        next(req, res);
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

/** What a payload is, for the log: its type or command and team, never its content. */
function kindOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an object';
  const b = body as { type?: unknown; command?: unknown; team_id?: unknown; team?: { id?: unknown } | null; event?: { type?: unknown } };
  const kind = typeof b.command === 'string' ? 'slash_command' : typeof b.type === 'string' ? b.type : 'unknown';
  const sub = typeof b.event?.type === 'string' ? ` ${b.event.type}` : '';
  const team = typeof b.team_id === 'string' ? b.team_id : typeof b.team?.id === 'string' ? b.team.id : '?';
  return `${kind.slice(0, 40)}${sub.slice(0, 40)}, team ${team.slice(0, 20)}`;
}
