import type { Logger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config } from './config.js';
import type { EffectSender } from './outbox/sender.js';
import type { Background, InFlight } from './runtime.js';
import type { UserDirectory } from './slack/users.js';
import type { Stores } from './store/engine.js';

/** What every feature's listeners and services may use. Built once per app in createApp. */
export interface Services {
  config: Config;
  /** The store's repositories, on SQLite or PostgreSQL (store/engine.ts). */
  stores: Stores;
  logger: Logger;
  /**
   * Bot-token Web API client for calls a person waits on in the request path (views.open, an
   * ephemeral, a look-up): a little retry, a 429 fails at once. Everything a change owes Slack
   * goes through `outbox` instead.
   */
  client: WebClient;
  /** Sends the effects changes write (src/outbox): `kick()` after committing one. */
  outbox: EffectSender;
  users: UserDirectory;
  inFlight: InFlight;
  background: Background;
  /** Milliseconds since the epoch; tests may move it. */
  now: () => number;
  /**
   * Registers recovery work to run in the background once the app is listening, and again every
   * so often while it runs (never two runs of one job at once): e.g. handling again the events a
   * crash cut short. Jobs must be safe to repeat.
   */
  onStart(name: string, job: () => Promise<void>): void;
}
