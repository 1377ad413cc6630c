import { LogLevel, type Logger } from '@slack/logger';
import type { WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.js';
import { keepAliveFetch } from './keepAliveFetch.js';

/** One set of keep-alive connections to Slack for every WebClient of the thread. */
const webApiFetch = keepAliveFetch();

/**
 * The two ways Tasklane calls Slack, each with a WebClient of its own (so neither waits in the
 * other's queue):
 *
 * - `interactive`: calls a person is waiting on in the request path (`views.open` on a 3 s
 *   trigger, ephemerals, look-ups). A little retry, and a 429 fails at once instead of pausing
 *   the client's whole queue for `Retry-After` seconds.
 * - `outbox`: the sender of effects (src/outbox). No retry in the client at all: the outbox
 *   decides when to try again (back-off, `Retry-After` of that one row) and whether a post whose
 *   answer was lost must be looked for first.
 */
export function webClientOptions(config: Pick<Config, 'slackApiUrl' | 'logLevel'>, logger: Logger, purpose: 'interactive' | 'outbox' = 'interactive'): WebClientOptions {
  return {
    slackApiUrl: config.slackApiUrl,
    fetch: webApiFetch,
    logger,
    logLevel: toLogLevel(config.logLevel),
    rejectRateLimitedCalls: true,
    retryConfig: purpose === 'outbox' ? { retries: 0 } : { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000, randomize: true },
    timeout: 10_000,
  };
}

export const toLogLevel = (level: Config['logLevel']): LogLevel =>
  ({ debug: LogLevel.DEBUG, info: LogLevel.INFO, warn: LogLevel.WARN, error: LogLevel.ERROR })[level];
