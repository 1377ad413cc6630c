import type { types } from '@slack/bolt';
import { auditEffect, taskCompletedAuditEvent } from '../audit/feed.js';
import { messageEffect, messageUpdateEffect, stepEffect } from '../../outbox/kinds.js';
import type { Notify, Outbox } from '../../outbox/sender.js';
import { mention } from '../../slack/mrkdwn.js';
import { isGone } from '../../slack/failures.js';
import { slackErrorCode } from '../../slack/slackErrors.js';
import type { Effect } from '../../store/outbox.js';
import type { TaskRow } from '../../store/schema.js';
import type { TaskMessage, TaskMessageKind } from '../../store/tasks.js';
import type { TasksStore } from '../../store/tasksStore.js';
import { homeEffects } from '../home/effects.js';
import { earliestStartOf } from './localTime.js';
import { todayIn } from './dates.js';
import { nextDueFrom, parseRule } from './recurrence.js';
import { assignedText, completedNoticeText, deletedCardBlocks, madeFromMessageText, taskCardBlocks, taskCardText, taskLabel } from './views.js';

/**
 * What a task change means in Slack, as outbox effects (src/outbox) written in the change's own
 * transaction: the assignee's DM card, the channel card, card refreshes, notices, the workflow
 * step's completion, the App Homes. Cards are rendered when they are sent, from the task as it is
 * then, so a card never shows an older state than the store. Calls use the bot token: workflow
 * tokens expire long before most tasks are done.
 */

export const TASK_KIND = {
  /** Posts a task's card (assignee DM or channel) and records it. */
  card: 'task.card',
  /** Updates every recorded card of a task to its current state (coalesced per task). */
  cards: 'task.cards',
  /** The assignee's DM on the due day, at their reminder hour (reminderKinds.ts). */
  remind: 'task.remind',
  /** An overdue nudge, one per working day, MAX_NUDGES at most (reminderKinds.ts). */
  nudge: 'task.nudge',
  /** Creates a repeating task's next occurrence (features/tasks/recurrence.ts), once. */
  next: 'task.next',
} as const;

/**
 * Whose calendar says a day has passed, for repeating tasks: UTC's, as for the day-passed action
 * below. A next occurrence late in coming is moved forward to UTC's today, so the occurrence it
 * makes is never one whose day is already over by that same rule (no chain of catch-ups).
 */
const SERIES_ZONE = 'UTC';

/** 00:00 UTC of the day after `date` (`YYYY-MM-DD`): when a repeating occurrence's day has passed. */
export function dayAfterUtc(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d + 1);
}

/**
 * The next occurrence of a repeating task is made when this one is completed (`task:<id>:next`,
 * at once) or when its day has passed (`task:<id>:next:<due date>`, at 00:00 UTC the day after;
 * a due date changed later writes its own row, and the old one finds the date changed).
 */
function nextOnDayPassed(task: TaskRow): Effect[] {
  if (!task.repeatRule || !task.dueDate) return [];
  return [{ key: `task:${task.id}:next:${task.dueDate}`, teamId: task.teamId, kind: TASK_KIND.next, target: String(task.id), payload: { taskId: task.id, dueDate: task.dueDate }, notBefore: dayAfterUtc(task.dueDate) }];
}

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

/** The user id to tell what did not reach Slack: the person who acted; undefined for the app itself (a workflow step). */
type FailureNoticeRecipient = string | undefined;

/**
 * The effects of each task change: each method returns the rows to write in the change's
 * transaction. What depends on the store (a card to refresh, a Home worth publishing) is a
 * condition the writer checks there (`Effect.onlyIf`).
 */
export class TaskEffects {
  /** `auditFeed.everyWorkspace`: `AUDIT_WEBHOOK_URL` is set, so every workspace's events are kept. */
  constructor(private readonly auditFeed: { everyWorkspace: boolean }) {}

