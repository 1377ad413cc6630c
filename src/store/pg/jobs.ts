import { lte } from 'drizzle-orm';
import { nextRunAfter, type JobsStore } from '../jobs.js';
import type { PgDb } from './db.js';
import { jobRuns } from './schema.js';

/**
 * `JobsRepository` on PostgreSQL: the same single upsert. Of instances claiming one period at
 * once, the first to lock the row moves `next_run_at`; the others' `ON CONFLICT … WHERE` then
 * reads the row it committed and updates nothing.
 */
export class PgJobsRepository implements JobsStore {
  constructor(private readonly db: PgDb) {}

  async claim(name: string, owner: string, now: number, everyMs: number, force = false): Promise<boolean> {
    const set = { nextRunAt: nextRunAfter(now, everyMs), owner, ranAt: now };
    const won = await this.db
      .insert(jobRuns)
      .values({ name, ...set })
      .onConflictDoUpdate({ target: jobRuns.name, set, ...(force ? {} : { setWhere: lte(jobRuns.nextRunAt, now) }) })
      .returning({ name: jobRuns.name });
    return won.length > 0;
  }
}
