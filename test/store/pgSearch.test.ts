// Title search on a real PostgreSQL database migrated as in production (src/store/pg/search.ts):
// the matching cases of test/store/search.test.ts, each answered both by reading the workspace and
// by the search index alone, and the plans that decide between them.
import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import * as schema from '../../src/store/pg/schema.js';
import { RECENT_WALK, searchKeys, searchTasksPg, titleMatches } from '../../src/store/pg/search.js';
import { foldForSearch, HIT_TITLE_CHARS, SHORT_QUERY_REACH } from '../../src/store/searchText.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/postgres.js';

const T = 'T0SEARCH1';
const T2 = 'T0SEARCH2';
const ANN = 'UANN';
const BOB = 'UBOB';
const CAT = 'UCAT';

type Db = NodePgDatabase<typeof schema>;

/**
 * The search keys are characters as they are, whatever the database's LC_CTYPE: under `C` (the
 * test server's, initdb --no-locale) and under a UTF-8 one, every script must be found the same.
 */
for (const locale of ['C', 'C.UTF-8']) {
  describePostgres(`title search on PostgreSQL (LC_CTYPE ${locale})`, () => {
    let database: TestDatabase;
    let pool: pg.Pool;
    let db: Db;
    let clock = 1_700_000_000_000;
    const numbers = new Map<string, number>();

    beforeAll(async () => {
      database = await createTestDatabase(locale === 'C' ? {} : { locale });
      pool = new pg.Pool({ connectionString: database.url, max: 2 });
      await migratePostgres(pool);
      db = drizzle(pool, { schema });
    });
    afterAll(async () => {
      await pool?.end();
      await database?.drop();
    });
    beforeEach(async () => {
      await db.execute(sql`TRUNCATE tasks RESTART IDENTITY CASCADE`);
      numbers.clear();
    });

    const add = async (title: string, over: Partial<typeof schema.tasks.$inferInsert> = {}) => {
      const teamId = over.teamId ?? T;
      const number = (numbers.get(teamId) ?? 0) + 1;
      numbers.set(teamId, number);
      clock += 1000;
      const [row] = await db
        .insert(schema.tasks)
        .values({ teamId, number, title, titleSearch: foldForSearch(title), assigneeId: ANN, creatorId: ANN, origin: 'command', createdAt: clock, updatedAt: clock, ...over })
        .returning();
      return row!;
    };

    /**
     * Titles found for `userId` (a member unless `guest`), in the search's order: the same when
     * the newest tasks are read first (these tests' workspaces fit in that walk) and when the
     * search index alone answers (no walk).
     */
    const found = async (query: string, userId = ANN, guest = false, teamId = T, limit = 100) => {
      const reader = { teamId, userId, guest };
      const walked = (await searchTasksPg(db, reader, query, limit)).map((h) => h.title);
      const indexed = (await searchTasksPg(db, reader, query, limit, 0)).map((h) => h.title);
      expect(indexed, `${JSON.stringify(query)} through the index`).toEqual(walked);
      return walked;
    };

    it('ignores case and accents in any script', async () => {
      await add('Über den Wolken');
      await add('ÜBERWEISUNG prüfen');
      await add('uber eats order');
      await add('Hauptstraße 5');
      await add('σοφός λόγος');
      await add('ΣΟΦΟΣ');
      await add('ПРИВЕТ мир');
      await add('Ёлка на площади');
      await add('İstanbul ofisi');
      await add('ﬁnance review');
      await add('東京タワー 会議');
      await add('Release 🚀 party');
      await add('Something else');

      for (const q of ['über', 'ÜBER', 'uber', 'Uber']) {
        expect(await found(q)).toEqual(['uber eats order', 'ÜBERWEISUNG prüfen', 'Über den Wolken']);
      }
      expect(await found('strasse')).toEqual(['Hauptstraße 5']);
      expect(await found('STRAßE')).toEqual(['Hauptstraße 5']);
      expect(await found('ΣΟΦΟΣ')).toEqual(['ΣΟΦΟΣ', 'σοφός λόγος']);
      expect(await found('σοφος')).toEqual(['ΣΟΦΟΣ', 'σοφός λόγος']);
      expect(await found('привет')).toEqual(['ПРИВЕТ мир']);
      expect(await found('елка')).toEqual(['Ёлка на площади']);
      expect(await found('ISTANBUL')).toEqual(['İstanbul ofisi']);
      expect(await found('finance')).toEqual(['ﬁnance review']);
      expect(await found('タワー')).toEqual(['東京タワー 会議']);
      expect(await found('会議')).toEqual(['東京タワー 会議']);
      expect(await found('e 🚀 p')).toEqual(['Release 🚀 party']); // a character outside the BMP in every key
    });

    it('finds a piece in the middle of a word, and one or two letters among the newest tasks', async () => {
      await add('Quarterly report');
      await add('Reporting lines');
      await add('Unrelated');
      expect(await found('arterl')).toEqual(['Quarterly report']);
      expect(await found('port')).toEqual(['Reporting lines', 'Quarterly report']);
      expect(await found('rl')).toEqual(['Quarterly report']);
      expect(await found('Q')).toEqual(['Quarterly report']);
      expect(await found('ö')).toEqual(['Reporting lines', 'Quarterly report']); // "o"
    });

    it("reads one or two letters in the workspace's newest 1,000 tasks only, as SQLite does; a third letter finds every task", async () => {
      await add('QA-1 sign-off for the old release'); // #1
      await db.execute(sql`
        INSERT INTO tasks (team_id, number, title, title_search, assignee_id, creator_id, origin, created_at, updated_at)
        SELECT ${T}, i + 1, 'Filler ' || i, 'filler ' || i, ${ANN}, ${ANN}, 'command', i, i FROM generate_series(1, ${SHORT_QUERY_REACH - 1}) AS i`);
      numbers.set(T, SHORT_QUERY_REACH);
      await add('QA-2 the new build'); // #1001: #2..#1001 are the newest 1,000
      const numbersFound = async (query: string) => (await searchTasksPg(db, { teamId: T, userId: ANN, guest: false }, query, 100)).map((h) => h.number);
      expect(await numbersFound('qa')).toEqual([1001]);
      expect(await numbersFound('qa-')).toEqual([1001, 1]);
      expect(await numbersFound('QA-1')).toEqual([1]);
    });

    it("gives a hit the title's first 200 characters (an option shows 75)", async () => {
      const long = `Ünïcode 🚀 ${'x'.repeat(300)}`;
      await add(long);
      const [hit] = await searchTasksPg(db, { teamId: T, userId: ANN, guest: false }, 'ünï', 100);
      expect(hit?.title).toBe([...long].slice(0, HIT_TITLE_CHARS).join(''));
    });

    it('takes %, _ and \\ literally; a query of punctuation or nothing finds what has it, and never throws', async () => {
      await add('Budget 100% done');
      await add('Budget 100x done');
      await add('snake_case name');
      await add('snakeXcase name');
      await add('back\\slash');
      await add('backXslash');
      await add('He said "ship it" AND NOT later*');
      expect(await found('100%')).toEqual(['Budget 100% done']);
      expect(await found('%')).toEqual(['Budget 100% done']);
      expect(await found('e_c')).toEqual(['snake_case name']);
      expect(await found('_')).toEqual(['snake_case name']);
      expect(await found('k\\s')).toEqual(['back\\slash']);
      expect(await found('\\')).toEqual(['back\\slash']);
      expect(await found('"ship it"')).toEqual(['He said "ship it" AND NOT later*']);
      expect(await found('later*')).toEqual(['He said "ship it" AND NOT later*']);
      for (const q of ['"', "'", "''", '*', '^', ':', '(', ')', '-', '+', '{x}', '%%', '\\%', 'a\u0000b', '\u0000', '\u0301', '\ud800', '   ']) {
        await expect(found(q), JSON.stringify(q)).resolves.toEqual(expect.any(Array));
      }
      expect(await found('\u0301')).toEqual([]); // nothing left once folded
      expect(await found('   ')).toEqual([]);
    });

    it('finds what a plain scan of the folded titles finds, in every workspace, newest first', async () => {
      const letters = ['a', 'b', 'á', 'B', 'ß', 's', ' ', 'σ', 'Σ', 'ς', '%', '_', '\\', '"', '😀', 'タ', '&', ':'];
      const titles = fc.sample(fc.array(fc.constantFrom(...letters), { minLength: 1, maxLength: 12 }).map((l) => l.join('')), { numRuns: 150, seed: 7 });
      const teams = [T, T2, 'T0SEARCH3'];
      const made = new Map<string, string[]>(teams.map((team) => [team, []]));
      for (const [i, title] of titles.entries()) {
        if (title.trim() === '') continue;
        const team = teams[i % teams.length] as string;
        await add(title, { teamId: team });
        made.get(team)!.unshift(title); // newest first
      }
      const queries = fc.sample(fc.array(fc.constantFrom(...letters), { minLength: 1, maxLength: 5 }).map((l) => l.join('')), { numRuns: 80, seed: 11 });
      for (const q of queries) {
        for (const team of teams) {
          const folded = foldForSearch(q);
          const expected = folded === '' ? [] : made.get(team)!.filter((title) => foldForSearch(title).includes(folded)).slice(0, 100);
          expect(await found(q, ANN, false, team), `${JSON.stringify(q)} in ${team}`).toEqual(expected);
        }
      }
    });

    it('keeps the visibility rules: a private task is found by its creator and assignee only, a guest finds only their own', async () => {
      await add('Salary review (private)', { creatorId: ANN, assigneeId: BOB, private: true });
      await add('Salary review (public)', { creatorId: ANN, assigneeId: ANN });
      await add('Salary review for Cat', { creatorId: ANN, assigneeId: CAT });
      await add('Salary review in the other workspace', { teamId: T2, creatorId: CAT, assigneeId: CAT });
      expect(await found('salary', ANN)).toEqual(['Salary review for Cat', 'Salary review (public)', 'Salary review (private)']);
      expect(await found('salary', BOB)).toEqual(['Salary review for Cat', 'Salary review (public)', 'Salary review (private)']);
      expect(await found('salary', CAT)).toEqual(['Salary review for Cat', 'Salary review (public)']);
      expect(await found('salary', CAT, true)).toEqual(['Salary review for Cat']);
      expect(await found('sa', CAT, true)).toEqual(['Salary review for Cat']);
      expect(await found('salary', 'UOUTSIDER', true)).toEqual([]);
      expect(await found('salary', ANN, false, T2)).toEqual(['Salary review in the other workspace']);
      expect(await found('salary', ANN, false, 'T0NOBODY')).toEqual([]);
    });

    it('finds task #n by number first, then the titles holding n, newest first', async () => {
      await add('First');
      await add('Mentions 1 in its title');
      await add('Done 1', { status: 'done', completedBy: ANN, completedAt: clock });
      await add('Private 1', { creatorId: BOB, assigneeId: BOB, private: true });
      const search = (q: string, userId = ANN) => found(q, userId);
      expect(await search('#1')).toEqual(['First']);
      expect(await search('1')).toEqual(['First', 'Done 1', 'Mentions 1 in its title']);
      expect(await search('4')).toEqual([]); // task #4 is private to Bob
      expect(await search('4', BOB)).toEqual(['Private 1']);
      expect(await search('99999999999')).toEqual([]); // beyond any task number
      const [hit] = await searchTasksPg(db, { teamId: T, userId: ANN, guest: false }, '#3', 100);
      expect(hit).toEqual({ id: expect.any(Number), number: 3, title: 'Done 1', status: 'done' });
    });

    it('stops at the limit, newest first', async () => {
      for (let i = 0; i < 120; i++) await add(`Bulk item ${i}`);
      const hits = await searchTasksPg(db, { teamId: T, userId: ANN, guest: false }, 'bulk', 100);
      expect(hits).toHaveLength(100);
      expect(hits[0]?.title).toBe('Bulk item 119');
      expect(hits.map((h) => h.number)).toEqual(Array.from({ length: 100 }, (_, i) => 120 - i));
      expect((await searchTasksPg(db, { teamId: T, userId: ANN, guest: false }, 'bulk', 100, 0)).map((h) => h.number)).toEqual(hits.map((h) => h.number));
      expect(await found('item', ANN, false, T, 5)).toEqual([
        'Bulk item 119', 'Bulk item 118', 'Bulk item 117', 'Bulk item 116', 'Bulk item 115',
      ]);
      expect(await found('i', ANN, false, T, 7)).toHaveLength(7);
    });

    it('reads the newest tasks first, and the search index only when they hold fewer than a page', async () => {
      // 20,000 tasks over 4 workspaces, one in 500 a quarterly audit, analysed (enable_seqscan
      // stays on): a workspace holds more than the walk reads.
      await db.execute(sql`
        INSERT INTO tasks (team_id, number, title, title_search, assignee_id, creator_id, origin, created_at, updated_at)
        SELECT 'T' || lpad((i % 4)::text, 9, '0'), i / 4 + 1, t, t, 'U' || (i % 50), 'U' || (i % 7), 'command', i, i
          FROM generate_series(0, 19999) AS i,
               LATERAL (SELECT CASE WHEN i % 500 = 3 THEN 'quarterly audit ' || i
                                    WHEN i % 500 = 7 THEN 'ежеквартальный аудит ' || i
                                    ELSE (ARRAY['send','review','draft','budget','launch','invoice'])[i % 6 + 1] || ' item ' || i END AS t) AS words`);
      await db.execute(sql`ANALYZE tasks`);
      expect(5000).toBeGreaterThan(RECENT_WALK);
      const plan = async (folded: string, teamId = 'T000000003') => {
        const { sql: text, params } = titleMatches(db, { teamId, userId: 'U3', guest: false }, folded, 100).toSQL();
        const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${text}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      };
      // The plan PostgreSQL makes once for any values (a prepared statement's generic plan), run
      // with these values: it must read older tasks through the search index alone.
      const genericPlan = async (folded: string, teamId = 'T000000003') => {
        const { sql: text, params } = titleMatches(db, { teamId, userId: 'U3', guest: false }, folded, 100).toSQL();
        // A connection of its own: the pool's know the statements they prepared, and keep them.
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          const literal = (v: unknown): string =>
            Array.isArray(v) ? `ARRAY[${v.map(literal).join(', ')}]::text[]` : typeof v === 'number' ? String(v) : client.escapeLiteral(String(v));
          await client.query('SET plan_cache_mode = force_generic_plan');
          await client.query(`PREPARE generic_search AS ${text}`);
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE generic_search(${params.map(literal).join(', ')})`);
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await client.end();
        }
      };
      const indexRead = /Bitmap Index Scan on tasks_search_keys_idx \(actual rows=\d+ loops=1\)/;
      const indexSkipped = /Bitmap Index Scan on tasks_search_keys_idx \(never executed\)/;
      // Inserted straight into the index: no pending list for a search to read (schema.ts).
      const { rows: options } = await pool.query("SELECT reloptions FROM pg_class WHERE relname = 'tasks_search_keys_idx'");
      expect(options).toEqual([{ reloptions: ['fastupdate=off'] }]);
      // A word every task holds: the page comes from the newest tasks; the index is not read.
      expect(await plan('item')).toMatch(indexSkipped);
      expect(await plan('rev')).toMatch(indexSkipped); // a third of this workspace: still more than a page in the walk
      // Rare: the walk finds a few, the index the rest.
      for (const q of ['quarterly', 'rterly aud', 'zzz-no-match', '#4003', 'квартальн']) expect(await plan(q), q).toMatch(indexRead);
      for (const q of ['quarterly', 'rterly aud', 'zzz-no-match']) {
        const generic = await genericPlan(q);
        expect(generic, q).toMatch(indexRead);
        expect(generic, q).not.toContain('Bitmap Index Scan on tasks_team_number_uq');
      }
      // Under three characters there is no key: the workspace newest first, no index.
      for (const q of ['ab', 'q', '-']) expect(await plan(q), q).not.toContain('tasks_search_keys_idx');
      // Workspace 3 holds i ≡ 3 (mod 4): its audits are i = 3, 503, …, 19503 (40 of them), and
      // its other-script ones i = 7, 507, …
      const audits = Array.from({ length: 40 }, (_, k) => `quarterly audit ${19_503 - 500 * k}`);
      expect(await found('Quarterly', 'U3', false, 'T000000003')).toEqual(audits);
      expect(await found('КВАРТАЛЬН', 'U3', false, 'T000000003')).toEqual(audits.map((a) => a.replace('quarterly audit', 'ежеквартальный аудит').replace(/\d+$/, (n) => String(Number(n) + 4))));
      expect(await found('quarterly', 'U3', false, 'T000000001')).toEqual([]); // i ≡ 1 (mod 4) holds none
    });
  });
}

it('looks up the first and last trigrams of a query and at most six between, per workspace', () => {
  expect(searchKeys('T1', 'ab')).toEqual([]);
  expect(searchKeys('T1', 'abc')).toEqual(['T1:abc']);
  expect(searchKeys('T1', 'aaaa')).toEqual(['T1:aaa']);
  expect(searchKeys('T1', '#42 x')).toEqual(['T1:#42', 'T1:42 ', 'T1:2 x']);
  expect(searchKeys('T1', 'タワー会')).toEqual(['T1:タワー', 'T1:ワー会']);
  expect(searchKeys('T1', 'a😀bc')).toEqual(['T1:a😀b', 'T1:😀bc']); // characters, not UTF-16 units
  const long = searchKeys('T1', 'quarterly budget review');
  expect(long).toHaveLength(8);
  expect(long[0]).toBe('T1:qua');
  expect(long[7]).toBe('T1:iew');
});