  created(task: TaskRow, now: number, opts: { tell?: FailureNoticeRecipient; thread?: { channelId: string; ts: string; threadTs?: string } } = {}): Effect[] {
    const label = taskLabel(task);
    const notify = (text: string): Notify | undefined => (opts.tell ? { userId: opts.tell, text: `${label} was saved, but ${text}` } : undefined);
    const effects: Effect[] = [cardEffect(task, task.assigneeId, 'assignee_dm', 'assigned', task.creatorId, `task:${task.id}:card:assignee`, notify(`I couldn’t send ${mention(task.assigneeId)} the task in a DM.`))];
    if (task.channelId) {
      effects.push(cardEffect(task, task.channelId, 'channel', 'new', task.creatorId, `task:${task.id}:card:channel`, notify(`I couldn’t post the task card in <#${task.channelId}>.`)));
    }
    if (opts.thread) {
      effects.push(
        messageEffect({
          key: `task:${task.id}:thread-reply`,
          teamId: task.teamId,
          channel: opts.thread.channelId,
          threadTs: opts.thread.threadTs ?? opts.thread.ts,
          text: madeFromMessageText(task),
          notify: notify('I couldn’t reply in the message’s thread.'),
        }),
      );
    }
    if (task.functionExecutionId && task.stepState === 'completing') effects.push(this.step(task));
    return [...effects, ...reminderEffects(task), ...nextOnDayPassed(task), ...this.homes(task, now)];
  }

  assigned(task: TaskRow, previousAssigneeId: string, actorId: string, now: number): Effect[] {
    const notify: Notify = { userId: actorId, text: `${taskLabel(task)} is now assigned to ${mention(task.assigneeId)}, but I couldn’t DM them.` };
    return [
      ...this.refresh(task),
      cardEffect(task, task.assigneeId, 'assignee_dm', 'assigned', actorId, `task:${task.id}:card:assignee:${task.assigneeId}:${task.updatedAt}`, notify),
      ...reminderEffects(task),
      ...this.homes(task, now, previousAssigneeId),
    ];
  }

  /** `tell`: the person who completed it, told if its cards could not be updated. */
  completed(task: TaskRow, now: number, tell?: FailureNoticeRecipient): Effect[] {
    const effects: Effect[] = this.refresh(task, tell ? { userId: tell, text: `${taskLabel(task)} is completed, but I couldn’t update its card; it may still show the buttons.` } : undefined);
    if (task.functionExecutionId && (task.stepState === 'waiting' || task.stepState === 'completing')) effects.push(this.step(task));
    if (task.completedBy !== task.creatorId && task.origin !== 'workflow') {
      effects.push(messageEffect({ key: `task:${task.id}:completed:${task.completedAt ?? now}`, teamId: task.teamId, channel: task.creatorId, text: completedNoticeText(task) }));
    }
    if (task.origin === 'workflow') effects.push(auditEffect(taskCompletedAuditEvent(task), this.auditFeed));
    if (task.repeatRule) effects.push({ key: `task:${task.id}:next`, teamId: task.teamId, kind: TASK_KIND.next, target: String(task.id), payload: { taskId: task.id } });
    return [...effects, ...this.homes(task, now, task.completedBy)];
  }

  reopened(task: TaskRow, actorId: string, now: number): Effect[] {
    const effects: Effect[] = this.refresh(task);
    if (actorId !== task.assigneeId) {
      effects.push(messageEffect({ key: `task:${task.id}:reopened:${task.updatedAt}`, teamId: task.teamId, channel: task.assigneeId, text: `${mention(actorId)} reopened ${taskLabel(task)}` }));
    }
    return [...effects, ...reminderEffects(task), ...this.homes(task, now)];
  }

  /** `dueDateChanged`: the edit set a new due date, which gets its own reminder. */
  edited(task: TaskRow, now: number, opts: { dueDateChanged?: boolean } = {}): Effect[] {
    return [...this.refresh(task), ...(opts.dueDateChanged ? reminderEffects(task) : []), ...nextOnDayPassed(task), ...this.homes(task, now)];
  }

  /** A series stopped: the Homes showing its occurrences ("Repeats …" goes). */
  stopped(rows: TaskRow[], now: number): Effect[] {
    return rows.flatMap((task) => [...this.refresh(task), ...this.homes(task, now)]);
  }

