import { and, desc, eq, like, or, sql, type SQL } from 'drizzle-orm';
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
 * over (team_id, title_search gin_trgm_ops): pg_trgm turns `LIKE '%abc%'` into trigrams, and
 * btree_gin's team_id entry is intersected with them (each trigram's list holds every workspace's
 * rows, so a common trigram costs what the whole store holds). GIN hands back rows unordered: they
 * are rechecked and the newest sorted out. The pattern is a bound value the planner sees, so for
 * a query most titles hold it walks tasks_team_number_uq backwards instead and stops at the
 * limit. A query pg_trgm takes no trigram from (one or two letters, punctuation, under a `C`
 * LC_CTYPE any other script) is matched with `strpos`, which no index serves: as a LIKE, GIN
 * would read every trigram of the index (0.4 s in the bench's store); so the planner reads the
 * workspace newest first, as SQLite does for one or two letters.
 *
 * The whole query is one LIKE, not its end trigrams as in SQLite (titleQuery): given two LIKEs,
 * the planner multiplies their selectivities and takes the index for a common word, whose every
 * match it must then fetch (measured in docs/performance.md).
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
 * Which letters make trigrams: pg_trgm takes them from the database's LC_CTYPE. Under a UTF-8
 * one, letters and digits of every script; under `C`, ASCII ones only.
 */
export type TrigramLetters = 'any script' | 'ascii';
const ASCII_WORD = /[a-z0-9]/;
const ANY_WORD = /[\p{L}\p{N}]/u;

/**
 * `folded` as a LIKE pattern (`%folded%`) when pg_trgm takes at least one trigram from it, else
 * null: a pattern without one makes GIN read the whole index.
 *
 * pg_trgm splits a pattern into words of letters; a word at a `%` is open on that side, one
 * beside another character is closed there and padded (two blanks before, one after). A word of
 * three letters or more has a trigram; one closed before has at least one; one closed only after
 * needs two letters.
 */
export function trigramPattern(folded: string, letters: TrigramLetters): string | null {
  const word = letters === 'ascii' ? ASCII_WORD : ANY_WORD;
  const chars = [...folded];
  const runs: { start: number; end: number }[] = [];
  chars.forEach((c, i) => {
    if (!word.test(c)) return;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.end === i) last.end = i + 1;
    else runs.push({ start: i, end: i + 1 });
  });
  const trigram = runs.some((r) => r.end - r.start >= 3 || r.start > 0 || (r.end < chars.length && r.end - r.start >= 2));
  return trigram ? `%${likeLiteral(folded)}%` : null;
}

/** Which letters the database makes trigrams of, asked once per database handle. */
const lettersByDb = new WeakMap<object, Promise<TrigramLetters>>();
export function trigramLetters<S extends Record<string, unknown>>(db: NodePgDatabase<S>): Promise<TrigramLetters> {
  let known = lettersByDb.get(db);
  if (known === undefined) {
    known = db
      .execute<{ any: boolean }>(sql`SELECT show_trgm('жжж') <> '{}' AS any`)
      .then((r) => (r.rows[0]?.any ? 'any script' : 'ascii'));
    known.catch(() => lettersByDb.delete(db)); // asked again next time
    lettersByDb.set(db, known);
  }
  return known;
}

/**
 * The title part of the search: tasks of the reader's workspace whose `title_search` contains
 * `folded` (already folded), visible to them, newest first, at most `limit`. Exported for the
 * test that checks its plans.
 */
export function titleMatches<S extends Record<string, unknown>>(
  db: NodePgDatabase<S>,
  reader: SearchReader,
  folded: string,
  limit: number,
  letters: TrigramLetters,
) {
  const pattern = trigramPattern(folded, letters);
  const contains = pattern === null ? sql`strpos(${tasks.titleSearch}, ${folded}) > 0` : like(tasks.titleSearch, pattern);
  return db
    .select(HIT)
    .from(tasks)
    .where(and(eq(tasks.teamId, reader.teamId), contains, visibleToPg(reader)))
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
  const rows = await titleMatches(db, reader, title.text, limit, await trigramLetters(db));
  for (const r of rows) {
    if (hits.length >= limit) break;
    if (!hits.some((h) => h.id === r.id)) hits.push(r);
  }
  return hits;
}
