import { randomUUID } from 'node:crypto';
import type { Logger } from '@slack/bolt';
import type { ChatPostMessageArguments, WebClient } from '@slack/web-api';
import type { InFlight } from '../runtime.js';
import { describeError } from '../runtime.js';
import { classifySlackFailure, type SlackFailure } from '../slack/failures.js';
import { slackFailureText } from '../slack/slackErrors.js';
import type { Effect, Ended, SendOutcome } from '../store/outbox.js';
import type { OutboxStore } from '../store/outboxStore.js';
import type { OutboxRow } from '../store/schema.js';

/**
 * The one way a change reaches Slack. Features write effects (store/outbox.ts) in the
 * transaction of the change they follow; this sender sends them: right after the commit
 * (`kick`), when a retry falls due (a timer), every `pollMs` (rows written by another process),
 * and at start-up (what a crash left). Rows are leased, so several senders can share a store.
 *
 * Each kind of effect has a handler (`register`). A handler that throws is judged by the error
 * (slack/failures.ts): Slack busy or silent → another attempt later with back-off (a 429 waits
 * its own `Retry-After`, and only that row waits); gone or refused → given up, the reason kept in
 * `last_error`, and the person the effect names in `payload.notify` is told in a DM.
 * A post whose answer was lost is looked for before it is sent again (`post`).
 */

/** Pauses before attempts 2, 3, …; after the last, the effect is given up. */
export const RETRY_DELAYS_MS = [500, 2_000, 8_000, 30_000, 120_000, 600_000, 1_800_000];

/** `message_metadata.event_type` of every message Tasklane posts through the outbox. */
export const EFFECT_EVENT_TYPE = 'tasklane_effect';

/** Who to tell, and what, when the effect cannot be delivered (Slack's reason is appended). */
export interface Notify {
  userId: string;
  text: string;
}

export interface EffectContext {
  row: OutboxRow;
  payload: Record<string, unknown>;
  client: WebClient;
  logger: Logger;
  now: number;
  /** A token handed over for this effect by the request that wrote it (a workflow token), if still known. */
  token: string | undefined;
  /**
   * Posts a message tagged with this effect's key (message metadata). When the previous attempt's
   * outcome is unknown, the conversation is searched for that tag first (newest first, bounded)
   * and a message found there is returned instead of posting again.
   */
  post(args: ChatPostMessageArguments & { channel: string; token?: string }): Promise<{ channel: string; ts: string }>;
}

export interface EffectKind {
  /**
   * Sends the effect; the returned text is kept as the row's `result`. A scheduled action that
   * finds it is not due yet (its real time depends on what only the handler can look up, e.g. the
   * person's time zone) returns `{ later }`: the row comes back then, no attempt counted.
   */
  send(ctx: EffectContext): Promise<string | void | { later: number }>;
  /** The effect was given up (`failure`): e.g. cancel what depended on it. Must be safe to repeat. */
  gaveUp?(ctx: EffectContext, failure: SlackFailure): Promise<void>;
}

export interface OutboxOptions {
  /** How long a claimed row is this sender's (a sender that died lets go after it). */
  leaseMs: number;
  /** Rows sent at once. */
  concurrency: number;
  /** How often to look for rows another process wrote, or whose lease ran out. */
  pollMs: number;
  /** Sent or given-up rows are deleted after this long. */
  keepDoneMs: number;
  /** How far ahead a timer counts as work in flight (tests settle on it; shutdown waits for it). */
  trackDueWithinMs: number;
  /** Pauses before attempts 2, 3, …; after the last, a transient failure is given up too. */
  retryDelaysMs: readonly number[];
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  leaseMs: 30_000,
  concurrency: 16,
  pollMs: 5_000,
  keepDoneMs: 7 * 24 * 60 * 60_000,
  trackDueWithinMs: 5_000,
  retryDelaysMs: RETRY_DELAYS_MS,
};

/** What features use to get their effects sent: the sender here, or in its thread (thread.ts). */
export interface EffectSender {
  /** The outbox table (reads, tests). */
  readonly repo: OutboxStore;
  /** Writes effects in their own transaction (nothing else changes with them) and sends them soon. */
  add(effects: Effect[]): Promise<void>;
  /** Sends what is due soon: call after committing a change that wrote effects. */
  kick(): void;
  /** Keeps a token for the effect `key` (in memory only, never stored). */
  lend(key: string, token: string, ttlMs?: number): void;
  start(): void;
  stop(): Promise<void>;
  /** Deletes rows sent or given up long ago. */
  prune(): Promise<number>;
}

