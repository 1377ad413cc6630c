import type { types } from '@slack/bolt';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { mention } from '../../slack/mrkdwn.js';
import { slackErrorCode, slackFailureText } from '../../slack/slackErrors.js';
import type { TaskRow } from '../../store/schema.js';
import type { TaskMessage, TasksRepository } from '../../store/tasks.js';
import { assignedText, completedNoticeText, deletedCardBlocks, madeFromMessageText, taskCardBlocks, taskCardText, taskLabel } from './views.js';

/**
 * What a task change means in Slack, run after the store transaction committed and off the
 * request path (the store first, then Slack; a failed call never loses the change).
 * Cards are updated in place, the assignee gets a DM card, a waiting workflow step completes.
 * Calls use the bot token (`svc.client`): workflow tokens expire long before most tasks are done.
 */

export interface Teller {
  /** Tells the acting user what did not reach Slack. */
  (text: string): Promise<void>;
}

/** Re-exported for the step listeners. */
export { slackErrorCode } from '../../slack/slackErrors.js';

/** `create_task` outputs (manifest output_parameters): ids as strings, completed_at in unix seconds. */
export function stepOutputs(task: TaskRow): Record<string, string | number> {
  return {
    task_id: externalTaskId(task.id),
    task_number: task.number,
    ...(task.status === 'done' && task.completedBy ? { completed_by: task.completedBy } : {}),
    ...(task.status === 'done' && task.completedAt ? { completed_at: Math.floor(task.completedAt / 1000) } : {}),
  };
}

/**
 * The `task_id` a workflow sees: `task-17`. Prefixed so that `complete_task` can tell an id
 * from a number (`17` / `#17`) when the id output of one step is fed into the next.
 */
export function externalTaskId(id: number): string {
  return `task-${id}`;
}

/** Card updates that fail because the card is gone; the card row is forgotten, nobody is told. */
const CARD_GONE = new Set(['message_not_found', 'channel_not_found']);

export class TaskEffects {
  /**
   * `create_task` executions whose completion call is running in this process: the periodic
   * recovery and a redelivery leave them alone rather than call Slack a second time.
   */
  private readonly completing = new Set<string>();

  constructor(
    private readonly svc: Services,
    private readonly repo: TasksRepository,
  ) {}

  private get log() {
    return this.svc.logger;
  }

  /**
   * A new task: the assignee's DM card, the channel card when asked for, and (made from a message)
   * a reply in that message's thread. What fails is told to the creator in one note.
   */
  async created(task: TaskRow, tell: Teller, opts: { thread?: { channelId: string; ts: string; threadTs?: string } } = {}): Promise<void> {
    this.homesChanged(task);
    const problems: string[] = [];
    const thread = opts.thread;
    await Promise.all([
      thread
        ? this.svc.client.chat
            .postMessage({ channel: thread.channelId, thread_ts: thread.threadTs ?? thread.ts, text: madeFromMessageText(task) })
            .catch((err: unknown) => {
              problems.push(`I couldn’t reply in the message’s thread. ${slackFailureText(err)}`);
            })
        : Promise.resolve(),
      this.sendAssigneeCard(task, task.creatorId).catch((err: unknown) => {
        problems.push(`I couldn’t send ${mention(task.assigneeId)} the task in a DM. ${slackFailureText(err)}`);
      }),
      task.channelId
        ? this.postCard(task, task.channelId, 'channel', taskCardText(task, 'New task')).catch((err: unknown) => {
            problems.push(`I couldn’t post the task card in <#${task.channelId}>. ${slackFailureText(err)}`);
          })
        : Promise.resolve(),
    ]);
    if (problems.length > 0) await this.tellSafely(tell, `${taskLabel(task)} was saved, but: ${problems.join(' ')}`);
  }

  async assigned(task: TaskRow, previousAssigneeId: string, actorId: string, tell: Teller): Promise<void> {
    this.homesChanged(task, previousAssigneeId);
    await this.refreshCards(task);
    await this.sendAssigneeCard(task, actorId).catch(async (err: unknown) => {
      await this.tellSafely(tell, `${taskLabel(task)} is now assigned to ${mention(task.assigneeId)}, but I couldn’t DM them. ${slackFailureText(err)}`);
    });
  }