  /** The task is gone from the store: its cards say so (content decided now), a waiting step fails. */
  removed(task: TaskRow, messages: TaskMessage[], actorId: string, now: number): Effect[] {
    const effects: Effect[] = messages.map((m) =>
      messageUpdateEffect({
        key: `task:${task.id}:deleted:${m.channelId}:${m.ts}`,
        teamId: task.teamId,
        channel: m.channelId,
        ts: m.ts,
        text: `Deleted: ${taskLabel(task)}`,
        blocks: deletedCardBlocks(task, actorId),
      }),
    );
    if (task.functionExecutionId && (task.stepState === 'waiting' || task.stepState === 'completing')) {
      effects.push(stepEffect({ teamId: task.teamId, executionId: task.functionExecutionId, error: `Task #${task.number} was deleted before it was completed.` }));
    }
    return [...effects, ...this.homes(task, now)];
  }

  /** The `create_task` step's completion, with the task's outputs as they are now. */
  step(task: TaskRow): Effect {
    return stepEffect({ teamId: task.teamId, executionId: task.functionExecutionId ?? '', outputs: stepOutputs(task), owner: { table: 'tasks', id: task.id } });
  }

  /**
   * The refresh of the task's cards, written only when it has some (a card still on its way is
   * brought up to date by its own send, which sees the change: `task.card` below).
   */
  private refresh(task: TaskRow, notify?: Notify): Effect[] {
    return [{ ...refreshEffect(task, notify), onlyIf: { taskHasCards: task.id } }];
  }

  /**
   * The people whose App Home shows this task. A workflow's task was "created" by the app's bot
   * user, which has no Home; and `complete_task` may record the bot as the completer.
   */
  private homes(task: TaskRow, now: number, ...others: (string | null | undefined)[]): Effect[] {
    const creator = task.origin === 'workflow' ? undefined : task.creatorId;
    const people = [task.assigneeId, creator, ...others.filter((o) => !(task.origin === 'workflow' && o === task.creatorId))];
    return homeEffects(task.teamId, people, now);
  }
}

/**
 * The due-day reminder of an open task with a due date, scheduled at the earliest instant it could
 * be due anywhere (the date's midnight in UTC+14): its handler finds the assignee's real time
 * (their zone and hour) and waits for it (`later`). Keyed by the due date: writing it again for
 * the same date (a reassignment, a retry) is a no-op, a new date is a new reminder, and the
 * handler drops a reminder whose date is no longer the task's.
 */
export function reminderEffects(task: TaskRow): Effect[] {
  if (task.status !== 'open' || !task.dueDate) return [];
  return [
    {
      key: `task:${task.id}:remind:${task.dueDate}`,
      teamId: task.teamId,
      kind: TASK_KIND.remind,
      target: String(task.id),
      payload: { taskId: task.id, dueDate: task.dueDate },
      notBefore: earliestStartOf(task.dueDate),
    },
  ];
}

/** Overdue nudge `nudge` for the task due `dueDate`, on the first working day on or after `from` (`YYYY-MM-DD`, the assignee's calendar). */
export function nudgeEffect(task: Pick<TaskRow, 'id' | 'teamId'>, dueDate: string, nudge: number, from: string): Effect {
  return {
    key: `task:${task.id}:nudge:${dueDate}:${nudge}`,
    teamId: task.teamId,
    kind: TASK_KIND.nudge,
    target: String(task.id),
    payload: { taskId: task.id, dueDate, nudge, from },
    notBefore: earliestStartOf(from),
  };
}

/** Every card of the task brought up to date (coalesced per task). */
function refreshEffect(task: TaskRow, notify?: Notify): Effect {
  return { key: `task:${task.id}:cards`, teamId: task.teamId, kind: TASK_KIND.cards, target: String(task.id), payload: { taskId: task.id, ...(notify ? { notify } : {}) }, coalesce: true };
}

