// The outbox store's contract, run on both engines: SQLite (a file store opened as in production,
// behind its async adapter) and PostgreSQL (a database of this file's own, migrated as at
// start-up). The same cases, the same expectations; SQLite's behaviour is the reference.
// PostgreSQL alone adds senders of two instances (two pools) claiming at once.
import pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { OutboxRepository, writeEffects, type Effect } from '../../src/store/outbox.js';
import { sqliteOutboxStore, type OutboxStore } from '../../src/store/outboxStore.js';
import { pgDatabase, type PgDb } from '../../src/store/pg/db.js';
import { PgOutboxRepository, writeEffectsPg } from '../../src/store/pg/outbox.js';
import { HomeStateRepository } from '../../src/store/homeState.js';
import { sqliteHomeStateStore, type HomeStatePrefsStore } from '../../src/store/homeStateStore.js';
import { PgHomeStateRepository } from '../../src/store/pg/homeState.js';
import { PgTasksRepository } from '../../src/store/pg/tasks.js';
import { TasksRepository } from '../../src/store/tasks.js';
import type { TasksStore } from '../../src/store/tasksStore.js';
import { PgSettingsRepository } from '../../src/store/pg/settings.js';
import { SettingsRepository, type SettingsStore } from '../../src/store/settings.js';
import { auditEffect } from '../../src/features/audit/feed.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';

const msg = (key: string, over: Partial<Effect> = {}): Effect => ({ key, teamId: 'T1', kind: 'message', target: 'U1', payload: { text: key }, ...over });
const home = (spacingMs = 0): Effect => ({ key: 'home:T1:U1', teamId: 'T1', kind: 'home', target: 'U1', coalesce: true, spacingMs });

/** One engine's outbox, and a change that writes effects and then fails. */
interface Engine {
  repo: OutboxStore;
  /** Writes `effects` in a transaction that then throws `error`. */
  failingChange(effects: Effect[], now: number, error: Error): Promise<void>;
  tasks: TasksStore;
  homeState: HomeStatePrefsStore;
  settings: SettingsStore;
}

function sqliteEngine(store: Store): Engine {
  return {
    repo: sqliteOutboxStore(new OutboxRepository(store)),
    tasks: new TasksRepository(store),
    homeState: sqliteHomeStateStore(new HomeStateRepository(store), store),
    settings: new SettingsRepository(store),
    failingChange: async (effects, now, error) =>
      store.write(() => {
        writeEffects(store, effects, now);
        throw error;
      }),
  };
}

function pgEngine(db: PgDb): Engine {
  return {
    repo: new PgOutboxRepository(db),
    tasks: new PgTasksRepository(db),
    homeState: new PgHomeStateRepository(db),
    settings: new PgSettingsRepository(db),
    failingChange: async (effects, now, error) =>
      db.transaction(async (tx) => {
        await writeEffectsPg(tx, effects, now);
        throw error;
      }),
  };
}

