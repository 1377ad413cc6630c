// The custom steps' listeners with fake dependencies: a function_executed event in, then what the
// service got, the step's result (complete() outputs or fail() error, both an outbox row keyed by
// the execution, sent with the bot token) and when Slack hears "received" (the ack).
import { describe, expect, it, vi } from 'vitest';
import { AlreadyDoneError, InvalidInputError, NotAllowedError, NotFoundError } from '../../src/errors.js';
import { handleRequestApprovalStep } from '../../src/features/approvals/step.js';
import type { ApprovalService } from '../../src/features/approvals/service.js';
import type { TaskService } from '../../src/features/tasks/service.js';
import { STEP_LOOKUP_BUDGET_MS, handleCompleteTaskStep, handleCreateTaskStep } from '../../src/features/tasks/steps.js';
import { stepEffect } from '../../src/outbox/kinds.js';
import type { TaskRow } from '../../src/store/schema.js';
import { ANN, BOB, GENERIC_APOLOGY } from './blocks.js';

const TEAM = 'T1';
const BOT = 'UTASKLANE';
const EXEC = 'Fx0001';
const APOLOGY = GENERIC_APOLOGY;

/** A function_executed event in its envelope, as Slack posts it (team_id and the authorization agree). */
function executed(callbackId: string, inputs: Record<string, unknown>) {
  const event = {
    type: 'function_executed',
    function: { id: 'Fn0001', callback_id: callbackId, title: callbackId, description: '', type: 'app', input_parameters: [], output_parameters: [], app_id: 'A1', date_created: 1741600000, date_updated: 1741600000, date_deleted: 0 },
    inputs,
    function_execution_id: EXEC,
    workflow_execution_id: 'Wx0001',
    event_ts: '1741608000.000100',
    bot_access_token: 'xwfp-workflow-token',
  };
  const body = {
    token: 'verification-token',
    team_id: TEAM,
    context_team_id: TEAM,
    api_app_id: 'A1',
    event,
    type: 'event_callback',
    event_id: 'Ev0001',
    event_time: 1741608000,
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT, is_bot: true, is_enterprise_install: false }],
  };
  return { event, body };
}

const task = (over: Partial<TaskRow> = {}) => ({ id: 17, teamId: TEAM, number: 42, title: 'Send the contract', assigneeId: BOB, status: 'open', stepState: 'none', functionExecutionId: EXEC, completedBy: null, ...over }) as TaskRow;

/** Runs a step listener; `calls` is the order of what was queued, asked and acknowledged. */
function runStep(handler: typeof handleCreateTaskStep, callbackId: string, inputs: Record<string, unknown>, tasks: Partial<Record<keyof TaskService, unknown>>, calls: string[] = []) {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const outbox = { add: vi.fn(async () => void calls.push('outbox')) };
  const stepOf = vi.fn((t: TaskRow) => ({ key: `step:${t.functionExecutionId}`, kind: 'step-of-task' }));
  const deps = { tasks: { effects: { step: stepOf }, ...tasks } as unknown as TaskService, logger, outbox } as never;
  const ack = vi.fn(async () => void calls.push('ack'));
  // Bolt's own complete()/fail() use the workflow token, which expires: the result goes through the outbox instead.
  const complete = vi.fn();
  const fail = vi.fn();
  const { event, body } = executed(callbackId, inputs);
  const done = handler(deps)({ inputs, event, body, context: { botUserId: BOT }, ack, complete, fail } as never);
  return { done, calls, logger, outbox, stepOf, ack, complete, fail };
}

const failed = (error: string) => [stepEffect({ teamId: TEAM, executionId: EXEC, error })];

