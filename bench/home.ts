// App Home build time at scale: `npm run bench:home`.
//
// Generates a store of 1,000,000 tasks across 100 workspaces (one user with 10,000 tasks and
// 200 pending approvals) in a temp SQLite file, migrated exactly as in production, then times
// what a publish costs apart from the Slack call: the dashboard queries plus the Block Kit view
// (src/features/home/build.ts buildHome). Prints p50/p95/p99 per list and the view size.
//
// With TASKLANE_BENCH_DATABASE_URL (postgres://…, an empty database) it then copies the same
// tasks into PostgreSQL (bench/lib/pgSearch.ts) and times the same searches there.
//
// Options (env): BENCH_TASKS (default 1000000), BENCH_BUILDS (default 500), BENCH_KEEP=1 keeps the file.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHome } from '../src/features/home/build.js';
import { TasksRepository } from '../src/store/tasks.js';
import { DashboardReadModel } from '../src/store/dashboard.js';
import { openStore } from '../src/store/db.js';
import { mergeSearchIndex } from '../src/store/searchIndex.js';
import { foldForSearch, SHORT_QUERY_REACH } from '../src/store/searchText.js';
import type { HomeFilter } from '../src/store/schema.js';
import { seedPostgres, timePgSearches } from './lib/pgSearch.js';

const TOTAL_TASKS = Number(process.env.BENCH_TASKS ?? 1_000_000);
const BUILDS = Number(process.env.BENCH_BUILDS ?? 500);
const WORKSPACES = 100;
const USERS_PER_WORKSPACE = 200;
const HEAVY_TEAM = 'T000000000'; // team(0)
const HEAVY_USER = 'UHEAVY0001';
const HEAVY_TASKS = 10_000;
const HEAVY_PENDING_APPROVALS = 200;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12);
const TODAY = '2026-11-23';
const PG_URL = process.env.TASKLANE_BENCH_DATABASE_URL;
/** What the search lines time: three letters or more, through the index; one or two, without. */
const SEARCHES = ['rev', 'contract', 'zzz-no-match', '#42', 'launch plan'] as const;
const SHORT_SEARCHES = ['re', 'x', 'ab', 'Ü'] as const;
/**
 * Searches timed per engine: a p99 of 200 is the second-slowest search, so one stall of the machine
 * decides it; of 1,000 it is the tenth-slowest.
 */
const SEARCH_ROUNDS = 1000;
const SHORT_SEARCH_ROUNDS = 500;
const HEAVY_WORKSPACE_TASKS = HEAVY_TASKS + Math.floor((TOTAL_TASKS - HEAVY_TASKS) / WORKSPACES);

