// A task card's buttons and the "Make a task" message shortcut with fake dependencies: a payload
// shaped as Slack sends it, then what was acked, which service method got which actor, what
// views.open / views.update received, and what the clicker was told (ephemeral, or a DM).
import { describe, expect, it, vi } from 'vitest';
import { AlreadyDoneError, NotFoundError } from '../../src/errors.js';
import { handleCardComplete, handleCardOpen } from '../../src/features/tasks/cardActions.js';
import { handleTaskFromMessage } from '../../src/features/tasks/fromMessage.js';
import { notAllowedError, type TaskService } from '../../src/features/tasks/service.js';
import { NEW_TASK_FIELD, decodeStackMeta } from '../../src/features/tasks/views.js';
import { ACTION, SHORTCUT, VIEW } from '../../src/slack/ids.js';
import type { TaskRow } from '../../src/store/schema.js';
import { ANN, BOB, NOW, blockById, buttons, expectValidView, GENERIC_APOLOGY, taskRow } from './blocks.js';

const CAT = 'UCAT00003';
const GENERIC = GENERIC_APOLOGY;
/** Task #12 of the fixtures, its card in channel C1. */
const task = (over: Partial<TaskRow> = {}): TaskRow => taskRow({ channelId: 'C1', ...over });

/** A failed Web API call as @slack/web-api throws it. */
function slackError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), { code: 'slack_webapi_platform_error', data: { ok: false, error: code } });
}

function fakes(over: Partial<Record<keyof TaskService, unknown>> = {}) {
  const stored = task();
  const base = {
    complete: vi.fn(async () => ({ ...stored, status: 'done' })),
    details: vi.fn(async () => ({ task: stored, comments: [], history: [] })),
    todayFor: vi.fn(async () => '2025-03-10'),
  };
  // The overrides are vi.fn too: typed as the defaults so a test can mock them further.
  const tasks = { ...base, ...over } as typeof base;
  const client = {
    views: { open: vi.fn(async (_args: Record<string, unknown>) => ({ ok: true, view: { id: 'VLOADING', hash: 'h-loading' } })), update: vi.fn(async (_args: Record<string, unknown>) => ({ ok: true })) },
    chat: { postEphemeral: vi.fn(async (_args: Record<string, unknown>) => ({ ok: true })), postMessage: vi.fn(async (_args: Record<string, unknown>) => ({ ok: true })) },
  };
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const users = {
    peek: vi.fn(() => undefined),
    getWithin: vi.fn(async (id: string) => ({ found: true, user: { id, teamId: 'T1', name: 'ann', isBot: false, deleted: false, isGuest: false, tz: 'Europe/Paris' } })),
  };
  const deps = { tasks: tasks as unknown as TaskService, client, logger, users, background: { run: vi.fn() }, now: () => NOW } as never;
  return { deps, tasks, client, logger, users };
}

/**
 * A click on a card's button in channel C1 (block_actions, container "message"). `workflow`: the
 * card was posted with a workflow token, so the click has an interactivity pointer and no
 * trigger_id or response_url.
 */
function cardClick(actionId: string, opts: { userId?: string; value?: string; workflow?: boolean } = {}) {
  const ack = vi.fn(async () => {});
  const respond = vi.fn(async (_message: unknown) => {});
  const body = {
    type: 'block_actions',
    team: { id: 'T1' },
    user: { id: opts.userId ?? ANN, team_id: 'T1' },
    container: { type: 'message', message_ts: '1741608000.000100', channel_id: 'C1', is_ephemeral: false },
    channel: { id: 'C1', name: 'general' },
    message: { type: 'message', ts: '1741608000.000100', text: '#12 Send the contract' },
    state: { values: {} },
    actions: [{ type: 'button', action_id: actionId, block_id: 'card', value: opts.value ?? '7', action_ts: '1741608001.000200' }],
    ...(opts.workflow
      ? { interactivity: { interactor: { secret: 's', id: opts.userId ?? ANN }, interactivity_pointer: 'pointer-1' }, bot_access_token: 'xwfp-1' }
      : { trigger_id: 'trigger-1', response_url: 'https://hooks.slack.example/actions/1' }),
  };
  return { ack, respond, body, action: body.actions[0] };
}

