// The deliveries store's contract, run on both engines: SQLite (a file store opened as in
// production, behind its async adapter) and PostgreSQL (a database of this file's own, migrated as
// at start-up). The same cases, the same expectations; SQLite's behaviour is the reference.
// PostgreSQL alone adds one delivery reaching two instances (two pools) at once.
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { DeliveriesRepository } from '../../src/store/deliveries.js';
import { sqliteDeliveriesStore, type DeliveriesStore } from '../../src/store/deliveriesStore.js';
import { pgDatabase } from '../../src/store/pg/db.js';
import { PgDeliveriesRepository } from '../../src/store/pg/deliveries.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';

interface DeliveryRow {
  state: string;
  body: string | null;
  attempts: number;
  claimedAt: number | null;
  receivedAt: number;
}

/** One engine's deliveries (on a clock the test moves), and what the tests read and set behind its back. */
interface Engine {
  repo: DeliveriesStore;
  /** Another repository on the same store: the process after a restart. */
  restarted(): DeliveriesStore;
  row(key: string): Promise<DeliveryRow | undefined>;
  keys(): Promise<string[]>;
  setReceivedAt(keys: string[], at: number): Promise<void>;
}

let clock = 1_700_000_000_000;
const now = () => clock;

function sqliteEngine(store: Store): Engine {
  return {
    repo: sqliteDeliveriesStore(new DeliveriesRepository(store, now)),
    restarted: () => sqliteDeliveriesStore(new DeliveriesRepository(store, now)),
    row: async (key) =>
      store.sqlite.prepare('SELECT state, body, attempts, claimed_at AS claimedAt, received_at AS receivedAt FROM processed_deliveries WHERE key = ?').get(key) as DeliveryRow | undefined,
    keys: async () => (store.sqlite.prepare('SELECT key FROM processed_deliveries ORDER BY key').all() as { key: string }[]).map((r) => r.key),
    setReceivedAt: async (keys, at) => {
      for (const key of keys) store.sqlite.prepare('UPDATE processed_deliveries SET received_at = ? WHERE key = ?').run(at, key);
    },
  };
}

function pgEngine(pool: pg.Pool): Engine {
  return {
    repo: new PgDeliveriesRepository(pgDatabase(pool), now),
    restarted: () => new PgDeliveriesRepository(pgDatabase(pool), now),
    row: async (key) => {
      const { rows } = await pool.query<DeliveryRow>(
        'SELECT state, body, attempts, claimed_at::float8 AS "claimedAt", received_at::float8 AS "receivedAt" FROM processed_deliveries WHERE key = $1',
        [key],
      );
      return rows[0];
    },
    keys: async () => (await pool.query<{ key: string }>('SELECT key FROM processed_deliveries ORDER BY key COLLATE "C"')).rows.map((r) => r.key),
    setReceivedAt: async (keys, at) => {
      await pool.query('UPDATE processed_deliveries SET received_at = $1 WHERE key = ANY($2)', [at, keys]);
    },
  };
}