describe('handleCreateTaskStep', () => {
  const inputs = { title: ' Send the contract ', assignee: BOB, description: 'Before Friday', due_date: '2025-03-14', channel: 'C1', wait_for_completion: true };

  it('refuses each bad input with a message naming it, and creates nothing', async () => {
    for (const [bad, error] of [
      [{ title: '   ' }, 'The "Title" input is empty: the task needs a title.'],
      [{ assignee: 'C1' }, 'The "Assignee" input must be a person (a Slack user).'],
      [{ due_date: '14/03/2025' }, 'The "Due date" input "14/03/2025" is not a date like 2025-03-14.'],
      [{ channel: 'general' }, 'The "Channel" input "general" is not a channel.'],
    ] as const) {
      const create = vi.fn();
      const r = runStep(handleCreateTaskStep, 'create_task', { ...inputs, ...bad }, { create });
      await r.done;
      expect(create).not.toHaveBeenCalled();
      expect(r.outbox.add).toHaveBeenCalledWith(failed(error));
      expect(r.calls).toEqual(['outbox', 'ack']);
    }
  });

  it('creates the task as the app, from the inputs, then acknowledges once', async () => {
    const calls: string[] = [];
    const create = vi.fn(async () => (calls.push('create'), { task: task({ stepState: 'waiting' }), created: true }));
    const r = runStep(handleCreateTaskStep, 'create_task', inputs, { create }, calls);
    await r.done;
    expect(create).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledWith(
      { teamId: TEAM, userId: BOT, system: true, lookupBudgetMs: STEP_LOOKUP_BUDGET_MS },
      { title: 'Send the contract', assigneeId: BOB, description: 'Before Friday', dueDate: '2025-03-14', channelId: 'C1', origin: 'workflow' },
      { functionExecutionId: EXEC, waitForCompletion: true },
    );
    expect(r.calls).toEqual(['create', 'ack']);
    expect(r.outbox.add).not.toHaveBeenCalled();
    expect(r.complete).not.toHaveBeenCalled();
    expect(r.fail).not.toHaveBeenCalled();
  });

  it('reads "false" and a missing wait_for_completion as not waiting, and leaves out empty optional inputs', async () => {
    const create = vi.fn(async () => ({ task: task(), created: true }));
    const r = runStep(handleCreateTaskStep, 'create_task', { title: 'Pay rent', assignee: ANN, description: '  ', wait_for_completion: 'false' }, { create });
    await r.done;
    expect(create).toHaveBeenCalledWith(expect.anything(), { title: 'Pay rent', assigneeId: ANN, description: undefined, dueDate: undefined, channelId: undefined, origin: 'workflow' }, { functionExecutionId: EXEC, waitForCompletion: false });
  });

  it('on a redelivered execution queues the completion it owes again (a no-op by key), and only then', async () => {
    for (const [existing, owed] of [
      [task({ stepState: 'completing' }), true],
      [task({ stepState: 'waiting', status: 'done' }), true],
      [task({ stepState: 'waiting', status: 'open' }), false],
      [task({ stepState: 'completed', status: 'done' }), false],
    ] as const) {
      const r = runStep(handleCreateTaskStep, 'create_task', inputs, { create: vi.fn(async () => ({ task: existing, created: false })) });
      await r.done;
      if (owed) {
        expect(r.stepOf).toHaveBeenCalledWith(existing);
        expect(r.outbox.add).toHaveBeenCalledWith([{ key: `step:${EXEC}`, kind: 'step-of-task' }]);
      } else {
        expect(r.outbox.add).not.toHaveBeenCalled();
      }
      expect(r.ack).toHaveBeenCalledTimes(1);
    }
  });

  it('fails the step with the refusal in plain text, people by id, without logging it', async () => {
    const refusal = new InvalidInputError(`<@${BOB}> is a bot &amp; cannot do tasks.`, { assignee: `<@${BOB}> is a bot.` });
    const r = runStep(handleCreateTaskStep, 'create_task', inputs, { create: vi.fn(async () => Promise.reject(refusal)) });
    await r.done;
    expect(r.outbox.add).toHaveBeenCalledWith(failed(`Could not create the task: ${BOB} is a bot & cannot do tasks.`));
    expect(r.logger.error).not.toHaveBeenCalled();
    expect(r.calls).toEqual(['outbox', 'ack']);
  });

  it('logs an unexpected failure with the execution and team, fails the step with an apology, and still acknowledges', async () => {
    const r = runStep(handleCreateTaskStep, 'create_task', inputs, { create: vi.fn(async () => Promise.reject(new Error('disk full'))) });
    await r.done;
    expect(r.logger.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`${EXEC} \\(team ${TEAM}\\).*disk full`)));
    expect(r.outbox.add).toHaveBeenCalledWith(failed(`Could not create the task: ${APOLOGY}`));
    expect(r.calls).toEqual(['outbox', 'ack']);
  });
});

