// Seeding the store straight through SQL (one transaction, prepared), for Home tests that need
// hundreds or thousands of rows: going through Slack for each would test nothing more.
import type { Store } from '../../src/store/db.js';
import { foldForSearch } from '../../src/store/searchText.js';

export interface SeedTask {
  title?: string;
  assigneeId: string;
  creatorId?: string;
  status?: 'open' | 'done';
  dueDate?: string | null;
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  createdAt?: number;
  completedAt?: number | null;
}

/** Inserts tasks with the team's next numbers; returns their ids in order. */
export function seedTasks(store: Store, teamId: string, tasks: SeedTask[]): number[] {
  const db = store.sqlite;
  const next = db.prepare(
    `INSERT INTO team_counters (team_id, last_task_number) VALUES (?, ?)
     ON CONFLICT(team_id) DO UPDATE SET last_task_number = last_task_number + excluded.last_task_number
     RETURNING last_task_number AS last`,
  );
  const insert = db.prepare(`INSERT INTO tasks
    (team_id, number, title, title_search, status, priority, assignee_id, creator_id, due_date, origin, created_at, updated_at, completed_by, completed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'command', ?, ?, ?, ?)`);
  return db.transaction(() => {
    const { last } = next.get(teamId, tasks.length) as { last: number };
    let number = last - tasks.length;
    const base = Date.now() - tasks.length * 1000;
    return tasks.map((t, i) => {
      number += 1;
      const status = t.status ?? 'open';
      const createdAt = t.createdAt ?? base + i * 1000;
      const completedAt = status === 'done' ? (t.completedAt ?? Date.now()) : null;
      const title = t.title ?? `Task ${number}`;
      const r = insert.run(
        teamId,
        number,
        title,
        foldForSearch(title),
        status,
        t.priority ?? 'normal',
        t.assigneeId,
        t.creatorId ?? t.assigneeId,
        t.dueDate ?? null,
        createdAt,
        createdAt,
        status === 'done' ? t.assigneeId : null,
        completedAt,
      );
      return Number(r.lastInsertRowid);
    });
  })();
}

/** Pending approvals (shortcut origin) with the given approvers; returns their ids. */
export function seedApprovals(store: Store, teamId: string, n: number, a: { approvers: string[]; requesterId?: string; title?: (i: number) => string; details?: string }): number[] {
  const db = store.sqlite;
  const insert = db.prepare(`INSERT INTO approvals (team_id, title, details, requester_id, origin) VALUES (?, ?, ?, ?, 'shortcut')`);
  const approver = db.prepare('INSERT INTO approval_approvers (approval_id, team_id, user_id) VALUES (?, ?, ?)');
  return db.transaction(() =>
    Array.from({ length: n }, (_, i) => {
      const { lastInsertRowid } = insert.run(teamId, a.title?.(i) ?? `Approval ${i + 1}`, a.details ?? '', a.requesterId ?? null);
      for (const u of a.approvers) approver.run(lastInsertRowid, teamId, u);
      return Number(lastInsertRowid);
    }),
  )();
}

export function isoDaysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

type Obj = Record<string, unknown>;

/** Every mrkdwn/plain text of a view's blocks, joined: for "does the Home mention X" checks. */
export function viewText(blocks: unknown[] | undefined): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Obj;
      if (typeof o['text'] === 'string') out.push(o['text']);
      for (const [k, x] of Object.entries(o)) if (k !== 'text' || typeof x !== 'string') walk(x);
    }
  };
  walk(blocks ?? []);
  return out.join('\n');
}

/** Block ids of the task rows on a Home, in order, as task ids. */
export function homeTaskIds(blocks: unknown[] | undefined): number[] {
  return (blocks ?? [])
    .map((b) => (b as Obj)['block_id'])
    .filter((id): id is string => typeof id === 'string' && /^home_task_\d+$/.test(id))
    .map((id) => Number(id.slice('home_task_'.length)));
}
