// The task details stack's listeners with fake dependencies: a click or a submission shaped as
// Slack sends it, then what was acked, which service method got which actor, and what
// views.push / views.update received (pushed forms, field errors, the stack cleared on delete,
// refusals in words).
import { describe, expect, it, vi } from 'vitest';
import { AlreadyDoneError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import {
  handleCommentTaskSubmit,
  handleDeleteTaskSubmit,
  handleDetailsComment,
  handleDetailsComplete,
  handleDetailsDelete,
  handleDetailsEdit,
  handleEditTaskSubmit,
} from '../../src/features/tasks/details.js';
import { notAllowedError, type TaskService } from '../../src/features/tasks/service.js';
import { COMMENT_FIELD, NEW_TASK_FIELD, decodeStackMeta, encodeStackMeta, type StackMeta } from '../../src/features/tasks/views.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import { ANN, BOB, NOW, buttons, expectValidView, texts, GENERIC_APOLOGY, taskRow } from './blocks.js';

const CAT = 'UCAT00003';
const GENERIC = GENERIC_APOLOGY;
const task = taskRow;

/** A failed Web API call as @slack/web-api throws it. */
function slackError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), { code: 'slack_webapi_platform_error', data: { ok: false, error: code } });
}

const person = (id: string, tz = 'Europe/Paris') => ({ id, teamId: 'T1', name: id === ANN ? 'ann' : id === BOB ? 'bob' : 'cat', isBot: false, deleted: false, isGuest: false, tz });

function fakes(over: Partial<Record<keyof TaskService, unknown>> = {}) {
  const stored = task();
  const base = {
    get: vi.fn(async () => stored),
    find: vi.fn(async () => stored),
    details: vi.fn(async () => ({ task: stored, comments: [], history: [] })),
    todayFor: vi.fn(async () => '2025-03-10'),
    complete: vi.fn(async () => ({ ...stored, status: 'done' })),
    edit: vi.fn(async () => stored),
    assign: vi.fn(async () => stored),
    comment: vi.fn(async () => ({})),
    remove: vi.fn(async () => stored),
  };
  // The overrides are vi.fn too: typed as the defaults so a test can mock them further.
  const tasks = { ...base, ...over } as typeof base;
  const calls: string[] = [];
  const viewsCall = (name: string) => vi.fn(async (_args: Record<string, unknown>) => (calls.push(name), { ok: true }));
  const client = { views: { push: viewsCall('push'), update: viewsCall('update'), open: viewsCall('open') }, chat: { postMessage: vi.fn(async (_args: Record<string, unknown>) => ({ ok: true })) } };
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  // Ann is cached (her zone known before an ack); nobody else is.
  const users = {
    peek: vi.fn((id: string) => (id === ANN ? person(ANN) : undefined)),
    getWithin: vi.fn(async (id: string) => ({ found: true, user: person(id) })),
    get: vi.fn(async (id: string) => person(id)),
  };
  const background = { run: vi.fn() };
  const deps = { tasks: tasks as unknown as TaskService, client, logger, users, background, now: () => NOW } as never;
  return { deps, tasks, client, logger, users, background, calls };
}

type Fakes = ReturnType<typeof fakes>;

/** The details view as Slack sends it back in a click from it (depth 1: opened with views.open). */
function detailsView(depth = 1) {
  return {
    id: 'VDETAILS',
    hash: 'h-1',
    type: 'modal',
    callback_id: VIEW.taskDetails,
    private_metadata: encodeStackMeta({ taskId: 7, depth }),
    root_view_id: depth === 1 ? 'VDETAILS' : 'VROOT',
    previous_view_id: depth === 1 ? null : 'VBELOW',
    state: { values: {} },
  };
}

/** A button click in the details view (block_actions, container "view"). */
function click(actionId: string, opts: { userId?: string; depth?: number; triggerId?: string; value?: string; view?: unknown } = {}) {
  const ack = vi.fn(async () => {});
  const body = {
    type: 'block_actions',
    team: { id: 'T1' },
    user: { id: opts.userId ?? ANN, team_id: 'T1' },
    container: { type: 'view', view_id: 'VDETAILS' },
    trigger_id: opts.triggerId ?? 'trigger-1',
    view: 'view' in opts ? opts.view : detailsView(opts.depth),
    actions: [{ type: 'button', action_id: actionId, block_id: 'b1', value: opts.value ?? '7', action_ts: '1741608000.000100' }],
  };
  return { ack, args: { ack, body, action: body.actions[0] } as never };
}

