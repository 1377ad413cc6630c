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
 * btree_gin's team_id entry narrows them to one workspace. GIN hands back rows unordered: they
 * are rechecked and the newest sorted out. A query is matched exactly by `strpos`, and narrowed
 * by the index as SQLite's is (titleQuery): by the trigrams at its two ends only, each a LIKE of
 * three letters (a trigram each), since every trigram is one more posting list to read through
 * (measured: "launch plan" 12 ms with its 9 trigrams, 4.5 ms with 2). A query with no trigram
 * pg_trgm can take gets no LIKE at all: GIN would then read every trigram of the index (0.4 s in
 * the bench's store); the planner reads the workspace by tasks_team_number_uq instead, newest
 * first, as SQLite does for one or two letters.
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
 * LIKE patterns that narrow a search for `folded` on the trigram index, every one of them
 * holding at least one trigram pg_trgm takes; empty when there is none to take.
 *
 * pg_trgm splits a pattern into words of letters; a word at a `%` is open on that side, one
 * beside another character is closed there and padded (two blanks before, one after). An open
 * word of three letters is one trigram; a word closed before has at least one; one closed only
 * after needs two letters. A pattern with no trigram makes GIN read the whole index.
 */
export function trigramPatterns(folded: string, letters: TrigramLetters): string[] {
  const word = letters === 'ascii' ? ASCII_WORD : ANY_WORD;
  const chars = [...folded];
  const runs: { start: number; end: number }[] = [];
  chars.forEach((c, i) => {
    if (!word.test(c)) return;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.end === i) last.end = i + 1;
    else runs.push({ start: i, end: i + 1 });
  });
  const long = runs.filter((r) => r.end - r.start >= 3);
  if (long.length > 0) {
    // Like SQLite's titleQuery: the first three letters and the last three.
    const first = chars.slice(long[0]!.start, long[0]!.start + 3).join('');
    const lastRun = long[long.length - 1]!;
    const last = chars.slice(lastRun.end - 3, lastRun.end).join('');
    return [...new Set([first, last])].map((t) => `%${t}%`);
  }
  const yields = runs.some((r) => r.start > 0 || (r.end < chars.length && r.end - r.start >= 2));
  return yields ? [`%${likeLiteral(folded)}%`] : [];
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
  const narrow = trigramPatterns(folded, letters).map((p) => like(tasks.titleSearch, p));
  return db
    .select(HIT)
    .from(tasks)
    .where(and(eq(tasks.teamId, reader.teamId), ...narrow, sql`strpos(${tasks.titleSearch}, ${folded}) > 0`, visibleToPg(reader)))
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
