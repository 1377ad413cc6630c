import { AlreadyDoneError, InvalidInputError, NotAllowedError, NotFoundError } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { trimInput } from '../../slack/inputText.js';
import { mention } from '../../slack/mrkdwn.js';
import type { SlackUser } from '../../slack/users.js';
import type { AuditRow, CommentRow, Priority, TaskOrigin, TaskRow } from '../../store/schema.js';
import { SeriesDateTakenError } from '../../store/taskErrors.js';
import type { TaskListQuery, TaskPage, TaskPatch } from '../../store/tasks.js';
import type { TasksStore } from '../../store/tasksStore.js';
import { formatDueDate, isIsoDate, todayIn } from './dates.js';
import { addDays } from './localTime.js';
import { TaskEffects } from './effects.js';
import { firstDue, formatRule, resolveRule, type RepeatSpec } from './recurrence.js';
import { ZONE_UTC_MINUS_12 } from './taskForm.js';
import type { Effect } from '../../store/outbox.js';
import { COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX } from './limits.js';
import { taskLabel } from './views.js';
import { guestFrom, hingesOnGuest, isPrivateConversation, maySee, type Viewer } from './visibility.js';
import { auditFeedFor } from '../audit/feed.js';

/**
 * The rules for tasks (isolation, visibility, permissions) and the one API every surface calls:
 * the `/task` command, cards, reactions and workflow steps today; the New/Edit/Details modals
 * and the App Home next.
 * Each change is one store transaction that also writes what it means in Slack (cards, DMs,
 * steps, Homes) as outbox rows; the outbox sends them after the commit.
 */

export { COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX } from './limits.js';

/** Who is acting (or reading). */
export interface Actor {
  teamId: string;
  userId: string;
  /** The actor's IANA time zone, when the caller knows it (a modal carries it); else asked of Slack. */
  timeZone?: string;
  /**
   * Whether Slack calls the actor a guest, when the caller knows it. Otherwise it is asked of
   * Slack (users.info, cached) only when it matters: for someone else's public task.
   */
  guest?: boolean;
  /**
   * The longest the guest lookup may wait on Slack: set by code that answers within an ack
   * (a view submission). Unanswered in time, the actor is taken for a guest (fail safe).
   */
  lookupBudgetMs?: number;
  /**
   * The app itself creating a task for a `create_task` step (`userId` is its bot user): no person
   * to tell or whose "today" counts. Grants no permission over existing tasks.
   */
  system?: boolean;
  /**
   * A workflow step acting for the person `userId` (`complete_task`): the same rules as that
   * person, and besides them it may complete the tasks the app made through a step (their
   * creator is `botUserId`).
   */
  step?: { botUserId: string };
}

/** Who hears of an effect that could not be delivered: the person who acted (a DM), not the app itself. */
function tellWhom(actor: Actor): string | undefined {
  return actor.system ? undefined : actor.userId;
}

/** A task by its database id (buttons, workflows) or by its per-workspace number (`#12`). */
export type TaskRef = { id: number } | { number: number };

export interface CreateTaskInput {
  title: string;
  description?: string;
  /** default: the actor */
  assigneeId?: string;
  /** `YYYY-MM-DD`; must not be before the actor's today */
  dueDate?: string | null;
  priority?: Priority;
  /** also post the card in this channel */
  channelId?: string | null;
  origin: TaskOrigin;
  sourcePermalink?: string | null;
  /**
   * The message the task was made from ("Make a task"): its permalink is asked of Slack and
   * stored with the task (unless `sourcePermalink` is given), and a reply in its thread says the
   * task exists. Either failing does not stop the task; the actor is told what did not happen.
   */
  sourceMessage?: { channelId: string; ts: string; threadTs?: string };
  /**
   * Repeats (`/task add … every monday`, the form's Repeat): a weekday or day of the month left
   * open is the due date's; without a due date the first is the rule's first day from today.
   */
  repeat?: RepeatSpec;
  /** A request Slack may deliver again (`command:<trigger_id>`): delivered twice, it makes one task (one series). */
  requestKey?: string;
}

/** The `create_task` workflow step a task is bound to. */
export interface StepBinding {
  functionExecutionId: string;
  waitForCompletion: boolean;
}

export type TaskFieldErrors = Partial<Record<'title' | 'description' | 'dueDate' | 'assignee', string>>;