/** The view a views.* call received. */
const viewOf = (mock: { mock: { calls: [Record<string, unknown>][] } }, i = 0) => mock.mock.calls[i]?.[0]['view'] as { blocks: unknown[]; callback_id?: string; private_metadata?: string; title: { text: string } };
/** The words the user reads in a view: every section and context text. */
const wordsOf = (view: { blocks: unknown[] }) => texts(view.blocks).join('\n');

describe('handleDetailsComplete', () => {
  it('acks once, completes for the clicker, then redraws the details in place with the hash it saw', async () => {
    const f = fakes();
    f.tasks.details.mockResolvedValue({ task: task({ status: 'done', completedBy: ANN, completedAt: NOW }), comments: [], history: [] });
    const order: string[] = [];
    const c = click(ACTION.detailsComplete);
    c.ack.mockImplementation(async () => void order.push('ack'));
    f.tasks.complete.mockImplementation(async () => (order.push('complete'), task({ status: 'done' })));
    await handleDetailsComplete(f.deps)(c.args);
    expect(order).toEqual(['ack', 'complete']);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.complete).toHaveBeenCalledWith({ teamId: 'T1', userId: ANN }, { id: 7 });
    expect(f.client.views.update).toHaveBeenCalledTimes(1);
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS', hash: 'h-1' }));
    const view = viewOf(f.client.views.update);
    expectValidView(view);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 1 });
    expect(buttons(view.blocks).map((b) => b.actionId)).not.toContain(ACTION.detailsComplete);
    expect(f.client.views.push).not.toHaveBeenCalled();
  });

  it('tells a clicker who may not complete it why, on the details view, without logging an error', async () => {
    const refusal = notAllowedError(task(), 'complete');
    const f = fakes({ complete: vi.fn(async () => Promise.reject(refusal)) });
    const c = click(ACTION.detailsComplete, { userId: CAT });
    await handleDetailsComplete(f.deps)(c.args);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.complete).toHaveBeenCalledWith({ teamId: 'T1', userId: CAT }, { id: 7 });
    const view = viewOf(f.client.views.update);
    expectValidView(view);
    expect(wordsOf(view)).toContain(`:warning: Only the assignee (<@${ANN}>) or the creator (<@${BOB}>) can complete`);
    expect(f.logger.error).not.toHaveBeenCalled();
    expect(f.logger.info).toHaveBeenCalledTimes(1);
  });

  it('says who already completed it', async () => {
    const f = fakes({ complete: vi.fn(async () => Promise.reject(new AlreadyDoneError('done', `#12 Send the contract was already completed by <@${BOB}>.`))) });
    const c = click(ACTION.detailsComplete);
    await handleDetailsComplete(f.deps)(c.args);
    expect(wordsOf(viewOf(f.client.views.update))).toContain(`already completed by <@${BOB}>`);
  });

  it('shows "Task not found" in place of the details of a task deleted meanwhile', async () => {
    const gone = new NotFoundError('gone', 'That task no longer exists.');
    const f = fakes({ complete: vi.fn(async () => Promise.reject(gone)), details: vi.fn(async () => Promise.reject(gone)) });
    await handleDetailsComplete(f.deps)(click(ACTION.detailsComplete).args);
    const view = viewOf(f.client.views.update);
    expectValidView(view);
    expect(view.title.text).toBe('Task not found');
  });

  it('logs an unexpected failure and apologises on the details view', async () => {
    const f = fakes({ complete: vi.fn(async () => Promise.reject(new Error('disk full'))) });
    await handleDetailsComplete(f.deps)(click(ACTION.detailsComplete).args);
    expect(f.logger.error).toHaveBeenCalledTimes(1);
    expect(wordsOf(viewOf(f.client.views.update))).toContain(GENERIC);
  });

  it('on hash_conflict redraws from the store and sends it again without a hash', async () => {
    const f = fakes();
    f.client.views.update.mockRejectedValueOnce(slackError('hash_conflict'));
    await handleDetailsComplete(f.deps)(click(ACTION.detailsComplete).args);
    expect(f.tasks.complete).toHaveBeenCalledTimes(1);
    expect(f.client.views.update).toHaveBeenCalledTimes(2);
    expect(f.client.views.update.mock.calls[1]?.[0]).not.toHaveProperty('hash');
    expect(f.client.views.update.mock.calls[1]?.[0]).toHaveProperty('view_id', 'VDETAILS');
    expect(f.tasks.details).toHaveBeenCalledTimes(2);
  });

  it('leaves a details view the user already closed alone (not_found), the completion kept', async () => {
    const f = fakes();
    f.client.views.update.mockRejectedValue(slackError('not_found'));
    await expect(handleDetailsComplete(f.deps)(click(ACTION.detailsComplete).args)).resolves.toBeUndefined();
    expect(f.tasks.complete).toHaveBeenCalledTimes(1);
    expect(f.client.views.update).toHaveBeenCalledTimes(1);
    expect(f.logger.error).not.toHaveBeenCalled();
  });

  it('acks and does nothing for a click that names no task', async () => {
    const f = fakes();
    const c = click(ACTION.detailsComplete, { value: 'x', view: { id: 'VOTHER', private_metadata: '' } });
    await handleDetailsComplete(f.deps)(c.args);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.complete).not.toHaveBeenCalled();
    expect(f.client.views.update).not.toHaveBeenCalled();
  });
});