function cardEffect(task: TaskRow, channel: string, kind: TaskMessageKind, intro: 'new' | 'assigned', by: string, key: string, notify?: Notify): Effect {
  return { key, teamId: task.teamId, kind: TASK_KIND.card, target: channel, payload: { taskId: task.id, kind, intro, by, ...(notify ? { notify } : {}) } };
}

/** The task kinds' senders: render from the store as it is when sent. */
export function registerTaskKinds(outbox: Outbox, repo: TasksStore, now: () => number, auditFeed: { everyWorkspace: boolean }): void {
  const effects = new TaskEffects(auditFeed);

  // A repeating task's next occurrence: made once, due on the rule's next day after this one's
  // (moved forward to today when that is past), with the card a new task gets.
  outbox.register(TASK_KIND.next, {
    async send({ row, payload }) {
      const onDay = typeof payload['dueDate'] === 'string' ? payload['dueDate'] : undefined;
      const at = now();
      const today = todayIn(SERIES_ZONE, at);
      const result = await repo.nextOccurrence(
        row.teamId,
        Number(payload['taskId']),
        at,
        (prev) => {
          const rule = parseRule(prev.repeatRule);
          if (!rule || (onDay !== undefined && prev.dueDate !== onDay)) return undefined;
          return nextDueFrom(rule, prev.dueDate ?? today, today);
        },
        (task) => effects.created(task, at),
      );
      if ('skipped' in result) return `skipped: ${result.skipped}`;
      if (result.created) outbox.kick();
      return `${result.created ? 'created' : 'exists'}: task ${result.task.id} #${result.task.number} due ${result.task.dueDate ?? '-'}`;
    },
  });

  outbox.register(TASK_KIND.card, {
    async send({ row, payload, post, client }) {
      const task = await repo.findById(row.teamId, Number(payload['taskId']));
      if (!task) return 'skipped: the task was deleted';
      const kind = payload['kind'] as TaskMessageKind;
      // Reassigned before this card went out: the new assignee's card is another effect.
      if (kind === 'assignee_dm' && task.assigneeId !== row.target) return 'skipped: reassigned';
      const text = payload['intro'] === 'assigned' ? assignedText(task, String(payload['by'])) : taskCardText(task, 'New task');
      const posted = await post({ channel: row.target, text, blocks: taskCardBlocks(task) as types.KnownBlock[] });
      await repo.recordMessage(task.teamId, task.id, { channelId: posted.channel, ts: posted.ts, kind });
      // Changed while the card was on its way: the refresh that change wrote may have missed this
      // card. If this update fails, the card is refreshed with the others (`task.cards`).
      // A card found after a lost answer may have been posted long ago: always brought up to date.
      const now = await repo.findById(task.teamId, task.id);
      if (now && (row.uncertain || now.updatedAt !== task.updatedAt)) {
        await client.chat
          .update({ channel: posted.channel, ts: posted.ts, text: taskCardText(now), blocks: taskCardBlocks(now) })
          .catch(() => outbox.add([refreshEffect(task)]));
      }
      return `${posted.channel}/${posted.ts}`;
    },
  });

  outbox.register(TASK_KIND.cards, {
    async send({ row, payload, client, logger }) {
      const task = await repo.findById(row.teamId, Number(payload['taskId']));
      if (!task) return 'skipped: the task was deleted';
      const messages = await repo.messages(task.teamId, task.id);
      const failures: unknown[] = [];
      await Promise.all(
        messages.map(async (m) => {
          try {
            await client.chat.update({ channel: m.channelId, ts: m.ts, text: taskCardText(task), blocks: taskCardBlocks(task) });
          } catch (err) {
            // A card Slack no longer has is forgotten; nobody is told.
            if (isGone(err)) await repo.forgetMessage(task.teamId, m.channelId, m.ts);
            else {
              logger.warn(`task ${task.id} (team ${task.teamId}): could not update card ${m.channelId}/${m.ts}: ${slackErrorCode(err) ?? 'no answer'}`);
              failures.push(err);
            }
          }
        }),
      );
      // chat.update is idempotent: the whole refresh is tried again (or given up) on the first failure.
      if (failures.length > 0) throw failures[0];
      return `${messages.length} card(s)`;
    },
  });
}

