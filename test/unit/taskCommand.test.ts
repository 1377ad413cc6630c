// `/task` with fake dependencies: what is answered in the ack, what waits for Slack and goes
// through response_url, and that the command is acknowledged exactly once.
import { describe, expect, it, vi } from 'vitest';
import { NotAllowedError } from '../../src/errors.js';
import { FULL_USAGE, USAGE } from '../../src/features/tasks/commandParser.js';
import { handleTaskCommand } from '../../src/features/tasks/command.js';
import type { TaskService } from '../../src/features/tasks/service.js';
import { ANN, BOB, NOW } from './blocks.js';

const task = { id: 7, number: 12, title: 'Send the contract', assigneeId: ANN, dueDate: null };

function run(text: string, opts: { cachedTz?: string; tasks?: Partial<Record<keyof TaskService, unknown>>; respondFails?: boolean } = {}) {
  const tasks = {
    create: vi.fn(async () => ({ task, created: true })),
    list: vi.fn(async () => ({ tasks: [], total: 0 })),
    todayFor: vi.fn(async () => '2025-03-10'),
    complete: vi.fn(async () => task),
    ...opts.tasks,
  };
  const cached = opts.cachedTz ? { id: ANN, tz: opts.cachedTz, name: 'ann', isBot: false, deleted: false, isGuest: false, teamId: 'T1' } : undefined;
  // The order of the calls that matter: the ack, and each question asked of Slack.
  const calls: string[] = [];
  const users = { peek: vi.fn(() => cached), timeZone: vi.fn(async () => (calls.push('timeZone'), opts.cachedTz ?? 'Europe/Paris')), get: vi.fn(async () => cached) };
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const background = { run: vi.fn() };
  const client = { views: { open: vi.fn(async () => ({ ok: true })) } };
  const ack = vi.fn(async () => void calls.push('ack'));
  const respond = vi.fn(async () => {
    if (opts.respondFails) throw new Error('An API error occurred: expired_url');
  });
  // The parser reads the clock once per parse: a second read means the text was parsed again.
  const now = vi.fn(() => NOW);
  const deps = { tasks: tasks as unknown as TaskService, users, logger, background, now } as never;
  const command = { command: '/task', text, team_id: 'T1', user_id: ANN, trigger_id: 'trigger-1' };
  const done = handleTaskCommand(deps)({ command, ack, respond, client } as never);
  return { done, calls, tasks, users, logger, client, ack, respond, now };
}

describe('handleTaskCommand', () => {
  it('answers help in the ack, with nothing through response_url', async () => {
    const r = run('help');
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith({ response_type: 'ephemeral', text: FULL_USAGE });
    expect(r.respond).not.toHaveBeenCalled();
  });

  it('stores an add before the ack, which says it was created', async () => {
    const r = run(`add Send the contract <@${BOB}>`);
    await r.done;
    expect(r.tasks.create).toHaveBeenCalledTimes(1);
    expect(r.tasks.create).toHaveBeenCalledWith(
      expect.objectContaining({ teamId: 'T1', userId: ANN, lookupBudgetMs: expect.any(Number) }),
      expect.objectContaining({ title: 'Send the contract', assigneeId: BOB, origin: 'command' }),
    );
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith(expect.objectContaining({ text: expect.stringContaining('Created') }));
    expect(r.respond).not.toHaveBeenCalled();
  });

  it('acks a list at once when the time zone is unknown, and answers it through response_url', async () => {
    const r = run('list');
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith(undefined);
    expect(r.tasks.list).toHaveBeenCalledWith(expect.not.objectContaining({ lookupBudgetMs: expect.anything() }), expect.objectContaining({ scope: 'mine' }));
    expect(r.respond).toHaveBeenCalledTimes(1);
    expect(r.now).toHaveBeenCalledTimes(1); // parsed once, before the ack, and answered after it
  });

  it('answers a list in the ack when the time zone is cached', async () => {
    const r = run('list', { cachedTz: 'Europe/Paris' });
    await r.done;
    expect(r.ack).toHaveBeenCalledWith(expect.objectContaining({ response_type: 'ephemeral' }));
    expect(r.respond).not.toHaveBeenCalled();
  });

  it('asks Slack for the zone of a due date only after the ack', async () => {
    const r = run('add Pay rent due tomorrow');
    await r.done;
    expect(r.calls).toEqual(['ack', 'timeZone']);
    expect(r.tasks.create).toHaveBeenCalledWith(expect.objectContaining({ timeZone: 'Europe/Paris' }), expect.objectContaining({ dueDate: expect.any(String) }));
    expect(r.respond).toHaveBeenCalledWith(expect.objectContaining({ text: expect.stringContaining('Created') }));
  });

  it('keeps a change made after the ack when its reply cannot be delivered: a warning, no second reply', async () => {
    // The task is stored; a reply saying "something went wrong" would tell the user otherwise.
    const r = run('add Pay rent due tomorrow', { respondFails: true });
    await r.done;
    expect(r.tasks.create).toHaveBeenCalledTimes(1);
    expect(r.respond).toHaveBeenCalledTimes(1);
    expect(r.logger.warn).toHaveBeenCalledWith(expect.stringContaining('/task: could not reply: An API error occurred: expired_url'));
    expect(r.logger.error).not.toHaveBeenCalled();
  });

  it('puts a refusal in the ack, and the usage with an invalid input', async () => {
    const r = run('done 12', { tasks: { complete: vi.fn(async () => Promise.reject(new NotAllowedError('no', 'Only the assignee may.'))) } });
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith({ response_type: 'ephemeral', text: 'Only the assignee may.' });
    expect(r.logger.error).not.toHaveBeenCalled();
    const bad = run('done twelve');
    await bad.done;
    expect(bad.ack).toHaveBeenCalledWith(expect.objectContaining({ text: expect.stringContaining(USAGE.done) }));
  });

  it('opens the New task modal for a bare /task, after an empty ack', async () => {
    const r = run('  ');
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.ack).toHaveBeenCalledWith(undefined);
    expect(r.client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1' }));
    expect(r.respond).not.toHaveBeenCalled();
  });
});