// Deterministic pseudo-random numbers (mulberry32), so every run measures the same store.
let seed = 42;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const WORDS = 'send review draft contract legal budget plan launch fix deploy update call client invoice report board slides hire onboard audit renew policy <script> & @channel'.split(' ');
function title(): string {
  if (rand() < 0.01) return 'Very long title '.repeat(188); // ~3,000 characters: the Home must cut it
  const n = 2 + Math.floor(rand() * 12);
  return Array.from({ length: n }, () => pick(WORDS)).join(' ');
}
const team = (i: number) => `T${String(i).padStart(9, '0')}`;
const user = (t: number, i: number) => `U${String(t).padStart(3, '0')}${String(i).padStart(6, '0')}`;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function generate(path: string): { seconds: number; segments: number } {
  const started = performance.now();
  const store = openStore(path);
  const db = store.sqlite;
  db.pragma('cache_size = -262144'); // 256 MB while loading: index inserts stay in memory
  const insertTask = db.prepare(`INSERT INTO tasks
    (team_id, number, title, title_search, status, priority, assignee_id, creator_id, due_date, origin, created_at, updated_at, completed_by, completed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'command', ?, ?, ?, ?)`);
  const insertApproval = db.prepare(`INSERT INTO approvals (team_id, title, details, requester_id, status, decided_by, decided_at, origin, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, 'shortcut', ?, ?)`);
  const insertApprover = db.prepare('INSERT INTO approval_approvers (approval_id, team_id, user_id) VALUES (?, ?, ?)');
  const priorities = ['low', 'normal', 'normal', 'normal', 'high', 'urgent'] as const;

  // Row by row, as the app adds tasks: the search index's trigger writes a segment per insert, and
  // the segments are then merged as the app's maintenance thread merges them (below), so the index
  // has as many segments as one grown by the app, which is what a search reads. It costs most of
  // the generation time (about 110 s instead of 22).
  db.transaction(() => {
    const numbers = new Map<string, number>();
    const addTask = (t: number, assignee: string) => {
      const teamId = team(t);
      const number = (numbers.get(teamId) ?? 0) + 1;
      numbers.set(teamId, number);
      const created = NOW - Math.floor(rand() * 365 * DAY);
      const done = rand() < 0.3;
      const due = rand() < 0.4 ? null : isoDay(NOW + Math.floor((rand() * 180 - 60) * DAY));
      const creator = rand() < 0.3 ? assignee : user(t, Math.floor(rand() * USERS_PER_WORKSPACE));
      const completedAt = done ? Math.min(NOW, created + Math.floor(rand() * 60 * DAY)) : null;
      const text = title();
      insertTask.run(teamId, number, text, foldForSearch(text), done ? 'done' : 'open', pick(priorities), assignee, creator, due, created, created, done ? assignee : null, completedAt);
    };
    // The heavy user's 10,000 tasks, then everyone else's, spread over 100 workspaces.
    for (let i = 0; i < HEAVY_TASKS; i++) addTask(0, HEAVY_USER);
    for (let i = HEAVY_TASKS; i < TOTAL_TASKS; i++) {
      const t = i % WORKSPACES;
      addTask(t, user(t, Math.floor(rand() * USERS_PER_WORKSPACE)));
    }
    const addApproval = (teamId: string, approvers: string[], pending: boolean) => {
      const created = NOW - Math.floor(rand() * 90 * DAY);
      const status = pending ? 'pending' : rand() < 0.7 ? 'approved' : 'rejected';
      const details = rand() < 0.1 ? 'Lots of detail. '.repeat(120) : 'Please look at this before Friday.';
      const { lastInsertRowid } = insertApproval.run(teamId, title(), details, user(0, 1), status, pending ? null : approvers[0], pending ? null : created + DAY, created, created);
      for (const a of approvers) insertApprover.run(lastInsertRowid, teamId, a);
    };
    for (let i = 0; i < HEAVY_PENDING_APPROVALS; i++) addApproval(HEAVY_TEAM, [HEAVY_USER, user(0, 7)], true);
    for (let i = 0; i < 2_000; i++) addApproval(HEAVY_TEAM, [HEAVY_USER], false);
    for (let i = 0; i < 50_000; i++) {
      const t = i % WORKSPACES;
      addApproval(team(t), [user(t, Math.floor(rand() * USERS_PER_WORKSPACE))], rand() < 0.2);
    }
  })();
  // The app's maintenance thread merges the index in small steps while it runs (automerge is off).
  mergeSearchIndex(store, Number.POSITIVE_INFINITY);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const segments = (db.prepare('SELECT count(DISTINCT segid) AS n FROM tasks_fts_idx').get() as { n: number }).n;
  store.close();
  return { seconds: (performance.now() - started) / 1000, segments };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function measure(path: string): Promise<void> {
  const store = openStore(path);
  const dashboard = new DashboardReadModel(store);
  const heavyOpen = (store.sqlite.prepare("SELECT count(*) AS n FROM tasks WHERE team_id = ? AND assignee_id = ? AND status = 'open'").get(HEAVY_TEAM, HEAVY_USER) as { n: number }).n;
  const pages = Math.ceil(heavyOpen / 20);

  const run = async (filter: HomeFilter, builds: number) => {
    const times: number[] = [];
    let maxBytes = 0;
    let maxBlocks = 0;
    for (let i = 0; i < builds + 50; i++) {
      // Mostly the first pages (what people look at), sometimes deep ones, sometimes the last.
      const r = rand();
      const page = r < 0.6 ? Math.floor(rand() * 3) : r < 0.9 ? Math.floor(rand() * pages) : pages - 1;
      const t0 = performance.now();
      const view = await buildHome(dashboard, { teamId: HEAVY_TEAM, userId: HEAVY_USER, guest: false, prefs: { filter, page }, today: TODAY, now: NOW });
      const t1 = performance.now();
      if (i < 50) continue; // warm-up
      times.push(t1 - t0);
      maxBytes = Math.max(maxBytes, Buffer.byteLength(JSON.stringify(view)));
      maxBlocks = Math.max(maxBlocks, view.blocks.length);
    }
    times.sort((a, b) => a - b);
    const f = (ms: number) => `${ms.toFixed(2)} ms`;
    console.log(
      `${filter.padEnd(14)} builds=${builds}  p50 ${f(percentile(times, 50))}  p95 ${f(percentile(times, 95))}  p99 ${f(percentile(times, 99))}  max ${f(times[times.length - 1] as number)}  view ≤ ${maxBlocks} blocks, ${(maxBytes / 1024).toFixed(1)} KB`,
    );
  };

  console.log(`\nbuild = dashboard queries + Block Kit view, for ${HEAVY_USER}: ${HEAVY_TASKS} tasks (${heavyOpen} open, ${pages} pages), ${HEAVY_PENDING_APPROVALS} pending approvals`);
  await run('assigned', BUILDS);
  await run('created', Math.ceil(BUILDS / 2));
  await run('all_open', Math.ceil(BUILDS / 2));
  await run('recently_done', Math.ceil(BUILDS / 2));

  // Three letters or more go through the search index; one or two read the newest tasks.
  const searches: number[] = [];
  for (let i = 0; i < SEARCH_ROUNDS; i++) {
    const t0 = performance.now();
    await dashboard.searchTasks({ teamId: HEAVY_TEAM, userId: HEAVY_USER, guest: false }, pick(SEARCHES), 100);
    searches.push(performance.now() - t0);
  }
  searches.sort((a, b) => a - b);
  console.log(`search         queries=${SEARCH_ROUNDS}  p50 ${percentile(searches, 50).toFixed(2)} ms  p95 ${percentile(searches, 95).toFixed(2)} ms  p99 ${percentile(searches, 99).toFixed(2)} ms  max ${searches.at(-1)!.toFixed(2)} ms (workspace of ${HEAVY_WORKSPACE_TASKS} tasks)`);
  const short: number[] = [];
  for (let i = 0; i < SHORT_SEARCH_ROUNDS; i++) {
    const t0 = performance.now();
    await dashboard.searchTasks({ teamId: HEAVY_TEAM, userId: HEAVY_USER, guest: false }, pick(SHORT_SEARCHES), 100);
    short.push(performance.now() - t0);
  }
  short.sort((a, b) => a - b);
  console.log(`search 1–2 letters queries=${SHORT_SEARCH_ROUNDS}  p50 ${percentile(short, 50).toFixed(2)} ms  p95 ${percentile(short, 95).toFixed(2)} ms  p99 ${percentile(short, 99).toFixed(2)} ms  max ${short.at(-1)!.toFixed(2)} ms (no index: the newest ${SHORT_QUERY_REACH} tasks)`);
  // `/task list`: the store's share of the command (query + count), for the heavy user.
  const tasksRepo = new TasksRepository(store);
  const kinds = [['mine', 'open'], ['mine', 'done'], ['created', 'open'], ['all', 'open'], ['all', 'done']] as const;
  const lists: number[] = [];
  for (const [scope, status] of kinds) {
    const times: number[] = [];
    for (let i = 0; i < 120; i++) {
      const t0 = performance.now();
      await tasksRepo.list(HEAVY_TEAM, { scope, status, userId: HEAVY_USER, guest: false, limit: 20 });
      if (i >= 20) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    lists.push(...times);
    console.log(`/task list ${`${scope} ${status}`.padEnd(12)} p50 ${percentile(times, 50).toFixed(2)} ms  p99 ${percentile(times, 99).toFixed(2)} ms`);
  }
  lists.sort((a, b) => a - b);
  console.log(`/task list     all kinds, queries=${lists.length}  p50 ${percentile(lists, 50).toFixed(2)} ms  p95 ${percentile(lists, 95).toFixed(2)} ms  p99 ${percentile(lists, 99).toFixed(2)} ms (store time: page + count)`);
  store.close();
}

/** The same searches on PostgreSQL, over the same tasks (copied from the SQLite file). */
async function measurePostgres(path: string, url: string): Promise<void> {
  const { seconds, tableMb, searchIndexMb, server, ctype } = await seedPostgres(path, url);
  console.log(`\n${server} (LC_CTYPE ${ctype}): copied ${TOTAL_TASKS.toLocaleString('en-US')} tasks in ${seconds.toFixed(1)} s; tasks ${tableMb.toFixed(0)} MB, tasks_search_keys_idx ${searchIndexMb.toFixed(0)} MB`);
  const reader = { teamId: HEAVY_TEAM, userId: HEAVY_USER, guest: false };
  const line = (label: string, r: { all: number[]; byQuery: Map<string, number[]> }, note: string) => {
    const f = (xs: number[], p: number) => percentile(xs, p).toFixed(2);
    console.log(`${label} p50 ${f(r.all, 50)} ms  p95 ${f(r.all, 95)} ms  p99 ${f(r.all, 99)} ms  max ${r.all.at(-1)!.toFixed(2)} ms ${note}`);
    console.log(`  by query (p50 / p99 ms): ${[...r.byQuery].filter(([, t]) => t.length > 0).map(([q, t]) => `${JSON.stringify(q)} ${f(t, 50)} / ${f(t, 99)}`).join(', ')}`);
  };
  line(`pg search         queries=${SEARCH_ROUNDS} `, await timePgSearches(url, reader, SEARCHES, SEARCH_ROUNDS, pick), `(workspace of ${HEAVY_WORKSPACE_TASKS} tasks)`);
  line(`pg search 1–2 letters queries=${SHORT_SEARCH_ROUNDS} `, await timePgSearches(url, reader, SHORT_SEARCHES, SHORT_SEARCH_ROUNDS, pick), `(no trigram: the newest ${SHORT_QUERY_REACH} tasks)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-bench-home-'));
  const path = join(dir, 'bench.db');
  try {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`Tasklane App Home bench — Node ${process.version}, ${cpus().length} × ${cpu}`);
    const { seconds, segments } = generate(path);
    console.log(`generated ${TOTAL_TASKS.toLocaleString('en-US')} tasks in ${WORKSPACES} workspaces (+ 52,200 approvals) in ${seconds.toFixed(1)} s; file ${(statSync(path).size / 1e6).toFixed(0)} MB; search index in ${segments} segments`);
    await measure(path);
    if (PG_URL) await measurePostgres(path, PG_URL);
  } finally {
    if (process.env.BENCH_KEEP) console.log(`kept ${path}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

void main();
