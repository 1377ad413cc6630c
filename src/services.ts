import type { Logger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config } from './config.js';
import type { Background, InFlight } from './runtime.js';
import type { UserDirectory } from './slack/users.js';
import type { Store } from './store/db.js';
import type { DeliveriesRepository } from './store/deliveries.js';

/** What every feature's listeners and services may use. Built once per app in createApp. */
export interface Services {
  config: Config;
  store: Store;
  logger: Logger;
  /** Bot-token Web API client: bounded retries, `SLACK_API_URL`. For work not tied to a request. */
  client: WebClient;
  users: UserDirectory;
  deliveries: DeliveriesRepository;
  inFlight: InFlight;
  background: Background;
  /** Milliseconds since the epoch; tests may move it. */
  now: () => number;
}