describe('handleDetailsEdit', () => {
  it('pushes the Edit form with the click trigger, remembering the details view below it', async () => {
    const f = fakes();
    const c = click(ACTION.detailsEdit, { userId: BOB });
    await handleDetailsEdit(f.deps)(c.args);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.get).toHaveBeenCalledWith({ teamId: 'T1', userId: BOB }, { id: 7 });
    expect(f.client.views.push).toHaveBeenCalledTimes(1);
    expect(f.client.views.push).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1' }));
    const view = viewOf(f.client.views.push);
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.editTask);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 2, parentId: 'VDETAILS', parentHash: 'h-1' });
    // Bob is not cached: he is looked up in the background, for the submission's checks.
    expect(f.background.run).toHaveBeenCalledTimes(1);
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('puts the form in place of the details when the stack already holds 3 views', async () => {
    const f = fakes();
    await handleDetailsEdit(f.deps)(click(ACTION.detailsEdit, { depth: 3 }).args);
    expect(f.client.views.push).not.toHaveBeenCalled();
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS', hash: 'h-1' }));
    const view = viewOf(f.client.views.update);
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.editTask);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 3 });
  });

  it('refuses someone who is neither assignee nor creator, in words on the details view', async () => {
    const f = fakes();
    const c = click(ACTION.detailsEdit, { userId: CAT });
    await handleDetailsEdit(f.deps)(c.args);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.client.views.push).not.toHaveBeenCalled();
    expect(wordsOf(viewOf(f.client.views.update))).toContain(`Only the assignee (<@${ANN}>) or the creator (<@${BOB}>) can edit`);
    expect(f.logger.error).not.toHaveBeenCalled();
  });

  it('says the form did not open when Slack refuses the push (a trigger too old)', async () => {
    const f = fakes();
    f.client.views.push.mockRejectedValue(slackError('expired_trigger_id'));
    await handleDetailsEdit(f.deps)(click(ACTION.detailsEdit).args);
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS' }));
    expect(wordsOf(viewOf(f.client.views.update))).toContain('Slack took too long to open the Edit form, so it did not open. Please try again.');
    expect(f.logger.error).not.toHaveBeenCalled();
  });
});

