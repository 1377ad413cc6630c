import { lte } from 'drizzle-orm';
import type { Store } from './db.js';
import { jobRuns } from './schema.js';

/** A timer that fires this much early still finds its job due (a period is not skipped). */
const EARLY_MS = 1_000;

/** Periodic jobs shared by every instance on one store (SQLite: `JobsRepository`; PostgreSQL: `PgJobsRepository`). */
export interface JobsStore {
  /**
   * true when `owner` may run `name` now (and the next run falls `everyMs` later); false when
   * another run of the period was claimed already. `force` claims regardless (a start-up run:
   * what a crash left is not made to wait for someone else's period).
   */
  claim(name: string, owner: string, now: number, everyMs: number, force?: boolean): Promise<boolean>;
}

/** When the run claimed at `now` lets the next one be claimed. */
export function nextRunAfter(now: number, everyMs: number): number {
  return now + Math.max(everyMs - Math.min(EARLY_MS, everyMs / 10), 0);
}

/**
 * Periodic jobs shared by every instance on one store. Before a run an instance claims the job's
 * row: one statement moves `next_run_at` a period ahead only if it has come, so one instance
 * wins each period, whichever started first or last. Nothing depends on a leader.
 */
export class JobsRepository implements JobsStore {
  constructor(private readonly store: Store) {}

  async claim(name: string, owner: string, now: number, everyMs: number, force = false): Promise<boolean> {
    const set = { nextRunAt: nextRunAfter(now, everyMs), owner, ranAt: now };
    const won = this.store.db
      .insert(jobRuns)
      .values({ name, ...set })
      .onConflictDoUpdate({ target: jobRuns.name, set, ...(force ? {} : { setWhere: lte(jobRuns.nextRunAt, now) }) })
      .returning({ name: jobRuns.name })
      .all();
    return won.length > 0;
  }
}
