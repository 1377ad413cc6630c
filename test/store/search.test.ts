// Title search on a real SQLite file migrated as in production: both implementations (the App
// Home's read model and the tasks repository), the search index kept in step with the tasks,
// and a store migrated from before the index.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DashboardReadModel } from '../../src/store/dashboard.js';
import { MIGRATIONS_FOLDER, openStore, type Store } from '../../src/store/db.js';
import { foldForSearch, HIT_TITLE_CHARS, SHORT_QUERY_REACH } from '../../src/store/searchText.js';
import { TasksRepository, type NewTask } from '../../src/store/tasks.js';

const T = 'T0SEARCH1';
const T2 = 'T0SEARCH2';
const ANN = 'UANN';
const BOB = 'UBOB';
const CAT = 'UCAT';
const member = (userId: string) => ({ userId, guest: false });

let dir: string;
let store: Store;
let repo: TasksRepository;
let read: DashboardReadModel;
let clock = 1_700_000_000_000;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-search-'));
  store = openStore(join(dir, 'db.sqlite'));
  repo = new TasksRepository(store);
  read = new DashboardReadModel(store);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const add = async (title: string, over: Partial<NewTask> = {}) =>
  (await repo.create({ teamId: T, title, assigneeId: ANN, creatorId: ANN, origin: 'command', ...over }, (clock += 1000))).task;

/** Titles both implementations find for `userId` (a member unless `guest`), the Home's order. */
async function found(query: string, userId = ANN, guest = false, teamId = T): Promise<string[]> {
  const home = (await read.searchTasks({ teamId, userId, guest }, query, 100)).map((h) => h.title);
  const repoHits = (await repo.search(teamId, { userId, guest }, query)).map((h) => h.title);
  expect([...repoHits].sort(), `repository search for ${JSON.stringify(query)}`).toEqual([...home].sort());
  return home;
}