describe('handleDetailsComment', () => {
  it('pushes the Comment form for anyone who can see the task', async () => {
    const f = fakes();
    const c = click(ACTION.detailsComment, { userId: CAT });
    await handleDetailsComment(f.deps)(c.args);
    expect(c.ack).toHaveBeenCalledTimes(1);
    const view = viewOf(f.client.views.push);
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.commentTask);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 2, parentId: 'VDETAILS', parentHash: 'h-1' });
    expect(f.background.run).not.toHaveBeenCalled();
  });

  it('shows "Task not found" when the task went away before the click', async () => {
    const gone = new NotFoundError('gone', 'That task no longer exists.');
    const f = fakes({ get: vi.fn(async () => Promise.reject(gone)), details: vi.fn(async () => Promise.reject(gone)) });
    await handleDetailsComment(f.deps)(click(ACTION.detailsComment).args);
    expect(f.client.views.push).not.toHaveBeenCalled();
    expect(viewOf(f.client.views.update).title.text).toBe('Task not found');
  });
});

describe('handleDetailsDelete', () => {
  it('pushes the confirmation for the creator', async () => {
    const f = fakes();
    await handleDetailsDelete(f.deps)(click(ACTION.detailsDelete, { userId: BOB }).args);
    const view = viewOf(f.client.views.push);
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.detailsDeleteTask);
    expect(f.tasks.remove).not.toHaveBeenCalled();
  });

  it('tells the assignee that only the creator can delete it', async () => {
    const f = fakes();
    await handleDetailsDelete(f.deps)(click(ACTION.detailsDelete, { userId: ANN }).args);
    expect(f.client.views.push).not.toHaveBeenCalled();
    expect(wordsOf(viewOf(f.client.views.update))).toContain(`Only <@${BOB}>, who created`);
  });

  it('says why the confirmation did not open when Slack refuses the push', async () => {
    const f = fakes();
    f.client.views.push.mockRejectedValue(slackError('push_limit_reached'));
    await handleDetailsDelete(f.deps)(click(ACTION.detailsDelete, { userId: BOB }).args);
    expect(wordsOf(viewOf(f.client.views.update))).toContain('I couldn’t open the confirmation. Too many windows are open; close one and try again.');
  });
});

/** A form of the stack submitted (view_submission): pushed on the details view unless `meta` says otherwise. */
function submission(callbackId: string, values: Record<string, Record<string, unknown>>, opts: { userId?: string; meta?: StackMeta | string } = {}) {
  const ack = vi.fn(async (_answer?: unknown) => {});
  const meta = opts.meta ?? { taskId: 7, depth: 2, parentId: 'VDETAILS', parentHash: 'h-1' };
  const pushed = typeof meta !== 'string' && meta.parentId !== undefined;
  const view = {
    id: 'VFORM',
    hash: 'h-form',
    type: 'modal',
    callback_id: callbackId,
    private_metadata: typeof meta === 'string' ? meta : encodeStackMeta(meta),
    root_view_id: pushed ? 'VDETAILS' : 'VFORM',
    previous_view_id: pushed ? 'VDETAILS' : null,
    state: { values },
  };
  const body = { type: 'view_submission', team: { id: 'T1' }, user: { id: opts.userId ?? ANN, team_id: 'T1' }, view, trigger_id: 'trigger-2', response_urls: [] };
  return { ack, args: { ack, body, view } as never };
}

/** The Edit form's values as Slack sends them. */
function editValues(over: { title?: string; dueDate?: string | null; assignee?: string } = {}) {
  return {
    [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: over.title ?? 'Send the signed contract' } },
    [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: over.assignee ?? ANN } },
    [NEW_TASK_FIELD.dueDate]: { [NEW_TASK_FIELD.dueDate]: { type: 'datepicker', selected_date: over.dueDate ?? null } },
    [NEW_TASK_FIELD.priority]: { [NEW_TASK_FIELD.priority]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'High' }, value: 'high' } } },
    [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: { type: 'plain_text_input', value: 'Both copies' } },
  };
}

/** Records the ack and each Slack and service call in order. */
function ordered(f: Fakes, ack: ReturnType<typeof vi.fn>, method: 'edit' | 'assign' | 'comment' | 'remove') {
  ack.mockImplementation(async () => void f.calls.push('ack'));
  const original = f.tasks[method].getMockImplementation() as (...a: unknown[]) => Promise<unknown>;
  f.tasks[method].mockImplementation(async (...a: unknown[]) => (f.calls.push(method), original(...a)) as never);
}