export class Outbox implements EffectSender {
  readonly repo: OutboxStore;
  /** This sender's lease owner id. */
  readonly owner = `sender-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly kinds = new Map<string, EffectKind>();
  private readonly tokens = new Map<string, { token: string; until: number }>();
  private readonly running = new Set<Promise<void>>();
  /** Attempts that ended, recorded by the next round (`drain`) in its write transaction. */
  private ended: Ended[] = [];
  private readonly opts: OutboxOptions;
  private kicked = false;
  /** The round under way (`drain`), if any. */
  private draining: Promise<void> | undefined;
  private again = false;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private timerDone: (() => void) | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { outbox: OutboxStore; client: WebClient; logger: Logger; now: () => number; inFlight: InFlight },
    opts: Partial<OutboxOptions> = {},
  ) {
    this.repo = deps.outbox;
    this.opts = { ...DEFAULT_OUTBOX_OPTIONS, ...opts };
  }

  register(kind: string, handler: EffectKind): void {
    if (this.kinds.has(kind)) throw new Error(`outbox kind ${kind} registered twice`);
    this.kinds.set(kind, handler);
  }

  /** Keeps a token for the effect `key` (in memory only, never stored) until `ttlMs` from now. */
  lend(key: string, token: string, ttlMs = 10 * 60_000): void {
    this.tokens.set(key, { token, until: this.deps.now() + ttlMs });
  }

  /** Writes effects in their own transaction (nothing else changes with them) and sends them soon. */
  async add(effects: Effect[]): Promise<void> {
    await this.repo.add(effects, this.deps.now());
    this.kick();
  }

  /** Sends what is due soon: call after committing a change that wrote effects. */
  kick(): void {
    if (!this.started || this.stopped || this.kicked) return;
    this.kicked = true;
    void this.deps.inFlight.track(
      new Promise<void>((resolve) =>
        setImmediate(() => {
          this.kicked = false;
          void this.drain().then(resolve);
        }),
      ),
    );
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.poller = setInterval(() => void this.drain(), this.opts.pollMs);
    this.poller.unref();
    this.kick();
  }

  /** Stops taking rows; resolves once the sends under way have ended (their outcomes recorded). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    this.clearTimer();
    await Promise.allSettled([...this.running]);
    while (this.draining) await this.draining;
    await this.drain(); // records the attempts that just ended
  }

  /** Deletes rows sent or given up long ago. */
  prune(): Promise<number> {
    return this.repo.prune(this.deps.now() - this.opts.keepDoneMs);
  }

  /**
   * Runs rounds until nothing more is asked (one at a time: a call during a round asks for another
   * and gets the one under way). Resolves when they are done.
   */
  private drain(): Promise<void> {
    this.again = true;
    this.draining ??= this.rounds().finally(() => {
      this.draining = undefined;
      // Asked for between the last round's check and now: not lost.
      if (this.again && !this.stopped) void this.drain();
    });
    return this.draining;
  }

  private async rounds(): Promise<void> {
    while (this.again) {
      this.again = false;
      try {
        if (await this.round()) this.again = true;
      } catch (err) {
        this.deps.logger.error(`outbox: could not read the outbox: ${describeError(err)}`);
      }
      if (this.stopped) return;
      if (!this.again) await this.armTimer();
    }
  }

  /**
   * One round: records the attempts that ended since the last round and leases as many due rows
   * as there are free slots, in one write transaction; with nothing to record, a read first
   * (no write lock when nothing is due). true when it filled every free slot (more may be due).
   */
  private async round(): Promise<boolean> {
    const ended = this.ended;
    const free = this.stopped ? 0 : this.opts.concurrency - this.running.size;
    const now = this.deps.now();
    if (ended.length === 0 && (free <= 0 || !(await this.repo.anyDue(now)))) return false;
    this.ended = [];
    let claimed: { rows: OutboxRow[]; dueAgain: number | undefined };
    try {
      claimed = await this.repo.recordOutcomesAndClaim(ended, this.owner, now, this.opts.leaseMs, Math.max(free, 0));
    } catch (err) {
      // The store is closing (shutdown): those leases run out and the rows are sent again.
      if (ended.length > 0) this.deps.logger.warn(`outbox: could not record the outcome of ${ended.length} effect(s): ${describeError(err)}`);
      throw err;
    }
    if (claimed.dueAgain !== undefined) this.armAt(claimed.dueAgain);
    for (const row of claimed.rows) this.launch(row);
    return free > 0 && claimed.rows.length === free;
  }

  private launch(row: OutboxRow): void {
    const attempt = this.send(row).catch((err: unknown): SendOutcome => {
      // A bug in a handler's failure path: keep the row (its outcome unknown) rather than the slot.
      this.deps.logger.error(`outbox: ${row.key}: ${describeError(err)}`);
      return { state: 'retry', at: this.deps.now() + 60_000, error: describeError(err), uncertain: true };
    });
    const sending: Promise<void> = attempt.then((outcome) => {
      this.ended.push({ row, outcome });
      this.running.delete(sending);
      this.kick(); // the next round records it, with the others that end meanwhile
    });
    this.running.add(sending);
    void this.deps.inFlight.track(sending);
  }

  /**
   * A timer for the next row that falls due (a retry, a row written for later, a lease that ran
   * out). While sends are under way each one's end starts a round anyway, so the store is only
   * asked when the sender is idle; meanwhile a timer at most `BUSY_RECHECK_MS` away stands in.
   */
  private async armTimer(): Promise<void> {
    if (this.stopped) return;
    if (this.running.size > 0) return this.armAt(this.deps.now() + BUSY_RECHECK_MS, false);
    let due: number | undefined;
    try {
      due = await this.repo.nextDue();
    } catch {
      return; // the store is closing
    }
    if (this.stopped) return;
    this.clearTimer();
    if (due !== undefined) this.armAt(due);
  }

  /**
   * Makes sure a round runs at `due` (ms) or sooner. `track`: a round due within
   * `trackDueWithinMs` counts as work in flight (tests wait for it; shutdown does too).
   */
  private armAt(due: number, track = true): void {
    if (this.stopped) return;
    const now = this.deps.now();
    const tracked = track && due - now <= this.opts.trackDueWithinMs;
    if (this.timer && due >= this.timerAt && (this.timerDone !== undefined || !tracked)) return;
    const at = this.timer ? Math.min(due, this.timerAt) : due;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      const done = this.timerDone;
      this.timerDone = undefined;
      void this.drain().then(done);
    }, Math.min(Math.max(0, at - now) + 5, MAX_TIMER_MS));
    this.timer.unref();
    if (tracked) void this.deps.inFlight.track(new Promise<void>((resolve) => (this.timerDone = resolve)));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const done = this.timerDone;
    this.timerDone = undefined;
    done?.();
  }

  /** One attempt at `row`; never throws (how it went is the outcome). */
  private async send(row: OutboxRow): Promise<SendOutcome> {
    const kind = this.kinds.get(row.kind);
    if (!kind) {
      this.deps.logger.error(`outbox: ${row.key}: no handler for kind ${row.kind}`);
      return { state: 'failed', error: `no handler for kind ${row.kind}` };
    }
    const ctx = this.context(row);
    try {
      const result = await kind.send(ctx);
      if (typeof result === 'object') return { state: 'later', at: result.later };
      return { state: 'done', ...(typeof result === 'string' ? { result } : {}) };
    } catch (err) {
      return this.retryOrGiveUp(row, kind, ctx, err);
    }
  }

  /** After a failed send: done if Slack already has it, a retry while attempts are left, else given up. */
  private async retryOrGiveUp(row: OutboxRow, kind: EffectKind, ctx: EffectContext, err: unknown): Promise<SendOutcome> {
    const failure = classifySlackFailure(err);
    const why = describeError(err);
    if (failure.kind === 'already') return { state: 'done', result: failure.code };
    const delay = this.opts.retryDelaysMs[row.attempts];
    if ((failure.kind === 'transient' || failure.kind === 'rate_limited') && delay !== undefined && !this.stopped) {
      // Spread so that retries do not arrive together; Slack's Retry-After is a floor, spread upward only.
      const wait = failure.kind === 'rate_limited' ? Math.max(Math.round(failure.retryAfterMs * (1 + Math.random() * 0.1)), jitter(delay)) : jitter(delay);
      this.deps.logger.warn(`outbox: ${row.key} (team ${row.teamId}) not delivered yet (${why}); attempt ${row.attempts + 2} in ${wait} ms`);
      return { state: 'retry', at: this.deps.now() + wait, error: why, uncertain: failure.kind === 'transient' && failure.unknownOutcome };
    }
    if (this.stopped && (failure.kind === 'transient' || failure.kind === 'rate_limited')) {
      return { state: 'retry', at: this.deps.now(), error: why, uncertain: failure.kind === 'transient' && failure.unknownOutcome };
    }
    const level = failure.kind === 'gone' ? 'info' : 'error';
    this.deps.logger[level](`outbox: gave up ${row.key} (team ${row.teamId}) after ${row.attempts + 1} attempt(s): ${why}`);
    try {
      await kind.gaveUp?.(ctx, failure);
      const notify = ctx.payload['notify'] as Notify | undefined;
      if (notify) {
        await this.add([
          {
            key: `${row.key}:undelivered`,
            teamId: row.teamId,
            kind: 'message',
            target: notify.userId,
            payload: { text: `${notify.text} ${slackFailureText(failure.kind === 'transient' || failure.kind === 'rate_limited' ? undefined : failure.code)}` },
          },
        ]);
      }
    } catch (hookErr) {
      // Not given up after all: the next attempt fails the same way and runs the hook again.
      this.deps.logger.error(`outbox: ${row.key}: could not finish giving up: ${describeError(hookErr)}`);
      return { state: 'retry', at: this.deps.now() + jitter(delay ?? 60_000), error: why, uncertain: false };
    }
    return { state: 'failed', error: why };
  }

  private context(row: OutboxRow): EffectContext {
    const { client, logger } = this.deps;
    const lent = this.tokens.get(row.key);
    if (lent && lent.until < this.deps.now()) this.tokens.delete(row.key);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(row.payload) as Record<string, unknown>;
    } catch {
      payload = {};
    }
    return {
      row,
      payload,
      client,
      logger,
      now: this.deps.now(),
      token: lent && lent.until >= this.deps.now() ? lent.token : undefined,
      post: async (args) => {
        if (row.uncertain) {
          const found = await findPosted(client, args.channel, row.key, row.createdAt, args.thread_ts).catch((err: unknown) => {
            // Slack will not show Tasklane that conversation (not a member, a scope missing): a
            // second message is better than none. Slack busy or silent: try again later.
            const failure = classifySlackFailure(err);
            if (failure.kind !== 'refused' && failure.kind !== 'gone') throw err;
            logger.warn(`outbox: ${row.key}: could not look for an earlier post (${describeError(err)}); posting`);
            return undefined;
          });
          if (found) {
            logger.info(`outbox: ${row.key} had been posted (${found.channel}/${found.ts}) though Slack's answer was lost; not posting again`);
            return found;
          }
        }
        const res = await client.chat.postMessage({ ...args, metadata: { event_type: EFFECT_EVENT_TYPE, event_payload: { key: row.key } } } as ChatPostMessageArguments);
        if (!res.channel || !res.ts) throw new Error('chat.postMessage answered without channel and ts');
        return { channel: res.channel, ts: res.ts };
      },
    };
  }
}