describe('handleCompleteTaskStep', () => {
  const inputs = { task: '#42', completed_by_user: ANN };

  it('refuses a task input that names no task, and a missing "Completed by", completing nothing', async () => {
    for (const [bad, error] of [
      [{ task: 'the contract' }, '"the contract" is not a task: use its number, like 42 or #42, or the task id from "Create a task".'],
      [{ task: undefined }, '"" is not a task: use its number, like 42 or #42, or the task id from "Create a task".'],
      [{ completed_by_user: 'C1' }, 'The "Completed by" input must be a person (a Slack user), such as "Person who used this workflow".'],
      [{ completed_by_user: undefined }, 'The "Completed by" input must be a person (a Slack user), such as "Person who used this workflow".'],
    ] as const) {
      const complete = vi.fn();
      const r = runStep(handleCompleteTaskStep, 'complete_task', { ...inputs, ...bad }, { complete });
      await r.done;
      expect(complete).not.toHaveBeenCalled();
      expect(r.outbox.add).toHaveBeenCalledWith(failed(error));
      expect(r.calls).toEqual(['outbox', 'ack']);
    }
  });

  it('completes the task for the person named, by number or by create_task id, with the step result in the same change', async () => {
    for (const [ref, expected] of [
      ['#42', { number: 42 }],
      [42, { number: 42 }],
      ['task-17', { id: 17 }],
    ] as const) {
      const calls: string[] = [];
      const complete = vi.fn(async () => (calls.push('complete'), task({ status: 'done', completedBy: ANN })));
      const r = runStep(handleCompleteTaskStep, 'complete_task', { ...inputs, task: ref }, { complete }, calls);
      await r.done;
      expect(complete).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN, step: { botUserId: BOT } }, expected, expect.any(Function));
      const also = (complete.mock.calls[0] as unknown as [unknown, unknown, (t: TaskRow) => unknown])[2];
      expect(also(task({ status: 'done', completedBy: ANN }))).toEqual([stepEffect({ teamId: TEAM, executionId: EXEC, outputs: { completed_by: ANN } })]);
      expect(r.calls).toEqual(['complete', 'ack']);
      expect(r.outbox.add).not.toHaveBeenCalled();
    }
  });

  it('succeeds on a task already done, with whoever completed it', async () => {
    const get = vi.fn(async () => task({ status: 'done', completedBy: BOB }));
    const r = runStep(handleCompleteTaskStep, 'complete_task', inputs, { complete: vi.fn(async () => Promise.reject(new AlreadyDoneError('done'))), get });
    await r.done;
    expect(get).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN, step: { botUserId: BOT } }, { number: 42 });
    expect(r.outbox.add).toHaveBeenCalledWith([stepEffect({ teamId: TEAM, executionId: EXEC, outputs: { completed_by: BOB } })]);
    expect(r.calls).toEqual(['outbox', 'ack']);
    expect(r.logger.error).not.toHaveBeenCalled();
  });

  it('fails the step with the refusal in plain text (not found, not allowed), without logging it', async () => {
    for (const [err, error] of [
      [new NotFoundError('no task', 'There is no task #42.'), 'There is no task #42.'],
      [new NotAllowedError('not yours', `Only <@${BOB}> or the creator can complete task #42.`), `Only ${BOB} or the creator can complete task #42.`],
    ] as const) {
      const r = runStep(handleCompleteTaskStep, 'complete_task', inputs, { complete: vi.fn(async () => Promise.reject(err)) });
      await r.done;
      expect(r.outbox.add).toHaveBeenCalledWith(failed(error));
      expect(r.logger.error).not.toHaveBeenCalled();
      expect(r.ack).toHaveBeenCalledTimes(1);
    }
  });

  it('logs an unexpected failure with the execution and team, fails the step with an apology, and still acknowledges', async () => {
    const r = runStep(handleCompleteTaskStep, 'complete_task', inputs, { complete: vi.fn(async () => Promise.reject(new Error('disk full'))) });
    await r.done;
    expect(r.logger.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`complete_task ${EXEC} \\(team ${TEAM}\\).*disk full`)));
    expect(r.outbox.add).toHaveBeenCalledWith(failed(APOLOGY));
    expect(r.calls).toEqual(['outbox', 'ack']);
  });
});

describe('a step whose result cannot be stored', () => {
  it('is not acknowledged, so that Slack delivers the execution again (create_task and complete_task)', async () => {
    for (const [handler, callbackId, inputs, tasks] of [
      [handleCompleteTaskStep, 'complete_task', { task: '#42', completed_by_user: ANN }, { complete: vi.fn(async () => Promise.reject(new Error('disk full'))) }],
      [handleCreateTaskStep, 'create_task', { title: 'Send the contract', assignee: BOB }, { create: vi.fn(async () => Promise.reject(new Error('disk full'))) }],
    ] as const) {
      const r = runStep(handler, callbackId, inputs, tasks);
      // The store is down: the step's failure cannot be written either.
      r.outbox.add.mockImplementation(async () => Promise.reject(new Error('database is locked')));
      await expect(r.done).rejects.toThrow('database is locked');
      expect(r.ack).not.toHaveBeenCalled();
    }
  });
});

describe('handleRequestApprovalStep', () => {
  const inputs = { approvers: [ANN], title: 'Budget for the offsite', requester: BOB };

  function run(requestFromWorkflow: (...args: unknown[]) => Promise<unknown>) {
    const calls: string[] = [];
    const request = vi.fn(async (...args: unknown[]) => (calls.push('request'), requestFromWorkflow(...args)));
    const ack = vi.fn(async () => void calls.push('ack'));
    const { event, body } = executed('request_approval', inputs);
    const done = handleRequestApprovalStep({ approvals: { requestFromWorkflow: request } as unknown as ApprovalService })({ event, body, client: { token: 'xwfp-workflow-token' }, ack } as never);
    return { done, calls, request, ack };
  }

  it('records the execution with its inputs and workflow token, and only then acknowledges', async () => {
    const r = run(async () => ({}));
    await r.done;
    expect(r.request).toHaveBeenCalledWith({ teamId: TEAM, functionExecutionId: EXEC, workflowExecutionId: 'Wx0001', inputs, workflowToken: 'xwfp-workflow-token' });
    expect(r.calls).toEqual(['request', 'ack']);
  });

  it('does not acknowledge when recording fails, so that Slack delivers the execution again', async () => {
    const r = run(async () => Promise.reject(new Error('disk full')));
    await expect(r.done).rejects.toThrow('disk full');
    expect(r.ack).not.toHaveBeenCalled();
  });
});
