// The tasks store's contract, run on both engines: SQLite (a file store opened as in production)
// and PostgreSQL (a database of this file's own, migrated as at start-up). The same cases, the same
// expectations; SQLite's behaviour is the reference. PostgreSQL alone adds concurrency across
// pools, which SQLite's single writer never meets.
import { asc, eq } from 'drizzle-orm';
import pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import type { Effect } from '../../src/store/outbox.js';
import { pgDatabase, type PgDb } from '../../src/store/pg/db.js';
import * as pgSchema from '../../src/store/pg/schema.js';
import { PgTasksRepository } from '../../src/store/pg/tasks.js';
import * as sqliteSchema from '../../src/store/schema.js';
import type { AuditRow, CommentRow, OutboxRow } from '../../src/store/schema.js';
import { SeriesDateTakenError } from '../../src/store/taskErrors.js';
import { TasksRepository } from '../../src/store/tasks.js';
import type { NewTask, TaskMessage, TasksStore } from '../../src/store/tasksStore.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';

const A = 'T0AAAAAAA';
const B = 'T0BBBBBBB';
let clock = 1_700_000_000_000;
const at = () => (clock += 1000);

const task = (over: Partial<NewTask> = {}): NewTask => ({
  teamId: A,
  title: 'Write the report',
  assigneeId: 'UANN',
  creatorId: 'UBOB',
  origin: 'command',
  ...over,
});

/** One engine's store, and what the tests read and set behind the repository's back. */
interface Engine {
  repo: TasksStore;
  outbox(): Promise<OutboxRow[]>;
  audit(): Promise<AuditRow[]>;
  messageRows(): Promise<(TaskMessage & { taskId: number; teamId: string })[]>;
  commentRows(): Promise<CommentRow[]>;
  counter(teamId: string): Promise<number | undefined>;
  /** A task done while its step still waits: a store from before the outbox. */
  markDoneRaw(id: number): Promise<void>;
  /** An outbox row as the sender leaves it. */
  setOutbox(key: string, state: 'done' | 'failed', attempts: number, updatedAt: number): Promise<void>;
}

function sqliteEngine(store: Store): Engine {
  const s = sqliteSchema;
  return {
    repo: new TasksRepository(store),
    outbox: async () => store.db.select().from(s.outbox).orderBy(asc(s.outbox.id)).all(),
    audit: async () => store.db.select().from(s.auditLog).orderBy(asc(s.auditLog.id)).all(),
    messageRows: async () => store.db.select().from(s.taskMessages).all(),
    commentRows: async () => store.db.select().from(s.taskComments).orderBy(asc(s.taskComments.id)).all(),
    counter: async (teamId) => store.db.select().from(s.teamCounters).where(eq(s.teamCounters.teamId, teamId)).get()?.lastTaskNumber,
    markDoneRaw: async (id) => {
      store.sqlite.prepare("UPDATE tasks SET status = 'done', completed_by = 'UANN', completed_at = 1 WHERE id = ?").run(id);
    },
    setOutbox: async (key, state, attempts, updatedAt) => {
      store.sqlite.prepare('UPDATE outbox SET state = ?, attempts = ?, updated_at = ? WHERE key = ?').run(state, attempts, updatedAt, key);
    },
  };
}

function pgEngine(db: PgDb, pool: pg.Pool): Engine {
  const s = pgSchema;
  return {
    repo: new PgTasksRepository(db),
    outbox: async () => db.select().from(s.outbox).orderBy(asc(s.outbox.id)),
    audit: async () => db.select().from(s.auditLog).orderBy(asc(s.auditLog.id)),
    messageRows: async () => db.select().from(s.taskMessages),
    commentRows: async () => db.select().from(s.taskComments).orderBy(asc(s.taskComments.id)),
    counter: async (teamId) => (await db.select().from(s.teamCounters).where(eq(s.teamCounters.teamId, teamId)))[0]?.lastTaskNumber,
    markDoneRaw: async (id) => {
      await pool.query("UPDATE tasks SET status = 'done', completed_by = 'UANN', completed_at = 1 WHERE id = $1", [id]);
    },
    setOutbox: async (key, state, attempts, updatedAt) => {
      await pool.query('UPDATE outbox SET state = $1, attempts = $2, updated_at = $3 WHERE key = $4', [state, attempts, updatedAt, key]);
    },
  };
}

const note = (key: string, over: Partial<Effect> = {}) => (t: { id: number }): Effect[] => [
  { key: `${key}:${t.id}`, teamId: A, kind: 'message', target: 'UBOB', payload: { n: t.id }, ...over },
];
const boom = (): Effect[] => {
  throw new Error('cannot describe the effects');
};
const MEMBER = { userId: 'UANN', guest: false };

