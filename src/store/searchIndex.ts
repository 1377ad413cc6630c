import type { Store } from './db.js';

/** Index pages one merge step writes, at most: a step holds the store's write lock. */
const PAGES_PER_STEP = 16;

/**
 * Merges the title search index's segments (FTS5, migrations 0006–0007), a small step per write
 * transaction, until nothing is left to merge or `budgetMs` has passed; returns the steps taken.
 * Each task insert writes a small segment; merged in the background, they never cost a request
 * FTS5's own merge bursts (automerge is off). A step merges levels holding 4 or more segments
 * (FTS5's `usermerge`), or carries on a merge already started; it did nothing when it changed
 * fewer than two rows (FTS5's documented test).
 */
export function mergeSearchIndex(store: Store, budgetMs: number): number {
  const step = store.sqlite.prepare(`INSERT INTO tasks_fts (tasks_fts, rank) VALUES ('merge', ${PAGES_PER_STEP})`);
  const totalChanges = store.sqlite.prepare('SELECT total_changes() AS n').pluck();
  const until = performance.now() + budgetMs;
  let steps = 0;
  for (;;) {
    const merged = store.write(() => {
      const before = totalChanges.get() as number;
      step.run();
      return (totalChanges.get() as number) - before >= 2;
    });
    steps++;
    // A request waiting to write goes first; the rest waits for the next round.
    if (!merged || performance.now() >= until || store.writeLock.hasWaiters()) return steps;
  }
}