describe('handleCardComplete', () => {
  it('acks once and completes for the clicker; the card is the service’s to update, nobody is told', async () => {
    const f = fakes();
    const c = cardClick(ACTION.taskComplete);
    const order: string[] = [];
    c.ack.mockImplementation(async () => void order.push('ack'));
    f.tasks.complete.mockImplementation(async () => (order.push('complete'), task({ status: 'done' })));
    await handleCardComplete(f.deps)({ ...c, client: f.client } as never);
    expect(order).toEqual(['ack', 'complete']);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.complete).toHaveBeenCalledWith({ teamId: 'T1', userId: ANN }, { id: 7 });
    expect(c.respond).not.toHaveBeenCalled();
    expect(f.client.chat.postEphemeral).not.toHaveBeenCalled();
  });

  it('tells someone who may not complete it why, under the card, and changes nothing', async () => {
    const f = fakes({ complete: vi.fn(async () => Promise.reject(notAllowedError(task(), 'complete'))) });
    const c = cardClick(ACTION.taskComplete, { userId: CAT });
    await handleCardComplete(f.deps)({ ...c, client: f.client } as never);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(c.respond).toHaveBeenCalledWith({
      response_type: 'ephemeral',
      replace_original: false,
      text: `Only the assignee (<@${ANN}>) or the creator (<@${BOB}>) can complete #12 Send the contract.`,
    });
    expect(f.logger.error).not.toHaveBeenCalled();
  });

  it('says who already completed it, and that a deleted task is gone', async () => {
    for (const [err, text] of [
      [new AlreadyDoneError('done', `#12 Send the contract was already completed by <@${BOB}>.`), `#12 Send the contract was already completed by <@${BOB}>.`],
      [new NotFoundError('gone', 'That task no longer exists.'), 'That task no longer exists.'],
    ] as const) {
      const f = fakes({ complete: vi.fn(async () => Promise.reject(err)) });
      const c = cardClick(ACTION.taskComplete);
      await handleCardComplete(f.deps)({ ...c, client: f.client } as never);
      expect(c.respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text });
    }
  });

  it('logs an unexpected failure and apologises', async () => {
    const f = fakes({ complete: vi.fn(async () => Promise.reject(new Error('disk full'))) });
    const c = cardClick(ACTION.taskComplete);
    await handleCardComplete(f.deps)({ ...c, client: f.client } as never);
    expect(f.logger.error).toHaveBeenCalledTimes(1);
    expect(c.respond).toHaveBeenCalledWith(expect.objectContaining({ text: GENERIC }));
  });

  it('on a card a workflow posted (no response_url) tells the clicker with an ephemeral in the channel', async () => {
    const f = fakes({ complete: vi.fn(async () => Promise.reject(notAllowedError(task(), 'complete'))) });
    const c = cardClick(ACTION.taskComplete, { userId: CAT, workflow: true });
    await handleCardComplete(f.deps)({ ...c, client: f.client } as never);
    expect(c.respond).not.toHaveBeenCalled();
    expect(f.client.chat.postEphemeral).toHaveBeenCalledWith({ channel: 'C1', user: CAT, text: expect.stringContaining('can complete #12') });
  });

  it('logs, and does not throw, when even the note cannot be sent', async () => {
    const f = fakes({ complete: vi.fn(async () => Promise.reject(notAllowedError(task(), 'complete'))) });
    const c = cardClick(ACTION.taskComplete, { userId: CAT });
    c.respond.mockRejectedValue(new Error('response_url expired'));
    await expect(handleCardComplete(f.deps)({ ...c, client: f.client } as never)).resolves.toBeUndefined();
    expect(f.logger.warn).toHaveBeenCalledTimes(1);
  });

  it('acks and ignores a value that is not a task id', async () => {
    const f = fakes();
    const c = cardClick(ACTION.taskComplete, { value: '7; drop table' });
    await handleCardComplete(f.deps)({ ...c, client: f.client } as never);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.complete).not.toHaveBeenCalled();
  });
});