/** Every case, against whichever engine `current()` gives (fresh and empty for each case). */
function contract(current: () => Engine): void {
  const e = () => current();
  const repo = () => current().repo;

  describe('create and numbers', () => {
    it('fills in the defaults, folds the title for search, and audits the creation', async () => {
      const when = at();
      const { task: t, created } = await repo().create(task({ title: 'Über den Wolken' }), when);
      expect(created).toBe(true);
      expect(t).toMatchObject({
        teamId: A,
        number: 1,
        title: 'Über den Wolken',
        titleSearch: 'uber den wolken',
        description: '',
        status: 'open',
        priority: 'normal',
        assigneeId: 'UANN',
        creatorId: 'UBOB',
        dueDate: null,
        origin: 'command',
        sourcePermalink: null,
        channelId: null,
        createdAt: when,
        updatedAt: when,
        completedBy: null,
        completedAt: null,
        functionExecutionId: null,
        stepState: 'none',
        private: false,
      });
      expect(typeof t.id).toBe('number');
      expect(await repo().findById(A, t.id)).toEqual(t);

      const full = (
        await repo().create(
          task({ title: 'Full', description: 'd', priority: 'urgent', dueDate: '2030-01-02', origin: 'message', sourcePermalink: 'https://x/p', channelId: 'C1', private: true }),
          at(),
        )
      ).task;
      expect(full).toMatchObject({ number: 2, description: 'd', priority: 'urgent', dueDate: '2030-01-02', origin: 'message', sourcePermalink: 'https://x/p', channelId: 'C1', private: true });
      const audit = await e().audit();
      expect(audit.map((r) => ({ ...r, detail: r.detail && JSON.parse(r.detail) }))).toMatchObject([
        { teamId: A, actorId: 'UBOB', entity: 'task', entityId: t.id, action: 'created', detail: { number: 1, assignee: 'UANN', origin: 'command' } },
        { entityId: full.id, action: 'created', detail: { number: 2, assignee: 'UANN', origin: 'message', due: '2030-01-02', private: true } },
      ]);
      expect(typeof audit[0]!.createdAt).toBe('number');
    });

    it('are per workspace, consecutive under concurrency, and never reused after a delete', async () => {
      const made = await Promise.all(Array.from({ length: 30 }, (_, i) => repo().create(task({ title: `t${i}` }), at())));
      expect(made.map((m) => m.task.number).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect((await repo().create(task({ teamId: B }), at())).task.number).toBe(1);

      const last = made.find((m) => m.task.number === 30)!.task;
      await repo().delete(A, last.id, 'UBOB', at());
      expect((await repo().create(task(), at())).task.number).toBe(31);
      expect(await e().counter(A)).toBe(31);
      expect(await e().counter(B)).toBe(1);
    });

    it('a create whose effects cannot be written stores nothing and gives its number back', async () => {
      await expect(repo().create(task(), at(), boom)).rejects.toThrow('cannot describe the effects');
      expect(await repo().findByNumber(A, 1)).toBeUndefined();
      expect(await e().audit()).toEqual([]);
      expect((await repo().create(task(), at())).task.number).toBe(1);
    });

    it('a second create for the same workflow execution returns the first task, uses no number and writes no effect', async () => {
      const first = await repo().create(task({ functionExecutionId: 'Fx1', stepState: 'waiting', origin: 'workflow' }), at(), note('created'));
      const again = await repo().create(task({ functionExecutionId: 'Fx1', title: 'other' }), at(), note('created-again'));
      expect(first.created).toBe(true);
      expect(first.task).toMatchObject({ functionExecutionId: 'Fx1', stepState: 'waiting' });
      expect(again).toEqual({ task: first.task, created: false });
      expect((await repo().create(task(), at())).task.number).toBe(2);
      expect((await e().outbox()).map((r) => r.key)).toEqual([`created:${first.task.id}`]);
      expect((await e().audit()).map((r) => r.action)).toEqual(['created', 'created']);
      expect(await repo().findByExecutionId(A, 'Fx1')).toEqual(first.task);
      expect(await repo().findByExecutionId(B, 'Fx1')).toBeUndefined();
      // An execution id is unique across workspaces: another workspace's create fails and stores nothing.
      await expect(repo().create(task({ teamId: B, functionExecutionId: 'Fx1' }), at())).rejects.toThrow();
      expect(await e().counter(B)).toBeUndefined();
      expect(await repo().findByNumber(B, 1)).toBeUndefined();
    });

    it('of concurrent creates for one workflow execution, one creates and the others return its task', async () => {
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => repo().create(task({ functionExecutionId: 'FxRace', title: `try ${i}` }), at(), note('created'))));
      expect(all.filter((r) => r.created)).toHaveLength(1);
      const winner = all.find((r) => r.created)!.task;
      for (const r of all) expect(r.task).toEqual(winner);
      expect(winner.number).toBe(1);
      expect(await e().counter(A)).toBe(1);
      expect((await e().outbox()).map((r) => r.key)).toEqual([`created:${winner.id}`]);
      expect((await e().audit()).map((r) => r.action)).toEqual(['created']);
    });

    it('a request delivered again (its request key) returns the first task, also under concurrency; the key is per workspace', async () => {
      const first = await repo().create(task({ requestKey: 'command:T1', repeatRule: 'weekly:1', dueDate: '2030-01-07' }), at(), note('created'));
      const again = await repo().create(task({ requestKey: 'command:T1', title: 'other' }), at(), note('created-again'));
      expect(first.created).toBe(true);
      expect(first.task).toMatchObject({ requestKey: 'command:T1', seriesId: first.task.id });
      expect(again).toEqual({ task: first.task, created: false });
      const other = await repo().create(task({ teamId: B, requestKey: 'command:T1' }), at());
      expect(other.created).toBe(true);
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => repo().create(task({ requestKey: 'command:T2', title: `try ${i}` }), at(), note('created'))));
      expect(all.filter((r) => r.created)).toHaveLength(1);
      const winner = all.find((r) => r.created)!.task;
      for (const r of all) expect(r.task).toEqual(winner);
      expect(winner.number).toBe(2);
      expect(await e().counter(A)).toBe(2);
      expect((await e().outbox()).map((r) => r.key).sort()).toEqual([`created:${first.task.id}`, `created:${winner.id}`].sort());
    });
  });

  describe('workspace isolation', () => {
    it('never resolves another workspace’s id, number, execution or card', async () => {
      const b = (await repo().create(task({ teamId: B, functionExecutionId: 'FxB' }), at())).task;
      await repo().recordMessage(B, b.id, { channelId: 'DX', ts: '1.1', kind: 'assignee_dm' });
      await repo().recordMessage(A, b.id, { channelId: 'DY', ts: '1.2', kind: 'assignee_dm' });
      expect(await repo().findById(A, b.id)).toBeUndefined();
      expect(await repo().findByNumber(A, 1)).toBeUndefined();
      expect(await repo().findByExecutionId(A, 'FxB')).toBeUndefined();
      expect(await repo().findByMessage(A, 'DX', '1.1')).toBeUndefined();
      expect(await repo().messages(A, b.id)).toEqual([]);
      expect(await repo().complete(A, b.id, 'UANN', at())).toBeUndefined();
      expect(await repo().reopen(A, b.id, 'UANN', at())).toBeUndefined();
      expect(await repo().update(A, b.id, 'UANN', { title: 'x' }, at())).toBeUndefined();
      expect(await repo().assign(A, b.id, 'UANN', 'UCAT', at())).toBeUndefined();
      expect(await repo().delete(A, b.id, 'UBOB', at())).toBeUndefined();
      expect(await repo().addComment(A, b.id, 'UANN', 'hi', at())).toBeUndefined();
      expect(await repo().transitionStep(A, b.id, ['none'], 'failed')).toBe(false);
      expect(await repo().history(A, b.id)).toEqual([]);
      await repo().forgetMessage(A, 'DX', '1.1');
      expect(await repo().findById(B, b.id)).toEqual(b);
      expect(await repo().findByMessage(B, 'DX', '1.1')).toEqual(b);
      expect(await e().messageRows()).toEqual([{ taskId: b.id, teamId: B, channelId: 'DX', ts: '1.1', kind: 'assignee_dm' }]);
      expect((await repo().history(B, b.id)).map((h) => h.action)).toEqual(['created']);
    });
  });

  describe('changes', () => {
    it('an id or number no row can have (a fraction, NaN, out of range) finds nothing and changes nothing', async () => {
      const t = (await repo().create(task({ functionExecutionId: 'FxOdd', stepState: 'waiting' }), at())).task;
      for (const odd of [t.id + 0.5, Number.NaN, Infinity, -Infinity, 2 ** 70, -(2 ** 70), 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -1, 0]) {
        const what = String(odd);
        expect(await repo().findById(A, odd), what).toBeUndefined();
        expect(await repo().findByNumber(A, odd), what).toBeUndefined();
        expect(await repo().update(A, odd, 'UANN', { title: 'x' }, at()), what).toBeUndefined();
        expect(await repo().assign(A, odd, 'UANN', 'UCAT', at()), what).toBeUndefined();
        expect(await repo().complete(A, odd, 'UANN', at()), what).toBeUndefined();
        expect(await repo().reopen(A, odd, 'UANN', at()), what).toBeUndefined();
        expect(await repo().delete(A, odd, 'UANN', at()), what).toBeUndefined();
        expect(await repo().addComment(A, odd, 'UANN', 'x', at()), what).toBeUndefined();
        expect(await repo().comments(A, odd), what).toEqual([]);
        expect(await repo().history(A, odd), what).toEqual([]);
        expect(await repo().messages(A, odd), what).toEqual([]);
        await repo().recordMessage(A, odd, { channelId: 'D1', ts: what, kind: 'assignee_dm' });
        expect(await repo().transitionStep(A, odd, ['waiting'], 'failed'), what).toBe(false);
      }
      expect(await e().messageRows()).toEqual([]);
      expect(await repo().findById(A, t.id)).toEqual(t);
      expect((await e().audit()).map((r) => r.action)).toEqual(['created']);
    });

    it('text with NUL characters is stored (on PostgreSQL, which cannot hold a NUL, without them)', async () => {
      const t = (await repo().create(task({ title: 'Write\u0000 it', description: 'a\u0000b' }), at())).task;
      const strip = (text: string) => text.replaceAll('\u0000', '');
      expect(strip(t.title)).toBe('Write it');
      expect(t.titleSearch).toBe('write it');
      expect(strip((await repo().update(A, t.id, 'UANN', { title: 'New\u0000 title', description: 'c\u0000' }, at()))!.task.description)).toBe('c');
      expect(strip((await repo().findById(A, t.id))!.title)).toBe('New title');
      expect(strip((await repo().addComment(A, t.id, 'UANN', 'hi\u0000there', at()))!.text)).toBe('hithere');
      expect((await repo().search(A, MEMBER, 'new title')).map((x) => x.id)).toEqual([t.id]);
      // Looked up from a payload: a NUL matches nothing stored.
      await repo().recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
      expect(await repo().findByMessage(A, 'D1', '1.0\u0000')).toBeUndefined();
      await repo().forgetMessage(A, 'D1\u0000', '1.0');
      expect(await repo().findByMessage(A, 'D1', '1.0')).toMatchObject({ id: t.id });
      expect(await repo().findByExecutionId(A, 'Fx\u0000')).toBeUndefined();
    });

    it('complete is conditional and audited, moves a waiting step to completing; reopen clears the completion', async () => {
      const t = (await repo().create(task(), at())).task;
      const when = at();
      const first = await repo().complete(A, t.id, 'UANN', when);
      const second = await repo().complete(A, t.id, 'UBOB', at());
      expect(first).toEqual({ changed: true, task: { ...t, status: 'done', completedBy: 'UANN', completedAt: when, updatedAt: when } });
      expect(second).toEqual({ changed: false, task: first!.task });
      const reopenedAt = at();
      const reopened = await repo().reopen(A, t.id, 'UBOB', reopenedAt);
      expect(reopened).toEqual({ changed: true, task: { ...t, status: 'open', completedBy: null, completedAt: null, updatedAt: reopenedAt } });
      expect(await repo().reopen(A, t.id, 'UBOB', at())).toEqual({ changed: false, task: reopened!.task });
      const history = await repo().history(A, t.id);
      expect(history.map((h) => [h.action, h.actorId, h.detail])).toEqual([
        ['created', 'UBOB', expect.any(String)],
        ['completed', 'UANN', null],
        ['reopened', 'UBOB', null],
      ]);
      expect(await repo().complete(A, 99_999, 'UANN', at())).toBeUndefined();
      expect(await repo().reopen(A, 99_999, 'UANN', at())).toBeUndefined();

      const step = (await repo().create(task({ functionExecutionId: 'FxC', stepState: 'waiting' }), at())).task;
      expect((await repo().complete(A, step.id, 'UANN', at()))?.task.stepState).toBe('completing');
      const failed = (await repo().create(task({ functionExecutionId: 'FxD', stepState: 'failed' }), at())).task;
      expect((await repo().complete(A, failed.id, 'UANN', at()))?.task.stepState).toBe('failed');
    });

    it('of concurrent completions exactly one changes the task', async () => {
      const t = (await repo().create(task(), at())).task;
      const results = await Promise.all(['U1', 'U2', 'U3', 'U4', 'U5', 'U6'].map((u) => repo().complete(A, t.id, u, at(), note(`completed-by-${u}`))));
      const winners = results.filter((r) => r?.changed);
      expect(winners).toHaveLength(1);
      const by = winners[0]!.task.completedBy;
      for (const r of results) expect(r?.task.completedBy).toBe(by);
      expect((await repo().history(A, t.id)).map((h) => h.action)).toEqual(['created', 'completed']);
      expect((await e().outbox()).map((r) => r.key)).toEqual([`completed-by-${by}:${t.id}`]);
    });

    it('concurrent changes of one task each see the one before: one assign of many changes it, every edit is kept', async () => {
      const t = (await repo().create(task(), at())).task;
      const assigns = await Promise.all(Array.from({ length: 6 }, () => repo().assign(A, t.id, 'UBOB', 'UCAT', at(), ({ task: x }) => note('assigned')(x))));
      expect(assigns.filter((r) => r?.changed)).toHaveLength(1);
      for (const r of assigns) expect(r?.task.assigneeId).toBe('UCAT');
      const edits = await Promise.all(Array.from({ length: 6 }, (_, i) => repo().update(A, t.id, 'UBOB', { description: `v${i}` }, at())));
      expect(edits.every((r) => r?.changed)).toBe(true);
      const [, ...more] = await Promise.all([repo().delete(A, t.id, 'UBOB', at()), ...Array.from({ length: 4 }, () => repo().addComment(A, t.id, 'UANN', 'late', at()))]);
      const actions = (await e().audit()).map((r) => r.action);
      expect(actions.filter((a) => a === 'assigned')).toHaveLength(1);
      expect(actions.filter((a) => a === 'edited')).toHaveLength(6);
      expect(actions.filter((a) => a === 'deleted')).toHaveLength(1);
      // A comment either went in before the delete (and went with it) or found no task.
      expect(actions.filter((a) => a === 'commented')).toHaveLength(more.filter((c) => c !== undefined).length);
      expect(await e().commentRows()).toEqual([]);
      expect(await e().outbox()).toHaveLength(1);
    });

    it('edit names the fields that changed and refolds the title; assign remembers the previous assignee', async () => {
      const t = (await repo().create(task(), at())).task;
      const when = at();
      const edited = await repo().update(A, t.id, 'UBOB', { title: 'Neue Straße', description: '', dueDate: '2030-01-01', priority: 'normal' }, when);
      expect(edited).toEqual({ changed: true, task: { ...t, title: 'Neue Straße', titleSearch: 'neue strasse', dueDate: '2030-01-01', updatedAt: when } });
      expect(await repo().update(A, t.id, 'UBOB', { title: 'Neue Straße' }, at())).toEqual({ changed: false, task: edited!.task });
      const cleared = await repo().update(A, t.id, 'UBOB', { dueDate: null, priority: 'high', description: 'more' }, at());
      expect(cleared?.task).toMatchObject({ dueDate: null, priority: 'high', description: 'more', titleSearch: 'neue strasse' });
      expect(await repo().update(A, 99_999, 'UBOB', { title: 'x' }, at())).toBeUndefined();

      const assignedAt = at();
      const assigned = await repo().assign(A, t.id, 'UBOB', 'UCAT', assignedAt);
      expect(assigned).toEqual({ changed: true, previousAssigneeId: 'UANN', task: { ...cleared!.task, assigneeId: 'UCAT', updatedAt: assignedAt } });
      expect(await repo().assign(A, t.id, 'UBOB', 'UCAT', at())).toEqual({ changed: false, previousAssigneeId: 'UCAT', task: assigned!.task });
      expect(await repo().assign(A, 99_999, 'UBOB', 'UCAT', at())).toBeUndefined();

      const history = await repo().history(A, t.id);
      expect(history.map((h) => [h.action, h.actorId, h.detail && JSON.parse(h.detail)])).toEqual([
        ['created', 'UBOB', { number: 1, assignee: 'UANN', origin: 'command' }],
        ['edited', 'UBOB', { fields: ['title', 'dueDate'] }],
        ['edited', 'UBOB', { fields: ['description', 'dueDate', 'priority'] }],
        ['assigned', 'UBOB', { from: 'UANN', to: 'UCAT' }],
      ]);
    });

    it('comments are kept oldest first, touch the task and are audited', async () => {
      const t = (await repo().create(task(), at())).task;
      const first = at();
      const c1 = await repo().addComment(A, t.id, 'UCAT', 'On it', first);
      expect(c1).toEqual({ id: expect.any(Number), taskId: t.id, teamId: A, userId: 'UCAT', text: 'On it', createdAt: first });
      const second = at();
      const c2 = await repo().addComment(A, t.id, 'UANN', 'Done soon', second);
      expect((await repo().findById(A, t.id))?.updatedAt).toBe(second);
      expect(await repo().comments(A, t.id)).toEqual([c1, c2]);
      expect(await repo().comments(B, t.id)).toEqual([]);
      expect(await repo().addComment(A, 99_999, 'UANN', 'x', at())).toBeUndefined();
      const history = await repo().history(A, t.id);
      expect(history.map((h) => [h.action, h.actorId, h.detail && JSON.parse(h.detail)])).toEqual([
        ['created', 'UBOB', expect.anything()],
        ['commented', 'UCAT', { comment: c1!.id }],
        ['commented', 'UANN', { comment: c2!.id }],
      ]);
    });

    it('delete cascades to cards and comments but keeps the audit trail', async () => {
      const t = (await repo().create(task(), at())).task;
      const other = (await repo().create(task({ title: 'stays' }), at())).task;
      await repo().recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
      await repo().recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
      await repo().recordMessage(A, t.id, { channelId: 'C1', ts: '2.0', kind: 'channel' });
      await repo().recordMessage(A, other.id, { channelId: 'C1', ts: '3.0', kind: 'channel' });
      await repo().addComment(A, t.id, 'UANN', 'x', at());
      const gone = await repo().delete(A, t.id, 'UBOB', at(), ({ task: x, messages }) => note(`deleted-${messages.length}`)(x));
      expect(gone?.task).toMatchObject({ id: t.id, number: 1 });
      expect(gone?.messages).toEqual(
        expect.arrayContaining([
          { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' },
          { channelId: 'C1', ts: '2.0', kind: 'channel' },
        ]),
      );
      expect(gone?.messages).toHaveLength(2);
      expect(await repo().findById(A, t.id)).toBeUndefined();
      expect(await e().messageRows()).toEqual([{ taskId: other.id, teamId: A, channelId: 'C1', ts: '3.0', kind: 'channel' }]);
      expect(await e().commentRows()).toEqual([]);
      expect((await e().audit()).map((r) => r.action)).toEqual(['created', 'created', 'commented', 'deleted']);
      expect(JSON.parse((await repo().history(A, t.id)).at(-1)!.detail!)).toEqual({ number: 1, title: 'Write the report' });
      expect((await e().outbox()).map((r) => r.key)).toEqual([`deleted-2:${t.id}`]);
      expect(await repo().delete(A, t.id, 'UBOB', at())).toBeUndefined();
    });

    it('a change writes the effects it owes in its own transaction, only when it changes something', async () => {
      const t = (await repo().create(task(), at(), note('created'))).task;
      const when = clock;
      expect(await e().outbox()).toEqual([
        {
          id: expect.any(Number),
          key: `created:${t.id}`,
          teamId: A,
          kind: 'message',
          target: 'UBOB',
          payload: JSON.stringify({ n: t.id }),
          state: 'pending',
          generation: 0,
          spacingMs: 0,
          attempts: 0,
          nextAttemptAt: when,
          leaseOwner: null,
          leaseUntil: null,
          uncertain: false,
          lastError: null,
          result: null,
          createdAt: when,
          updatedAt: when,
        },
      ]);

      expect((await repo().complete(A, t.id, 'UANN', at(), note('completed')))?.changed).toBe(true);
      expect((await repo().complete(A, t.id, 'UANN', at(), note('completed-again')))?.changed).toBe(false);
      expect((await repo().reopen(A, t.id, 'UBOB', at(), note('reopened')))?.changed).toBe(true);
      expect((await repo().reopen(A, t.id, 'UBOB', at(), note('reopened-again')))?.changed).toBe(false);
      expect((await repo().update(A, t.id, 'UBOB', { title: 'Write the report' }, at(), note('unchanged')))?.changed).toBe(false);
      expect((await repo().update(A, t.id, 'UBOB', { title: 'Changed' }, at(), note('edited')))?.changed).toBe(true);
      expect((await repo().assign(A, t.id, 'UBOB', 'UCAT', at(), ({ task: x, previousAssigneeId }) => note(`assigned-from-${previousAssigneeId}`)(x)))?.changed).toBe(true);
      expect((await repo().assign(A, t.id, 'UBOB', 'UCAT', at(), ({ task: x }) => note('assigned-again')(x)))?.changed).toBe(false);
      expect((await e().outbox()).map((r) => r.key)).toEqual([`created:${t.id}`, `completed:${t.id}`, `reopened:${t.id}`, `edited:${t.id}`, `assigned-from-UANN:${t.id}`]);

      // Effects that cannot be written undo the change with them: both commit or neither does.
      await expect(repo().complete(A, t.id, 'UCAT', at(), boom)).rejects.toThrow('cannot describe the effects');
      expect((await repo().findById(A, t.id))?.status).toBe('open');
      await expect(repo().reopen(A, t.id, 'UCAT', at(), boom)).resolves.toMatchObject({ changed: false });
      await expect(repo().update(A, t.id, 'UBOB', { title: 'Lost' }, at(), boom)).rejects.toThrow('cannot describe the effects');
      await expect(repo().assign(A, t.id, 'UBOB', 'UDAN', at(), boom)).rejects.toThrow('cannot describe the effects');
      await expect(repo().delete(A, t.id, 'UBOB', at(), boom)).rejects.toThrow('cannot describe the effects');
      expect(await repo().findById(A, t.id)).toMatchObject({ title: 'Changed', assigneeId: 'UCAT', status: 'open' });
      expect((await repo().history(A, t.id)).map((h) => h.action)).toEqual(['created', 'completed', 'reopened', 'edited', 'assigned']);
      expect(await e().outbox()).toHaveLength(5);
    });

    it('an effect key is written once; a coalescing one is pending again with a new generation', async () => {
      const base = { key: 'k:plain', teamId: A, kind: 'message', target: 'UBOB' };
      const cards = { key: 'k:cards', teamId: A, kind: 'cards', target: 'T', coalesce: true };
      const spaced = { key: 'k:home', teamId: A, kind: 'home', target: 'UANN', coalesce: true, spacingMs: 250 };
      const t0 = at();
      const t = (await repo().create(task(), t0, () => [
        { ...base, payload: { v: 1 } },
        { ...base, payload: { v: 2 } }, // the same key twice in one change: the first stays
        { ...cards, payload: { v: 1 }, notBefore: t0 + 5000 },
        { ...spaced, payload: { v: 1 } },
      ])).task;
      const row = async (key: string) => (await e().outbox()).find((r) => r.key === key)!;
      expect(await row('k:plain')).toMatchObject({ payload: '{"v":1}', generation: 0, nextAttemptAt: t0 });
      expect(await row('k:cards')).toMatchObject({ payload: '{"v":1}', generation: 0, nextAttemptAt: t0 + 5000 });

      // Written again while pending: the plain one is left alone; the coalescing one takes the
      // new payload, a new generation and the earlier due time; a spaced one keeps its time.
      const t1 = at();
      await repo().complete(A, t.id, 'UANN', t1, () => [
        { ...base, payload: { v: 3 } },
        { ...cards, payload: { v: 2 } },
        { ...spaced, payload: { v: 2 }, notBefore: t1 - 100_000 },
      ]);
      expect(await row('k:plain')).toMatchObject({ payload: '{"v":1}', generation: 0, nextAttemptAt: t0, updatedAt: t0 });
      expect(await row('k:cards')).toMatchObject({ payload: '{"v":2}', generation: 1, nextAttemptAt: t1, state: 'pending', createdAt: t0, updatedAt: t1 });
      expect(await row('k:home')).toMatchObject({ payload: '{"v":2}', generation: 1, nextAttemptAt: t0, spacingMs: 250 });

      // Sent (or given up) meanwhile: due again, at the change's time or `spacing_ms` after the last send.
      await e().setOutbox('k:cards', 'done', 2, t1);
      await e().setOutbox('k:home', 'failed', 7, t1 + 10_000);
      await e().setOutbox('k:plain', 'done', 1, t1);
      const t2 = at();
      await repo().reopen(A, t.id, 'UBOB', t2, () => [
        { ...base, payload: { v: 4 } },
        { ...cards, payload: { v: 3 } },
        { ...spaced, payload: { v: 3 } },
      ]);
      expect(await row('k:plain')).toMatchObject({ payload: '{"v":1}', state: 'done', attempts: 1 });
      expect(await row('k:cards')).toMatchObject({ payload: '{"v":3}', generation: 2, state: 'pending', attempts: 0, nextAttemptAt: t2 });
      expect(await row('k:home')).toMatchObject({ payload: '{"v":3}', generation: 2, state: 'pending', attempts: 0, nextAttemptAt: t1 + 10_000 + 250 });
      expect(await e().outbox()).toHaveLength(3);
    });

    it('concurrent changes that owe the same effects in opposite orders all commit', async () => {
      const home = (user: string): Effect => ({ key: `home:${A}:${user}`, teamId: A, kind: 'home', target: user, coalesce: true, spacingMs: 250 });
      const card = (user: string): Effect => ({ key: `dm:${user}`, teamId: A, kind: 'message', target: user });
      const t1 = (await repo().create(task(), at())).task;
      const t2 = (await repo().create(task(), at())).task;
      const changes = Array.from({ length: 12 }, (_, i) => [
        repo().update(A, t1.id, 'UANN', { description: `one ${i}` }, at(), () => [home('UANN'), home('UBOB'), card(`U${i}`), card(`V${i}`)]),
        repo().update(A, t2.id, 'UBOB', { description: `two ${i}` }, at(), () => [home('UBOB'), home('UANN'), card(`V${i}`), card(`U${i}`)]),
      ]).flat();
      const results = await Promise.all(changes);
      expect(results.every((r) => r?.changed)).toBe(true);
      const rows = await e().outbox();
      expect(rows).toHaveLength(2 + 24);
      expect(rows.find((r) => r.key === `home:${A}:UANN`)?.generation).toBe(23);
      expect(rows.find((r) => r.key === `home:${A}:UBOB`)?.generation).toBe(23);
    });

    it('step state moves only from the expected states, audited when it ends', async () => {
      const t = (await repo().create(task({ functionExecutionId: 'Fx9', stepState: 'waiting' }), at())).task;
      expect(await repo().pendingSteps()).toEqual([]);
      await repo().complete(A, t.id, 'UANN', at());
      expect((await repo().findById(A, t.id))?.stepState).toBe('completing');
      expect((await repo().pendingSteps()).map((p) => p.id)).toEqual([t.id]);
      expect(await repo().transitionStep(A, t.id, ['waiting'], 'completing')).toBe(false);
      expect(await repo().transitionStep(B, t.id, ['completing'], 'completed')).toBe(false);
      expect(await repo().transitionStep(A, t.id, ['completing'], 'completed')).toBe(true);
      expect(await repo().transitionStep(A, t.id, ['completing'], 'completed')).toBe(false);
      expect(await repo().transitionStep(A, t.id, ['waiting', 'completing'], 'failed')).toBe(false);
      expect((await repo().findById(A, t.id))?.stepState).toBe('completed');
      expect(await repo().pendingSteps()).toEqual([]);
      expect((await repo().history(A, t.id)).map((h) => [h.action, h.actorId])).toEqual([
        ['created', 'UBOB'],
        ['completed', 'UANN'],
        ['step_completed', 'system'],
      ]);

      // A store from before the outbox: done while its step was still `waiting`, still owed.
      const old = (await repo().create(task({ functionExecutionId: 'Fx10', stepState: 'waiting' }), at())).task;
      await e().markDoneRaw(old.id);
      expect((await repo().pendingSteps()).map((p) => p.id)).toEqual([old.id]);
      expect(await repo().transitionStep(A, old.id, ['waiting'], 'completing')).toBe(true);
      expect(await repo().transitionStep(A, old.id, ['waiting'], 'completing')).toBe(false);
      expect((await repo().history(A, old.id)).map((h) => h.action)).toEqual(['created']); // not ended: not audited
      expect(await repo().transitionStep(A, old.id, ['completing'], 'failed')).toBe(true);
      expect((await repo().history(A, old.id)).map((h) => h.action)).toEqual(['created', 'step_failed']);
    });

    it('pending and waiting steps across workspaces', async () => {
      const a1 = (await repo().create(task({ functionExecutionId: 'FxA1', stepState: 'waiting' }), at())).task;
      const b1 = (await repo().create(task({ teamId: B, functionExecutionId: 'FxB1', stepState: 'waiting' }), at())).task;
      const a2 = (await repo().create(task({ functionExecutionId: 'FxA2', stepState: 'waiting' }), at())).task;
      await repo().create(task({ functionExecutionId: 'FxA3' }), at());
      await repo().create(task({ title: 'plain' }), at());
      const ids = (rows: { id: number }[]) => rows.map((r) => r.id).sort((x, y) => x - y);
      expect(ids(await repo().waitingSteps())).toEqual(ids([a1, b1, a2]));
      expect(ids(await repo().waitingSteps(A))).toEqual(ids([a1, a2]));
      expect(ids(await repo().waitingSteps(B))).toEqual([b1.id]);
      await repo().complete(B, b1.id, 'UANN', at());
      await e().markDoneRaw(a2.id);
      expect(ids(await repo().pendingSteps())).toEqual(ids([b1, a2]));
      expect(ids(await repo().waitingSteps())).toEqual(ids([a1, a2]));
    });
  });

  describe('repeating series', () => {
    const weekly = (over: Partial<NewTask> = {}) => task({ title: 'Weekly report', dueDate: '2026-12-07', repeatRule: 'weekly:1', channelId: 'CGEN', private: true, priority: 'high', description: 'numbers', ...over });
    const plus7 = (prev: { dueDate: string | null }) => (prev.dueDate === '2026-12-07' ? '2026-12-14' : '2026-12-21');

    it('a repeating task is the first of its own series; a plain one has none', async () => {
      const { task: first } = await repo().create(weekly(), at());
      expect(first).toMatchObject({ repeatRule: 'weekly:1', seriesId: first.id, dueDate: '2026-12-07' });
      expect(await repo().findById(A, first.id)).toMatchObject({ seriesId: first.id });
      const { task: plain } = await repo().create(task(), at());
      expect(plain).toMatchObject({ repeatRule: null, seriesId: null });
      const audit = await e().audit();
      expect(JSON.parse(String(audit[0]?.detail))).toMatchObject({ repeat: 'weekly:1', due: '2026-12-07' });
    });

    it('the next occurrence copies the task, takes the next number, moves the rule to itself, and is made once', async () => {
      const { task: first } = await repo().create(weekly(), at());
      await repo().create(task({ title: 'in between' }), at()); // #2
      const next = await repo().nextOccurrence(A, first.id, at(), plus7, note('next'));
      if (!('task' in next)) throw new Error(JSON.stringify(next));
      expect(next.created).toBe(true);
      expect(next.task).toMatchObject({
        number: 3,
        title: 'Weekly report',
        description: 'numbers',
        priority: 'high',
        assigneeId: 'UANN',
        creatorId: 'UBOB',
        channelId: 'CGEN',
        private: true,
        origin: 'command',
        status: 'open',
        dueDate: '2026-12-14',
        repeatRule: 'weekly:1',
        seriesId: first.id,
      });
      expect(await repo().findById(A, first.id)).toMatchObject({ repeatRule: null, seriesId: first.id });
      expect((await e().outbox()).map((r) => r.key)).toEqual([`next:${next.task.id}`]);
      const created = (await e().audit()).at(-1);
      expect(created).toMatchObject({ action: 'created', entityId: next.task.id, actorId: 'UBOB' });
      expect(JSON.parse(String(created?.detail))).toMatchObject({ after: first.id, due: '2026-12-14' });

      // Again (the day passing after the completion made it): nothing, no number used.
      expect(await repo().nextOccurrence(A, first.id, at(), plus7, note('next'))).toEqual({ skipped: expect.stringContaining('not repeating') });
      expect(await e().counter(A)).toBe(3);
      expect(await e().outbox()).toHaveLength(1);
    });

    it('an occurrence already on that date counts as made (the unique series + due date); plan undefined or a deleted task skips', async () => {
      const { task: first } = await repo().create(weekly(), at());
      const made = await repo().nextOccurrence(A, first.id, at(), plus7);
      if (!('task' in made)) throw new Error('not made');
      // An older occurrence carrying the rule again (a race's leftover): the date is taken.
      const again = await repo().nextOccurrence(A, made.task.id, at(), () => '2026-12-14');
      expect(again).toEqual({ task: expect.objectContaining({ id: made.task.id }), created: false });
      expect(await e().counter(A)).toBe(2);
      const { task: other } = await repo().create(weekly({ title: 'other' }), at());
      expect(await repo().nextOccurrence(A, other.id, at(), () => undefined)).toEqual({ skipped: expect.stringContaining('due date changed') });
      expect(await repo().findById(A, other.id)).toMatchObject({ repeatRule: 'weekly:1' });
      await repo().delete(A, other.id, 'UBOB', at());
      expect(await repo().nextOccurrence(A, other.id, at(), plus7)).toEqual({ skipped: 'the task was deleted' });
      expect(await repo().nextOccurrence(B, first.id, at(), plus7)).toEqual({ skipped: 'the task was deleted' });
      expect(await repo().nextOccurrence(A, 0.5, at(), plus7)).toEqual({ skipped: 'the task was deleted' });
    });

    it('an edit moving an occurrence onto another occurrence’s date is refused and changes nothing', async () => {
      const { task: first } = await repo().create(weekly(), at());
      const made = await repo().nextOccurrence(A, first.id, at(), plus7);
      if (!('task' in made)) throw new Error('not made');
      await expect(repo().update(A, first.id, 'UBOB', { dueDate: '2026-12-14', title: 'moved' }, at(), note('edited'))).rejects.toBeInstanceOf(SeriesDateTakenError);
      expect(await repo().findById(A, first.id)).toMatchObject({ dueDate: '2026-12-07', title: 'Weekly report' });
      expect(await e().outbox()).toEqual([]);
      expect((await repo().update(A, first.id, 'UBOB', { dueDate: '2026-12-08' }, at()))?.task.dueDate).toBe('2026-12-08');
    });

    it('stop clears the rule of the whole series from any occurrence, audited once per occurrence that had it', async () => {
      const { task: first } = await repo().create(weekly(), at());
      const made = await repo().nextOccurrence(A, first.id, at(), plus7);
      if (!('task' in made)) throw new Error('not made');
      const stopped = await repo().stopSeries(A, first.id, 'UANN', at(), (rows) => rows.map((r) => ({ key: `stopped:${r.id}`, teamId: A, kind: 'message', target: 'UANN' })));
      expect(stopped?.stopped.map((r) => r.id)).toEqual([made.task.id]);
      expect(stopped?.task).toMatchObject({ id: first.id, repeatRule: null });
      expect(await repo().findById(A, made.task.id)).toMatchObject({ repeatRule: null, seriesId: first.id });
      expect((await e().audit()).filter((r) => r.action === 'stopped_repeating').map((r) => r.entityId)).toEqual([made.task.id]);
      expect((await e().outbox()).map((r) => r.key)).toEqual([`stopped:${made.task.id}`]);
      expect(await repo().nextOccurrence(A, made.task.id, at(), plus7)).toEqual({ skipped: expect.stringContaining('not repeating') });
      // Stopping again, or a task that never repeated: nothing stopped.
      expect((await repo().stopSeries(A, made.task.id, 'UANN', at()))?.stopped).toEqual([]);
      const { task: plain } = await repo().create(task(), at());
      expect((await repo().stopSeries(A, plain.id, 'UANN', at()))?.stopped).toEqual([]);
      expect(await repo().stopSeries(B, plain.id, 'UANN', at())).toBeUndefined();
    });
  });

  describe('task cards', () => {
    it('records a card once, finds the task by it, lists and forgets it', async () => {
      const t = (await repo().create(task(), at())).task;
      await repo().recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
      await repo().recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'channel' }); // same message: kept as first recorded
      await repo().recordMessage(A, t.id, { channelId: 'C1', ts: '1.0', kind: 'channel' });
      await repo().recordMessage(A, 99_999, { channelId: 'C9', ts: '9.0', kind: 'channel' }); // no such task: nothing
      expect(await repo().messages(A, t.id)).toEqual(
        expect.arrayContaining([
          { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' },
          { channelId: 'C1', ts: '1.0', kind: 'channel' },
        ]),
      );
      expect(await repo().messages(A, t.id)).toHaveLength(2);
      expect(await repo().findByMessage(A, 'D1', '1.0')).toEqual(t);
      expect(await repo().findByMessage(A, 'D1', '2.0')).toBeUndefined();
      await repo().forgetMessage(A, 'D1', '1.0');
      await repo().forgetMessage(A, 'D1', '1.0');
      expect(await repo().findByMessage(A, 'D1', '1.0')).toBeUndefined();
      expect(await repo().messages(A, t.id)).toEqual([{ channelId: 'C1', ts: '1.0', kind: 'channel' }]);
      expect(await e().messageRows()).toHaveLength(1);
    });
  });

  describe('queries', () => {
    it('lists mine / created / all × open / done newest first with totals and pages', async () => {
      for (let i = 1; i <= 5; i++) await repo().create(task({ title: `mine ${i}` }), at());
      await repo().create(task({ title: 'theirs', assigneeId: 'UCAT', creatorId: 'UCAT' }), at());
      const done1 = (await repo().create(task({ title: 'done first' }), at())).task;
      const done2 = (await repo().create(task({ title: 'done second', creatorId: 'UCAT' }), at())).task;
      // Completed in the other order than created: a done list is by completion, newest first.
      await repo().complete(A, done2.id, 'UANN', at());
      await repo().complete(A, done1.id, 'UANN', at());
      await repo().create(task({ teamId: B, title: 'elsewhere' }), at());

      const titles = (p: { tasks: { title: string }[] }) => p.tasks.map((t) => t.title);
      const q = { userId: 'UANN', guest: false };
      const page = await repo().list(A, { ...q, scope: 'mine', status: 'open', limit: 2 });
      expect(page.total).toBe(5);
      expect(titles(page)).toEqual(['mine 5', 'mine 4']);
      expect(titles(await repo().list(A, { ...q, scope: 'mine', status: 'open', limit: 2, offset: 2 }))).toEqual(['mine 3', 'mine 2']);
      expect(await repo().list(A, { ...q, scope: 'mine', status: 'open', limit: 2, offset: 4 })).toMatchObject({ total: 5, tasks: [{ title: 'mine 1' }] });
      expect(await repo().list(A, { ...q, scope: 'mine', status: 'open', limit: 2, offset: 10 })).toEqual({ total: 5, tasks: [] });
      expect(await repo().list(A, { ...q, scope: 'mine', status: 'done', limit: 10 })).toMatchObject({ total: 2, tasks: [{ title: 'done first' }, { title: 'done second' }] });
      expect(titles(await repo().list(A, { ...q, userId: 'UCAT', scope: 'created', status: 'open', limit: 10 }))).toEqual(['theirs']);
      expect(titles(await repo().list(A, { ...q, userId: 'UCAT', scope: 'created', status: 'done', limit: 10 }))).toEqual(['done second']);
      expect(titles(await repo().list(A, { ...q, scope: 'created', status: 'open', limit: 10 }))).toEqual([]);
      const all = await repo().list(A, { ...q, scope: 'all', status: 'open', limit: 3, offset: 1 });
      expect(all).toMatchObject({ total: 6, tasks: [{ title: 'mine 5' }, { title: 'mine 4' }, { title: 'mine 3' }] });
      expect(titles(await repo().list(A, { ...q, scope: 'all', status: 'open', limit: 1 }))).toEqual(['theirs']);
      expect(titles(await repo().list(A, { ...q, scope: 'all', status: 'done', limit: 10 }))).toEqual(['done first', 'done second']);
      expect(await repo().count(A, { ...q, scope: 'mine', status: 'open' })).toBe(5);
      expect(await repo().count(A, { ...q, scope: 'all', status: 'open' })).toBe(6);
      expect(await repo().count(A, { ...q, scope: 'all', status: 'done' })).toBe(2);
      expect(await repo().count(A, { ...q, userId: 'UCAT', scope: 'created', status: 'done' })).toBe(1);
      expect((await repo().list(B, { ...q, scope: 'all', status: 'open', limit: 10 })).total).toBe(1);
      expect(await repo().count('T0NOBODY', { ...q, scope: 'all', status: 'open' })).toBe(0);
    });

    it('lists with the same creation time come newest id first', async () => {
      const same = at();
      for (const title of ['one', 'two', 'three']) await repo().create(task({ title, assigneeId: 'UCAT' }), same);
      expect((await repo().list(A, { userId: 'UANN', guest: false, scope: 'all', status: 'open', limit: 10 })).tasks.map((t) => t.title)).toEqual(['three', 'two', 'one']);
      expect((await repo().list(A, { userId: 'UBOB', guest: false, scope: 'created', status: 'open', limit: 10 })).tasks.map((t) => t.title)).toEqual(['three', 'two', 'one']);
    });

    it('lists and counts only what the reader may see: private tasks to their people, guests their own', async () => {
      await repo().create(task({ title: 'public' }), at());
      await repo().create(task({ title: 'private of Ann and Bob', private: true }), at());
      await repo().create(task({ title: 'private of Cat', assigneeId: 'UCAT', creatorId: 'UCAT', private: true }), at());
      await repo().create(task({ title: 'Cat’s public', assigneeId: 'UCAT', creatorId: 'UDAN' }), at());
      const all = async (userId: string, guest: boolean) => {
        const page = await repo().list(A, { userId, guest, scope: 'all', status: 'open', limit: 10 });
        expect(await repo().count(A, { userId, guest, scope: 'all', status: 'open' })).toBe(page.total);
        expect(page.tasks).toHaveLength(page.total);
        return page.tasks.map((t) => t.title);
      };
      expect(await all('UANN', false)).toEqual(['Cat’s public', 'private of Ann and Bob', 'public']);
      expect(await all('UBOB', false)).toEqual(['Cat’s public', 'private of Ann and Bob', 'public']);
      expect(await all('UCAT', false)).toEqual(['Cat’s public', 'private of Cat', 'public']);
      expect(await all('UDAN', false)).toEqual(['Cat’s public', 'public']);
      expect(await all('UCAT', true)).toEqual(['Cat’s public', 'private of Cat']);
      expect(await all('UDAN', true)).toEqual(['Cat’s public']);
      expect(await all('UEVE', true)).toEqual([]);
      // "mine" and "created" are the reader's own tasks, private or not.
      expect((await repo().list(A, { userId: 'UCAT', guest: true, scope: 'mine', status: 'open', limit: 10 })).total).toBe(2);
    });

    it('orders the App Home list overdue first, then by due date, undated last, and counts the overdue', async () => {
      await repo().create(task({ title: 'undated' }), at());
      await repo().create(task({ title: 'later', dueDate: '2025-04-01' }), at());
      await repo().create(task({ title: 'overdue', dueDate: '2025-03-01' }), at());
      await repo().create(task({ title: 'soon', dueDate: '2025-03-15' }), at());
      await repo().create(task({ title: 'very overdue', dueDate: '2025-02-01' }), at());
      await repo().create(task({ title: 'undated newer' }), at());
      await repo().create(task({ title: 'also soon', dueDate: '2025-03-15' }), at());
      await repo().create(task({ title: 'due today', dueDate: '2025-03-14' }), at());
      const doneOverdue = (await repo().create(task({ title: 'done overdue', dueDate: '2025-01-01' }), at())).task;
      await repo().complete(A, doneOverdue.id, 'UANN', at());
      await repo().create(task({ title: 'Cat’s overdue', dueDate: '2025-01-01', assigneeId: 'UCAT' }), at());
      await repo().create(task({ teamId: B, title: 'B overdue', dueDate: '2025-01-01' }), at());

      const r = await repo().openAssignedTo(A, 'UANN', '2025-03-14', { limit: 10 });
      expect(r.tasks.map((t) => t.title)).toEqual(['very overdue', 'overdue', 'due today', 'also soon', 'soon', 'later', 'undated newer', 'undated']);
      expect(r).toMatchObject({ total: 8, overdue: 2 });
      const page = await repo().openAssignedTo(A, 'UANN', '2025-03-14', { limit: 3, offset: 3 });
      expect(page).toMatchObject({ total: 8, overdue: 2 });
      expect(page.tasks.map((t) => t.title)).toEqual(['also soon', 'soon', 'later']);
      expect(await repo().openAssignedTo(A, 'UNOBODY', '2025-03-14', { limit: 10 })).toEqual({ tasks: [], total: 0, overdue: 0 });
    });

    it('searches folded titles within a workspace, LIKE wildcards taken literally, open first, at most 100', async () => {
      await repo().create(task({ title: 'Budget 100% done' }), at());
      await repo().create(task({ title: 'Budget review' }), at());
      await repo().create(task({ title: 'snake_case' }), at());
      await repo().create(task({ title: 'snakeXcase' }), at());
      await repo().create(task({ title: 'back\\slash' }), at());
      await repo().create(task({ title: 'Über Straße' }), at());
      await repo().create(task({ teamId: B, title: 'Budget in B' }), at());
      const titles = async (q: string) => (await repo().search(A, MEMBER, q)).map((t) => t.title);
      expect(await titles('budget')).toEqual(['Budget review', 'Budget 100% done']);
      expect(await titles('BUDGET')).toEqual(['Budget review', 'Budget 100% done']);
      expect(await titles('100%')).toEqual(['Budget 100% done']);
      expect(await titles('%')).toEqual(['Budget 100% done']);
      expect(await titles('e_c')).toEqual(['snake_case']);
      expect(await titles('_')).toEqual(['snake_case']);
      expect(await titles('k\\s')).toEqual(['back\\slash']);
      expect(await titles('\\')).toEqual(['back\\slash']);
      expect(await titles('uber strasse')).toEqual(['Über Straße']);
      expect(await titles('ü')).toEqual(['Über Straße', 'Budget review', 'Budget 100% done']); // one letter: "u"
      expect(await titles('   ')).toEqual([]);
      expect(await titles('\u0301')).toEqual([]);
      expect(await titles('nothing like it')).toEqual([]);
      expect((await repo().search(A, MEMBER, '#2')).map((t) => t.number)).toEqual([2]);
      expect((await repo().search(A, MEMBER, '2')).map((t) => t.number)).toEqual([2]);
      expect(await repo().search(A, MEMBER, '#99')).toEqual([]);

      const review = (await repo().findByNumber(A, 2))!;
      await repo().complete(A, review.id, 'UANN', at());
      const newer = (await repo().create(task({ title: 'Budget newest' }), at())).task;
      expect(await titles('budget')).toEqual(['Budget newest', 'Budget 100% done', 'Budget review']);
      expect((await repo().search(A, MEMBER, 'budget', 2)).map((t) => t.id)).toEqual([newer.id, 1]);
      // The number's task joins the title hits in their order (open first, newest first).
      const mention = (await repo().create(task({ title: 'Mentions 2 in its title' }), at())).task;
      expect((await repo().search(A, MEMBER, '2')).map((t) => t.id)).toEqual([mention.id, review.id]);

      for (let i = 0; i < 105; i++) await repo().create(task({ title: `bulk ${i}` }), at());
      const bulk = await repo().search(A, MEMBER, 'bulk');
      expect(bulk).toHaveLength(100);
      expect(bulk[0]?.title).toBe('bulk 104');
      expect(await repo().search(A, MEMBER, 'bulk', 500)).toHaveLength(100);
      expect(await repo().search(A, MEMBER, 'bulk', 0)).toHaveLength(1);
    });

    it('search keeps the visibility rules', async () => {
      await repo().create(task({ title: 'Salary review (private)', creatorId: 'UANN', assigneeId: 'UBOB', private: true }), at());
      await repo().create(task({ title: 'Salary review (public)', creatorId: 'UANN', assigneeId: 'UANN' }), at());
      await repo().create(task({ title: 'Salary review for Cat', creatorId: 'UANN', assigneeId: 'UCAT' }), at());
      const found = async (userId: string, guest: boolean, q = 'salary') => (await repo().search(A, { userId, guest }, q)).map((t) => t.title);
      expect(await found('UANN', false)).toEqual(['Salary review for Cat', 'Salary review (public)', 'Salary review (private)']);
      expect(await found('UBOB', false)).toEqual(['Salary review for Cat', 'Salary review (public)', 'Salary review (private)']);
      expect(await found('UCAT', false)).toEqual(['Salary review for Cat', 'Salary review (public)']);
      expect(await found('UCAT', true)).toEqual(['Salary review for Cat']);
      expect(await found('UCAT', true, 'sa')).toEqual(['Salary review for Cat']);
      expect(await found('UCAT', true, '#1')).toEqual([]);
      expect(await found('UCAT', false, '#1')).toEqual([]);
      expect(await found('UBOB', false, '#1')).toEqual(['Salary review (private)']);
      expect(await found('UOUTSIDER', true)).toEqual([]);
    });
  });
}

