import type { types } from '@slack/bolt';
import type { Outbox } from '../../outbox/sender.js';
import type { UserDirectory } from '../../slack/users.js';
import type { Stores } from '../../store/engine.js';
import type { OutboxRow, TaskRow } from '../../store/schema.js';
import { homeEffects } from '../home/effects.js';
import { todayIn } from './dates.js';
import { nudgeEffect, TASK_KIND } from './effects.js';
import { addDays, workingDayOnOrAfter, zonedInstant } from './localTime.js';
import { MAX_NUDGES, reminderBlocks, reminderText, type ReminderKind } from './reminderViews.js';

/**
 * The scheduled reminder rows (effects.ts writes them): the due-day reminder (`task.remind`) and
 * the overdue nudges (`task.nudge`). Each re-reads the task and the assignee's settings when it
 * runs, so a task done, deleted or moved meanwhile, or reminders turned off, sends nothing; and
 * each waits (`later`) for the assignee's hour in their Slack time zone. A row is due at the
 * earliest instant it could be due anywhere; after downtime it runs once, late, and the next
 * nudge counts from then: never a burst.
 */

/** A row waiting for its hour looks again at least this often (a changed hour is honoured within it). */
export const REMINDER_RECHECK_MS = 60 * 60_000;

export interface ReminderDeps {
  stores: Pick<Stores, 'tasks' | 'settings' | 'outbox'>;
  users: UserDirectory;
}

type Relevance = { ok: true; task: TaskRow; timeZone: string; hour: number } | { ok: false; why: string };

/** Whether the row still means something, and the assignee's zone and hour if so. */
async function relevant(deps: ReminderDeps, row: OutboxRow, payload: Record<string, unknown>): Promise<Relevance> {
  const task = await deps.stores.tasks.findById(row.teamId, Number(payload['taskId']));
  if (!task) return { ok: false, why: 'skipped: the task was deleted' };
  if (task.status !== 'open') return { ok: false, why: `skipped: the task is ${task.status}` };
  if (task.dueDate !== payload['dueDate']) return { ok: false, why: `skipped: the due date is now ${task.dueDate ?? 'none'}` };
  const settings = await deps.stores.settings.user(task.teamId, task.assigneeId);
  if (!settings.remindersEnabled) return { ok: false, why: 'skipped: reminders off' };
  // Slack not answering throws: the row is tried again (a guessed zone would remind at the wrong hour).
  const user = await deps.users.get(task.assigneeId);
  if (!user || user.deleted) return { ok: false, why: 'skipped: the assignee is gone from Slack' };
  return { ok: true, task, timeZone: user.tz, hour: settings.reminderHour };
}

/** Not before `at`: the row comes back then, or sooner to see a changed hour. */
function waitUntil(at: number, now: number): { later: number } {
  return { later: Math.min(at, now + REMINDER_RECHECK_MS) };
}

export function registerReminderKinds(outbox: Outbox, deps: ReminderDeps): void {
  const dm = (post: (a: { channel: string; text: string; blocks: types.KnownBlock[] }) => Promise<{ channel: string; ts: string }>, task: TaskRow, which: ReminderKind) =>
    post({ channel: task.assigneeId, text: reminderText(task, which), blocks: reminderBlocks(task, which) });

  /** What follows a DM: the next nudge (counted from today, the assignee's) and the Homes showing the task. */
  const followUp = async (task: TaskRow, dueDate: string, nextNudge: number, today: string, now: number): Promise<void> => {
    const effects = nextNudge <= MAX_NUDGES ? [nudgeEffect(task, dueDate, nextNudge, addDays(today, 1))] : [];
    await deps.stores.outbox.add([...effects, ...homeEffects(task.teamId, [task.creatorId, task.assigneeId], now)], now);
    outbox.kick();
  };

  outbox.register(TASK_KIND.remind, {
    async send({ row, payload, post, now }) {
      const r = await relevant(deps, row, payload);
      if (!r.ok) return r.why;
      const dueDate = String(payload['dueDate']);
      const at = zonedInstant(dueDate, r.hour, r.timeZone);
      if (now < at) return waitUntil(at, now);
      const today = todayIn(r.timeZone, now);
      // Set after its time (a task made or moved to today in the afternoon): no reminder of what
      // the assignee was just told; the nudges still follow if it stays open.
      if (row.createdAt > at) {
        if (todayIn(r.timeZone, row.createdAt) > dueDate) return 'skipped: set after its day';
        await followUp(r.task, dueDate, 1, today, now);
        return 'skipped: set after its reminder time';
      }
      // Late (the app was down on the due day): one DM, saying it is overdue.
      const which: ReminderKind = today > dueDate ? { kind: 'overdue' } : { kind: 'due' };
      const posted = await dm(post, r.task, which);
      await followUp(r.task, dueDate, 1, today, now);
      return `${posted.channel}/${posted.ts}`;
    },
  });

  outbox.register(TASK_KIND.nudge, {
    async send({ row, payload, post, now }) {
      const r = await relevant(deps, row, payload);
      if (!r.ok) return r.why;
      const dueDate = String(payload['dueDate']);
      const nudge = Number(payload['nudge']);
      const from = String(payload['from']);
      const today = todayIn(r.timeZone, now);
      if (!(dueDate < today)) return 'skipped: not overdue';
      const day = workingDayOnOrAfter(from > today ? from : today);
      const at = zonedInstant(day, r.hour, r.timeZone);
      if (now < at) return waitUntil(at, now);
      const posted = await dm(post, r.task, { kind: 'overdue', nudge });
      await followUp(r.task, dueDate, nudge + 1, today, now);
      return `${posted.channel}/${posted.ts}`;
    },
  });
}