function contract(current: () => Engine): void {
  const repo = () => current().repo;

  it('writes an effect once per key, in the caller’s transaction', async () => {
    await repo().add([msg('a'), msg('a'), msg('b')], 1_000);
    await repo().add([msg('a')], 2_000);
    await repo().add([], 2_000);
    expect((await repo().all()).map((r) => [r.key, r.state, r.generation, r.createdAt])).toEqual([
      ['a', 'pending', 0, 1_000],
      ['b', 'pending', 0, 1_000],
    ]);
    expect(await repo().byKey('a')).toMatchObject({ teamId: 'T1', kind: 'message', target: 'U1', payload: '{"text":"a"}', attempts: 0, nextAttemptAt: 1_000, spacingMs: 0, leaseOwner: null, leaseUntil: null, uncertain: false, lastError: null, result: null, updatedAt: 1_000 });
    // A transaction that fails takes its effects with it.
    await expect(current().failingChange([msg('c')], 3_000, new Error('the change failed'))).rejects.toThrow('the change failed');
    expect(await repo().byKey('c')).toBeUndefined();
    expect(await repo().counts()).toEqual({ pending: 2, done: 0, failed: 0 });
  });

  it('leases each due row to one sender; a lease that ran out is taken over and marked uncertain', async () => {
    await repo().add([msg('a'), { ...msg('later'), notBefore: 5_000 }], 1_000);
    const first = await repo().claim('s1', 1_000, 100, 10);
    expect(first.map((r) => [r.key, r.leaseOwner, r.leaseUntil, r.uncertain])).toEqual([['a', 's1', 1_100, false]]);
    expect(await repo().claim('s2', 1_050, 100, 10)).toEqual([]); // held by s1, and `later` is not due
    expect(await repo().claim('s2', 1_100, 100, 10)).toEqual([]); // held until its last ms
    const taken = await repo().claim('s2', 1_200, 100, 10);
    expect(taken.map((r) => [r.key, r.leaseOwner, r.uncertain])).toEqual([['a', 's2', true]]);
    // s1 comes back late: its outcome no longer counts.
    expect(await repo().recordOutcome(first[0]!, 's1', { state: 'done' }, 1_250)).toBeUndefined();
    expect(await repo().byKey('a')).toMatchObject({ state: 'pending', leaseOwner: 's2' });
    await repo().recordOutcome(first[0]!, 's1', { state: 'failed', error: 'late' }, 1_250);
    await repo().recordOutcome(first[0]!, 's1', { state: 'retry', at: 9_999, error: 'late', uncertain: false }, 1_250);
    expect(await repo().byKey('a')).toMatchObject({ state: 'pending', leaseOwner: 's2', lastError: null, nextAttemptAt: 1_000 });
    await repo().recordOutcome(taken[0]!, 's2', { state: 'done', result: 'D1/1.0' }, 1_260);
    expect(await repo().byKey('a')).toMatchObject({ state: 'done', result: 'D1/1.0', leaseOwner: null, leaseUntil: null, attempts: 1, uncertain: false, updatedAt: 1_260 });
    expect(await repo().nextDue()).toBe(5_000);
  });

  it('claims oldest due first, at most `limit`, returning them in id order; nothing with no room', async () => {
    await repo().add([msg('k1', { notBefore: 3_000 }), msg('k2', { notBefore: 1_000 }), msg('k3', { notBefore: 2_000 }), msg('k4', { notBefore: 1_500 })], 500);
    expect(await repo().claim('s1', 5_000, 100, 0)).toEqual([]);
    const two = await repo().claim('s1', 5_000, 100, 2);
    expect(two.map((r) => r.key)).toEqual(['k2', 'k4']);
    const rest = await repo().claim('s1', 5_000, 100, 10);
    expect(rest.map((r) => r.key)).toEqual(['k1', 'k3']);
  });

  it('retries at the given time, keeps whether the outcome is unknown, and records why it gave up', async () => {
    await repo().add([msg('a')], 1_000);
    const [row] = await repo().claim('s1', 1_000, 100, 10);
    expect(await repo().recordOutcome(row!, 's1', { state: 'retry', at: 1_500, error: 'request timed out', uncertain: true }, 1_010)).toBe(1_500);
    expect(await repo().byKey('a')).toMatchObject({ leaseOwner: null, leaseUntil: null, updatedAt: 1_010 });
    expect(await repo().claim('s1', 1_400, 100, 10)).toEqual([]);
    const [again] = await repo().claim('s1', 1_500, 100, 10);
    expect(again).toMatchObject({ attempts: 1, uncertain: true, lastError: 'request timed out' });
    expect(await repo().recordOutcome(again!, 's1', { state: 'failed', error: 'missing_scope' }, 1_510)).toBeUndefined();
    expect(await repo().byKey('a')).toMatchObject({ state: 'failed', attempts: 2, lastError: 'missing_scope', leaseOwner: null });
    expect(await repo().counts()).toEqual({ pending: 0, done: 0, failed: 1 });
    expect(await repo().nextDue()).toBeUndefined();
    // Written again, not coalescing: it stays given up.
    await repo().add([msg('a')], 2_000);
    expect(await repo().byKey('a')).toMatchObject({ state: 'failed' });
  });

  it('a scheduled row that is not due yet comes back at its time, no attempt counted, nothing recorded as an error', async () => {
    await repo().add([{ ...msg('s'), notBefore: 5_000 }], 1_000);
    expect(await repo().claim('s1', 4_999, 100, 10)).toEqual([]);
    expect(await repo().nextDue()).toBe(5_000);
    const [row] = await repo().claim('s1', 5_000, 100, 10);
    await repo().recordOutcome(row!, 's1', { state: 'retry', at: 5_100, error: 'slow', uncertain: true }, 5_010);
    const [again] = await repo().claim('s1', 5_100, 100, 10);
    expect(await repo().recordOutcome(again!, 's1', { state: 'later', at: 90_000 }, 5_110)).toBe(90_000);
    expect(await repo().byKey('s')).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: 90_000, lastError: null, uncertain: false, leaseOwner: null });
    expect(await repo().claim('s1', 89_999, 100, 10)).toEqual([]);
    expect(await repo().claim('s1', 90_000, 100, 10)).toHaveLength(1);
  });

  it('coalesces: a row written again while being sent is sent once more, with the newest state', async () => {
    await repo().add([home()], 1_000);
    const [row] = await repo().claim('s1', 1_000, 100, 10);
    await repo().add([home(), home()], 1_010); // two changes while the publish is under way
    expect(await repo().recordOutcome(row!, 's1', { state: 'done' }, 1_020)).toBe(1_020);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ state: 'pending', generation: 2, attempts: 0 });
    const [next] = await repo().claim('s1', 1_030, 100, 10);
    await repo().recordOutcome(next!, 's1', { state: 'done' }, 1_040);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ state: 'done', generation: 2 });
    // Written after it was sent: due again.
    await repo().add([home()], 2_000);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ state: 'pending', generation: 3, nextAttemptAt: 2_000 });
  });

  it('coalescing: a pending row keeps its earlier due time and retry count; a given-up one starts over', async () => {
    await repo().add([{ ...home(), notBefore: 5_000, payload: { v: 1 } }], 1_000);
    await repo().add([{ ...home(), notBefore: 3_000, payload: { v: 2 } }], 1_100);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ nextAttemptAt: 3_000, payload: '{"v":2}', generation: 1, updatedAt: 1_100, createdAt: 1_000 });
    await repo().add([{ ...home(), notBefore: 4_000 }], 1_200);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ nextAttemptAt: 3_000 });
    const [row] = await repo().claim('s1', 3_000, 100, 10);
    await repo().recordOutcome(row!, 's1', { state: 'retry', at: 3_500, error: 'x', uncertain: false }, 3_010);
    await repo().add([home()], 3_020);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ nextAttemptAt: 3_020, attempts: 1 });
    const [again] = await repo().claim('s1', 3_020, 100, 10);
    await repo().recordOutcome(again!, 's1', { state: 'failed', error: 'gone' }, 3_030);
    await repo().add([home(100)], 3_040);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: 3_130, spacingMs: 100 });
  });

  it('spacing: a burst of writes after a send is one more send, no sooner than the spacing', async () => {
    await repo().add([home(250)], 1_000);
    const [row] = await repo().claim('s1', 1_000, 100, 10);
    await repo().recordOutcome(row!, 's1', { state: 'done' }, 1_010);
    for (let at = 1_020; at < 1_200; at += 10) await repo().add([home(250)], at);
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ state: 'pending', nextAttemptAt: 1_260 });
    expect(await repo().anyDue(1_200)).toBe(false);
    expect(await repo().claim('s1', 1_200, 100, 10)).toEqual([]);
    expect(await repo().anyDue(1_260)).toBe(true);
    expect(await repo().claim('s1', 1_260, 100, 10)).toHaveLength(1);
  });

  it('records a round of ended attempts and leases the next rows in one transaction, saying when a recorded row is due again', async () => {
    await repo().add([msg('a'), msg('b'), home(250)], 1_000);
    const rows = await repo().claim('s1', 1_000, 100, 10);
    expect(rows.map((r) => r.key)).toEqual(['a', 'b', 'home:T1:U1']);
    await repo().add([msg('c'), home(250)], 1_010); // a new row, and the Home written again while it is sent
    const byKey = (k: string) => rows.find((r) => r.key === k)!;
    const round = await repo().recordOutcomesAndClaim(
      [
        { row: byKey('a'), outcome: { state: 'done', result: 'D1/1.0' } },
        { row: byKey('b'), outcome: { state: 'retry', at: 1_900, error: 'ratelimited', uncertain: false } },
        { row: byKey('home:T1:U1'), outcome: { state: 'done' } },
      ],
      's1',
      1_020,
      100,
      10,
    );
    expect(round.rows.map((r) => [r.key, r.leaseOwner, r.leaseUntil])).toEqual([['c', 's1', 1_120]]);
    expect(round.dueAgain).toBe(1_270); // the Home, 250 ms after its send (before b's retry)
    expect(await repo().byKey('a')).toMatchObject({ state: 'done', result: 'D1/1.0', leaseOwner: null });
    expect(await repo().byKey('b')).toMatchObject({ state: 'pending', nextAttemptAt: 1_900, lastError: 'ratelimited', leaseOwner: null });
    expect(await repo().byKey('home:T1:U1')).toMatchObject({ state: 'pending', generation: 1, nextAttemptAt: 1_270 });
    // Nothing ended and no free slot: nothing leased.
    expect(await repo().recordOutcomesAndClaim([], 's1', 2_000, 100, 0)).toEqual({ rows: [], dueAgain: undefined });
    expect((await repo().byKey('b'))?.leaseOwner).toBeNull();
    // Only failures and done: nothing due again.
    const [b] = await repo().claim('s1', 2_000, 100, 10);
    expect(await repo().recordOutcomesAndClaim([{ row: b!, outcome: { state: 'failed', error: 'x' } }], 's1', 2_010, 100, 10)).toMatchObject({ dueAgain: undefined });
  });

  it('says when to look next: the first free due row or the first lease to run out', async () => {
    expect(await repo().nextDue()).toBeUndefined();
    expect(await repo().anyDue(1_000)).toBe(false);
    await repo().add([msg('a'), msg('b', { notBefore: 9_000 })], 1_000);
    expect(await repo().nextDue()).toBe(1_000);
    expect(await repo().anyDue(999)).toBe(false);
    expect(await repo().anyDue(1_000)).toBe(true);
    await repo().claim('s1', 1_000, 500, 10);
    expect(await repo().anyDue(1_200)).toBe(false); // held
    expect(await repo().nextDue()).toBe(1_500); // the lease runs out before b is due
    expect(await repo().anyDue(1_501)).toBe(true); // its sender died
  });

  it('writes an effect with a condition only when the condition holds in the transaction', async () => {
    const { task } = await current().tasks.create({ teamId: 'T1', title: 'Carded', assigneeId: 'U1', creatorId: 'U2', origin: 'command' }, 1_000);
    const { task: bare } = await current().tasks.create({ teamId: 'T1', title: 'No card yet', assigneeId: 'U1', creatorId: 'U2', origin: 'command' }, 1_000);
    await current().tasks.recordMessage('T1', task.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
    await current().homeState.touch('T1', 'U1', 5_000);
    const publish = (target: string, since: number): Effect => ({ ...home(), key: `home:T1:${target}`, target, onlyIf: { homeOpenedSince: since } });
    const refresh = (taskId: number, teamId = 'T1'): Effect => ({ key: `task:${taskId}:cards:${teamId}`, teamId, kind: 'task.cards', target: String(taskId), coalesce: true, onlyIf: { taskHasCards: taskId } });
    await repo().add(
      [
        publish('U1', 4_000), // opened at 5,000: written
        { ...publish('U1', 6_000), key: 'home:T1:U1:since-6000' }, // opened before 6,000: not
        publish('U9', 0), // never opened: not
        refresh(task.id), // has a card: written
        refresh(bare.id), // none yet: not
        refresh(task.id, 'T2'), // another workspace's task id: not
        msg('plain'), // no condition: written
      ],
      7_000,
    );
    expect((await repo().all()).map((r) => r.key).sort()).toEqual(['home:T1:U1', 'plain', `task:${task.id}:cards:T1`].sort());
  });

  it('writes an audit event only for a workspace with a saved webhook URL, unless every workspace has a feed', async () => {
    await current().settings.saveWorkspace('T1', { auditWebhookUrl: 'https://hooks.slack.com/services/T1/B1/x' }, 'UADMIN', 1_000);
    await current().settings.saveWorkspace('T3', { auditWebhookUrl: null }, 'UADMIN', 1_000); // cleared
    const event = (teamId: string) => ({ key: `approval:1:decided:${teamId}`, teamId, text: 'decided' });
    await repo().add(['T1', 'T2', 'T3'].map((t) => auditEffect(event(t), { everyWorkspace: false })), 2_000);
    expect((await repo().all()).map((r) => r.key)).toEqual(['audit:approval:1:decided:T1']);
    await repo().add(['T2', 'T3'].map((t) => auditEffect(event(t), { everyWorkspace: true })), 2_000);
    expect((await repo().all()).map((r) => r.key).sort()).toEqual(['audit:approval:1:decided:T1', 'audit:approval:1:decided:T2', 'audit:approval:1:decided:T3']);
  });

  it('tells whether a workspace has an effect of a kind still to send', async () => {
    await repo().add([msg('a'), { ...home(), teamId: 'T2' }], 1_000);
    expect(await repo().hasPending('T1', 'message')).toBe(true);
    expect(await repo().hasPending('T1', 'home')).toBe(false);
    expect(await repo().hasPending('T2', 'home')).toBe(true);
    const rows = await repo().claim('s1', 1_000, 100, 10);
    expect(await repo().hasPending('T1', 'message')).toBe(true); // being sent still counts
    await repo().recordOutcome(rows.find((r) => r.key === 'a')!, 's1', { state: 'done' }, 1_010);
    expect(await repo().hasPending('T1', 'message')).toBe(false);
  });

  it('prunes rows sent or given up long ago, never pending ones', async () => {
    await repo().add([msg('old'), msg('failed'), msg('waiting')], 1_000);
    const rows = await repo().claim('s1', 1_000, 100, 10);
    await repo().recordOutcome(rows.find((r) => r.key === 'old')!, 's1', { state: 'done' }, 1_100);
    await repo().recordOutcome(rows.find((r) => r.key === 'failed')!, 's1', { state: 'failed', error: 'x' }, 1_100);
    await repo().recordOutcome(rows.find((r) => r.key === 'waiting')!, 's1', { state: 'retry', at: 9_000, error: 'x', uncertain: false }, 1_100);
    expect(await repo().prune(1_050)).toBe(0);
    expect(await repo().prune(1_100)).toBe(2);
    expect((await repo().all()).map((r) => r.key)).toEqual(['waiting']);
    expect(await repo().counts()).toEqual({ pending: 1, done: 0, failed: 0 });
  });
}