describe('handleEditTaskSubmit', () => {
  it('stores the edit before the ack, pops the form, then redraws the details below with their hash', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues());
    ordered(f, s.ack, 'edit');
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.calls).toEqual(['edit', 'ack', 'update']);
    expect(f.tasks.edit).toHaveBeenCalledWith(
      { teamId: 'T1', userId: ANN, lookupBudgetMs: expect.any(Number), timeZone: 'Europe/Paris' },
      { id: 7 },
      { title: 'Send the signed contract', description: 'Both copies', dueDate: null, priority: 'high' },
    );
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith();
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS', hash: 'h-1' }));
    const view = viewOf(f.client.views.update);
    expectValidView(view);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 1 });
    expect(f.tasks.assign).not.toHaveBeenCalled();
  });

  it('refuses an empty title on its input, storing nothing and calling no Slack method', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues({ title: '   ' }));
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.title]: 'The task needs a title.' } });
    expect(f.tasks.edit).not.toHaveBeenCalled();
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('refuses a new due date in the past on the date input', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues({ dueDate: '2025-03-01' }));
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.dueDate]: 'The due date can’t be in the past.' } });
    expect(f.tasks.edit).not.toHaveBeenCalled();
  });

  it('keeps an unchanged due date that has passed meanwhile', async () => {
    const f = fakes({ find: vi.fn(async () => task({ dueDate: '2025-03-01' })) });
    const s = submission(VIEW.editTask, editValues({ dueDate: '2025-03-01' }));
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.tasks.edit).toHaveBeenCalledWith(expect.anything(), { id: 7 }, expect.objectContaining({ dueDate: '2025-03-01' }));
    expect(s.ack).toHaveBeenCalledWith();
  });

  it('refuses a bot as the new assignee on the assignee input, naming it in plain text', async () => {
    const f = fakes();
    f.users.getWithin.mockImplementation(async (id: string) => ({ found: true, user: { ...person(id), isBot: true } }));
    const s = submission(VIEW.editTask, editValues({ assignee: CAT }));
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.users.getWithin).toHaveBeenCalledWith(CAT, expect.any(Number));
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.assignee]: 'cat is an app or bot; tasks need a person.' } });
    expect(f.tasks.edit).not.toHaveBeenCalled();
    expect(f.tasks.assign).not.toHaveBeenCalled();
  });

  it("puts the service's field error on its input (a repeating series' date taken)", async () => {
    const message = 'Another task of this repeating series is due Fri, Mar 14; pick another date.';
    const f = fakes({ edit: vi.fn(async () => Promise.reject(new InvalidInputError(message, { dueDate: message }))) });
    const s = submission(VIEW.editTask, editValues({ dueDate: '2025-03-14' }));
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.dueDate]: message } });
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('turns the form into a notice for someone who may not edit, and redraws the details below', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues(), { userId: CAT });
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.tasks.edit).not.toHaveBeenCalled();
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'update', view: expect.objectContaining({ type: 'modal' }) });
    const notice = (s.ack.mock.calls[0]?.[0] as { view: { blocks: unknown[]; title: { text: string } } }).view;
    expectValidView(notice);
    expect(notice.title.text).toBe('Edit task');
    expect(wordsOf(notice)).toContain(`Only the assignee (<@${ANN}>) or the creator (<@${BOB}>) can edit`);
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS' }));
  });

  it('says the task is gone when it was deleted while the form was open', async () => {
    const gone = new NotFoundError('gone', 'That task no longer exists.');
    const f = fakes({ find: vi.fn(async () => undefined), details: vi.fn(async () => Promise.reject(gone)) });
    const s = submission(VIEW.editTask, editValues());
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'update', view: expect.anything() });
    expect(wordsOf((s.ack.mock.calls[0]?.[0] as { view: { blocks: unknown[] } }).view)).toContain('That task no longer exists. It may have been deleted.');
    expect(viewOf(f.client.views.update).title.text).toBe('Task not found');
    expect(f.tasks.edit).not.toHaveBeenCalled();
  });

  it('answers with the details in the form’s place when the form replaced them, without asking Slack first', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues(), { meta: { taskId: 7, depth: 3 } });
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.tasks.edit).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledTimes(1);
    const answer = s.ack.mock.calls[0]?.[0] as { response_action: string; view: { private_metadata: string; callback_id: string } };
    expect(answer.response_action).toBe('update');
    expectValidView(answer.view);
    expect(answer.view.callback_id).toBe(VIEW.taskDetails);
    expect(decodeStackMeta(answer.view.private_metadata)).toEqual({ taskId: 7, depth: 3 });
    expect(f.tasks.todayFor).not.toHaveBeenCalled();
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('reassigns after the ack; a refused reassignment is told in a DM and the other changes stay saved', async () => {
    const problem = `<@${CAT}> is an app or bot; tasks need a person.`;
    const f = fakes({ assign: vi.fn(async () => Promise.reject(new InvalidInputError(problem, { assignee: problem }))) });
    const s = submission(VIEW.editTask, editValues({ assignee: CAT }));
    ordered(f, s.ack, 'edit');
    ordered(f, s.ack, 'assign');
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.calls.slice(0, 3)).toEqual(['edit', 'ack', 'assign']);
    expect(f.tasks.assign).toHaveBeenCalledWith(expect.objectContaining({ teamId: 'T1', userId: ANN }), { id: 7 }, CAT);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith();
    expect(f.client.chat.postMessage).toHaveBeenCalledWith({
      channel: ANN,
      text: `Your other changes to #12 Send the contract were saved, but I couldn’t reassign it to <@${CAT}>: <@${CAT}> is an app or bot; tasks need a person.`,
    });
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS' }));
    expect(f.logger.error).not.toHaveBeenCalled();
  });

  it('with the form in the details’ place, reassigns after the ack and then redraws that view from the store', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues({ assignee: CAT }), { meta: { taskId: 7, depth: 3 } });
    ordered(f, s.ack, 'edit');
    ordered(f, s.ack, 'assign');
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(f.calls).toEqual(['edit', 'ack', 'assign', 'update']);
    expect(s.ack).toHaveBeenCalledWith(expect.objectContaining({ response_action: 'update' }));
    expect(f.client.views.update).toHaveBeenCalledTimes(1);
    expect(f.client.views.update.mock.calls[0]?.[0]).toEqual({ view_id: 'VFORM', view: expect.objectContaining({ callback_id: VIEW.taskDetails }) });
    expect(f.client.chat.postMessage).not.toHaveBeenCalled();
  });

  it('keeps the stored edit when redrawing the details below fails, and hands the Slack error on', async () => {
    const f = fakes();
    f.client.views.update.mockRejectedValue(slackError('internal_error'));
    const s = submission(VIEW.editTask, editValues());
    await expect(handleEditTaskSubmit(f.deps)(s.args)).rejects.toThrow('internal_error');
    expect(f.tasks.edit).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith();
  });

  it('says "Task not found" for a form whose metadata names no task', async () => {
    const f = fakes();
    const s = submission(VIEW.editTask, editValues(), { meta: 'not ours' });
    await handleEditTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'update', view: expect.objectContaining({ title: expect.objectContaining({ text: 'Task not found' }) }) });
    expect(f.tasks.find).not.toHaveBeenCalled();
    expect(f.tasks.edit).not.toHaveBeenCalled();
  });
});