describe('handleCardOpen', () => {
  it('acks once, then opens the details as the clicker sees them, with the click trigger', async () => {
    const f = fakes();
    const c = cardClick(ACTION.taskOpen, { userId: CAT });
    await handleCardOpen(f.deps)({ ...c, client: f.client } as never);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.details).toHaveBeenCalledWith(expect.objectContaining({ teamId: 'T1', userId: CAT }), { id: 7 });
    expect(f.client.views.open).toHaveBeenCalledTimes(1);
    expect(f.client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1' }));
    const view = f.client.views.open.mock.calls[0]?.[0]['view'] as { blocks: unknown[]; callback_id: string; private_metadata: string };
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.taskDetails);
    expect(decodeStackMeta(view.private_metadata)).toEqual({ taskId: 7, depth: 1 });
    // Cat neither does nor made the task: he may comment, nothing more.
    expect(buttons(view.blocks).map((b) => b.actionId)).toEqual([ACTION.detailsComment]);
    expect(c.respond).not.toHaveBeenCalled();
  });

  it('opens with the interactivity pointer on a card a workflow posted', async () => {
    const f = fakes();
    const c = cardClick(ACTION.taskOpen, { workflow: true });
    await handleCardOpen(f.deps)({ ...c, client: f.client } as never);
    expect(f.client.views.open).toHaveBeenCalledWith(expect.objectContaining({ interactivity_pointer: 'pointer-1' }));
    expect(f.client.views.open.mock.calls[0]?.[0]).not.toHaveProperty('trigger_id');
  });

  it('opens "Task not found" for a task that is gone or hidden from the clicker', async () => {
    const f = fakes({ details: vi.fn(async () => Promise.reject(new NotFoundError('hidden', 'That task no longer exists.'))) });
    const c = cardClick(ACTION.taskOpen, { userId: CAT });
    await handleCardOpen(f.deps)({ ...c, client: f.client } as never);
    const view = f.client.views.open.mock.calls[0]?.[0]['view'] as { title: { text: string } };
    expectValidView(view);
    expect(view.title.text).toBe('Task not found');
    expect(JSON.stringify(view)).not.toContain('Send the contract');
  });

  it('tells the clicker under the card when Slack took too long to open it', async () => {
    const f = fakes();
    f.client.views.open.mockRejectedValue(slackError('expired_trigger_id'));
    const c = cardClick(ACTION.taskOpen);
    await handleCardOpen(f.deps)({ ...c, client: f.client } as never);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(c.respond).toHaveBeenCalledWith({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'Slack took too long to open the task’s details, so it did not open. Please try again.',
    });
    expect(f.logger.warn).toHaveBeenCalledTimes(1);
  });

  it('apologises and logs an error when the store fails, rather than blaming Slack', async () => {
    const f = fakes({ details: vi.fn(async () => Promise.reject(new Error('SQLITE_IOERR: disk I/O error'))) });
    const c = cardClick(ACTION.taskOpen);
    await handleCardOpen(f.deps)({ ...c, client: f.client } as never);
    expect(c.respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text: GENERIC });
    expect(f.logger.error).toHaveBeenCalledWith(expect.stringContaining('SQLITE_IOERR'));
    expect(f.client.views.open).not.toHaveBeenCalled();
  });

  it('acks and ignores a value that is not a task id', async () => {
    const f = fakes();
    const c = cardClick(ACTION.taskOpen, { value: '0x7' });
    await handleCardOpen(f.deps)({ ...c, client: f.client } as never);
    expect(c.ack).toHaveBeenCalledTimes(1);
    expect(f.tasks.details).not.toHaveBeenCalled();
    expect(f.client.views.open).not.toHaveBeenCalled();
  });
});

/** "Make a task" on a message in channel C1 (message_action), as Slack sends it. */
function shortcut(opts: { text?: string; threadTs?: string; responseUrl?: boolean } = {}) {
  const ack = vi.fn(async () => {});
  const respond = vi.fn(async (_message: unknown) => {});
  const ts = '1741608000.000100';
  const payload = {
    type: 'message_action',
    team: { id: 'T1', domain: 'acme' },
    user: { id: ANN, team_id: 'T1', name: 'ann' },
    channel: { id: 'C1', name: 'general' },
    callback_id: SHORTCUT.taskFromMessage,
    trigger_id: 'trigger-1',
    ...(opts.responseUrl === false ? {} : { response_url: 'https://hooks.slack.example/actions/2' }),
    message_ts: ts,
    message: { type: 'message', ts, user: BOB, text: opts.text ?? `Please send the contract to <@${BOB}|bob>\nBoth copies, signed`, ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}) },
    action_ts: '1741608001.000200',
  };
  return { ack, respond, shortcut: payload };
}

type NewTaskView = { blocks: unknown[]; callback_id: string; private_metadata: string };
const inputValue = (view: NewTaskView, block: string) => (blockById(view.blocks, block)?.['element'] as { initial_value?: string } | undefined)?.initial_value;

