// The New task form's submission with fake dependencies: one ack, carrying the form's errors or nothing.
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { handleNewTaskSubmit } from '../../src/features/tasks/modal.js';
import type { TaskService } from '../../src/features/tasks/service.js';
import { NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ANN, BOB, NOW } from './blocks.js';

const bob = { id: BOB, teamId: 'T1', name: 'bob', isBot: false, deleted: false, isGuest: false, tz: 'Europe/Paris' };

function submit(title: string, create: (...args: unknown[]) => Promise<unknown>) {
  const ack = vi.fn(async () => {});
  const tasks = { create: vi.fn(create) };
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const users = { peek: vi.fn((id: string) => (id === BOB ? bob : undefined)), getWithin: vi.fn(async (id: string) => ({ found: true, user: id === BOB ? bob : undefined })) };
  const deps = { tasks: tasks as unknown as TaskService, users, logger, background: { run: vi.fn() }, now: () => NOW } as never;
  const values = {
    [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: title } },
    [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } },
  };
  const args = {
    ack,
    body: { type: 'view_submission', team: { id: 'T1' }, user: { id: ANN, team_id: 'T1' } },
    view: { private_metadata: JSON.stringify({ origin: 'home', tz: 'Europe/Paris' }), state: { values } },
  } as never;
  return { done: handleNewTaskSubmit(deps)(args), ack, tasks, logger };
}

describe('handleNewTaskSubmit', () => {
  it('stores the task, then acks once with nothing (the modal closes)', async () => {
    const r = submit('Send the contract', async () => ({ task: {}, created: true }));
    await r.done;
    expect(r.tasks.create).toHaveBeenCalledWith(
      expect.objectContaining({ teamId: 'T1', userId: ANN, timeZone: 'Europe/Paris' }),
      expect.objectContaining({ title: 'Send the contract', assigneeId: BOB, origin: 'home' }),
    );
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith(undefined);
  });

  it('refuses an empty title on its input without storing anything', async () => {
    const r = submit('  ', async () => ({}));
    await r.done;
    expect(r.tasks.create).not.toHaveBeenCalled();
    expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.title]: 'The task needs a title.' } });
  });

  it("puts the service's field errors on their inputs, people named in plain text", async () => {
    const r = submit('Send the contract', async () => Promise.reject(new InvalidInputError('bot', { assignee: `<@${BOB}> is a bot.` })));
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.assignee]: 'bob is a bot.' } });
  });

  it('says on the title that nothing was created when storing fails, and logs it', async () => {
    const r = submit('Send the contract', async () => Promise.reject(new Error('disk full')));
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [NEW_TASK_FIELD.title]: expect.stringMatching(/^The task was not created: /) } });
    expect(r.logger.error).toHaveBeenCalledTimes(1);
  });
});
