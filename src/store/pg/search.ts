import { and, desc, eq, like, or, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { TaskSearchHit } from '../dashboard.js';
import { titleQuery } from '../searchText.js';
import type { TaskReader } from '../tasks.js';
import { tasks } from './schema.js';

/**
 * Title search on PostgreSQL: the App Home's search (`DashboardReadModel.searchTasks` in
 * ../dashboard.ts) with the same matches, visibility, order and limit.
 *
 * `title_search` (the folded title, written with it) is indexed by tasks_title_search_idx, GIN
 * over (team_id, title_search gin_trgm_ops): pg_trgm turns `LIKE '%query%'` into the query's
 * trigrams, and btree_gin's team_id entry narrows them to one workspace. GIN hands back rows
 * unordered; the matches are rechecked against the title and the newest 100 sorted out. One or
 * two letters make no trigram: the planner then reads the workspace's rows by
 * tasks_team_number_uq, newest first, as SQLite does.
 */

/** Who searches: a workspace, a user, and whether they are a Slack guest. */
export type SearchReader = TaskReader & { teamId: string };

/**
 * The visibility rule (`visibleTo` in ../tasks.ts) on the PostgreSQL schema: the reader's own
 * tasks (creator or assignee), and for a member also every task not private.
 */
export function visibleToPg(reader: TaskReader): SQL {
  const own = or(eq(tasks.assigneeId, reader.userId), eq(tasks.creatorId, reader.userId)) as SQL;
  return reader.guest ? own : (or(eq(tasks.private, false), own) as SQL);
}

/** `text` as a LIKE pattern matching itself only: `\`, `%` and `_` escaped (LIKE's escape is `\`). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const HIT = { id: tasks.id, number: tasks.number, title: tasks.title, status: tasks.status };

/**
 * The title part of the search: tasks of the reader's workspace whose `title_search` contains
 * `folded` (already folded), visible to them, newest first, at most `limit`. Exported for the
 * test that checks its plan.
 */
export function titleMatches<S extends Record<string, unknown>>(db: NodePgDatabase<S>, reader: SearchReader, folded: string, limit: number) {
  return db
    .select(HIT)
    .from(tasks)
    .where(and(eq(tasks.teamId, reader.teamId), like(tasks.titleSearch, `%${likeLiteral(folded)}%`), visibleToPg(reader)))
    .orderBy(desc(tasks.number))
    .limit(limit);
}

/**
 * Tasks of the reader's workspace whose title contains `query`, ignoring case and accents
 * (`foldForSearch`), newest first; a query like `12` or `#12` also finds task #12 first. Only
 * tasks `reader` may see; at most `limit`.
 */
export async function searchTasksPg<S extends Record<string, unknown>>(
  db: NodePgDatabase<S>,
  reader: SearchReader,
  query: string,
  limit: number,
): Promise<TaskSearchHit[]> {
  const q = query.trim();
  if (q === '') return [];
  const hits: TaskSearchHit[] = [];
  const numberMatch = /^#?(\d{1,15})$/.exec(q);
  // Task numbers are `integer`: a larger number names no task (and would not fit the parameter).
  if (numberMatch && Number(numberMatch[1]) <= 2_147_483_647) {
    const [exact] = await db
      .select(HIT)
      .from(tasks)
      .where(and(eq(tasks.teamId, reader.teamId), eq(tasks.number, Number(numberMatch[1])), visibleToPg(reader)));
    if (exact) hits.push(exact);
  }
  const title = titleQuery(q);
  if (title === null) return hits;
  const rows = await titleMatches(db, reader, title.text, limit);
  for (const r of rows) {
    if (hits.length >= limit) break;
    if (!hits.some((h) => h.id === r.id)) hits.push(r);
  }
  return hits;
}
