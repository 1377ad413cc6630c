// The write lock a process's connections to one SQLite file share (store/db.ts WriteLock): a
// writer on one thread waits for another thread's transaction and goes the moment it ends, no
// SQLITE_BUSY sleep; a thread that dies holding it does not block the others.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openStore, WriteLock, type Store } from '../../src/store/db.js';
import { startWorkerModule } from '../../src/workerThread.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-lock-'));
  store = openStore(join(dir, 'db.sqlite'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const holder = (holdMs: number, die = false, gate?: SharedArrayBuffer): Worker =>
  startWorkerModule(import.meta.url, '../support/writeLockHolder', { buffer: store.writeLock.buffer, holdMs, die, gate }, { maxOldGenerationSizeMb: 32 });
const nextMessage = async (w: Worker) => ((await once(w, 'message')) as [{ op: string; at?: number }])[0];
const insertCounter = (team: string) => store.sqlite.prepare('INSERT INTO team_counters (team_id, last_task_number) VALUES (?, 0)').run(team);

it('nests within a thread', () => {
  store.write(() => {
    insertCounter('T1');
    store.write(() => insertCounter('T2'));
  });
  expect(store.sqlite.prepare('SELECT count(*) FROM team_counters').pluck().get()).toBe(2);
});

it("a write waits for another thread's transaction and starts as soon as it ends", async () => {
  const w = holder(300);
  expect((await nextMessage(w)).op).toBe('holding');
  const asked = Date.now();
  const startedAt = store.write(() => {
    insertCounter('T1');
    return Date.now();
  });
  const released = await nextMessage(w);
  expect(released.op).toBe('released');
  expect(startedAt).toBeGreaterThanOrEqual(released.at as number);
  expect(startedAt - asked).toBeGreaterThanOrEqual(200);
  // Woken when it was let go, not after a sleep of its own (SQLite's busy handler sleeps 100 ms
  // at a time by then); loose, for a loaded machine.
  expect(startedAt - (released.at as number)).toBeLessThan(75);
  await once(w, 'exit');
});

it('a thread that exits holding it: let go on its exit; otherwise a writer goes ahead after maxWaitMs', async () => {
  const w = holder(50, true);
  const threadId = w.threadId;
  expect((await nextMessage(w)).op).toBe('holding');
  await once(w, 'exit');

  // Still marked as held: a lock that waits at most 100 ms goes ahead (SQLite's own locking rules).
  const impatient = new WriteLock(store.writeLock.buffer, 100);
  const t0 = Date.now();
  impatient.hold(() => insertCounter('T1'));
  expect(Date.now() - t0).toBeGreaterThanOrEqual(90);

  store.writeLock.releaseIfHeldBy(threadId);
  const t1 = Date.now();
  store.write(() => insertCounter('T2'));
  expect(Date.now() - t1).toBeLessThan(1_000); // not the 5 s a held lock would cost
});

it('tells background work when a thread waits for it', async () => {
  expect(store.writeLock.hasWaiters()).toBe(false);
  const gate = new SharedArrayBuffer(4);
  const first = holder(0, false, gate);
  expect((await nextMessage(first)).op).toBe('holding');
  const second = holder(10);
  await vi.waitFor(() => expect(store.writeLock.hasWaiters()).toBe(true), { timeout: 15_000, interval: 10 });
  Atomics.store(new Int32Array(gate), 0, 1);
  Atomics.notify(new Int32Array(gate), 0);
  expect((await nextMessage(first)).op).toBe('released');
  expect((await nextMessage(second)).op).toBe('holding');
  expect(store.writeLock.hasWaiters()).toBe(false);
  await Promise.all([once(first, 'exit'), once(second, 'exit')]);
});