describe('tasks store on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: Engine;
  beforeEach(() => {
    engine = sqliteEngine(sqlite.store);
  });
  contract(() => engine);
});

describePostgres('tasks store on PostgreSQL', () => {
  const database = useMigratedPool(6);
  let engine: Engine;
  beforeAll(() => {
    engine = pgEngine(pgDatabase(database.pool), database.pool);
  });
  contract(() => engine);

  describe('several instances on one database', () => {
    it('50 concurrent creates in one workspace through two pools get exactly the numbers 1..50', async () => {
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 5 }));
      try {
        const instances = pools.map((p) => new PgTasksRepository(pgDatabase(p)));
        const made = await Promise.all(
          Array.from({ length: 50 }, (_, i) => instances[i % 2]!.create(task({ title: `concurrent ${i}` }), at(), note('created'))),
        );
        expect(made.every((m) => m.created)).toBe(true);
        expect(made.map((m) => m.task.number).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(await engine.counter(A)).toBe(50);
        expect((await engine.repo.list(A, { userId: 'UANN', guest: false, scope: 'all', status: 'open', limit: 100 })).total).toBe(50);
        expect((await engine.audit()).filter((r) => r.action === 'created')).toHaveLength(50);
        expect(await engine.outbox()).toHaveLength(50);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('a workspace whose creator holds its counter does not hold up another workspace; its own next create waits and stays dense', async () => {
      const other = new pg.Pool({ connectionString: database.url, max: 3 });
      const holder = await database.pool.connect();
      try {
        const repo = new PgTasksRepository(pgDatabase(other));
        await repo.create(task(), at()); // A: #1
        // Another instance in the middle of a create in workspace A: counter row taken, not committed.
        await holder.query('BEGIN');
        const { rows } = await holder.query<{ n: number }>(
          'INSERT INTO team_counters (team_id, last_task_number) VALUES ($1, 1) ON CONFLICT (team_id) DO UPDATE SET last_task_number = team_counters.last_task_number + 1 RETURNING last_task_number AS n',
          [A],
        );
        expect(rows[0]?.n).toBe(2);

        let waitingDone = false;
        const waiting = repo.create(task({ title: 'waits for the other instance' }), at()).then((r) => {
          waitingDone = true;
          return r;
        });
        const inB = await Promise.all([repo.create(task({ teamId: B }), at()), repo.create(task({ teamId: B }), at())]);
        expect(inB.map((r) => r.task.number).sort()).toEqual([1, 2]);
        await new Promise((r) => setTimeout(r, 200));
        expect(waitingDone).toBe(false);

        // The other instance's create fails: its number goes back, and the waiting create takes it.
        await holder.query('ROLLBACK');
        expect((await waiting).task.number).toBe(2);
        expect(await engine.counter(A)).toBe(2);
      } finally {
        holder.release();
        await other.end();
      }
    });

    it('a series’ next occurrence asked for at once through two pools (completion and day passing) is made once', async () => {
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 3 }));
      try {
        const { task: first } = await engine.repo.create(task({ dueDate: '2026-12-07', repeatRule: 'daily' }), at());
        const instances = pools.map((p) => new PgTasksRepository(pgDatabase(p)));
        const results = await Promise.all([0, 1, 2, 3].map((i) => instances[i % 2]!.nextOccurrence(A, first.id, at(), () => '2026-12-08', note('next'))));
        expect(results.filter((r) => 'task' in r && r.created)).toHaveLength(1);
        expect(await engine.counter(A)).toBe(2);
        expect(await engine.outbox()).toHaveLength(1);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('a card recorded while another instance deletes the task: nothing recorded, no error', async () => {
      const { task: t } = await engine.repo.create(task(), at());
      const holder = await database.pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('DELETE FROM tasks WHERE id = $1', [t.id]);
        let recorded = false;
        // Sees the task (the delete is not committed) and waits for its row at the foreign key's check.
        const recording = engine.repo.recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' }).then(() => (recorded = true));
        await new Promise((r) => setTimeout(r, 200));
        expect(recorded).toBe(false);
        await holder.query('COMMIT');
        await recording;
        expect(await engine.repo.messages(A, t.id)).toEqual([]);
        expect((await database.pool.query('SELECT count(*)::int AS n FROM task_messages')).rows[0]).toEqual({ n: 0 });
      } finally {
        holder.release();
      }
    });
  });
});
