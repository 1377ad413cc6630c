import { openStore } from '../../src/store/db.js';
import { foldForSearch } from '../../src/store/searchText.js';

export interface SeedOptions {
  teams: number;
  tasks: number;
  /** One user who owns `heavyUserTasks` open tasks, in the first team. */
  heavyUserTasks: number;
  /** Pending approvals per team. */
  pendingApprovalsPerTeam: number;
}

export const BENCH_TEAMS = (n: number) => Array.from({ length: n }, (_, i) => `TB${String(i).padStart(5, '0')}`);
export const HEAVY_USER = 'UHEAVY0001';
export const usersOf = (team: string, n = 50) => Array.from({ length: n }, (_, i) => `U${team.slice(2)}${String(i).padStart(3, '0')}`);

/**
 * Fills a migrated store with `tasks` tasks spread over `teams` workspaces, in one transaction
 * with prepared inserts (about 20 s for 1,000,000 tasks here). Deterministic: no randomness.
 */
export function seedStore(path: string, o: SeedOptions): { seconds: number } {
  const started = Date.now();
  const store = openStore(path);
  const db = store.sqlite;
  const teams = BENCH_TEAMS(o.teams);
  // A team's tasks go to a scratch table, then into `tasks` in one statement: the search index's
  // trigger then adds them in one batch. Row by row, FTS5 would write an index segment per
  // statement (87 s instead of 19 s for 1,000,000 tasks).
  const columns = 'team_id, number, title, title_search, description, status, priority, assignee_id, creator_id, due_date, origin, created_at, updated_at, completed_by, completed_at';
  db.exec(`CREATE TEMP TABLE seed_tasks AS SELECT ${columns} FROM tasks WHERE 0`);
  const insertTask = db.prepare(`INSERT INTO seed_tasks (${columns}) VALUES (?, ?, ?, ?, '', ?, 'normal', ?, ?, ?, 'command', ?, ?, ?, ?)`);
  const flushTasks = () => {
    db.exec(`INSERT INTO tasks (${columns}) SELECT ${columns} FROM seed_tasks ORDER BY rowid`);
    db.exec('DELETE FROM seed_tasks');
  };
  const insertCounter = db.prepare('INSERT INTO team_counters (team_id, last_task_number) VALUES (?, ?)');
  const insertApproval = db.prepare(
    `INSERT INTO approvals (team_id, title, details, requester_id, status, origin, created_at, updated_at) VALUES (?, ?, '', ?, 'pending', 'shortcut', ?, ?)`,
  );
  const insertApprover = db.prepare('INSERT INTO approval_approvers (approval_id, team_id, user_id) VALUES (?, ?, ?)');
  // Everyone has opened the Home once; a quarter of them in the last few days, the others a month
  // ago (people look at their Home now and then): a change republishes only recent Homes.
  const insertHome = db.prepare('INSERT INTO home_state (team_id, user_id, updated_at) VALUES (?, ?, ?)');
  const recently = Date.now() - 2 * 86_400_000;
  const monthAgo = Date.now() - 30 * 86_400_000;
  const day = 86_400_000;
  const base = Date.UTC(2026, 0, 1);
  const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

  db.transaction(() => {
    const perTeam = Math.floor((o.tasks - o.heavyUserTasks) / teams.length);
    teams.forEach((team, ti) => {
      const users = usersOf(team);
      let number = 0;
      const count = ti === 0 ? perTeam + o.heavyUserTasks : perTeam;
      for (let i = 0; i < count; i++) {
        number++;
        const heavy = ti === 0 && i < o.heavyUserTasks;
        const assignee = heavy ? HEAVY_USER : (users[i % users.length] as string);
        const creator = users[(i * 7) % users.length] as string;
        const done = !heavy && i % 3 === 0;
        const created = base + (i % 300) * day + i;
        const title = `Task ${number} for ${assignee}: prepare the quarterly report section ${i % 97}`;
        insertTask.run(
          team, number, title, foldForSearch(title),
          done ? 'done' : 'open', assignee, creator, i % 4 === 0 ? null : isoDay(base + (i % 400) * day),
          created, created, done ? assignee : null, done ? created + day : null,
        );
      }
      flushTasks();
      insertCounter.run(team, number);
      users.forEach((u, ui) => insertHome.run(team, u, ui % 4 === 0 ? recently : monthAgo));
      if (ti === 0) insertHome.run(team, HEAVY_USER, recently);
      for (let a = 0; a < o.pendingApprovalsPerTeam; a++) {
        const requester = users[a % users.length] as string;
        const id = insertApproval.run(team, `Approve expense ${a}`, requester, base + a, base + a).lastInsertRowid;
        insertApprover.run(id, team, ti === 0 && a % 2 === 0 ? HEAVY_USER : (users[(a + 1) % users.length] as string));
      }
    });
  })();
  // Merged as the maintenance thread keeps it in a store that has been running (automerge is off).
  db.exec(`INSERT INTO tasks_fts (tasks_fts) VALUES ('optimize')`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  store.close();
  return { seconds: (Date.now() - started) / 1000 };
}