/**
 * Field rules, pure: title 1–150 characters once trimmed, description ≤ 3000, due date a real
 * `YYYY-MM-DD` not before `today`. Modals call this before their ack (no Slack call needed).
 */
export function validateTaskFields(fields: { title?: string; description?: string; dueDate?: string | null }, today: string): TaskFieldErrors {
  const errors: TaskFieldErrors = {};
  if (fields.title !== undefined) {
    const title = trimInput(fields.title);
    if (title === '') errors.title = 'The task needs a title.';
    else if (title.length > TITLE_MAX) errors.title = `The title is ${title.length} characters long; keep it to ${TITLE_MAX}.`;
  }
  if (fields.description !== undefined && fields.description.length > DESCRIPTION_MAX) {
    errors.description = `The description is ${fields.description.length} characters long; keep it to ${DESCRIPTION_MAX}.`;
  }
  if (fields.dueDate) {
    if (!isIsoDate(fields.dueDate)) errors.dueDate = `"${fields.dueDate}" is not a date like 2025-03-14.`;
    else if (fields.dueDate < today) errors.dueDate = 'The due date can’t be in the past.';
  }
  return errors;
}

/**
 * Why this Slack user cannot be given a task, or undefined: unknown to Slack, a bot or app, or
 * deactivated. `who` names them in the message (a mention in messages, a plain name in a modal's
 * input error, where mentions do not render).
 */
export function assigneeProblem(user: SlackUser | undefined, who: string): string | undefined {
  if (!user) return 'I can’t find that person in Slack.';
  if (user.isBot) return `${who} is an app or bot; tasks need a person.`;
  if (user.deleted) return `${who} is deactivated; pick someone else.`;
  return undefined;
}

function throwIfInvalid(errors: TaskFieldErrors): void {
  const messages = Object.values(errors);
  if (messages.length > 0) throw new InvalidInputError(messages.join(' '), errors as Record<string, string>);
}

export function mayChange(task: TaskRow, actor: Actor): boolean {
  return actor.userId === task.assigneeId || actor.userId === task.creatorId || isStepTaskForStep(task, actor);
}

export function mayDelete(task: TaskRow, actor: Actor): boolean {
  return actor.userId === task.creatorId;
}

/**
 * A task the app made through a `create_task` step, handled by another step of its workspace:
 * any step may complete it, whoever the step acts for.
 */
function isStepTaskForStep(task: TaskRow, actor: Actor): boolean {
  return actor.step !== undefined && task.origin === 'workflow' && task.functionExecutionId !== null && task.creatorId === actor.step.botUserId;
}

/** The refusal when `mayChange` (or, for delete, `mayDelete`) says no: who may, in words. */
export function notAllowedError(task: TaskRow, verb: 'edit' | 'reassign' | 'complete' | 'reopen' | 'delete' | 'stop repeating'): NotAllowedError {
  if (verb === 'delete') {
    return new NotAllowedError(`may not delete task ${task.id}`, `Only ${mention(task.creatorId)}, who created ${taskLabel(task)}, can delete it.`);
  }
  const who =
    task.assigneeId === task.creatorId
      ? mention(task.creatorId)
      : `the assignee (${mention(task.assigneeId)}) or the creator (${mention(task.creatorId)})`;
  return new NotAllowedError(`not allowed to ${verb} task ${task.id}`, `Only ${who} can ${verb} ${taskLabel(task)}.`);
}

export class TaskService {
  readonly repo: TasksStore;
  readonly effects: TaskEffects;

  constructor(private readonly svc: Services) {
    this.repo = svc.stores.tasks;
    this.effects = new TaskEffects(auditFeedFor(svc.config.auditWebhookUrl));
  }

  // ------------------------------------------------------------ changes