function contract(current: () => Engine): void {
  const e = () => current();
  const repo = () => current().repo;

  it('takes a delivery once: fresh, then a duplicate while it is handled and after it was finished', async () => {
    const t0 = clock;
    expect(await repo().claim('T1', 'event:Ev1', '{"n":1}')).toBe('fresh');
    expect(await e().row('event:Ev1')).toEqual({ state: 'handling', body: '{"n":1}', attempts: 1, claimedAt: t0, receivedAt: t0 });
    clock += 1_000;
    expect(await repo().claim('T1', 'event:Ev1', '{"n":1}')).toBe('duplicate');
    await repo().finish('event:Ev1');
    expect(await e().row('event:Ev1')).toMatchObject({ state: 'done', body: null, attempts: 1, claimedAt: t0 });
    clock += 60_000;
    expect(await repo().claim('T1', 'event:Ev1', '{"n":1}')).toBe('duplicate');
  });

  it('after a restart: a finished delivery is a duplicate, one cut short is listed and resumed', async () => {
    const t0 = clock;
    expect(await repo().claim('T1', 'event:Ev1', '{"n":1}')).toBe('fresh');
    await repo().finish('event:Ev1');
    // Taken but never finished (the process died while handling it): its body must survive.
    expect(await repo().claim('T1', 'event:Ev2', '{"n":2}')).toBe('fresh');
    clock = t0 + 31_000;
    const after = e().restarted();
    expect(await after.claim('T1', 'event:Ev1', '{"n":1}')).toBe('duplicate');
    expect(await after.unfinished(t0 + 1)).toEqual([{ key: 'event:Ev2', body: '{"n":2}' }]);
    expect(await after.claim('T1', 'event:Ev2', '{"n":2}')).toBe('resume');
    expect(await after.unfinished(t0 + 1)).toEqual([]);
  });

  it('resumes a claim taken more than `staleMs` ago and never finished, at most `maxAttempts` in all', async () => {
    const t0 = clock;
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('fresh');
    clock = t0 + 30_000;
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('duplicate'); // not older than 30 s yet
    clock = t0 + 30_001;
    expect(await repo().claim('T1', 'event:Ev1', '{"other":"body"}')).toBe('resume');
    expect(await e().row('event:Ev1')).toMatchObject({ state: 'handling', attempts: 2, claimedAt: t0 + 30_001, receivedAt: t0, body: '{}' });
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('duplicate'); // the resumed claim is fresh again
    clock += 10_001;
    expect(await repo().claim('T1', 'event:Ev1', '{}', 10_000)).toBe('resume');
    clock += 10_001;
    expect(await repo().claim('T1', 'event:Ev1', '{}', 10_000)).toBe('duplicate'); // three attempts made
    expect(await repo().claim('T1', 'event:Ev1', '{}', 10_000, 4)).toBe('resume');
    expect(await e().row('event:Ev1')).toMatchObject({ attempts: 4 });
  });

  it('records handled deliveries as done with the next claim, or shortly after on their own', async () => {
    expect(await repo().claim('T1', 'event:Ev1', '{"a":1}')).toBe('fresh');
    const first = repo().finish('event:Ev1');
    expect((await e().row('event:Ev1'))?.state).toBe('handling'); // not yet recorded…
    expect(await repo().claim('T1', 'event:Ev2', '{}')).toBe('fresh');
    expect(await e().row('event:Ev1')).toMatchObject({ state: 'done', body: null }); // …recorded in the next claim's transaction
    const second = repo().finish('event:Ev2');
    await Promise.all([first, second]);
    expect(await e().row('event:Ev2')).toMatchObject({ state: 'done', body: null }); // no claim came: recorded by the timer
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('duplicate');
    // A burst of finishes: one batch, every one recorded.
    for (const k of ['event:Ev3', 'event:Ev4', 'event:Ev5']) await repo().claim('T1', k, '{}');
    await Promise.all(['event:Ev5', 'event:Ev3', 'event:Ev4'].map((k) => repo().finish(k)));
    for (const k of ['event:Ev3', 'event:Ev4', 'event:Ev5']) expect((await e().row(k))?.state).toBe('done');
  });

  it('lists deliveries a crash cut short, oldest first; those out of attempts are marked failed', async () => {
    const t0 = clock;
    await repo().claim('T1', 'event:Ev1', '{"n":1}');
    clock += 10;
    await repo().claim('T1', 'event:Ev2', '{"n":2}');
    clock += 10;
    await repo().claim('T1', 'event:Ev3', '{"n":3}');
    await repo().finish('event:Ev3');
    clock += 10;
    await repo().claim('T1', 'event:Ev4', '{"n":4}'); // too recent
    expect(await repo().unfinished(t0 + 25)).toEqual([
      { key: 'event:Ev1', body: '{"n":1}' },
      { key: 'event:Ev2', body: '{"n":2}' },
    ]);
    expect(await repo().unfinished(t0 + 25, 3, 1)).toEqual([{ key: 'event:Ev1', body: '{"n":1}' }]);
    expect(await repo().unfinished(t0)).toEqual([]);
    // Ev1 resumed twice more and cut short each time: out of attempts.
    clock = t0 + 40_000;
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('resume');
    clock = t0 + 80_000;
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('resume');
    expect(await repo().unfinished(t0 + 90_000)).toEqual([
      { key: 'event:Ev2', body: '{"n":2}' },
      { key: 'event:Ev4', body: '{"n":4}' },
    ]);
    expect(await e().row('event:Ev1')).toMatchObject({ state: 'failed', body: null, attempts: 3 });
    expect(await repo().claim('T1', 'event:Ev1', '{}')).toBe('duplicate');
    // With more attempts allowed, a failed one stays failed.
    expect(await repo().unfinished(t0 + 90_000, 5)).toHaveLength(2);
  });

  it('prunes event redelivery guards older than the cut-off, and nothing else', async () => {
    for (const key of ['event:EvOLD', 'approval-outcome:T1:1', 'event:EvNEW', 'event:EvOLDUNFINISHED', 'EVENT:EvOLDUPPER', 'event:EvOLDFAILED']) {
      expect(await repo().claim('T1', key, '{}')).toBe('fresh');
      if (key !== 'event:EvOLDUNFINISHED' && key !== 'event:EvOLDFAILED') await repo().finish(key);
    }
    clock += 40_000;
    await repo().claim('T1', 'event:EvOLDFAILED', '{}');
    clock += 40_000;
    await repo().claim('T1', 'event:EvOLDFAILED', '{}');
    expect(await repo().unfinished(clock + 1)).toEqual([{ key: 'event:EvOLDUNFINISHED', body: '{}' }]);
    const dayAndASecondAgo = clock - 24 * 60 * 60_000 - 1000;
    await e().setReceivedAt(['event:EvOLD', 'approval-outcome:T1:1', 'event:EvOLDUNFINISHED', 'EVENT:EvOLDUPPER', 'event:EvOLDFAILED'], dayAndASecondAgo);
    // Only finished (or given up) event rows go: an old one still being handled keeps its guard (and its body).
    // SQLite's LIKE ignores ASCII case: an upper-case prefix counts as an event too.
    expect(await repo().pruneEvents(24 * 60 * 60_000)).toBe(3);
    expect(await e().keys()).toEqual(['approval-outcome:T1:1', 'event:EvNEW', 'event:EvOLDUNFINISHED']);
    expect(await repo().pruneEvents(24 * 60 * 60_000)).toBe(0);
  });
}