describe('title search', () => {
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
  });

  it('finds a piece in the middle of a word, and one or two letters by reading the newest tasks', async () => {
    await add('Quarterly report');
    await add('Reporting lines');
    await add('Unrelated');
    expect(await found('arterl')).toEqual(['Quarterly report']);
    expect(await found('port')).toEqual(['Reporting lines', 'Quarterly report']);
    expect(await found('rl')).toEqual(['Quarterly report']);
    expect(await found('Q')).toEqual(['Quarterly report']);
    expect(await found('ö')).toEqual(['Reporting lines', 'Quarterly report']); // "o"
  });

  it("reads one or two letters in the workspace's newest 1,000 tasks only; a third letter finds every task", async () => {
    await add('QA-1 sign-off for the old release'); // #1
    for (let i = 0; i < SHORT_QUERY_REACH - 1; i++) await add(`Filler ${i}`);
    await add('QA-2 the new build'); // #1001: #2..#1001 are the newest 1,000
    const home = async (query: string) => (await read.searchTasks({ teamId: T, ...member(ANN) }, query, 100)).map((h) => h.number);
    expect(await home('qa')).toEqual([1001]);
    expect(await home('qa-')).toEqual([1001, 1]);
    expect(await home('QA-1')).toEqual([1]);
    // A task's number still finds it, however old.
    expect(await home('1')).toEqual(expect.arrayContaining([1]));
  });

  it("gives a hit the title's first 200 characters (an option shows 75)", async () => {
    const long = `Ünïcode 🚀 ${'x'.repeat(300)}`;
    await add(long);
    const [hit] = await read.searchTasks({ teamId: T, ...member(ANN) }, 'ünï', 100);
    expect(hit?.title).toBe([...long].slice(0, HIT_TITLE_CHARS).join('')); // characters, not UTF-16 units
  });

  it('takes %, _, \\ and FTS5 syntax literally; a query of punctuation or nothing finds what has it, and never throws', async () => {
    await add('Budget 100% done');
    await add('Budget 100x done');
    await add('snake_case name');
    await add('snakeXcase name');
    await add('back\\slash');
    await add('He said "ship it" AND NOT later*');
    expect(await found('100%')).toEqual(['Budget 100% done']);
    expect(await found('%')).toEqual(['Budget 100% done']);
    expect(await found('e_c')).toEqual(['snake_case name']);
    expect(await found('_')).toEqual(['snake_case name']);
    expect(await found('k\\s')).toEqual(['back\\slash']);
    expect(await found('"ship it"')).toEqual(['He said "ship it" AND NOT later*']);
    expect(await found('AND NOT')).toEqual(['He said "ship it" AND NOT later*']);
    expect(await found('later*')).toEqual(['He said "ship it" AND NOT later*']);
    for (const q of ['"', '""""', '*', '^', ':', '(', ')', 'NEAR(a b)', '-', '+', '{x}', 'a\u0000b', '\u0000', '\u0301', '   ']) {
      await expect(found(q), JSON.stringify(q)).resolves.toEqual(expect.any(Array));
    }
    expect(await found('\u0301')).toEqual([]); // nothing left once folded
  });

  it('finds what a plain scan of the folded titles finds, in every workspace, newest first', async () => {
    const letters = ['a', 'b', 'á', 'B', 'ß', 's', ' ', 'σ', 'Σ', 'ς', '%', '"'];
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

  it('keeps the index in step when a title changes and when a task is deleted', async () => {
    const indexRows = () => (store.sqlite.prepare('SELECT count(*) AS n FROM tasks_fts').get() as { n: number }).n;
    const task = await add('Alpha report');
    await add('Unrelated');
    expect(indexRows()).toBe(2);
    expect(await found('alpha')).toEqual(['Alpha report']);

    await repo.update(T, task.id, ANN, { title: 'Beta summary' }, (clock += 1000));
    expect((await repo.findById(T, task.id))?.titleSearch).toBe('beta summary');
    expect(await found('alpha')).toEqual([]);
    expect(await found('beta')).toEqual(['Beta summary']);
    expect(indexRows()).toBe(2);

    // A change that leaves the title alone leaves the index alone.
    await repo.update(T, task.id, ANN, { description: 'more' }, (clock += 1000));
    await repo.complete(T, task.id, ANN, (clock += 1000));
    expect(await found('beta')).toEqual(['Beta summary']);

    await repo.delete(T, task.id, ANN, (clock += 1000));
    expect(await found('beta')).toEqual([]);
    expect(indexRows()).toBe(1);
  });

  it('keeps the visibility rules: a private task is found by its creator and assignee only, a guest finds only their own', async () => {
    await add('Salary review (private)', { creatorId: ANN, assigneeId: BOB, private: true });
    await add('Salary review (public)', { creatorId: ANN, assigneeId: ANN });
    await add('Salary review for Cat', { creatorId: ANN, assigneeId: CAT });
    expect(await found('salary', ANN)).toEqual(['Salary review for Cat', 'Salary review (public)', 'Salary review (private)']);
    expect(await found('salary', BOB)).toEqual(['Salary review for Cat', 'Salary review (public)', 'Salary review (private)']);
    expect(await found('salary', CAT)).toEqual(['Salary review for Cat', 'Salary review (public)']);
    expect(await found('salary', CAT, true)).toEqual(['Salary review for Cat']);
    expect(await found('sa', CAT, true)).toEqual(['Salary review for Cat']);
    expect(await found('salary', 'UOUTSIDER', true)).toEqual([]);
    expect(await found('salary', ANN, false, T2)).toEqual([]);
  });

  it('still finds task #n by number, first on the Home and in order in the repository', async () => {
    const first = await add('First');
    await add('Mentions 1 in its title');
    const done = await add('Done 1');
    await repo.complete(T, done.id, ANN, (clock += 1000));
    expect((await read.searchTasks({ teamId: T, userId: ANN, guest: false }, '#1', 100)).map((h) => h.number)).toEqual([1]);
    expect((await read.searchTasks({ teamId: T, userId: ANN, guest: false }, '1', 100)).map((h) => h.title)).toEqual(['First', 'Done 1', 'Mentions 1 in its title']);
    expect((await repo.search(T, member(ANN), '1')).map((h) => h.title)).toEqual(['Mentions 1 in its title', 'First', 'Done 1']);
    expect((await repo.search(T, member(ANN), '#1')).map((h) => h.id)).toEqual([first.id]);
  });

  it('stops at the limit, newest first', async () => {
    for (let i = 0; i < 120; i++) await add(`Bulk item ${i}`);
    const hits = await read.searchTasks({ teamId: T, userId: ANN, guest: false }, 'bulk', 100);
    expect(hits).toHaveLength(100);
    expect(hits[0]?.title).toBe('Bulk item 119');
    expect((await repo.search(T, member(ANN), 'bulk')).map((h) => h.title)[0]).toBe('Bulk item 119');
    expect(await read.searchTasks({ teamId: T, userId: ANN, guest: false }, 'item', 5)).toHaveLength(5);
  });
});