  /**
   * Creates a task and, after the commit, DMs the assignee a card, posts the card in
   * `input.channelId`, and completes or parks the workflow step. With a `step` whose execution
   * already made a task (a retried delivery), returns that task with `created: false` and does
   * nothing else.
   */
  async create(actor: Actor, input: CreateTaskInput, step?: StepBinding): Promise<{ task: TaskRow; created: boolean }> {
    if (step) {
      const existing = await this.repo.findByExecutionId(actor.teamId, step.functionExecutionId);
      if (existing) return { task: existing, created: false };
    }
    const title = trimInput(input.title);
    const description = trimInput(input.description ?? '');
    const assigneeId = input.assigneeId ?? actor.userId;
    const dueDate = input.dueDate || null;
    const errors = validateTaskFields({ title, description, dueDate: null }, '');
    // What only Slack knows, asked all at once; within the actor's budget when they wait on an ack
    // (a form, a workflow step): unanswered in time, the assignee is taken as valid, "today" is
    // the earliest zone's, no permalink, and a task from a message is private (fail safe).
    const source = input.sourceMessage;
    const [assigneeError, today, sourcePermalink, hidden] = await Promise.all([
      this.bounded(actor, this.checkAssignee(actor, assigneeId), undefined),
      dueDate || input.repeat ? this.bounded(actor, this.today(actor, assigneeId), todayIn(ZONE_UTC_MINUS_12, this.svc.now())) : '',
      input.sourcePermalink ?? (source ? this.bounded(actor, this.permalinkOf(actor, source), null) : null),
      source ? this.bounded(actor, this.isPrivateSource(actor, source.channelId), true) : false,
    ]);
    if (assigneeError) errors.assignee = assigneeError;
    if (dueDate) Object.assign(errors, validateTaskFields({ dueDate }, today));
    throwIfInvalid(errors);
    const rule = input.repeat ? resolveRule(input.repeat, dueDate ?? today) : undefined;
    const firstDueDate = rule && !dueDate ? firstDue(rule, today) : dueDate;

    const now = this.svc.now();
    const { task, created } = await this.repo.create(
      {
        teamId: actor.teamId,
        title,
        description,
        priority: input.priority,
        assigneeId,
        creatorId: actor.userId,
        dueDate: firstDueDate,
        origin: input.origin,
        sourcePermalink,
        channelId: input.channelId ?? null,
        functionExecutionId: step?.functionExecutionId ?? null,
        stepState: step ? (step.waitForCompletion ? 'waiting' : 'completing') : 'none',
        private: hidden,
        repeatRule: rule ? formatRule(rule) : null,
        requestKey: input.requestKey ?? null,
      },
      now,
      (row) => this.effects.created(row, now, { tell: tellWhom(actor), thread: source }),
    );
    if (created) this.svc.outbox.kick();
    return { task, created };
  }

