import { AlreadyDoneError, DomainError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { FUNCTION } from '../../slack/ids.js';
import { truncate } from '../../slack/mrkdwn.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { isIsoDate } from './dates.js';
import { slackErrorCode } from './effects.js';
import type { TaskRef, TaskService } from './service.js';

/**
 * The `create_task` and `complete_task` Workflow Builder steps. Bolt acks the
 * `function_executed` event; the step is completed or failed with the bot token and the
 * execution id (the same path a completion days later takes), so a retried delivery or an
 * expired workflow token makes no difference. Redelivery of the same event id is dropped by the
 * app's delivery middleware; a new event for the same execution finds the task it already made
 * (unique `function_execution_id`) and only makes sure the step got its outputs.
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

/** Slack errors worth another attempt later; any other error code is final. */
const TRANSIENT = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
/** Pauses before further attempts to hand a step its result (each attempt already retries twice). */
export const STEP_RETRY_DELAYS_MS = [1_000, 5_000, 30_000];

/**
 * Hands Slack a step's result, trying again after a pause while Slack does not answer: a step
 * that did its work must not hang, nor be reported failed because Slack was briefly down. A final
 * refusal is logged. (`complete_task` keeps no row of its own to retry from after a restart.)
 */
export async function reportStep(svc: Services, what: string, executionId: string, call: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await call();
      return;
    } catch (err) {
      const code = slackErrorCode(err);
      const delay = STEP_RETRY_DELAYS_MS[attempt];
      if ((code !== undefined && !TRANSIENT.has(code)) || delay === undefined) {
        svc.logger.error(`${what} ${executionId}: Slack did not take the step's result: ${describeError(err)}`);
        return;
      }
      svc.logger.warn(`${what} ${executionId}: Slack did not take the step's result (${describeError(err)}); trying again in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function registerTaskSteps(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  const failStep = (what: string, executionId: string, error: string) =>
    reportStep(svc, what, executionId, () => tasks.effects.failStep(executionId, error));

  reg.function(FUNCTION.createTask, async ({ inputs, event, body, context }) => {
    const teamId = context.teamId ?? body.team_id;
    const executionId = event.function_execution_id;
    const read = readCreateInputs(inputs as Inputs);
    if (!read.ok) {
      await failStep('create_task', executionId, read.error);
      return;
    }
    const i = read.value;
    try {
      // No person runs a step: the task is created by the app (its bot user).
      const actor = { teamId, userId: context.botUserId ?? 'USLACKBOT', system: true };
      const { task, created } = await tasks.create(
        actor,
        { title: i.title, assigneeId: i.assigneeId, description: i.description, dueDate: i.dueDate, channelId: i.channelId, origin: 'workflow' },
        { functionExecutionId: executionId, waitForCompletion: i.waitForCompletion },
      );
      // A repeated execution: the task exists; make sure its step got what it is owed.
      if (!created) await tasks.effects.finishStep(task);
    } catch (err) {
      if (!(err instanceof DomainError)) svc.logger.error(`create_task ${executionId} (team ${teamId}): ${describeError(err)}`);
      await failStep('create_task', executionId, `Could not create the task: ${plainText(userMessageFor(err))}`);
    }
  });

  /**
   * Completes a task for the person named in the step's "Completed by" input, by the rules that
   * person meets everywhere else: they must see the task (a hidden one is "not found")
   * and be its assignee or creator, unless the app made it through a `create_task` step, which
   * any step may complete. A task already done succeeds with whoever completed it.
   */
  reg.function(FUNCTION.completeTask, async ({ inputs, event, body, context }) => {
    const teamId = context.teamId ?? body.team_id;
    const executionId = event.function_execution_id;
    const raw = (inputs as Inputs)['task'];
    const ref = readTaskRef(raw);
    if (!ref) {
      await failStep('complete_task', executionId, `"${truncate(String(raw ?? ''), 80)}" is not a task: use its number, like 42 or #42, or the task id from "Create a task".`);
      return;
    }
    const user = readCompletingUser(inputs as Inputs);
    if (!user.ok) {
      await failStep('complete_task', executionId, user.error);
      return;
    }
    const actor = { teamId, userId: user.userId, step: { botUserId: context.botUserId ?? 'USLACKBOT' } };
    let completedBy: string;
    try {
      try {
        const task = await tasks.complete(actor, ref);
        completedBy = task.completedBy ?? actor.userId;
      } catch (err) {
        if (!(err instanceof AlreadyDoneError)) throw err;
        const task = await tasks.get(actor, ref);
        completedBy = task.completedBy ?? actor.userId;
      }
    } catch (err) {
      if (!(err instanceof DomainError)) svc.logger.error(`complete_task ${executionId} (team ${teamId}): ${describeError(err)}`);
      await failStep('complete_task', executionId, plainText(userMessageFor(err)));
      return;
    }
    // The task is done: the step succeeds, however long Slack takes to accept it (a redelivery
    // finds the task done and reports the same).
    await reportStep(svc, 'complete_task', executionId, () => tasks.effects.completeStep(executionId, { completed_by: completedBy }));
  });
}
