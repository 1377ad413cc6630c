import type { types } from '@slack/bolt';
import { Blocks, Elements } from 'slack-block-builder';
import { ACTION } from '../../slack/ids.js';
import { mention } from '../../slack/mrkdwn.js';
import { blocks } from '../../slack/views.js';
import type { TaskRow } from '../../store/schema.js';
import { formatDueDate } from './dates.js';
import { taskLabel } from './views.js';

/**
 * The reminder DMs (pure): the due-day reminder and the overdue nudges, with Complete and Snooze
 * buttons (value = task id), and what such a DM becomes once a button was used.
 */

/** Overdue nudges a task gets at most (one per working day after its due date). */
export const MAX_NUDGES = 3;

/** Which DM: the due-day reminder, or overdue nudge `nudge` (1…MAX_NUDGES; none: a reminder sent late). */
export type ReminderKind = { kind: 'due' } | { kind: 'overdue'; nudge?: number };

/** "Fri, Dec 5": the year is left out (reminders are about the days ahead). */
export function shortDueDate(date: string): string {
  return formatDueDate(date).replace(/, \d{4}$/, '');
}

export function reminderText(task: TaskRow, which: ReminderKind): string {
  const due = task.dueDate ? shortDueDate(task.dueDate) : 'no date';
  return which.kind === 'due' ? `Due today: ${taskLabel(task)}` : `Overdue (due ${due}): ${taskLabel(task)}`;
}

export function reminderBlocks(task: TaskRow, which: ReminderKind): types.KnownBlock[] {
  const id = String(task.id);
  const due = task.dueDate ? shortDueDate(task.dueDate) : 'no date';
  const lead =
    which.kind === 'due'
      ? `:alarm_clock: *Due today:* ${taskLabel(task)}`
      : `:warning: *Overdue* (was due ${due}): ${taskLabel(task)}`;
  const context = [task.creatorId !== task.assigneeId ? `From ${mention(task.creatorId)}` : 'Your own task'];
  if (which.kind === 'overdue' && which.nudge !== undefined) context.push(`reminder ${which.nudge} of ${MAX_NUDGES}`);
  context.push('Turn reminders off or change their hour in Tasklane’s Home → Settings');
  return blocks(
    Blocks.Section({ blockId: 'reminder_task', text: lead }),
    Blocks.Context({ blockId: 'reminder_context' }).elements(context.join(' · ')),
    Blocks.Actions({ blockId: 'reminder_actions' }).elements(
      Elements.Button({ text: 'Complete', actionId: ACTION.reminderComplete, value: id }).primary(),
      Elements.Button({ text: 'Snooze until tomorrow', actionId: ACTION.reminderSnoozeTomorrow, value: id }),
      Elements.Button({ text: 'Snooze a week', actionId: ACTION.reminderSnoozeWeek, value: id }),
    ),
  );
}

/** The reminder once its task was completed from it. */
export function reminderCompletedBlocks(task: TaskRow, by: string): types.KnownBlock[] {
  return blocks(Blocks.Section({ blockId: 'reminder_task', text: `:white_check_mark: ~${taskLabel(task)}~ is done (completed by ${mention(by)}).` }));
}

export function reminderCompletedText(task: TaskRow): string {
  return `Done: ${taskLabel(task)}`;
}

/** The reminder once its task was snoozed to `dueDate`. */
export function reminderSnoozedBlocks(task: TaskRow, dueDate: string): types.KnownBlock[] {
  return blocks(Blocks.Section({ blockId: 'reminder_task', text: `:zzz: ${taskLabel(task)}\nSnoozed to ${shortDueDate(dueDate)} — I’ll remind you then.` }));
}

export function reminderSnoozedText(task: TaskRow, dueDate: string): string {
  return `Snoozed to ${shortDueDate(dueDate)}: ${taskLabel(task)}`;
}