  /** Changes title, description, due date or priority (assignee or creator). */
  async edit(actor: Actor, ref: TaskRef, patch: TaskPatch): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (!mayChange(task, actor)) throw notAllowedError(task, 'edit');
    const clean: TaskPatch = { ...patch };
    if (clean.title !== undefined) clean.title = trimInput(clean.title);
    if (clean.description !== undefined) clean.description = trimInput(clean.description);
    if (clean.dueDate === '') clean.dueDate = null;
    const errors = validateTaskFields({ title: clean.title, description: clean.description }, '');
    // An unchanged due date may be in the past by now; only a new one must not be.
    if (clean.dueDate && clean.dueDate !== task.dueDate) Object.assign(errors, validateTaskFields({ dueDate: clean.dueDate }, await this.today(actor)));
    throwIfInvalid(errors);
    const now = this.svc.now();
    const result = await this.updateRow(actor, task.id, clean, now, (row) => this.effects.edited(row, now, { dueDateChanged: row.dueDate !== task.dueDate }));
    if (!result) throw this.gone(ref);
    if (result.changed) this.svc.outbox.kick();
    return result.task;
  }

  /** Gives the task to someone else (assignee or creator); the new assignee gets a DM card. */
  async assign(actor: Actor, ref: TaskRef, assigneeId: string): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (!mayChange(task, actor)) throw notAllowedError(task, 'reassign');
    const problem = await this.checkAssignee(actor, assigneeId);
    if (problem) throw new InvalidInputError(problem, { assignee: problem });
    if (task.assigneeId === assigneeId) throw new AlreadyDoneError(`task ${task.id} already assigned to ${assigneeId}`, `${taskLabel(task)} is already assigned to ${mention(assigneeId)}.`);
    const now = this.svc.now();
    const result = await this.repo.assign(actor.teamId, task.id, actor.userId, assigneeId, now, (t) => this.effects.assigned(t.task, t.previousAssigneeId, actor.userId, now));
    if (!result) throw this.gone(ref);
    if (result.changed) this.svc.outbox.kick();
    return result.task;
  }

  /**
   * Marks the task done (assignee or creator). Of two racing completions exactly one wins; the
   * other gets AlreadyDoneError naming who did it. Completes a waiting workflow step. `also`:
   * more effects that commit with the completion (the `complete_task` step's own result).
   */
  async complete(actor: Actor, ref: TaskRef, also?: (task: TaskRow) => Effect[]): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (task.status === 'done') throw this.alreadyDone(task);
    if (!mayChange(task, actor)) throw notAllowedError(task, 'complete');
    const now = this.svc.now();
    const result = await this.repo.complete(actor.teamId, task.id, actor.userId, now, (row) => [...this.effects.completed(row, now, tellWhom(actor)), ...(also?.(row) ?? [])]);
    if (!result) throw this.gone(ref);
    if (!result.changed) throw this.alreadyDone(result.task);
    this.svc.outbox.kick();
    return result.task;
  }

  /**
   * A reminder's Snooze: the due date becomes `days` after today in the assignee's time zone
   * (assignee or creator), which schedules the reminder of the new date; recorded as an edit.
   * `also`: more effects that commit with it (the reminder DM's new content).
   */
  async snooze(actor: Actor, ref: TaskRef, days: number, also?: (task: TaskRow, dueDate: string) => Effect[]): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (task.status !== 'open') throw this.alreadyDone(task);
    if (!mayChange(task, actor)) throw notAllowedError(task, 'edit');
    const dueDate = addDays(await this.todayFor(task.assigneeId), days);
    if (task.dueDate === dueDate) throw new AlreadyDoneError(`task ${task.id} already due ${dueDate}`, `${taskLabel(task)} is already due ${formatDueDate(dueDate)}.`);
    const now = this.svc.now();
    const result = await this.updateRow(actor, task.id, { dueDate }, now, (row) => [...this.effects.edited(row, now, { dueDateChanged: true }), ...(also?.(row, dueDate) ?? [])]);
    if (!result) throw this.gone(ref);
    this.svc.outbox.kick();
    return result.task;
  }

  /** `repo.update`, with a repeating series' date clash told in words (a series has one occurrence per date). */
  private updateRow(actor: Actor, id: number, patch: TaskPatch, now: number, effects: (row: TaskRow) => Effect[]) {
    return this.repo.update(actor.teamId, id, actor.userId, patch, now, effects).catch((err: unknown) => {
      if (!(err instanceof SeriesDateTakenError)) throw err;
      const message = `Another task of this repeating series is due ${formatDueDate(err.dueDate)}; pick another date.`;
      throw new InvalidInputError(message, { dueDate: message });
    });
  }

  /**
   * Ends the repeating series task `ref` belongs to (any of its occurrences): none is made after
   * the ones that exist. Who may edit the task may stop it.
   */
  async stopRepeating(actor: Actor, ref: TaskRef): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (task.seriesId === null) throw new InvalidInputError(`${taskLabel(task)} is not a repeating task: there is nothing to stop.`);
    if (!mayChange(task, actor)) throw notAllowedError(task, 'stop repeating');
    const now = this.svc.now();
    const result = await this.repo.stopSeries(actor.teamId, task.id, actor.userId, now, (rows) => this.effects.stopped(rows, now));
    if (!result) throw this.gone(ref);
    if (result.stopped.length === 0) throw new AlreadyDoneError(`series of task ${task.id} already stopped`, `${taskLabel(task)} already does not repeat any more.`);
    this.svc.outbox.kick();
    return result.task;
  }

  async reopen(actor: Actor, ref: TaskRef): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (!mayChange(task, actor)) throw notAllowedError(task, 'reopen');
    if (task.status !== 'done') throw new AlreadyDoneError(`task ${task.id} already open`, `${taskLabel(task)} is already open.`);
    const now = this.svc.now();
    const result = await this.repo.reopen(actor.teamId, task.id, actor.userId, now, (row) => this.effects.reopened(row, actor.userId, now));
    if (!result) throw this.gone(ref);
    if (!result.changed) throw new AlreadyDoneError(`task ${task.id} already open`, `${taskLabel(result.task)} is already open.`);
    this.svc.outbox.kick();
    return result.task;
  }

  /** Deletes the task (creator only). Its cards say so; a step still waiting on it fails. */
  async remove(actor: Actor, ref: TaskRef): Promise<TaskRow> {
    const task = await this.get(actor, ref);
    if (!mayDelete(task, actor)) throw notAllowedError(task, 'delete');
    const now = this.svc.now();
    const result = await this.repo.delete(actor.teamId, task.id, actor.userId, now, (d) => this.effects.removed(d.task, d.messages, actor.userId, now));
    if (!result) throw this.gone(ref);
    this.svc.outbox.kick();
    return result.task;
  }

  /** Anyone who may see the task may comment. */
  async comment(actor: Actor, ref: TaskRef, text: string): Promise<CommentRow> {
    const task = await this.get(actor, ref);
    const body = trimInput(text);
    if (body === '') throw new InvalidInputError('The comment is empty.', { comment: 'Write something first.' });
    if (body.length > COMMENT_MAX) throw new InvalidInputError(`Keep comments to ${COMMENT_MAX} characters.`, { comment: `Keep it to ${COMMENT_MAX} characters.` });
    const comment = await this.repo.addComment(actor.teamId, task.id, actor.userId, body, this.svc.now());
    if (!comment) throw this.gone(ref);
    return comment;
  }

  // ------------------------------------------------------------ reads (within one workspace, what the reader may see)

  /** The task, if `reader` may see it; a hidden task gets the very error of a missing one. */
  async get(reader: Actor, ref: TaskRef): Promise<TaskRow> {
    const task = await this.find(reader, ref);
    if (!task) throw this.gone(ref);
    return task;
  }

  async find(reader: Actor, ref: TaskRef): Promise<TaskRow | undefined> {
    const task = 'id' in ref ? await this.repo.findById(reader.teamId, ref.id) : await this.repo.findByNumber(reader.teamId, ref.number);
    return task && (await this.visible(task, reader)) ? task : undefined;
  }

  /** The task a card (channel + ts) shows, if `reader` may see it. */
  async findByMessage(reader: Actor, channelId: string, ts: string): Promise<TaskRow | undefined> {
    const task = await this.repo.findByMessage(reader.teamId, channelId, ts);
    return task && (await this.visible(task, reader)) ? task : undefined;
  }

  /** A `/task list`: "all" holds only what the reader may see (so do its total and pages). */
  async list(reader: Actor, query: Omit<TaskListQuery, 'userId' | 'guest'>): Promise<TaskPage> {
    const guest = query.scope === 'all' ? await this.isGuest(reader) : false;
    return this.repo.list(reader.teamId, { ...query, userId: reader.userId, guest, limit: Math.min(Math.max(query.limit, 1), 100) });
  }

  async openCount(teamId: string, userId: string): Promise<number> {
    return this.repo.count(teamId, { scope: 'mine', status: 'open', userId, guest: false });
  }

  /** App Home "Your tasks": open tasks assigned to the user, overdue first then by due date. */
  async openAssignedTo(teamId: string, userId: string, today: string, page: { limit: number; offset?: number }): Promise<TaskPage & { overdue: number }> {
    return this.repo.openAssignedTo(teamId, userId, today, page);
  }

  /** Comments (oldest first) and audit history for the details view. */
  async details(reader: Actor, ref: TaskRef): Promise<{ task: TaskRow; comments: CommentRow[]; history: AuditRow[] }> {
    const task = await this.get(reader, ref);
    const teamId = reader.teamId;
    const [comments, history] = await Promise.all([this.repo.comments(teamId, task.id), this.repo.history(teamId, task.id)]);
    return { task, comments, history };
  }

  /** The reader as the visibility rule sees them (asks Slack whether they are a guest, cached). */
  async viewer(reader: Actor): Promise<Viewer> {
    return { teamId: reader.teamId, userId: reader.userId, guest: await this.isGuest(reader) };
  }

  /** Today (`YYYY-MM-DD`) for this user, in their time zone. */
  async todayFor(userId: string, timeZone?: string): Promise<string> {
    return todayIn(timeZone ?? (await this.svc.users.timeZone(userId)), this.svc.now());
  }

  // ------------------------------------------------------------ workflow steps

  /**
   * Start-up check: every task whose `create_task` step is owed a completion (done while the
   * step waited, or queued) has that completion in the outbox. Writing it again is a no-op (one
   * key per execution), so this only adds what a store from before the outbox lacks.
   */
  async ensureStepEffects(): Promise<number> {
    const outbox = this.svc.outbox.repo;
    const steps = await this.repo.pendingSteps();
    const sent = await Promise.all(steps.map((task) => outbox.byKey(`step:${task.functionExecutionId ?? ''}`)));
    const pending = steps.filter((_, i) => sent[i] === undefined);
    if (pending.length > 0) await this.svc.outbox.add(pending.map((task) => this.effects.step(task)));
    return pending.length;
  }

  // ------------------------------------------------------------ helpers

  /** Who may see one task. Slack is asked whether the reader is a guest only when it decides. */
  private async visible(task: TaskRow, reader: Actor): Promise<boolean> {
    // Any step may complete the app's own workflow tasks, so it may find them too.
    if (isStepTaskForStep(task, reader)) return task.teamId === reader.teamId;
    const guest = hingesOnGuest(task, reader.userId) ? await this.isGuest(reader) : false;
    return maySee(task, { teamId: reader.teamId, userId: reader.userId, guest });
  }

  /** Whether the reader is a Slack guest; unknown to Slack, or Slack not answering: yes (fail safe). */
  private async isGuest(reader: Actor): Promise<boolean> {
    if (reader.guest !== undefined) return reader.guest;
    const users = this.svc.users;
    if (reader.lookupBudgetMs !== undefined) {
      const found = await users.getWithin(reader.userId, reader.lookupBudgetMs);
      if (found.found) return guestFrom(found.user);
      this.svc.logger.info(`user ${reader.userId} (team ${reader.teamId}) not looked up within ${reader.lookupBudgetMs} ms: shown only their own tasks`);
      return true;
    }
    try {
      return guestFrom(await users.get(reader.userId));
    } catch (err) {
      this.svc.logger.warn(`could not look up ${reader.userId} (team ${reader.teamId}): shown only their own tasks: ${describeError(err)}`);
      return true;
    }
  }

  /**
   * Whether a task made from a message in `channelId` is private: a DM, group DM or private
   * channel. Asked of Slack at creation (never taken from a payload); when Slack cannot say, private.
   */
  private async isPrivateSource(actor: Actor, channelId: string): Promise<boolean> {
    // A DM's id says it all (and Slack would not describe two people's DM to the app).
    if (channelId.startsWith('D')) return true;
    try {
      const res = await this.svc.client.conversations.info({ channel: channelId });
      return isPrivateConversation(channelId, res.channel);
    } catch (err) {
      this.svc.logger.info(`conversations.info ${channelId} (team ${actor.teamId}) failed; the task is private: ${describeError(err)}`);
      return true;
    }
  }

  /**
   * `work`, or `fallback` once the actor's lookup budget (set by code answering within an ack) has
   * passed: the answer may come later, but the ack cannot wait for it.
   */
  private async bounded<T>(actor: Actor, work: Promise<T>, fallback: T): Promise<T> {
    if (actor.lookupBudgetMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), actor.lookupBudgetMs)));
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async today(actor: Actor, assigneeId?: string): Promise<string> {
    // A workflow has no person whose "today" counts; the assignee's is the one that matters.
    const whose = actor.system && assigneeId ? assigneeId : actor.userId;
    return this.todayFor(whose, actor.system ? undefined : actor.timeZone);
  }

  /** Why `assigneeId` cannot be given a task, or undefined. Slack being unreachable does not block. */
  private async checkAssignee(actor: Actor, assigneeId: string): Promise<string | undefined> {
    if (!/^[UW][A-Z0-9]+$/.test(assigneeId)) return 'Pick a person to assign the task to.';
    if (assigneeId === actor.userId && !actor.system) return undefined;
    try {
      return assigneeProblem(await this.svc.users.get(assigneeId), mention(assigneeId));
    } catch (err) {
      this.svc.logger.warn(`could not look up assignee ${assigneeId} (team ${actor.teamId}): ${describeError(err)}`);
      return undefined;
    }
  }

  /** The permalink of a message, or null when Slack will not give it (the task is made anyway). */
  private async permalinkOf(actor: Actor, message: { channelId: string; ts: string }): Promise<string | null> {
    try {
      const res = await this.svc.client.chat.getPermalink({ channel: message.channelId, message_ts: message.ts });
      return res.permalink ?? null;
    } catch (err) {
      this.svc.logger.warn(`no permalink for ${message.channelId}/${message.ts} (team ${actor.teamId}): ${describeError(err)}`);
      return null;
    }
  }

  private gone(ref: TaskRef): NotFoundError {
    return 'id' in ref
      ? new NotFoundError(`task id ${ref.id} not found`, 'That task no longer exists.')
      : new NotFoundError(`task #${ref.number} not found`, `There is no task #${ref.number} in this workspace.`);
  }

  private alreadyDone(task: TaskRow): AlreadyDoneError {
    const by = task.completedBy ? ` by ${mention(task.completedBy)}` : '';
    return new AlreadyDoneError(`task ${task.id} already done`, `${taskLabel(task)} was already completed${by}.`);
  }
}