const commentValues = (text: string | null) => ({ [COMMENT_FIELD]: { [COMMENT_FIELD]: { type: 'plain_text_input', value: text } } });

describe('handleCommentTaskSubmit', () => {
  it('stores the comment for the submitter before the ack, pops the form, then redraws the details below', async () => {
    const f = fakes();
    const s = submission(VIEW.commentTask, commentValues('Looks good'), { userId: CAT });
    ordered(f, s.ack, 'comment');
    await handleCommentTaskSubmit(f.deps)(s.args);
    expect(f.calls).toEqual(['comment', 'ack', 'update']);
    expect(f.tasks.comment).toHaveBeenCalledWith({ teamId: 'T1', userId: CAT, lookupBudgetMs: expect.any(Number) }, { id: 7 }, 'Looks good');
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith();
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS', hash: 'h-1' }));
  });

  it("puts the service's refusal of an empty comment on the comment input", async () => {
    const f = fakes({ comment: vi.fn(async () => Promise.reject(new InvalidInputError('The comment is empty.', { comment: 'Write something first.' }))) });
    const s = submission(VIEW.commentTask, commentValues(null));
    await handleCommentTaskSubmit(f.deps)(s.args);
    expect(f.tasks.comment).toHaveBeenCalledWith(expect.anything(), { id: 7 }, '');
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [COMMENT_FIELD]: 'Write something first.' } });
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('turns the form into a notice when the task is gone, and the details below say so too', async () => {
    const gone = new NotFoundError('gone', 'That task no longer exists.');
    const f = fakes({ comment: vi.fn(async () => Promise.reject(gone)), details: vi.fn(async () => Promise.reject(gone)) });
    const s = submission(VIEW.commentTask, commentValues('Looks good'));
    await handleCommentTaskSubmit(f.deps)(s.args);
    const answer = s.ack.mock.calls[0]?.[0] as { response_action: string; view: { blocks: unknown[]; title: { text: string } } };
    expect(answer.response_action).toBe('update');
    expect(answer.view.title.text).toBe('Comment');
    expect(wordsOf(answer.view)).toContain('That task no longer exists.');
    expect(viewOf(f.client.views.update).title.text).toBe('Task not found');
  });

  it('logs an unexpected failure and says nothing was lost', async () => {
    const f = fakes({ comment: vi.fn(async () => Promise.reject(new Error('disk full'))) });
    const s = submission(VIEW.commentTask, commentValues('Looks good'));
    await handleCommentTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(wordsOf((s.ack.mock.calls[0]?.[0] as { view: { blocks: unknown[] } }).view)).toContain(GENERIC);
    expect(f.logger.error).toHaveBeenCalledTimes(1);
  });
});