describe('outbox store on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: Engine;
  beforeEach(() => {
    engine = sqliteEngine(sqlite.store);
  });
  contract(() => engine);
});

describePostgres('outbox store on PostgreSQL', () => {
  const database = useMigratedPool(4);
  let engine: Engine;
  beforeAll(() => {
    engine = pgEngine(pgDatabase(database.pool));
  });
  contract(() => engine);

  describe('what PostgreSQL text cannot hold', () => {
    it('drops NUL, which PostgreSQL text cannot hold, from an error or result instead of failing to record the outcome', async () => {
      await engine.repo.add([msg('a'), msg('b')], 1_000);
      const [a, b] = await engine.repo.claim('s1', 1_000, 100, 10);
      const round = await engine.repo.recordOutcomesAndClaim(
        [
          { row: a!, outcome: { state: 'failed', error: 'invalid_blocks: \u0000 in text' } },
          { row: b!, outcome: { state: 'done', result: 'D1/\u00001.0' } },
        ],
        's1',
        1_010,
        100,
        10,
      );
      expect(round).toEqual({ rows: [], dueAgain: undefined });
      expect(await engine.repo.byKey('a')).toMatchObject({ state: 'failed', lastError: 'invalid_blocks:  in text' });
      expect(await engine.repo.byKey('b')).toMatchObject({ state: 'done', result: 'D1/1.0' });
    });
  });

  describe('senders of several instances on one database', () => {
    const twoInstances = () => [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 4 }));

    it('two instances claiming at once from 200 due rows claim each row exactly once between them', async () => {
      const pools = twoInstances();
      try {
        await engine.repo.add(Array.from({ length: 200 }, (_, i) => msg(`m${String(i).padStart(3, '0')}`, { notBefore: 1_000 + (i % 7) })), 900);
        const senders = pools.map((p, i) => ({ owner: `instance-${i}`, repo: new PgOutboxRepository(pgDatabase(p)) }));
        const claimed = new Map<string, string[]>();
        // Each instance claims in rounds of 7 from 4 connections at once until nothing is left.
        await Promise.all(
          senders.flatMap(({ owner, repo }) =>
            [0, 1, 2, 3].map(async () => {
              for (;;) {
                const rows = await repo.claim(owner, 2_000, 60_000, 7);
                if (rows.length === 0 && !(await repo.anyDue(2_000))) return;
                for (const r of rows) claimed.set(r.key, [...(claimed.get(r.key) ?? []), owner]);
              }
            }),
          ),
        );
        expect(claimed.size).toBe(200);
        expect([...claimed.values()].every((owners) => owners.length === 1)).toBe(true);
        const owners = [...claimed.values()].map((o) => o[0]);
        // Both instances took a share (SKIP LOCKED: neither waited for the other's rows).
        expect(new Set(owners).size).toBe(2);
        const rows = await engine.repo.all();
        expect(rows.every((r) => r.leaseOwner === claimed.get(r.key)![0] && r.leaseUntil === 62_000 && !r.uncertain)).toBe(true);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('an instance takes over a lease that ran out; the first instance’s late outcome is refused', async () => {
      const pools = twoInstances();
      try {
        const [one, two] = pools.map((p) => new PgOutboxRepository(pgDatabase(p)));
        await engine.repo.add([msg('a'), home()], 1_000);
        const mine = await one!.claim('instance-0', 1_000, 100, 10);
        expect(mine).toHaveLength(2);
        expect(await two!.claim('instance-1', 1_050, 100, 10)).toEqual([]);
        const taken = await two!.claim('instance-1', 1_101, 100, 10);
        expect(taken.map((r) => [r.key, r.leaseOwner, r.uncertain])).toEqual([
          ['a', 'instance-1', true],
          ['home:T1:U1', 'instance-1', true],
        ]);
        // The first instance comes back: done, retried or failed, none of it counts.
        const late = await one!.recordOutcomesAndClaim(
          [
            { row: mine[0]!, outcome: { state: 'done', result: 'D1/1.0' } },
            { row: mine[1]!, outcome: { state: 'failed', error: 'late' } },
          ],
          'instance-0',
          1_150,
          100,
          10,
        );
        expect(late).toEqual({ rows: [], dueAgain: undefined });
        expect(await one!.recordOutcome(mine[0]!, 'instance-0', { state: 'retry', at: 5_000, error: 'late', uncertain: false }, 1_150)).toBe(5_000);
        expect((await engine.repo.all()).map((r) => [r.key, r.state, r.leaseOwner, r.result, r.lastError, r.nextAttemptAt])).toEqual([
          ['a', 'pending', 'instance-1', null, null, 1_000],
          ['home:T1:U1', 'pending', 'instance-1', null, null, 1_000],
        ]);
        await two!.recordOutcomesAndClaim(taken.map((row) => ({ row, outcome: { state: 'done' as const } })), 'instance-1', 1_160, 100, 10);
        expect(await engine.repo.counts()).toEqual({ pending: 0, done: 2, failed: 0 });
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('a round settling rows while a change writes the same effects in the other order does not deadlock', async () => {
      const homeOf = (user: string): Effect => ({ key: `home:T1:${user}`, teamId: 'T1', kind: 'home', target: user, coalesce: true });
      // U2's Home row is older (a smaller id) than U1's: id order and key order disagree.
      await engine.repo.add([homeOf('U2')], 1_000);
      await engine.repo.add([homeOf('U1')], 1_000);
      const rows = await engine.repo.claim('s1', 1_000, 60_000, 10);
      expect(rows.map((r) => r.key)).toEqual(['home:T1:U2', 'home:T1:U1']);
      const db = pgDatabase(database.pool);
      let wroteFirst!: () => void;
      let goOn!: () => void;
      const firstWritten = new Promise<void>((r) => (wroteFirst = r));
      const mayGoOn = new Promise<void>((r) => (goOn = r));
      // A change owing both Homes: it writes them in key order (U1, then U2), holding U1's row.
      const change = db.transaction(async (tx) => {
        await writeEffectsPg(tx, [homeOf('U1')], 1_010);
        wroteFirst();
        await mayGoOn;
        await writeEffectsPg(tx, [homeOf('U2')], 1_010);
      });
      await firstWritten;
      const round = new PgOutboxRepository(pgDatabase(database.pool)).recordOutcomesAndClaim(
        rows.map((row) => ({ row, outcome: { state: 'done' as const } })),
        's1',
        1_020,
        100,
        10,
      );
      await new Promise((r) => setTimeout(r, 150)); // the round waits for U1's row
      goOn();
      await change;
      // Both were written again while being sent: pending once more, and leased again by the round.
      const after = await round;
      expect(after.dueAgain).toBe(1_020);
      expect(after.rows.map((r) => [r.key, r.state, r.generation, r.leaseOwner])).toEqual([
        ['home:T1:U2', 'pending', 1, 's1'],
        ['home:T1:U1', 'pending', 1, 's1'],
      ]);
    });

    it('a prune skips sent rows a change is writing again at that moment, instead of waiting for them', async () => {
      const homeOf = (user: string): Effect => ({ key: `home:T1:${user}`, teamId: 'T1', kind: 'home', target: user, coalesce: true });
      await engine.repo.add([homeOf('U1'), homeOf('U2')], 1_000);
      const rows = await engine.repo.claim('s1', 1_000, 100, 10);
      await engine.repo.recordOutcomesAndClaim(rows.map((row) => ({ row, outcome: { state: 'done' as const } })), 's1', 1_010, 100, 0);
      let goOn!: () => void;
      let wrote!: () => void;
      const written = new Promise<void>((r) => (wrote = r));
      const mayGoOn = new Promise<void>((r) => (goOn = r));
      const change = pgDatabase(database.pool).transaction(async (tx) => {
        await writeEffectsPg(tx, [homeOf('U1')], 9_000);
        wrote();
        await mayGoOn;
        await writeEffectsPg(tx, [homeOf('U2')], 9_000);
      });
      await written;
      expect(await engine.repo.prune(5_000)).toBe(1); // U2 only: U1 is being written again
      goOn();
      await change;
      expect((await engine.repo.all()).map((r) => [r.key, r.state])).toEqual([
        ['home:T1:U1', 'pending'],
        ['home:T1:U2', 'pending'],
      ]);
    });

    it('two instances sending in rounds while changes write Homes again in any order and prunes run: no error, everything sent', async () => {
      const pools = twoInstances();
      try {
        let t = 10_000;
        const tick = () => (t += 1);
        const homeOf = (user: string): Effect => ({ key: `home:T1:U${user}`, teamId: 'T1', kind: 'home', target: `U${user}`, coalesce: true });
        const db = pgDatabase(database.pool);
        let writing = true;
        const changes = (async () => {
          for (let i = 0; i < 40; i++) {
            const users = Array.from({ length: 5 }, (_, j) => String((i * 7 + j * 13) % 17));
            await db.transaction((tx) => writeEffectsPg(tx, users.map(homeOf), tick()));
          }
          writing = false;
        })();
        const sender = async (repo: PgOutboxRepository, owner: string) => {
          let held: Awaited<ReturnType<PgOutboxRepository['claim']>> = [];
          for (let n = 1; ; n++) {
            const round = await repo.recordOutcomesAndClaim(held.map((row) => ({ row, outcome: { state: 'done' as const } })), owner, tick(), 60_000, 4);
            held = round.rows;
            if (n % 10 === 0) await repo.prune(t - 5);
            if (held.length === 0 && !writing && !(await repo.anyDue(tick()))) return;
          }
        };
        await Promise.all([...pools.map((p, i) => sender(new PgOutboxRepository(pgDatabase(p)), `instance-${i}`)), changes]);
        expect((await engine.repo.counts()).pending).toBe(0);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('a claim skips rows another instance’s claim transaction holds, instead of waiting for it', async () => {
      await engine.repo.add([msg('a'), msg('b')], 1_000);
      const holder = await database.pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query("SELECT id FROM outbox WHERE key = 'a' FOR UPDATE");
        const other = new PgOutboxRepository(pgDatabase(database.pool));
        expect((await other.claim('instance-1', 1_000, 100, 10)).map((r) => r.key)).toEqual(['b']);
        await holder.query('ROLLBACK');
        expect((await other.claim('instance-1', 1_000, 100, 10)).map((r) => r.key)).toEqual(['a']);
      } finally {
        holder.release();
      }
    });
  });
});
