// The outbox table's rules, on a real migrated SQLite store: effects are written once per key,
// coalescing effects bump a generation, rows are leased (one sender at a time), a lease that ran
// out makes the next attempt look before posting, and spacing holds bursts to one send.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { OutboxRepository, writeEffects, type Effect } from '../../src/store/outbox.js';

const msg = (key: string): Effect => ({ key, teamId: 'T1', kind: 'message', target: 'U1', payload: { text: key } });
const home = (spacingMs = 0): Effect => ({ key: 'home:T1:U1', teamId: 'T1', kind: 'home', target: 'U1', coalesce: true, spacingMs });

describe('OutboxRepository', () => {
  let store: Store;
  let repo: OutboxRepository;
  beforeEach(() => {
    store = openStore(':memory:');
    repo = new OutboxRepository(store);
  });
  afterEach(() => store.close());

  it('writes an effect once per key, in the caller’s transaction', () => {
    repo.add([msg('a'), msg('a'), msg('b')], 1_000);
    repo.add([msg('a')], 2_000);
    expect(repo.all().map((r) => [r.key, r.state, r.generation])).toEqual([
      ['a', 'pending', 0],
      ['b', 'pending', 0],
    ]);
    // A transaction that fails takes its effects with it.
    expect(() =>
      store.write(() => {
        writeEffects(store, [msg('c')], 3_000);
        throw new Error('the change failed');
      }),
    ).toThrow('the change failed');
    expect(repo.byKey('c')).toBeUndefined();
  });

  it('leases each due row to one sender; a lease that ran out is taken over and marked uncertain', () => {
    repo.add([msg('a'), { ...msg('later'), notBefore: 5_000 }], 1_000);
    const first = repo.claim('s1', 1_000, 100, 10);
    expect(first.map((r) => [r.key, r.leaseOwner, r.uncertain])).toEqual([['a', 's1', false]]);
    expect(repo.claim('s2', 1_050, 100, 10)).toEqual([]); // held by s1, and `later` is not due
    const taken = repo.claim('s2', 1_200, 100, 10);
    expect(taken.map((r) => [r.key, r.leaseOwner, r.uncertain])).toEqual([['a', 's2', true]]);
    // s1 comes back late: its outcome no longer counts.
    repo.recordOutcome(first[0]!, 's1', { state: 'done' }, 1_250);
    expect(repo.byKey('a')?.state).toBe('pending');
    repo.recordOutcome(taken[0]!, 's2', { state: 'done', result: 'D1/1.0' }, 1_260);
    expect(repo.byKey('a')).toMatchObject({ state: 'done', result: 'D1/1.0', leaseOwner: null, attempts: 1 });
    expect(repo.nextDue()).toBe(5_000);
  });

  it('retries at the given time, keeps whether the outcome is unknown, and records why it gave up', () => {
    repo.add([msg('a')], 1_000);
    const [row] = repo.claim('s1', 1_000, 100, 10);
    repo.recordOutcome(row!, 's1', { state: 'retry', at: 1_500, error: 'request timed out', uncertain: true }, 1_010);
    expect(repo.claim('s1', 1_400, 100, 10)).toEqual([]);
    const [again] = repo.claim('s1', 1_500, 100, 10);
    expect(again).toMatchObject({ attempts: 1, uncertain: true, lastError: 'request timed out' });
    repo.recordOutcome(again!, 's1', { state: 'failed', error: 'missing_scope' }, 1_510);
    expect(repo.byKey('a')).toMatchObject({ state: 'failed', attempts: 2, lastError: 'missing_scope' });
    expect(repo.counts()).toEqual({ pending: 0, done: 0, failed: 1 });
  });

  it('coalesces: a row written again while being sent is sent once more, with the newest state', () => {
    repo.add([home()], 1_000);
    const [row] = repo.claim('s1', 1_000, 100, 10);
    repo.add([home(), home()], 1_010); // two changes while the publish is under way
    repo.recordOutcome(row!, 's1', { state: 'done' }, 1_020);
    expect(repo.byKey('home:T1:U1')).toMatchObject({ state: 'pending', generation: 2 });
    const [next] = repo.claim('s1', 1_030, 100, 10);
    repo.recordOutcome(next!, 's1', { state: 'done' }, 1_040);
    expect(repo.byKey('home:T1:U1')).toMatchObject({ state: 'done', generation: 2 });
    // Written after it was sent: due again.
    repo.add([home()], 2_000);
    expect(repo.byKey('home:T1:U1')).toMatchObject({ state: 'pending', generation: 3, nextAttemptAt: 2_000 });
  });

  it('spacing: a burst of writes after a send is one more send, no sooner than the spacing', () => {
    repo.add([home(250)], 1_000);
    const [row] = repo.claim('s1', 1_000, 100, 10);
    repo.recordOutcome(row!, 's1', { state: 'done' }, 1_010);
    for (let at = 1_020; at < 1_200; at += 10) repo.add([home(250)], at);
    expect(repo.byKey('home:T1:U1')).toMatchObject({ state: 'pending', nextAttemptAt: 1_260 });
    expect(repo.claim('s1', 1_200, 100, 10)).toEqual([]);
    expect(repo.claim('s1', 1_260, 100, 10)).toHaveLength(1);
  });

  it('records a round of ended attempts and leases the next rows in one transaction, saying when a recorded row is due again', () => {
    repo.add([msg('a'), msg('b'), home(250)], 1_000);
    const rows = repo.claim('s1', 1_000, 100, 10);
    expect(rows.map((r) => r.key)).toEqual(['a', 'b', 'home:T1:U1']);
    repo.add([msg('c'), home(250)], 1_010); // a new row, and the Home written again while it is sent
    const byKey = (k: string) => rows.find((r) => r.key === k)!;
    const round = repo.recordOutcomesAndClaim(
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
    expect(round.rows.map((r) => r.key)).toEqual(['c']);
    expect(round.dueAgain).toBe(1_270); // the Home, 250 ms after its send (before b's retry)
    expect(repo.byKey('a')).toMatchObject({ state: 'done', result: 'D1/1.0', leaseOwner: null });
    expect(repo.byKey('b')).toMatchObject({ state: 'pending', nextAttemptAt: 1_900, lastError: 'ratelimited', leaseOwner: null });
    expect(repo.byKey('home:T1:U1')).toMatchObject({ state: 'pending', generation: 1, nextAttemptAt: 1_270 });
    // Nothing ended and no free slot: nothing leased.
    expect(repo.recordOutcomesAndClaim([], 's1', 2_000, 100, 0)).toEqual({ rows: [], dueAgain: undefined });
    expect(repo.byKey('b')?.leaseOwner).toBeNull();
  });

  it('prunes rows sent or given up long ago, never pending ones', () => {
    repo.add([msg('old'), msg('failed'), msg('waiting')], 1_000);
    const rows = repo.claim('s1', 1_000, 100, 10);
    repo.recordOutcome(rows.find((r) => r.key === 'old')!, 's1', { state: 'done' }, 1_100);
    repo.recordOutcome(rows.find((r) => r.key === 'failed')!, 's1', { state: 'failed', error: 'x' }, 1_100);
    repo.recordOutcome(rows.find((r) => r.key === 'waiting')!, 's1', { state: 'retry', at: 9_000, error: 'x', uncertain: false }, 1_100);
    expect(repo.prune(1_050)).toBe(0);
    expect(repo.prune(2_000)).toBe(2);
    expect(repo.all().map((r) => r.key)).toEqual(['waiting']);
  });
});