describe('handleDeleteTaskSubmit', () => {
  it('deletes for the creator, then clears the whole stack in the ack', async () => {
    const f = fakes();
    const s = submission(VIEW.detailsDeleteTask, {}, { userId: BOB });
    ordered(f, s.ack, 'remove');
    await handleDeleteTaskSubmit(f.deps)(s.args);
    expect(f.calls).toEqual(['remove', 'ack']);
    expect(f.tasks.remove).toHaveBeenCalledWith({ teamId: 'T1', userId: BOB, lookupBudgetMs: expect.any(Number) }, { id: 7 });
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.ack).toHaveBeenCalledWith({ response_action: 'clear' });
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('refuses someone else in words in the form’s place, and the details below stay', async () => {
    const f = fakes({ remove: vi.fn(async () => Promise.reject(notAllowedError(task(), 'delete'))) });
    const s = submission(VIEW.detailsDeleteTask, {}, { userId: ANN });
    await handleDeleteTaskSubmit(f.deps)(s.args);
    expect(s.ack).toHaveBeenCalledTimes(1);
    const answer = s.ack.mock.calls[0]?.[0] as { response_action: string; view: { blocks: unknown[]; title: { text: string } } };
    expect(answer.response_action).toBe('update');
    expect(answer.view.title.text).toBe('Delete task');
    expect(wordsOf(answer.view)).toBe(`Only <@${BOB}>, who created #12 Send the contract, can delete it.`);
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VDETAILS' }));
    expect(f.logger.error).not.toHaveBeenCalled();
  });

  it('says the task no longer exists for a confirmation that names none, deleting nothing', async () => {
    const f = fakes();
    const s = submission(VIEW.detailsDeleteTask, {}, { meta: '{}' });
    await handleDeleteTaskSubmit(f.deps)(s.args);
    expect(f.tasks.remove).not.toHaveBeenCalled();
    expect(wordsOf((s.ack.mock.calls[0]?.[0] as { view: { blocks: unknown[] } }).view)).toBe('That task no longer exists.');
  });
});
