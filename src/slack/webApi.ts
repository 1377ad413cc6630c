import { LogLevel, type Logger } from '@slack/logger';
import type { WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.js';
import { keepAliveFetch } from './keepAliveFetch.js';

/** One set of keep-alive connections to Slack for every WebClient of the thread. */
const webApiFetch = keepAliveFetch();

/**
 * Web API calls retry a little and give up fast: a user is waiting on most of them. A 429 is
 * honoured (the client sleeps `Retry-After`) but counts as one of the few retries.
 */
export function webClientOptions(config: Pick<Config, 'slackApiUrl' | 'logLevel'>, logger: Logger): WebClientOptions {
  return {
    slackApiUrl: config.slackApiUrl,
    fetch: webApiFetch,
    logger,
    logLevel: toLogLevel(config.logLevel),
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000, randomize: true },
    timeout: 10_000,
  };
}

export const toLogLevel = (level: Config['logLevel']): LogLevel =>
  ({ debug: LogLevel.DEBUG, info: LogLevel.INFO, warn: LogLevel.WARN, error: LogLevel.ERROR })[level];