/**
 * The longest timer: a row scheduled days ahead (a reminder) is looked at again within the hour
 * (Node fires a timer past 2^31 ms at once, which would spin).
 */
const MAX_TIMER_MS = 60 * 60_000;

/** While sends are under way, the longest the sender goes without asking the store what is due. */
const BUSY_RECHECK_MS = 1_000;

/** ±10 %: rows that failed together do not all come back at the same instant. */
function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

/** A lost post is looked for among messages at most this much older than its effect (clock skew). */
const LOOKBACK_SKEW_MS = 60_000;
/** …reading at most this many pages of 200 messages, newest first. */
const LOOKBACK_PAGES = 5;

/**
 * Finds the message tagged with `key` in `channel` (a user id means the app's DM with them), or in
 * the thread `threadTs`, among the messages posted since `since` (ms; the effect cannot have been
 * posted before it was written). Undefined when it is not there.
 */
export async function findPosted(client: WebClient, channel: string, key: string, since: number, threadTs?: string): Promise<{ channel: string; ts: string } | undefined> {
  let conversation = channel;
  if (/^[UW]/.test(channel)) {
    const opened = await client.conversations.open({ users: channel });
    conversation = opened.channel?.id ?? channel;
  }
  const oldest = (since - LOOKBACK_SKEW_MS) / 1000;
  let cursor: string | undefined;
  for (let page = 0; page < LOOKBACK_PAGES; page += 1) {
    const args = { channel: conversation, limit: 200, include_all_metadata: true, oldest: oldest.toFixed(6), ...(cursor ? { cursor } : {}) };
    const res = threadTs ? await client.conversations.replies({ ...args, ts: threadTs }) : await client.conversations.history(args);
    for (const m of res.messages ?? []) {
      const meta = (m as { metadata?: { event_type?: string; event_payload?: { key?: unknown } } }).metadata;
      if (meta?.event_type === EFFECT_EVENT_TYPE && meta.event_payload?.key === key && m.ts) return { channel: conversation, ts: m.ts };
    }
    const last = res.messages?.at(-1)?.ts;
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!cursor || (last !== undefined && Number(last) < oldest)) return undefined;
  }
  return undefined;
}

/**
 * The outbox key a message of Tasklane's carries in its metadata (`channel` + `ts`), read from
 * Slack: for a message the store has not recorded yet (a sender died between Slack's answer and
 * the record). Undefined when it is not Tasklane's or carries none.
 */
export async function effectKeyOf(client: WebClient, channel: string, ts: string): Promise<string | undefined> {
  const res = await client.conversations.replies({ channel, ts, limit: 1, include_all_metadata: true });
  const m = res.messages?.find((x) => x.ts === ts) as { metadata?: { event_type?: string; event_payload?: { key?: unknown } } } | undefined;
  const key = m?.metadata?.event_type === EFFECT_EVENT_TYPE ? m.metadata.event_payload?.key : undefined;
  return typeof key === 'string' ? key : undefined;
}