describe('handleTaskFromMessage', () => {
  it('opens a Loading modal with the fresh trigger, then replaces it with the New task form prefilled from the message', async () => {
    const f = fakes();
    const s = shortcut();
    const order: string[] = [];
    s.ack.mockImplementation(async () => void order.push('ack'));
    f.client.views.open.mockImplementation(async () => (order.push('open'), { ok: true, view: { id: 'VLOADING', hash: 'h-loading' } }));
    await handleTaskFromMessage(f.deps)(s as never);
    expect(order).toEqual(['ack', 'open']);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(f.client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1', view: expect.objectContaining({ callback_id: VIEW.loading }) }));
    expectValidView(f.client.views.open.mock.calls[0]?.[0]['view']);
    expect(f.users.getWithin).toHaveBeenCalledWith(ANN, expect.any(Number));
    expect(f.client.views.update).toHaveBeenCalledTimes(1);
    expect(f.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'VLOADING', hash: 'h-loading' }));
    const view = f.client.views.update.mock.calls[0]?.[0]['view'] as NewTaskView;
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.newTask);
    expect(JSON.parse(view.private_metadata)).toEqual({ origin: 'message', tz: 'Europe/Paris', source: { channelId: 'C1', ts: '1741608000.000100' } });
    expect(inputValue(view, NEW_TASK_FIELD.title)).toBe('Please send the contract to @bob');
    expect(inputValue(view, NEW_TASK_FIELD.description)).toBe('Both copies, signed');
    expect(s.respond).not.toHaveBeenCalled();
  });

  it('remembers the thread of a message that is itself a reply, and leaves the zone out when Slack did not answer in time', async () => {
    const f = fakes();
    f.users.getWithin.mockResolvedValue({ found: false } as never);
    await handleTaskFromMessage(f.deps)(shortcut({ threadTs: '1741600000.000001' }) as never);
    const view = f.client.views.update.mock.calls[0]?.[0]['view'] as NewTaskView;
    expect(JSON.parse(view.private_metadata)).toEqual({ origin: 'message', source: { channelId: 'C1', ts: '1741608000.000100', threadTs: '1741600000.000001' } });
  });

  it('tells the user, ephemerally, when Slack took too long to open the modal, and stops there', async () => {
    const f = fakes();
    f.client.views.open.mockRejectedValue(slackError('expired_trigger_id'));
    const s = shortcut();
    await handleTaskFromMessage(f.deps)(s as never);
    expect(s.ack).toHaveBeenCalledTimes(1);
    expect(s.respond).toHaveBeenCalledWith({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'Slack took too long to open the New task form, so it did not open. Please try again.',
    });
    expect(f.users.getWithin).not.toHaveBeenCalled();
    expect(f.client.views.update).not.toHaveBeenCalled();
  });

  it('tells the user in a DM when there is no response_url', async () => {
    const f = fakes();
    f.client.views.open.mockRejectedValue(slackError('missing_scope'));
    const s = shortcut({ responseUrl: false });
    await handleTaskFromMessage(f.deps)(s as never);
    expect(f.client.chat.postMessage).toHaveBeenCalledWith({
      channel: ANN,
      text: 'I couldn’t open the New task form. Tasklane is missing a permission in this workspace; ask an admin to reinstall the app.',
    });
  });

  it('says nothing when the user closed the Loading modal meanwhile (not_found)', async () => {
    const f = fakes();
    f.client.views.update.mockRejectedValue(slackError('not_found'));
    const s = shortcut();
    await handleTaskFromMessage(f.deps)(s as never);
    expect(s.respond).not.toHaveBeenCalled();
    expect(f.logger.info).toHaveBeenCalledTimes(1);
    expect(f.logger.error).not.toHaveBeenCalled();
  });

  it('logs and tells the user to try again when Slack refuses the form', async () => {
    const f = fakes();
    f.client.views.update.mockRejectedValue(slackError('invalid_arguments'));
    const s = shortcut();
    await handleTaskFromMessage(f.deps)(s as never);
    expect(f.logger.error).toHaveBeenCalledTimes(1);
    expect(s.respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text: 'I couldn’t show the New task form. Please try the shortcut again.' });
  });

  it('opens an empty form for a message with no text', async () => {
    const f = fakes();
    await handleTaskFromMessage(f.deps)(shortcut({ text: '' }) as never);
    const view = f.client.views.update.mock.calls[0]?.[0]['view'] as NewTaskView;
    expectValidView(view);
    expect(inputValue(view, NEW_TASK_FIELD.title)).toBeUndefined();
  });
});
