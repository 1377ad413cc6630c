import type { BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { DomainError, userMessageFor } from '../../errors.js';
import { messageUpdateEffect } from '../../outbox/kinds.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { rowIdOf, teamIdOf } from '../../slack/values.js';
import type { Effect } from '../../store/outbox.js';
import type { TaskRow } from '../../store/schema.js';
import { reminderCompletedBlocks, reminderCompletedText, reminderSnoozedBlocks, reminderSnoozedText } from './reminderViews.js';
import type { TaskService } from './service.js';

/**
 * The buttons of a reminder DM (reminderKinds.ts sends them): Complete, and Snooze until tomorrow
 * or for a week (the due date moves, in the assignee's time zone, and the reminder with it). The
 * same rules as every surface (TaskService); the DM is changed by an outbox row written with the
 * change, to say what became of the task.
 */

type ReminderClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction<ButtonAction>>, 'ack' | 'body' | 'action' | 'respond'>;
type ReminderDeps = { tasks: TaskService } & Pick<Services, 'logger'>;

/** The DM the button is on, shown as `content` (decided with the change). */
function dmUpdate(body: BlockAction, key: string, content: (task: TaskRow) => { text: string; blocks: unknown[] }): (task: TaskRow) => Effect[] {
  const channel = body.channel?.id;
  const ts = body.message?.ts;
  return (task) => (channel && ts ? [messageUpdateEffect({ key: `task:${task.id}:reminder:${channel}:${ts}:${key}`, teamId: task.teamId, channel, ts, ...content(task) })] : []);
}

async function tellClicker(deps: ReminderDeps, args: ReminderClickArgs, what: string, err: unknown): Promise<void> {
  const { body, respond } = args;
  if (!(err instanceof DomainError)) deps.logger.error(`reminder ${what} (team ${teamIdOf(body)}, user ${body.user.id}): ${describeError(err)}`);
  await respond({ response_type: 'ephemeral', replace_original: false, text: userMessageFor(err) }).catch((e: unknown) => deps.logger.warn(`could not tell ${body.user.id}: ${describeError(e)}`));
}

/** Complete: the task is done; the DM says so. */
export const handleReminderComplete = (deps: ReminderDeps) =>
  async function reminderComplete(args: ReminderClickArgs): Promise<void> {
    const { ack, body, action } = args;
    await ack();
    const id = rowIdOf(action.value);
    if (id === undefined) return;
    const userId = body.user.id;
    try {
      await deps.tasks.complete({ teamId: teamIdOf(body), userId }, { id }, dmUpdate(body, 'completed', (task) => ({ text: reminderCompletedText(task), blocks: reminderCompletedBlocks(task, userId) })));
    } catch (err) {
      await tellClicker(deps, args, 'complete', err);
    }
  };

/** Snooze until tomorrow (`days` 1) or for a week (7): the due date moves; the DM says to when. */
export const handleReminderSnooze = (deps: ReminderDeps, days: number) =>
  async function reminderSnooze(args: ReminderClickArgs): Promise<void> {
    const { ack, body, action } = args;
    await ack();
    const id = rowIdOf(action.value);
    if (id === undefined) return;
    try {
      await deps.tasks.snooze({ teamId: teamIdOf(body), userId: body.user.id }, { id }, days, (task, dueDate) =>
        dmUpdate(body, `snoozed:${dueDate}`, () => ({ text: reminderSnoozedText(task, dueDate), blocks: reminderSnoozedBlocks(task, dueDate) }))(task),
      );
    } catch (err) {
      await tellClicker(deps, args, 'snooze', err);
    }
  };
