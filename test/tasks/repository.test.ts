import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { OutboxRepository, type Effect } from '../../src/store/outbox.js';
import { auditLog, taskComments, taskMessages } from '../../src/store/schema.js';
import { TasksRepository, type NewTask } from '../../src/store/tasks.js';

const A = 'T0AAAAAAA';
const B = 'T0BBBBBBB';
let store: Store;
let repo: TasksRepository;
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

beforeEach(() => {
  store = openStore(':memory:');
  repo = new TasksRepository(store);
});
afterEach(() => store.close());

describe('numbers', () => {
  it('are per workspace, consecutive under concurrency, and never reused after a delete', async () => {
    const made = await Promise.all(Array.from({ length: 30 }, (_, i) => repo.create(task({ title: `t${i}` }), at())));
    expect(made.map((m) => m.task.number).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const other = await repo.create(task({ teamId: B }), at());
    expect(other.task.number).toBe(1);

    const last = made.find((m) => m.task.number === 30)!.task;
    await repo.delete(A, last.id, 'UBOB', at());
    const next = await repo.create(task(), at());
    expect(next.task.number).toBe(31);
  });

  it('a second create for the same workflow execution returns the first task and uses no number', async () => {
    const first = await repo.create(task({ functionExecutionId: 'Fx1', stepState: 'waiting' }), at());
    const again = await repo.create(task({ functionExecutionId: 'Fx1', title: 'other' }), at());
    expect(first.created).toBe(true);
    expect(again).toEqual({ task: first.task, created: false });
    expect((await repo.create(task(), at())).task.number).toBe(2);
  });
});

describe('workspace isolation', () => {
  it('never resolves another workspace’s id, number or card', async () => {
    const b = (await repo.create(task({ teamId: B }), at())).task;
    await repo.recordMessage(B, b.id, { channelId: 'DX', ts: '1.1', kind: 'assignee_dm' });
    expect(await repo.findById(A, b.id)).toBeUndefined();
    expect(await repo.findByNumber(A, 1)).toBeUndefined();
    expect(await repo.findByMessage(A, 'DX', '1.1')).toBeUndefined();
    expect(await repo.complete(A, b.id, 'UANN', at())).toBeUndefined();
    expect(await repo.delete(A, b.id, 'UBOB', at())).toBeUndefined();
    expect(await repo.addComment(A, b.id, 'UANN', 'hi', at())).toBeUndefined();
    expect((await repo.findById(B, b.id))?.status).toBe('open');
    expect(await repo.findByMessage(B, 'DX', '1.1')).toMatchObject({ id: b.id });
  });
});

describe('changes', () => {
  it('complete is conditional and audited; reopen clears the completion', async () => {
    const t = (await repo.create(task(), at())).task;
    const first = await repo.complete(A, t.id, 'UANN', at());
    const second = await repo.complete(A, t.id, 'UBOB', at());
    expect(first?.changed).toBe(true);
    expect(first?.task).toMatchObject({ status: 'done', completedBy: 'UANN' });
    expect(second?.changed).toBe(false);
    expect(second?.task.completedBy).toBe('UANN');
    const reopened = await repo.reopen(A, t.id, 'UBOB', at());
    expect(reopened?.task).toMatchObject({ status: 'open', completedBy: null, completedAt: null });
    expect((await repo.reopen(A, t.id, 'UBOB', at()))?.changed).toBe(false);
    expect((await repo.history(A, t.id)).map((h) => h.action)).toEqual(['created', 'completed', 'reopened']);
  });

  it('edit names the changed fields; assign remembers the previous assignee; comments are kept', async () => {
    const t = (await repo.create(task(), at())).task;
    const edited = await repo.update(A, t.id, 'UBOB', { title: 'New title', description: '', dueDate: '2030-01-01' }, at());
    expect(edited?.changed).toBe(true);
    expect((await repo.update(A, t.id, 'UBOB', { title: 'New title' }, at()))?.changed).toBe(false);
    const assigned = await repo.assign(A, t.id, 'UBOB', 'UCAT', at());
    expect(assigned).toMatchObject({ changed: true, previousAssigneeId: 'UANN', task: { assigneeId: 'UCAT' } });
    await repo.addComment(A, t.id, 'UCAT', 'On it', at());
    expect((await repo.comments(A, t.id)).map((c) => c.text)).toEqual(['On it']);
    const history = await repo.history(A, t.id);
    expect(history.map((h) => h.action)).toEqual(['created', 'edited', 'assigned', 'commented']);
    expect(JSON.parse(history[1]!.detail!)).toEqual({ fields: ['title', 'dueDate'] });
  });

  it('delete cascades to cards and comments but keeps the audit trail', async () => {
    const t = (await repo.create(task(), at())).task;
    await repo.recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
    await repo.recordMessage(A, t.id, { channelId: 'D1', ts: '1.0', kind: 'assignee_dm' });
    await repo.addComment(A, t.id, 'UANN', 'x', at());
    const gone = await repo.delete(A, t.id, 'UBOB', at());
    expect(gone?.messages).toEqual([{ channelId: 'D1', ts: '1.0', kind: 'assignee_dm' }]);
    expect(store.db.select().from(taskMessages).all()).toEqual([]);
    expect(store.db.select().from(taskComments).all()).toEqual([]);
    expect(store.db.select().from(auditLog).all().map((r) => r.action)).toEqual(['created', 'commented', 'deleted']);
  });

  it('a change writes the effects it owes in its own transaction, only when it changes something', async () => {
    const outbox = new OutboxRepository(store);
    const note = (key: string) => (t: { id: number }): Effect[] => [{ key: `${key}:${t.id}`, teamId: A, kind: 'message', target: 'UBOB', payload: { n: t.id } }];
    const t = (await repo.create(task(), at(), note('created'))).task;
    const when = clock;
    expect(outbox.all()).toMatchObject([{ key: `created:${t.id}`, teamId: A, kind: 'message', target: 'UBOB', state: 'pending', createdAt: when, nextAttemptAt: when }]);

    expect((await repo.complete(A, t.id, 'UANN', at(), note('completed')))?.changed).toBe(true);
    // Already done: nothing changed, so nothing is owed.
    expect((await repo.complete(A, t.id, 'UANN', at(), note('completed-again')))?.changed).toBe(false);
    expect((await repo.reopen(A, t.id, 'UBOB', at(), note('reopened')))?.changed).toBe(true);
    expect((await repo.update(A, t.id, 'UBOB', { title: 'Write the report' }, at(), note('unchanged')))?.changed).toBe(false);
    expect((await repo.assign(A, t.id, 'UBOB', 'UCAT', at(), ({ task: x, previousAssigneeId }) => note(`assigned-from-${previousAssigneeId}`)(x)))?.changed).toBe(true);
    expect(outbox.all().map((r) => r.key)).toEqual([`created:${t.id}`, `completed:${t.id}`, `reopened:${t.id}`, `assigned-from-UANN:${t.id}`]);

    // Effects that cannot be written undo the change with them: both commit or neither does.
    const boom = (): Effect[] => {
      throw new Error('cannot describe the effects');
    };
    await expect(repo.complete(A, t.id, 'UCAT', at(), boom)).rejects.toThrow('cannot describe the effects');
    expect((await repo.findById(A, t.id))?.status).toBe('open');
    expect((await repo.history(A, t.id)).map((h) => h.action)).toEqual(['created', 'completed', 'reopened', 'assigned']);
    await expect(repo.delete(A, t.id, 'UBOB', at(), boom)).rejects.toThrow('cannot describe the effects');
    expect(await repo.findById(A, t.id)).toBeDefined();
    expect(outbox.all()).toHaveLength(4);
  });

  it('step state moves only from the expected states', async () => {
    const t = (await repo.create(task({ functionExecutionId: 'Fx9', stepState: 'waiting' }), at())).task;
    expect(await repo.pendingSteps()).toEqual([]);
    // Completing the task moves its waiting step to `completing` in the same write (the step's
    // completion is an outbox effect now), so no other path can claim it from `waiting`.
    await repo.complete(A, t.id, 'UANN', at());
    expect((await repo.findById(A, t.id))?.stepState).toBe('completing');
    expect((await repo.pendingSteps()).map((p) => p.id)).toEqual([t.id]);
    expect(await repo.transitionStep(A, t.id, ['waiting'], 'completing')).toBe(false);
    expect(await repo.transitionStep(A, t.id, ['completing'], 'completed')).toBe(true);
    expect(await repo.transitionStep(A, t.id, ['completing'], 'completed')).toBe(false);
    expect(await repo.transitionStep(A, t.id, ['waiting', 'completing'], 'failed')).toBe(false);
    expect((await repo.findById(A, t.id))?.stepState).toBe('completed');
    expect(await repo.pendingSteps()).toEqual([]);

    // A store from before the outbox: done while its step was still `waiting`, still owed.
    const old = (await repo.create(task({ functionExecutionId: 'Fx10', stepState: 'waiting' }), at())).task;
    store.sqlite.prepare("UPDATE tasks SET status = 'done', completed_by = 'UANN', completed_at = 1 WHERE id = ?").run(old.id);
    expect((await repo.pendingSteps()).map((p) => p.id)).toEqual([old.id]);
    expect(await repo.transitionStep(A, old.id, ['waiting'], 'completing')).toBe(true);
    expect(await repo.transitionStep(A, old.id, ['waiting'], 'completing')).toBe(false);
  });

  it('only open workflow steps are in the step index, only workflow tasks in the execution index; execution ids stay unique', async () => {
    const entries = (index: string) => (store.sqlite.prepare('SELECT ncell FROM dbstat WHERE name = ?').get(index) as { ncell: number }).ncell;
    for (let i = 0; i < 20; i++) await repo.create(task({ title: `plain ${i}` }), at());
    expect(entries('tasks_step_state_idx')).toBe(0);
    expect(entries('tasks_function_execution_uq')).toBe(0);

    const step = (await repo.create(task({ functionExecutionId: 'FxA', stepState: 'waiting' }), at())).task;
    await repo.create(task({ functionExecutionId: 'FxB' }), at());
    expect(entries('tasks_step_state_idx')).toBe(1);
    expect(entries('tasks_function_execution_uq')).toBe(2);
    expect((await repo.waitingSteps(A)).map((t) => t.id)).toEqual([step.id]);
    await repo.complete(A, step.id, 'UANN', at());
    // `completing` is still an open step (its completion is owed), but no longer waiting.
    expect(entries('tasks_step_state_idx')).toBe(1);
    expect(await repo.waitingSteps(A)).toEqual([]);
    expect(await repo.transitionStep(A, step.id, ['completing'], 'completed')).toBe(true);
    expect(entries('tasks_step_state_idx')).toBe(0);
    expect(await repo.waitingSteps(A)).toEqual([]);

    const insertRaw = (fx: string | null) =>
      store.sqlite
        .prepare("INSERT INTO tasks (team_id, number, title, title_search, assignee_id, creator_id, origin, function_execution_id) VALUES (?, ?, 'raw', 'raw', 'UANN', 'UBOB', 'workflow', ?)")
        .run(A, 1000 + Math.floor(Math.random() * 1e6), fx);
    expect(() => insertRaw('FxA')).toThrow(/UNIQUE constraint failed: tasks.function_execution_id/);
    insertRaw(null);
    insertRaw(null);
  });
});

describe('queries', () => {
  it('lists mine / created / all × open / done newest first with totals', async () => {
    for (let i = 1; i <= 5; i++) await repo.create(task({ title: `mine ${i}` }), at());
    await repo.create(task({ title: 'theirs', assigneeId: 'UCAT', creatorId: 'UCAT' }), at());
    const done = (await repo.create(task({ title: 'done one' }), at())).task;
    await repo.complete(A, done.id, 'UANN', at());

    const page = await repo.list(A, { scope: 'mine', status: 'open', userId: 'UANN', guest: false, limit: 2 });
    expect(page.total).toBe(5);
    expect(page.tasks.map((t) => t.title)).toEqual(['mine 5', 'mine 4']);
    const page2 = await repo.list(A, { scope: 'mine', status: 'open', userId: 'UANN', guest: false, limit: 2, offset: 4 });
    expect(page2.tasks.map((t) => t.title)).toEqual(['mine 1']);
    expect((await repo.list(A, { scope: 'created', status: 'open', userId: 'UCAT', guest: false, limit: 10 })).tasks.map((t) => t.title)).toEqual(['theirs']);
    expect((await repo.list(A, { scope: 'all', status: 'open', userId: 'UANN', guest: false, limit: 10 })).total).toBe(6);
    expect((await repo.list(A, { scope: 'all', status: 'done', userId: 'UANN', guest: false, limit: 10 })).tasks.map((t) => t.title)).toEqual(['done one']);
    expect(await repo.count(A, { scope: 'mine', status: 'open', userId: 'UANN', guest: false })).toBe(5);
    expect((await repo.list(B, { scope: 'all', status: 'open', userId: 'UANN', guest: false, limit: 10 })).total).toBe(0);
  });

  it('orders the App Home list overdue first, then by due date, undated last', async () => {
    await repo.create(task({ title: 'undated' }), at());
    await repo.create(task({ title: 'later', dueDate: '2025-04-01' }), at());
    await repo.create(task({ title: 'overdue', dueDate: '2025-03-01' }), at());
    await repo.create(task({ title: 'soon', dueDate: '2025-03-15' }), at());
    await repo.create(task({ title: 'very overdue', dueDate: '2025-02-01' }), at());
    const r = await repo.openAssignedTo(A, 'UANN', '2025-03-14', { limit: 10 });
    expect(r.tasks.map((t) => t.title)).toEqual(['very overdue', 'overdue', 'soon', 'later', 'undated']);
    expect(r).toMatchObject({ total: 5, overdue: 2 });
  });

  const MEMBER = { userId: 'UANN', guest: false };
  it('searches titles within a workspace, LIKE wildcards taken literally, at most 100', async () => {
    await repo.create(task({ title: 'Budget 100% done' }), at());
    await repo.create(task({ title: 'Budget review' }), at());
    await repo.create(task({ title: 'snake_case' }), at());
    await repo.create(task({ teamId: B, title: 'Budget in B' }), at());
    expect((await repo.search(A, MEMBER, 'budget')).map((t) => t.title).sort()).toEqual(['Budget 100% done', 'Budget review']);
    expect((await repo.search(A, MEMBER, '100%')).map((t) => t.title)).toEqual(['Budget 100% done']);
    expect((await repo.search(A, MEMBER, '%')).map((t) => t.title)).toEqual(['Budget 100% done']);
    expect((await repo.search(A, MEMBER, 'e_c')).map((t) => t.title)).toEqual(['snake_case']);
    expect((await repo.search(A, MEMBER, '#2')).map((t) => t.number)).toEqual([2]);
    for (let i = 0; i < 105; i++) await repo.create(task({ title: `bulk ${i}` }), at());
    expect(await repo.search(A, MEMBER, 'bulk')).toHaveLength(100);
  });

  it('list, count, Home and card lookups use an index (EXPLAIN QUERY PLAN)', async () => {
    // Some realistic spread, so the planner has a choice to make.
    for (let i = 0; i < 400; i++) {
      const t = (await repo.create(task({ title: `t${i}`, assigneeId: `UA${i % 40}`, creatorId: `UC${i % 13}`, dueDate: i % 3 ? '2025-05-01' : null }), at())).task;
      if (i % 4 === 0) await repo.complete(A, t.id, t.assigneeId, at());
    }
    const seen: { sql: string; params: unknown[] }[] = [];
    const prepare = store.sqlite.prepare.bind(store.sqlite);
    store.sqlite.prepare = ((source: string) => {
      const stmt = prepare(source);
      for (const method of ['all', 'get'] as const) {
        const original = stmt[method].bind(stmt) as (...args: unknown[]) => unknown;
        (stmt as unknown as Record<string, unknown>)[method] = (...params: unknown[]) => {
          seen.push({ sql: source, params });
          return original(...params);
        };
      }
      return stmt;
    }) as typeof store.sqlite.prepare;

    const plans = async (run: () => Promise<unknown>): Promise<string[]> => {
      seen.length = 0;
      await run();
      return seen.map(({ sql, params }) =>
        (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | '),
      );
    };
    const q = { userId: 'UANN', guest: false, limit: 20 };
    // The first statement of each is the one that reads rows; a `count` follows for lists.
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      // The page's ids come from the index alone; only those rows are read.
      ['mine open', () => repo.list(A, { ...q, scope: 'mine', status: 'open' }), /LIST SUBQUERY.*COVERING INDEX tasks_assignee_idx/],
      ['mine done', () => repo.list(A, { ...q, scope: 'mine', status: 'done' }), /tasks_assignee_idx/],
      ['created open', () => repo.list(A, { ...q, scope: 'created', status: 'open' }), /tasks_creator_idx/],
      ['created done', () => repo.list(A, { ...q, scope: 'created', status: 'done' }), /tasks_creator_idx/],
      ['all open', () => repo.list(A, { ...q, scope: 'all', status: 'open' }), /tasks_team_status_idx/],
      ['all done', () => repo.list(A, { ...q, scope: 'all', status: 'done' }), /tasks_team_completed_idx/],
      ['all open (guest)', () => repo.list(A, { ...q, guest: true, scope: 'all', status: 'open' }), /tasks_/],
      ['home', () => repo.openAssignedTo(A, 'UANN', '2025-01-01', { limit: 20 }), /tasks_assignee_idx/],
      ['by number', () => repo.findByNumber(A, 3), /tasks_team_number_uq/],
      ['by card', () => repo.findByMessage(A, 'D1', '1.0'), /sqlite_autoindex_task_messages_1/],
      ['pending steps', () => repo.pendingSteps(), /SEARCH tasks USING INDEX tasks_step_state_idx/],
      ['waiting steps', () => repo.waitingSteps(A), /SEARCH tasks USING INDEX tasks_step_state_idx/],
    ];
    for (const [name, run, index] of cases) {
      const details = await plans(run);
      if (process.env.SHOW_PLANS) console.log(name, details);
      expect(details.length, name).toBeGreaterThan(0);
      for (const d of details) expect(d, name).not.toMatch(/SCAN /);
      expect(details[0], name).toMatch(index);
    }
  });
});