describe('deliveries store on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: Engine;
  beforeEach(() => {
    engine = sqliteEngine(sqlite.store);
  });
  contract(() => engine);
});

describePostgres('deliveries store on PostgreSQL', () => {
  const database = useMigratedPool(4);
  let engine: Engine;
  beforeEach(() => {
    engine = pgEngine(database.pool);
  });
  contract(() => engine);

  describe('one delivery reaching several instances', () => {
    it('the same key claimed at once through two pools: exactly one fresh claim', async () => {
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 4 }));
      try {
        const instances = pools.map((p) => new PgDeliveriesRepository(pgDatabase(p), now));
        for (let round = 0; round < 20; round++) {
          const claims = await Promise.all(instances.flatMap((repo) => [repo.claim('T1', `event:Ev${round}`, '{}'), repo.claim('T1', `event:Ev${round}`, '{}')]));
          expect(claims.filter((c) => c === 'fresh')).toHaveLength(1);
          expect(claims.filter((c) => c === 'duplicate')).toHaveLength(3);
        }
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('two instances each recording a finish while claiming the delivery the other finishes: no deadlock', async () => {
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 4 }));
      try {
        const [one, two] = pools.map((p) => new PgDeliveriesRepository(pgDatabase(p), now));
        for (let round = 0; round < 10; round++) {
          const [a, k] = [`event:A${round}`, `event:K${round}`];
          expect(await one!.claim('T1', a, '{}')).toBe('fresh');
          expect(await two!.claim('T1', k, '{}')).toBe('fresh');
          clock += 30_001;
          // Each handled its own; Slack's retry of each reaches the other instance, both stale by now.
          const finishes = [one!.finish(a), two!.finish(k)];
          const claims = await Promise.all([one!.claim('T1', k, '{}'), two!.claim('T1', a, '{}')]);
          await Promise.all(finishes);
          for (const c of claims) expect(['resume', 'duplicate']).toContain(c);
          // Whichever came first, both finishes were recorded.
          expect([(await engine.row(a))?.state, (await engine.row(k))?.state]).toEqual(['done', 'done']);
        }
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('a stale claim resumed at once by two instances: exactly one resumes it', async () => {
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 4 }));
      try {
        const instances = pools.map((p) => new PgDeliveriesRepository(pgDatabase(p), now));
        expect(await instances[0]!.claim('T1', 'event:EvSTALE', '{}')).toBe('fresh');
        clock += 30_001;
        const claims = await Promise.all(instances.flatMap((repo) => [repo.claim('T1', 'event:EvSTALE', '{}'), repo.claim('T1', 'event:EvSTALE', '{}')]));
        expect(claims.sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'resume']);
        expect(await engine.row('event:EvSTALE')).toMatchObject({ attempts: 2, claimedAt: clock });
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });
  });
});
