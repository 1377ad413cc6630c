import type { SlackEventMiddlewareArgs } from '@slack/bolt';
import { AlreadyDoneError, DomainError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { teamIdOf } from '../../slack/values.js';
import { truncate } from '../../slack/mrkdwn.js';
import { isIsoDate } from './dates.js';
import { stepEffect } from '../../outbox/kinds.js';
import type { TaskRow } from '../../store/schema.js';
import type { TaskRef, TaskService } from './service.js';

/**
 * The `create_task` and `complete_task` Workflow Builder steps. Each stores what it did first
 * and acknowledges `function_executed` after; the step's completion (or failure) is an outbox
 * effect keyed by the execution id, sent with the bot token (the same path a completion days
 * later takes), so a redelivery, a restart or an expired workflow token makes no difference, and
 * exactly one result reaches Slack. A redelivery finds the task it already made (unique
 * `function_execution_id`).
 */

type Inputs = Record<string, unknown>;

export interface CreateStepInputs {
  title: string;
  assigneeId: string;
  description?: string;
  dueDate?: string;
  channelId?: string;
  waitForCompletion: boolean;
}

/** Reads and checks `create_task` inputs; the error text is what the workflow's owner sees. */
export function readCreateInputs(inputs: Inputs): { ok: true; value: CreateStepInputs } | { ok: false; error: string } {
  const title = typeof inputs['title'] === 'string' ? inputs['title'].trim() : '';
  if (title === '') return { ok: false, error: 'The "Title" input is empty: the task needs a title.' };
  const assignee = inputs['assignee'];
  if (typeof assignee !== 'string' || !/^[UW][A-Z0-9]+$/.test(assignee)) {
    return { ok: false, error: 'The "Assignee" input must be a person (a Slack user).' };
  }
  const description = optionalString(inputs['description']);
  const dueDate = optionalString(inputs['due_date']);
  if (dueDate !== undefined && !isIsoDate(dueDate)) return { ok: false, error: `The "Due date" input "${dueDate}" is not a date like 2025-03-14.` };
  const channel = optionalString(inputs['channel']);
  if (channel !== undefined && !/^[CGD][A-Z0-9]+$/.test(channel)) return { ok: false, error: `The "Channel" input "${channel}" is not a channel.` };
  const wait = inputs['wait_for_completion'];
  return {
    ok: true,
    value: {
      title,
      assigneeId: assignee,
      ...(description !== undefined ? { description } : {}),
      ...(dueDate !== undefined ? { dueDate } : {}),
      ...(channel !== undefined ? { channelId: channel } : {}),
      waitForCompletion: wait === true || wait === 'true',
    },
  };
}

/**
 * `complete_task`'s `task` input: `#42` or `42` is a task number (what people see), `task-17`
 * is the `task_id` output of `create_task` (so the two steps chain without ambiguity).
 */
export function readTaskRef(value: unknown): TaskRef | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const byNumber = /^#?(\d{1,9})$/.exec(text);
  if (byNumber) return Number(byNumber[1]) > 0 ? { number: Number(byNumber[1]) } : undefined;
  const byId = /^task-(\d{1,12})$/i.exec(text);
  if (byId) return { id: Number(byId[1]) };
  return undefined;
}

/** `complete_task`'s required input naming the person the step acts for (manifest.json). */
export const COMPLETING_USER_INPUT = 'completed_by_user';

/** The person `complete_task` acts for, or the error the workflow's owner sees. */
export function readCompletingUser(inputs: Inputs): { ok: true; userId: string } | { ok: false; error: string } {
  const user = inputs[COMPLETING_USER_INPUT];
  if (typeof user !== 'string' || !/^[UW][A-Z0-9]+$/.test(user.trim())) {
    return { ok: false, error: 'The "Completed by" input must be a person (a Slack user), such as "Person who used this workflow".' };
  }
  return { ok: true, userId: user.trim() };
}