  /** `tell`: the person who completed it is waiting on the card; told when it could not be updated. */
  async completed(task: TaskRow, tell?: Teller): Promise<void> {
    this.homesChanged(task, task.completedBy);
    await Promise.all([
      this.refreshCards(task).then(async (failed) => {
        if (failed.length === 0 || !tell) return;
        const cards = failed.length === 1 ? 'its card' : `${failed.length} of its cards`;
        await this.tellSafely(tell, `${taskLabel(task)} is completed, but I couldn’t update ${cards}; it may still show the buttons. ${[...new Set(failed.map(slackFailureText))].join(' ')}`);
      }),
      this.finishStep(task),
      task.completedBy !== task.creatorId && task.origin !== 'workflow'
        ? this.dm(task.creatorId, completedNoticeText(task)).catch((err: unknown) => {
            this.log.warn(`task ${task.id} (team ${task.teamId}): could not tell the creator it was completed: ${describeError(err)}`);
          })
        : Promise.resolve(),
    ]);
  }

  async reopened(task: TaskRow, actorId: string): Promise<void> {
    this.homesChanged(task);
    await Promise.all([
      this.refreshCards(task),
      actorId !== task.assigneeId
        ? this.dm(task.assigneeId, `${mention(actorId)} reopened ${taskLabel(task)}`).catch((err: unknown) => {
            this.log.warn(`task ${task.id} (team ${task.teamId}): could not tell the assignee it was reopened: ${describeError(err)}`);
          })
        : Promise.resolve(),
    ]);
  }

  async edited(task: TaskRow): Promise<void> {
    this.homesChanged(task);
    await this.refreshCards(task);
  }

  async removed(task: TaskRow, messages: TaskMessage[], actorId: string): Promise<void> {
    this.homesChanged(task);
    await Promise.all([
      ...messages.map((m) =>
        this.svc.client.chat
          .update({ channel: m.channelId, ts: m.ts, text: `Deleted: ${taskLabel(task)}`, blocks: deletedCardBlocks(task, actorId) })
          .catch((err: unknown) => this.log.warn(`task ${task.id} (team ${task.teamId}): could not update card ${m.channelId}/${m.ts}: ${describeError(err)}`)),
      ),
      task.functionExecutionId && (task.stepState === 'waiting' || task.stepState === 'completing')
        ? this.failStep(task.functionExecutionId, `Task #${task.number} was deleted before it was completed.`)
        : Promise.resolve(),
    ]);
  }

  /**
   * The people whose App Home shows this task. A workflow's task was "created" by the app's bot
   * user, which has no Home; and `complete_task` may record the bot as the completer. Each
   * effect calls this first: the change is committed, and the Home publish (background work)
   * need not wait for the cards and DMs.
   */
  private homesChanged(task: TaskRow, ...others: (string | null | undefined)[]): void {
    const creator = task.origin === 'workflow' ? undefined : task.creatorId;
    const people = [task.assigneeId, creator, ...others.filter((o) => !(task.origin === 'workflow' && o === task.creatorId))];
    this.svc.homes.changed(task.teamId, people);
  }

  // ------------------------------------------------------------ cards

  /**
   * chat.update on every card of the task; a card Slack no longer has is forgotten. Returns why
   * each card that still exists could not be updated (Slack's error code, undefined when Slack did not answer).
   */
  async refreshCards(task: TaskRow): Promise<(string | undefined)[]> {
    const messages = await this.repo.messages(task.teamId, task.id);
    const failed: (string | undefined)[] = [];
    await Promise.all(
      messages.map(async (m) => {
        try {
          await this.svc.client.chat.update({ channel: m.channelId, ts: m.ts, text: taskCardText(task), blocks: taskCardBlocks(task) });
        } catch (err) {
          const code = slackErrorCode(err);
          if (code !== undefined && CARD_GONE.has(code)) {
            await this.repo.forgetMessage(task.teamId, m.channelId, m.ts);
          } else {
            this.log.warn(`task ${task.id} (team ${task.teamId}): could not update card ${m.channelId}/${m.ts}: ${describeError(err)}`);
            failed.push(code);
          }
        }
      }),
    );
    return failed;
  }

