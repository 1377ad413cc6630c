import { and, count, desc, gt, max, sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { TaskSearchHit } from '../dashboard.js';
import { HIT_TITLE_CHARS, SHORT_QUERY_REACH, titleQuery } from '../searchText.js';
import type { TaskReader } from '../tasks.js';
import { tasks } from './schema.js';

/**
 * Title search on PostgreSQL: the App Home's search (`DashboardReadModel.searchTasks` in
 * ../dashboard.ts) with the same matches, visibility, order and limit.
 *
 * `title_search` (the folded title, written with it) is indexed by tasks_search_keys_idx: GIN over
 * `tasklane_search_keys(team_id, title_search)`, every trigram of the folded title prefixed with
 * the workspace (migrations-pg/0004). A key's list holds one workspace's tasks, as SQLite's FTS5
 * index keeps a workspace in one rowid range.
 *
 * GIN hands rows back unordered, so every candidate is fetched before the newest are kept: cheap
 * for a rare query, dear for a word a quarter of the titles hold. Reading the workspace newest
 * first is the other way round. Which one a query is, no statistic tells well (each trigram may be
 * common while the phrase is rare), so one statement does both, in order:
 * 1. the workspace's newest `RECENT_WALK` tasks are read by number and filtered: a common query
 *    has its page here;
 * 2. only when that found fewer than `limit` (a one-time condition PostgreSQL checks before it
 *    starts this part) are the older tasks holding the query's keys read through the index.
 * The recent part's tasks are all newer than the older part's, so the page is the newest matches.
 * One or two characters make no trigram: those queries read the workspace's newest
 * `SHORT_QUERY_REACH` tasks, newest first, as SQLite does.
 */

/** How many of a workspace's newest tasks a search reads before it asks the index. */
export const RECENT_WALK = 1000;

/** At most this many of a query's trigrams are looked up (each costs a walk of its list). */
const MAX_KEYS = 8;

/** Who searches: a workspace, a user, and whether they are a Slack guest. */
export type SearchReader = TaskReader & { teamId: string };

/**
 * The visibility rule (`visibleTo` in ../taskReads.ts) on the PostgreSQL schema: the reader's own
 * tasks (creator or assignee), and for a member also every task not private.
 */
export function visibleToPg(reader: TaskReader): SQL {
  return visibleToValue(reader.userId, reader.guest);
}

/**
 * The index keys a task must hold to contain `folded`: the workspace-prefixed trigrams
 * (`tasklane_search_keys`), the first and the last always, at most `MAX_KEYS` spread over the
 * query; [] under three characters.
 */
export function searchKeys(teamId: string, folded: string): string[] {
  const chars = [...folded]; // code points, as PostgreSQL's substr counts them
  const trigrams = [...new Set(chars.slice(0, -2).map((_, i) => chars.slice(i, i + 3).join('')))];
  const picked =
    trigrams.length <= MAX_KEYS
      ? trigrams
      : Array.from({ length: MAX_KEYS }, (_, k) => trigrams[Math.round((k * (trigrams.length - 1)) / (MAX_KEYS - 1))] as string);
  return picked.map((t) => `${teamId}:${t}`);
}

/** The task's index keys hold `keys` (`searchKeys`): the condition tasks_search_keys_idx serves. */
function holdsKeys(keys: unknown): SQL {
  return sql`tasklane_search_keys(${tasks.teamId}, ${tasks.titleSearch}) @> ${Array.isArray(keys) ? sql.param(keys) : keys}::text[]`;
}

/** `title_search` holds `folded`; found through the search index when the query has a trigram. */
export function titleHolds(teamId: string, folded: string): SQL {
  const holds = sql`strpos(${tasks.titleSearch}, ${folded}) > 0`;
  const keys = searchKeys(teamId, folded);
  return keys.length === 0 ? holds : (and(holdsKeys(keys), holds) as SQL);
}

const HIT = { id: tasks.id, number: tasks.number, title: sql<string>`left(${tasks.title}, ${sql.raw(String(HIT_TITLE_CHARS))})`.as('title'), status: tasks.status };

/** A title search's values: real ones, or drizzle placeholders for a statement prepared once. */
interface TitleValues {
  teamId: unknown;
  userId: unknown;
  text: unknown;
  keys: unknown;
  limit: number | Placeholder;
  recentWalk: unknown;
}

/** `visibleToPg` with the reader's id as any value of a statement (a placeholder too). */
function visibleToValue(userId: unknown, guest: boolean): SQL {
  const own = sql`(${tasks.assigneeId} = ${userId} OR ${tasks.creatorId} = ${userId})`;
  return guest ? own : sql`(${tasks.private} = false OR ${own})`;
}

/** The title statement for a member or a guest, reading the search index (`indexed`) or not. */
function titleStatement<S extends Record<string, unknown>>(db: NodePgDatabase<S>, guest: boolean, indexed: boolean, v: TitleValues) {
  const found = and(sql`${tasks.teamId} = ${v.teamId}`, sql`strpos(${tasks.titleSearch}, ${v.text}) > 0`, visibleToValue(v.userId, guest));
  const newest = db.select({ n: max(tasks.number) }).from(tasks).where(sql`${tasks.teamId} = ${v.teamId}`);
  if (!indexed) {
    const reach = sql`(${newest}) - ${sql.raw(String(SHORT_QUERY_REACH))}`;
    return db.select(HIT).from(tasks).where(and(found, gt(tasks.number, reach))).orderBy(desc(tasks.number)).limit(v.limit);
  }
  const edge = sql`(${newest}) - ${v.recentWalk}`;
  const recent = db
    .$with('recent')
    .as(db.select(HIT).from(tasks).where(and(found, gt(tasks.number, edge))).orderBy(desc(tasks.number)).limit(v.limit));
  const older = db
    .select(HIT)
    .from(tasks)
    .where(
      and(
        sql`(${db.select({ n: count() }).from(recent)}) < ${v.limit}`,
        holdsKeys(v.keys),
        // Checked on the rows the search index gives, never read through another index: a plan
        // made once for any values would otherwise AND the index with the workspace's number range
        // (every task of the workspace, read in vain: 7 ms). The keys carry the workspace already.
        sql`${tasks.teamId} || '' = ${v.teamId}`,
        sql`${tasks.number} + 0 <= ${edge}`,
        sql`strpos(${tasks.titleSearch}, ${v.text}) > 0`,
        visibleToValue(v.userId, guest),
      ),
    );
  const hits = db.select().from(recent).unionAll(older).as('hits');
  return db.with(recent).select().from(hits).orderBy(desc(hits.number)).limit(v.limit);
}

/**
 * The title part of the search: tasks of the reader's workspace whose `title_search` contains
 * `folded` (already folded), visible to them, newest first, at most `limit`. `recentWalk` is
 * how many of the newest tasks are read before the index (tests set 0 to check the index's
 * answers against the walk's). With its values bound: for the test that checks its plans.
 */
export function titleMatches<S extends Record<string, unknown>>(
  db: NodePgDatabase<S>,
  reader: SearchReader,
  folded: string,
  limit: number,
  recentWalk = RECENT_WALK,
) {
  const keys = searchKeys(reader.teamId, folded);
  return titleStatement(db, reader.guest, keys.length > 0, { teamId: reader.teamId, userId: reader.userId, text: folded, keys, limit, recentWalk });
}

/**
 * The search's statements, built and prepared once per database handle under `name`: building the
 * title statement cost drizzle more than running it, and a named statement is parsed and planned
 * once per connection.
 */
const preparedByDb = new WeakMap<object, Map<string, { execute(values: Record<string, unknown>): Promise<TaskSearchHit[]> }>>();
function prepared<S extends Record<string, unknown>>(
  db: NodePgDatabase<S>,
  name: string,
  build: () => { prepare(name: string): { execute(values: Record<string, unknown>): Promise<TaskSearchHit[]> } },
) {
  let byName = preparedByDb.get(db);
  if (!byName) preparedByDb.set(db, (byName = new Map()));
  let statement = byName.get(name);
  if (!statement) byName.set(name, (statement = build().prepare(name)));
  return statement;
}

/** The title statement for a member or a guest, with or without the index, with named values. */
function preparedTitleStatement<S extends Record<string, unknown>>(db: NodePgDatabase<S>, guest: boolean, indexed: boolean) {
  return prepared(db, `tasklane_title_search_${guest ? 'guest' : 'member'}_${indexed ? 'indexed' : 'walk'}`, () => {
    const v = Object.fromEntries(['teamId', 'userId', 'text', 'keys', 'limit', 'recentWalk'].map((k) => [k, sql.placeholder(k)])) as unknown as TitleValues;
    return titleStatement(db, guest, indexed, v);
  });
}

/**
 * Tasks of the reader's workspace whose title contains `query`, ignoring case and accents
 * (`foldForSearch`), newest first; a query like `12` or `#12` also finds task #12 first. Only
 * tasks `reader` may see; at most `limit`. `recentWalk`: see `titleMatches`.
 */
export async function searchTasksPg<S extends Record<string, unknown>>(
  db: NodePgDatabase<S>,
  reader: SearchReader,
  query: string,
  limit: number,
  recentWalk = RECENT_WALK,
): Promise<TaskSearchHit[]> {
  const q = query.trim();
  if (q === '') return [];
  const hits: TaskSearchHit[] = [];
  const numberMatch = /^#?(\d{1,15})$/.exec(q);
  // Task numbers are `integer`: a larger number names no task (and would not fit the parameter).
  if (numberMatch && Number(numberMatch[1]) <= 2_147_483_647) {
    const [exact] = await prepared(db, `tasklane_task_by_number_${reader.guest ? 'guest' : 'member'}`, () =>
      db
        .select(HIT)
        .from(tasks)
        .where(and(sql`${tasks.teamId} = ${sql.placeholder('teamId')}`, sql`${tasks.number} = ${sql.placeholder('number')}`, visibleToValue(sql.placeholder('userId'), reader.guest))),
    ).execute({ teamId: reader.teamId, userId: reader.userId, number: Number(numberMatch[1]) });
    if (exact) hits.push(exact);
  }
  const title = titleQuery(q);
  if (title === null) return hits;
  const keys = searchKeys(reader.teamId, title.text);
  const rows = await preparedTitleStatement(db, reader.guest, keys.length > 0).execute({
    teamId: reader.teamId,
    userId: reader.userId,
    text: title.text,
    keys,
    limit,
    recentWalk,
  });
  for (const r of rows) {
    if (hits.length >= limit) break;
    if (!hits.some((h) => h.id === r.id)) hits.push(r);
  }
  return hits;
}