function optionalString(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** Domain messages are mrkdwn for Slack surfaces; a step's error is plain text. */
export function plainText(mrkdwn: string): string {
  return mrkdwn
    .replace(/<@([UW][A-Z0-9]+)>/g, '$1')
    .replace(/<#([CGD][A-Z0-9]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * The longest a `create_task` step waits on Slack (who the assignee is, their time zone) before
 * the task is stored and the step acknowledged: Slack redelivers an execution it got no answer
 * for within 3 s, and a task stored after the ack could be lost to a crash.
 */
export const STEP_LOOKUP_BUDGET_MS = 1_500;

type StepDeps = { tasks: TaskService } & Pick<Services, 'logger' | 'outbox'>;
type StepArgs = Pick<SlackEventMiddlewareArgs<'function_executed'>, 'event' | 'body' | 'ack'> & { inputs: unknown; context: { botUserId?: string } };

/** The step's failure, as an outbox effect (sent with the bot token, keyed by the execution). */
const fail = (deps: Pick<Services, 'outbox'>, teamId: string, executionId: string, error: string) => deps.outbox.add([stepEffect({ teamId, executionId, error })]);

/**
 * `create_task`. Stored first (the task and its effects, the step's completion among them),
 * acknowledged after: a crash before the ack makes Slack redeliver, and the redelivery finds the task.
 */
export const handleCreateTaskStep = (deps: StepDeps) =>
  async function createTaskStep({ inputs, event, body, context, ack }: StepArgs): Promise<void> {
    const teamId = teamIdOf(body);
    const executionId = event.function_execution_id;
    const read = readCreateInputs(inputs as Inputs);
    if (!read.ok) {
      await fail(deps, teamId, executionId, read.error);
      await ack?.();
      return;
    }
    const i = read.value;
    try {
      // No person runs a step: the task is created by the app (its bot user).
      const actor = { teamId, userId: context.botUserId ?? 'USLACKBOT', system: true, lookupBudgetMs: STEP_LOOKUP_BUDGET_MS };
      const { task, created } = await deps.tasks.create(
        actor,
        { title: i.title, assigneeId: i.assigneeId, description: i.description, dueDate: i.dueDate, channelId: i.channelId, origin: 'workflow' },
        { functionExecutionId: executionId, waitForCompletion: i.waitForCompletion },
      );
      // A repeated execution: the task exists; its completion, if owed, is in the outbox (a no-op if so).
      if (!created && (task.stepState === 'completing' || (task.stepState === 'waiting' && task.status === 'done'))) await deps.outbox.add([deps.tasks.effects.step(task)]);
    } catch (err) {
      if (!(err instanceof DomainError)) deps.logger.error(`create_task ${executionId} (team ${teamId}): ${describeError(err)}`);
      await fail(deps, teamId, executionId, `Could not create the task: ${plainText(userMessageFor(err))}`);
    }
    await ack?.();
  };

/**
 * `complete_task`. Completes a task for the person named in the step's "Completed by" input, by
 * the rules that person meets everywhere else: they must see the task (a hidden one is "not found")
 * and be its assignee or creator, unless the app made it through a `create_task` step, which
 * any step may complete. A task already done succeeds with whoever completed it. The step's
 * result commits with the completion, and Slack hears "received" after that.
 */
export const handleCompleteTaskStep = (deps: StepDeps) =>
  async function completeTaskStep({ inputs, event, body, context, ack }: StepArgs): Promise<void> {
    const teamId = teamIdOf(body);
    const executionId = event.function_execution_id;
    try {
      const raw = (inputs as Inputs)['task'];
      const ref = readTaskRef(raw);
      const user = readCompletingUser(inputs as Inputs);
      if (!ref) {
        await fail(deps, teamId, executionId, `"${truncate(String(raw ?? ''), 80)}" is not a task: use its number, like 42 or #42, or the task id from "Create a task".`);
        await ack?.();
        return;
      }
      if (!user.ok) {
        await fail(deps, teamId, executionId, user.error);
        await ack?.();
        return;
      }
      const actor = { teamId, userId: user.userId, step: { botUserId: context.botUserId ?? 'USLACKBOT' } };
      const succeeded = (task: TaskRow) => stepEffect({ teamId, executionId, outputs: { completed_by: task.completedBy ?? actor.userId } });
      try {
        await deps.tasks.complete(actor, ref, (task) => [succeeded(task)]);
      } catch (err) {
        if (!(err instanceof AlreadyDoneError)) throw err;
        await deps.outbox.add([succeeded(await deps.tasks.get(actor, ref))]);
      }
    } catch (err) {
      if (!(err instanceof DomainError)) deps.logger.error(`complete_task ${executionId} (team ${teamId}): ${describeError(err)}`);
      await fail(deps, teamId, executionId, plainText(userMessageFor(err)));
    }
    // Only once the result is stored: a store that failed meanwhile leaves Slack to deliver again.
    await ack?.();
  };
