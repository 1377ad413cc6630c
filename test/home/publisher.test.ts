import type { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePublisher } from '../../src/features/home/publisher.js';
import { Background, InFlight } from '../../src/runtime.js';
import type { UserDirectory } from '../../src/slack/users.js';
import { DashboardReadModel } from '../../src/store/dashboard.js';
import { openStore, type Store } from '../../src/store/db.js';
import { HomeStateRepository } from '../../src/store/homeState.js';
import { CapturingLogger } from '../support/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HomePublisher (coalescing)', () => {
  let store: Store;
  let inFlight: InFlight;
  let published: { user: string; at: number }[];
  let running: number;
  let maxRunning: number;
  let publishDelayMs: number;

  beforeEach(async () => {
    store = openStore(':memory:');
    inFlight = new InFlight();
    published = [];
    running = 0;
    maxRunning = 0;
    publishDelayMs = 0;
    const homes = new HomeStateRepository(store);
    for (const u of ['UA', 'UB']) await homes.touch('T1', u);
  });
  afterEach(() => store.close());

  function publisher(opts: { minIntervalMs?: number } = {}): HomePublisher {
    const client = {
      views: {
        publish: async (args: { user_id: string }) => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await sleep(publishDelayMs);
          running -= 1;
          published.push({ user: args.user_id, at: Date.now() });
          return { ok: true };
        },
      },
    } as unknown as WebClient;
    const logger = new CapturingLogger();
    return new HomePublisher({
      client,
      dashboard: new DashboardReadModel(store),
      homeState: new HomeStateRepository(store),
      users: { get: async (id: string) => ({ id, tz: 'UTC', isGuest: false }) } as unknown as UserDirectory,
      background: new Background(inFlight, logger),
      logger,
      now: Date.now,
      ...opts,
    });
  }

  it('publishes a lone change at once, without waiting for more', async () => {
    const p = publisher({ minIntervalMs: 5_000 });
    const start = Date.now();
    p.changed('T1', ['UA']);
    await inFlight.idle(2_000);
    expect(published.map((x) => x.user)).toEqual(['UA']);
    expect((published[0] as { at: number }).at - start).toBeLessThan(200);
  });

  it('turns a burst into one publish per user, and InFlight waits for the timer', async () => {
    const p = publisher({ minIntervalMs: 50 });
    for (let i = 0; i < 20; i++) p.changed('T1', ['UA', 'UB', 'UA', null]);
    expect(inFlight.size).toBeGreaterThan(0); // the scheduled publish itself is tracked
    expect(await inFlight.idle(2_000)).toBe(true);
    expect(published.map((x) => x.user).sort()).toEqual(['UA', 'UB']);
  });

  it('keeps one publish in flight per user and publishes once more for changes made during it', async () => {
    publishDelayMs = 150;
    const p = publisher({ minIntervalMs: 20 });
    p.changed('T1', ['UA']);
    await sleep(60); // first publish is running now
    for (let i = 0; i < 10; i++) p.changed('T1', ['UA']);
    p.publishNow('T1', 'UA');
    await inFlight.idle(3_000);
    expect(published.filter((x) => x.user === 'UA')).toHaveLength(2);
    expect(maxRunning).toBe(1);
  });

  it('under a steady stream of changes publishes about once per interval, never once per change', async () => {
    const p = publisher({ minIntervalMs: 300 });
    const start = Date.now();
    for (let i = 0; i < 25; i++) {
      p.changed('T1', ['UA']);
      await sleep(40);
    }
    await inFlight.idle(3_000);
    const first = published[0];
    expect(first && first.at - start).toBeLessThan(700);
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(published.length).toBeLessThanOrEqual(6);
  });

  it('skips users who never opened the Home', async () => {
    const p = publisher({ minIntervalMs: 10 });
    p.changed('T1', ['UNEVER']);
    p.changed('T2', ['UA']); // UA opened it in T1, not in T2
    await inFlight.idle(2_000);
    expect(published).toEqual([]);
  });
});