  private async sendAssigneeCard(task: TaskRow, byUserId: string): Promise<void> {
    await this.postCard(task, task.assigneeId, 'assignee_dm', assignedText(task, byUserId));
  }

  private async postCard(task: TaskRow, channel: string, kind: TaskMessage['kind'], text: string): Promise<void> {
    const res = await this.svc.client.chat.postMessage({ channel, text, blocks: taskCardBlocks(task) as types.KnownBlock[] });
    if (res.channel && res.ts) await this.repo.recordMessage(task.teamId, task.id, { channelId: res.channel, ts: res.ts, kind });
  }

  private async dm(userId: string, text: string): Promise<void> {
    await this.svc.client.chat.postMessage({ channel: userId, text });
  }

  private async tellSafely(tell: Teller, text: string): Promise<void> {
    try {
      await tell(text);
    } catch (err) {
      this.log.warn(`could not tell the user what did not reach Slack: ${describeError(err)}`);
    }
  }

  // ------------------------------------------------------------ workflow steps

  /**
   * Completes the `create_task` step bound to `task`, once: the step_state claim
   * (waiting|completing → completing → completed) makes concurrent paths (a click racing the
   * start-up recovery) call Slack at most once each, and `execution_not_in_running_state`
   * from a second call means it is already done. On a transient failure the state goes back to
   * `waiting` (or stays `completing`) and the recovery job retries. A completion already running
   * in this process is not started twice. False when the step still has to be completed.
   */
  async finishStep(task: TaskRow): Promise<boolean> {
    const executionId = task.functionExecutionId;
    if (!executionId) return true;
    const wantsCompletion = task.stepState === 'completing' || (task.stepState === 'waiting' && task.status === 'done');
    if (!wantsCompletion) return true;
    const running = this.completing;
    if (running.has(executionId)) return false;
    running.add(executionId);
    try {
      if (task.stepState === 'waiting' && !(await this.repo.transitionStep(task.teamId, task.id, ['waiting'], 'completing'))) return true;
      const latest = (await this.repo.findById(task.teamId, task.id)) ?? task;
      try {
        await this.svc.client.functions.completeSuccess({ function_execution_id: executionId, outputs: stepOutputs(latest) });
      } catch (err) {
        const code = slackErrorCode(err);
        if (code === 'execution_not_in_running_state') {
          this.log.debug(`task ${task.id}: step ${executionId} was already completed`);
        } else if (code === 'function_execution_not_found' || code === 'parameter_validation_failed') {
          this.log.error(`task ${task.id} (team ${task.teamId}): cannot complete step ${executionId}: ${describeError(err)}`);
          await this.repo.transitionStep(task.teamId, task.id, ['completing'], 'failed');
          return true;
        } else {
          await this.repo.transitionStep(task.teamId, task.id, ['completing'], latest.status === 'done' ? 'waiting' : 'completing');
          this.log.warn(`task ${task.id} (team ${task.teamId}): completing step ${executionId} failed; the recovery job will retry: ${describeError(err)}`);
          return false;
        }
      }
      await this.repo.transitionStep(task.teamId, task.id, ['completing'], 'completed');
      return true;
    } finally {
      running.delete(executionId);
    }
  }

  /** Fails a step with a message the workflow's owner will read; a step already finished is left alone. */
  async failStep(functionExecutionId: string, error: string): Promise<void> {
    try {
      await this.svc.client.functions.completeError({ function_execution_id: functionExecutionId, error });
    } catch (err) {
      if (slackErrorCode(err) === 'execution_not_in_running_state') return;
      throw err;
    }
  }

  /** Completes a step with these outputs; already completed counts as success. */
  async completeStep(functionExecutionId: string, outputs: Record<string, unknown>): Promise<void> {
    try {
      await this.svc.client.functions.completeSuccess({ function_execution_id: functionExecutionId, outputs });
    } catch (err) {
      if (slackErrorCode(err) === 'execution_not_in_running_state') return;
      throw err;
    }
  }
}
