import { ErrorCode } from '@slack/web-api';
import { slackErrorCode } from './slackErrors.js';

/**
 * What a failed Web API call means for whoever wants to try it again, read from
 * @slack/web-api's typed errors (`ErrorCode`):
 *
 * - `rate_limited`: Slack said 429; try again after `retryAfterMs`. Nothing happened.
 * - `transient`: Slack did not answer, or answered 5xx / `internal_error`-like: try again later.
 *   `unknownOutcome` when Slack may have done it anyway (a timeout, a reset, a 5xx), so a post
 *   must be looked for before it is sent again.
 * - `gone`: what the call was about no longer exists (a deleted message, a channel or user
 *   Slack does not know): trying again cannot help, and nobody needs telling.
 * - `refused`: Slack refused for good (a missing scope, a DM that is closed, invalid blocks):
 *   trying again cannot help; the person who acted is told.
 * - `already`: the step was already completed (`execution_not_in_running_state`): success.
 */
export type SlackFailure =
  | { kind: 'rate_limited'; retryAfterMs: number; code: 'ratelimited' }
  | { kind: 'transient'; unknownOutcome: boolean; code: string | undefined }
  | { kind: 'gone'; code: string }
  | { kind: 'refused'; code: string | undefined }
  | { kind: 'already'; code: string };

/** Slack error codes worth another attempt later; Slack may have carried some out (see `UNKNOWN`). */
const TRANSIENT = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
/** Of those, the ones after which Slack may have done the work all the same. */
const UNKNOWN = new Set(['internal_error', 'fatal_error', 'request_timeout']);
/** The thing the call was about is not there (any more). */
const GONE = new Set(['message_not_found', 'channel_not_found', 'user_not_found', 'is_archived', 'function_execution_not_found', 'cant_update_message', 'thread_not_found']);
const ALREADY = new Set(['execution_not_in_running_state']);

export function classifySlackFailure(err: unknown): SlackFailure {
  const e = err as { code?: unknown; retryAfter?: unknown; statusCode?: unknown } | undefined;
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return { kind: 'rate_limited', retryAfterMs: Math.max(1, Number(e.retryAfter) || 1) * 1000, code: 'ratelimited' };
    case ErrorCode.RequestError:
      return { kind: 'transient', unknownOutcome: true, code: undefined };
    case ErrorCode.HTTPError: {
      const status = Number(e.statusCode);
      if (status === 429) return { kind: 'rate_limited', retryAfterMs: 1000, code: 'ratelimited' };
      return status >= 500 || !Number.isFinite(status) ? { kind: 'transient', unknownOutcome: true, code: `http_${status}` } : { kind: 'refused', code: `http_${status}` };
    }
    case ErrorCode.PlatformError: {
      const code = slackErrorCode(err) ?? 'unknown_error';
      if (code === 'ratelimited' || code === 'rate_limited') return { kind: 'rate_limited', retryAfterMs: 1000, code: 'ratelimited' };
      if (TRANSIENT.has(code)) return { kind: 'transient', unknownOutcome: UNKNOWN.has(code), code };
      if (ALREADY.has(code)) return { kind: 'already', code };
      if (GONE.has(code)) return { kind: 'gone', code };
      return { kind: 'refused', code };
    }
    default:
      // Not a Web API error (a bug, the store failing after a post): retry, and look before posting again.
      return { kind: 'transient', unknownOutcome: true, code: undefined };
  }
}

/** Whether `err` is a failed Web API call (@slack/web-api's typed errors), not our own failure. */
export function isWebApiError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (Object.values(ErrorCode) as unknown[]).includes(code);
}

/** What the call was about is gone (a deleted card, an unknown channel): nothing to retry, nobody to tell. */
export const isGone = (err: unknown): boolean => classifySlackFailure(err).kind === 'gone';

/** The workflow step had its result already: the call's purpose is met. */
export const isAlready = (err: unknown): boolean => classifySlackFailure(err).kind === 'already';