describe('a store from before the search index (migration 0004)', () => {
  it('gets every title folded and indexed, keeps task ids unique, and searches', async () => {
    store.close();
    // The migrations up to 0004 only.
    const old = join(dir, 'migrations-0004');
    cpSync(MIGRATIONS_FOLDER, old, { recursive: true });
    const journalPath = join(old, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag <= '0004_zzz');
    writeFileSync(journalPath, JSON.stringify(journal));

    const path = join(dir, 'old.db');
    const before = openStore(path, old);
    expect(before.sqlite.prepare("SELECT count(*) AS n FROM pragma_table_info('tasks') WHERE name = 'title_search'").get()).toEqual({ n: 0 });
    const insert = before.sqlite.prepare('INSERT INTO tasks (team_id, number, title, assignee_id, creator_id, origin, private) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const rows: [string, number, string, string, string, string, number][] = [
      [T, 1, 'Über den Wolken', ANN, ANN, 'command', 0],
      [T, 2, 'Hauptstraße 5', ANN, ANN, 'command', 0],
      [T, 3, 'ΣΟΦΟΣ', ANN, BOB, 'message', 1],
      [T2, 1, 'Über in the other workspace', BOB, BOB, 'command', 0],
      [T, 4, 'Deleted newest', ANN, ANN, 'command', 0],
    ];
    for (const r of rows) insert.run(...r);
    before.sqlite.prepare('INSERT INTO team_counters (team_id, last_task_number) VALUES (?, 4), (?, 1)').run(T, T2);
    before.sqlite.prepare('INSERT INTO task_comments (task_id, team_id, user_id, text) VALUES (1, ?, ?, ?)').run(T, ANN, 'a comment');
    before.sqlite.prepare('DELETE FROM tasks WHERE id = 5').run();
    before.close();

    const after = openStore(path);
    try {
      const titles = after.sqlite.prepare('SELECT id, title, title_search FROM tasks ORDER BY id').all() as { id: number; title: string; title_search: string }[];
      expect(titles.map((r) => r.title_search)).toEqual(['uber den wolken', 'hauptstrasse 5', 'σοφοσ', 'uber in the other workspace']);
      for (const r of titles) expect(r.title_search).toBe(foldForSearch(r.title));
      expect(after.sqlite.prepare('SELECT text FROM task_comments').all()).toEqual([{ text: 'a comment' }]); // no cascade
      const triggers = after.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tasks' ORDER BY name").all();
      expect(triggers).toEqual([{ name: 'tasks_search_delete' }, { name: 'tasks_search_insert' }, { name: 'tasks_search_update' }]);

      const home = new DashboardReadModel(after);
      const search = async (teamId: string, userId: string, q: string) => (await home.searchTasks({ teamId, userId, guest: false }, q, 100)).map((h) => h.title);
      expect(await search(T, ANN, 'uber')).toEqual(['Über den Wolken']);
      expect(await search(T, ANN, 'strasse')).toEqual(['Hauptstraße 5']);
      expect(await search(T, ANN, 'σοφος')).toEqual(['ΣΟΦΟΣ']);
      expect(await search(T, CAT, 'σοφος')).toEqual([]); // private, as before
      expect(await search(T2, BOB, 'uber')).toEqual(['Über in the other workspace']);

      // The deleted task's id is not handed out again (AUTOINCREMENT survives the table rebuild).
      const tasksRepo = new TasksRepository(after);
      const next = await tasksRepo.create({ teamId: T, title: 'Über neu', assigneeId: ANN, creatorId: ANN, origin: 'command' }, 1);
      expect(next.task.id).toBe(6);
      expect(await search(T, ANN, 'uber')).toEqual(['Über neu', 'Über den Wolken']);
    } finally {
      after.close();
    }
  });
});
