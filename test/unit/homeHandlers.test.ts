// The App Home's listeners with fake dependencies: what each acks, stores, and opens.
import { describe, expect, it, vi } from 'vitest';
import { NotAllowedError } from '../../src/errors.js';
import { handleHomePage, handleHomeTaskMenu, handleReassignSubmit } from '../../src/features/home/handlers.js';
import { REASSIGN_INPUT, pageValue } from '../../src/features/home/views.js';
import type { TaskService } from '../../src/features/tasks/service.js';
import { ANN, BOB, NOW } from './blocks.js';

const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });
const task = { id: 7, number: 12, title: 'Send the contract', assigneeId: ANN, creatorId: BOB, status: 'open' };

describe('handleReassignSubmit', () => {
  function submit(assignee: string | undefined, tasks: Partial<Record<keyof TaskService, unknown>>) {
    const ack = vi.fn(async () => {});
    const client = { views: { update: vi.fn(async () => ({ ok: true })) } };
    const deps = { tasks: tasks as unknown as TaskService, client, logger: logger() } as never;
    const args = {
      ack,
      body: { type: 'view_submission', team: null, user: { id: BOB, team_id: 'T1' } },
      view: {
        id: 'V1',
        private_metadata: JSON.stringify({ taskId: 7 }),
        state: { values: { [REASSIGN_INPUT.block]: { [REASSIGN_INPUT.action]: { type: 'users_select', selected_user: assignee ?? null } } } },
      },
    } as never;
    return { done: handleReassignSubmit(deps)(args), ack, client };
  }

  it('asks for a person when none is picked, reading nothing', async () => {
    const find = vi.fn();
    const r = submit(undefined, { find });
    await r.done;
    expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [REASSIGN_INPUT.block]: 'Pick the person who should do this task.' } });
    expect(find).not.toHaveBeenCalled();
  });

  it('says so when the task is gone, or already assigned to that person', async () => {
    const gone = submit(ANN, { find: vi.fn(async () => undefined) });
    await gone.done;
    expect(gone.ack).toHaveBeenCalledWith(expect.objectContaining({ response_action: 'update' }));
    const same = submit(ANN, { find: vi.fn(async () => task) });
    await same.done;
    expect(same.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [REASSIGN_INPUT.block]: 'The task is already assigned to this person.' } });
  });

  it('acks with a progress notice, reassigns after the ack, then shows the outcome in the modal', async () => {
    const calls: string[] = [];
    const assign = vi.fn(async () => (calls.push('assign'), { ...task, assigneeId: 'UCAT00003' }));
    const r = submit('UCAT00003', { find: vi.fn(async () => task), assign });
    r.ack.mockImplementation(async () => void calls.push('ack'));
    await r.done;
    expect(assign).toHaveBeenCalledWith({ teamId: 'T1', userId: BOB, lookupBudgetMs: expect.any(Number) }, { id: 7 }, 'UCAT00003');
    expect(r.client.views.update).toHaveBeenCalledWith(expect.objectContaining({ view_id: 'V1' }));
    expect(JSON.stringify(r.client.views.update.mock.calls[0])).toContain('is now assigned to <@UCAT00003>');
  });
});

describe('handleHomeTaskMenu', () => {
  function choose(value: string, tasks: Partial<Record<keyof TaskService, unknown>>) {
    const ack = vi.fn(async () => {});
    const client = { views: { open: vi.fn(async () => ({ ok: true })) } };
    const log = logger();
    const deps = { tasks: tasks as unknown as TaskService, client, logger: log, now: () => NOW, users: { peek: () => undefined }, background: { run: vi.fn() } } as never;
    const args = {
      ack,
      body: { type: 'block_actions', team: { id: 'T1' }, user: { id: ANN, team_id: 'T1' }, trigger_id: 'trigger-1' },
      action: { type: 'overflow', selected_option: { value } },
    } as never;
    return { done: handleHomeTaskMenu(deps)(args), ack, client, log };
  }

  it('reopens a task for the clicker', async () => {
    const reopen = vi.fn(async () => task);
    const r = choose('reopen:7', { reopen });
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(reopen).toHaveBeenCalledWith({ teamId: 'T1', userId: ANN }, { id: 7 });
  });

  it('explains a refusal in a small modal', async () => {
    const r = choose('reopen:7', { reopen: vi.fn(async () => Promise.reject(new NotAllowedError('no', 'Only the assignee may.'))) });
    await r.done;
    expect(r.client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1' }));
    expect(JSON.stringify(r.client.views.open.mock.calls[0])).toContain('Only the assignee may.');
    expect(r.log.error).not.toHaveBeenCalled();
  });

  it('ignores a menu value it did not draw', async () => {
    const reopen = vi.fn();
    const r = choose('explode:7', { reopen });
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(reopen).not.toHaveBeenCalled();
    expect(r.client.views.open).not.toHaveBeenCalled();
  });
});

describe('handleHomePage', () => {
  function turn(value: string) {
    const homeState = { save: vi.fn(async () => {}), touch: vi.fn() };
    const outbox = { kick: vi.fn() };
    const ack = vi.fn(async () => {});
    const done = handleHomePage({ homeState, outbox, now: () => NOW } as never)({
      ack,
      body: { type: 'block_actions', team: { id: 'T1' }, user: { id: ANN, team_id: 'T1' } },
      action: { type: 'button', value },
    } as never);
    return { done, homeState, outbox, ack };
  }

  it('stores the page the button names with its Home publish, and kicks the outbox', async () => {
    const r = turn(pageValue('created', 2));
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.homeState.save).toHaveBeenCalledWith('T1', ANN, { filter: 'created', page: 2 }, NOW, [expect.objectContaining({ teamId: 'T1' })]);
    expect(r.outbox.kick).toHaveBeenCalledTimes(1);
  });

  it('ignores a value it did not draw', async () => {
    const r = turn('not a page');
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.homeState.save).not.toHaveBeenCalled();
    expect(r.outbox.kick).not.toHaveBeenCalled();
  });
});
