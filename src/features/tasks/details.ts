import type { AckFn, BlockAction, ButtonAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, ViewOutput, ViewResponseAction, ViewSubmitAction, types } from '@slack/bolt';
import { DomainError, InvalidInputError, NotFoundError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { mention } from '../../slack/mrkdwn.js';
import { rowIdOf, stringOf, teamIdOf, viewInput } from '../../slack/values.js';
import { couldNotOpenText, slackErrorCode } from '../../slack/slackErrors.js';
import { openModal, triggerArgument, type ModalTrigger } from '../../slack/modals.js';
import { noticeModal } from '../../slack/views.js';
import { todayIn } from './dates.js';
import { mayChange, mayDelete, notAllowedError, type Actor, type TaskService } from './service.js';
import { ZONE_UTC_MINUS_12, LOOKUP_BUDGET_MS, checkTaskForm, readTaskForm, toBlockErrors, warmUser } from './taskForm.js';
import {
  COMMENT_FIELD,
  MAX_STACK,
  commentTaskModal,
  decodeStackMeta,
  deleteTaskConfirmModal,
  editTaskModal,
  taskDetailsModal,
  taskLabel,
  type StackMeta,
} from './views.js';

/**
 * The task details stack: details → Edit / Comment / Delete confirmation.
 *
 * Slack keeps at most 3 modals per user. Every view of the stack carries its depth in
 * private_metadata; a view that would be a 4th replaces the top one instead (views.update on a
 * click, `response_action: "update"` on a submit), so no flow ever meets `push_limit_reached`.
 *
 * A pushed Edit/Comment remembers the details view below it (id + hash, also Slack's
 * `previous_view_id`). After its submission pops it, the details view is redrawn from the store
 * with views.update and that hash; on `hash_conflict` (the view changed meanwhile) it is redrawn
 * from the store again and sent without a hash, so what the user ends up seeing is the store's.
 *
 * Changes are made by TaskService before the ack (they touch only the local store, so a refusal
 * can still go back onto the form); their Slack effects run in the background.
 */

type ModalView = types.ModalView;

/** What opening and redrawing the details needs (users: time zones and the cache the forms warm). */
export type DetailsDeps = Pick<Services, 'client' | 'logger' | 'now' | 'users' | 'background'>;

/** Where a click or submission happened: enough to redraw or replace that view. */
interface ViewRef {
  id: string;
  hash?: string;
}

export interface OpenTaskDetailsRequest extends ModalTrigger {
  teamId: string;
  userId: string;
  taskId: number;
  /**
   * The modal the click came from, if it came from one (`body.view`): the details are pushed on
   * top of it, or replace it when the stack is already full. Absent: opened as a new stack.
   */
  from?: Pick<ViewOutput, 'id' | 'hash' | 'private_metadata' | 'root_view_id' | 'previous_view_id'>;
}

/**
 * Opens the details modal of a task for `userId` (task cards' Open button, App Home, a button in
 * another modal). Shows "Task not found" for a task that is gone or in another workspace.
 * Throws what Slack throws (an expired trigger id, …); see `couldNotOpenText`.
 */
export async function openTaskDetails(svc: DetailsDeps, tasks: TaskService, req: OpenTaskDetailsRequest): Promise<void> {
  const trigger = triggerArgument(req);
  if (!req.from) {
    if (!trigger) throw new Error('openTaskDetails needs a trigger id or an interactivity pointer');
    await openModal(svc.client, req, await renderDetails(svc, tasks, req, req.taskId, { depth: 1 }));
    return;
  }
  const below = stackDepth(req.from);
  if (below < MAX_STACK && trigger) {
    const view = await renderDetails(svc, tasks, req, req.taskId, { depth: below + 1 });
    await svc.client.views.push({ ...trigger, view } as Parameters<Services['client']['views']['push']>[0]);
  } else {
    await showDetails(svc, tasks, req, req.taskId, { id: req.from.id, hash: req.from.hash }, { depth: below });
  }
}

/**
 * Opens a task's Edit form or Delete confirmation as a new modal (the App Home's menu), handled by
 * the same submissions as when they sit on the details view. Edit: only the assignee or the
 * creator may, and saving shows the details in the form's place. Delete: the submission asks the
 * service, which lets only the creator delete. Throws domain errors for the caller to explain,
 * and what Slack throws.
 */
export async function openTaskForm(
  svc: DetailsDeps,
  tasks: TaskService,
  verb: 'edit' | 'delete',
  req: { teamId: string; userId: string; taskId: number; triggerId: string },
): Promise<void> {
  const task = await tasks.get(req, { id: req.taskId });
  const meta = { taskId: task.id, depth: 1 };
  if (verb === 'edit') {
    if (!mayChange(task, req)) throw notAllowedError(task, 'edit');
    warmUser(svc, req.userId);
  }
  const view = verb === 'edit' ? editTaskModal(task, meta) : deleteTaskConfirmModal(task, meta);
  await openModal(svc.client, req, view);
}

/**
 * How deep a view sits in its stack: our views say so in private_metadata; for others, Slack's
 * ids tell (no previous view: 1; the previous one is the root: 2; otherwise 3).
 */
export function stackDepth(view: Pick<ViewOutput, 'private_metadata' | 'root_view_id' | 'previous_view_id'>): number {
  const meta = decodeStackMeta(view.private_metadata);
  if (meta) return meta.depth;
  if (!view.previous_view_id) return 1;
  return view.previous_view_id === view.root_view_id ? 2 : MAX_STACK;
}

interface Who {
  teamId: string;
  userId: string;
  /** Set when answering within an ack: bounds the guest lookup (see Actor). */
  lookupBudgetMs?: number;
}

/** The details view as the store has it now, for this viewer (buttons by permission). */
async function renderDetails(
  svc: DetailsDeps,
  tasks: TaskService,
  who: Who,
  taskId: number,
  opts: { depth: number; notice?: string; timeZone?: string },
): Promise<ModalView> {
  let details: Awaited<ReturnType<TaskService['details']>>;
  try {
    details = await tasks.details(who, { id: taskId });
  } catch (err) {
    if (err instanceof NotFoundError) return noticeModal('Task not found', 'That task no longer exists. It may have been deleted.');
    throw err;
  }
  const { task, comments, history } = details;
  const actor: Actor = { teamId: who.teamId, userId: who.userId };
  // With a zone given (before an ack) no Slack call is made; otherwise the user's, maybe asked of Slack.
  const today = opts.timeZone ? todayIn(opts.timeZone, svc.now()) : await tasks.todayFor(who.userId);
  return taskDetailsModal({
    task,
    comments,
    history,
    today,
    depth: opts.depth,
    notice: opts.notice,
    can: { edit: mayChange(task, actor), complete: mayChange(task, actor), delete: mayDelete(task, actor) },
  });
}

/** Details rendered before an ack (response_action "update"): nothing but the store and known facts. */
async function renderDetailsNow(svc: DetailsDeps, tasks: TaskService, who: Who, taskId: number, depth: number, timeZone: string | undefined) {
  return renderDetails(svc, tasks, { ...who, lookupBudgetMs: LOOKUP_BUDGET_MS }, taskId, { depth, timeZone: timeZone ?? svc.users.peek(who.userId)?.tz ?? ZONE_UTC_MINUS_12 });
}

/**
 * Redraws a details view in place (views.update with the hash we last saw). On hash_conflict,
 * renders again from the store and retries once without a hash: the last write is the store's.
 * A view the user already closed (`not_found`) is left alone.
 */
async function showDetails(
  svc: DetailsDeps,
  tasks: TaskService,
  who: Who,
  taskId: number,
  target: ViewRef,
  opts: { depth: number; notice?: string },
): Promise<void> {
  const update = async (hash: string | undefined) => {
    const view = await renderDetails(svc, tasks, who, taskId, opts);
    await svc.client.views.update({ view_id: target.id, ...(hash ? { hash } : {}), view });
  };
  try {
    await update(target.hash);
  } catch (err) {
    const code = slackErrorCode(err);
    if (code === 'hash_conflict') {
      svc.logger.info(`task ${taskId}: details view ${target.id} of ${who.userId} changed meanwhile (hash_conflict); redrawing from the store`);
      try {
        await update(undefined);
      } catch (retryErr) {
        if (slackErrorCode(retryErr) !== 'not_found') throw retryErr;
      }
    } else if (code === 'not_found') {
      svc.logger.debug(`task ${taskId}: details view ${target.id} of ${who.userId} is closed`);
    } else throw err;
  }
}

/** Pushes `child` on top of `parent`, or puts it in the parent's place when the stack is full. */
async function placeOnTop(
  svc: DetailsDeps,
  parent: ViewOutput,
  triggerId: string | undefined,
  build: (meta: StackMeta) => ModalView,
  taskId: number,
): Promise<void> {
  const depth = stackDepth(parent);
  if (depth < MAX_STACK && triggerId) {
    const meta: StackMeta = { taskId, depth: depth + 1, parentId: parent.id, parentHash: parent.hash };
    await svc.client.views.push({ trigger_id: triggerId, view: build(meta) });
  } else {
    // The 4th view would be refused (push_limit_reached): replace the details view instead; the
    // child's submission then answers response_action "update" with the details again.
    await svc.client.views.update({ view_id: parent.id, hash: parent.hash, view: build({ taskId, depth }) });
  }
}

/** What the details stack's listeners use: the service, and Slack for the views. */
export type DetailsHandlerDeps = { tasks: TaskService } & DetailsDeps;

type DetailsClick = BlockAction<ButtonAction> & { view?: ViewOutput };
type ClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction<ButtonAction>>, 'ack' | 'body' | 'action'>;
type SubmitArgs = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;
type Ack = AckFn<ViewResponseAction>;

/** Reads a details button click; undefined when it did not come from a details view. */
function detailsClickOf(body: DetailsClick, action: ButtonAction) {
  const view = body.view;
  const taskId = rowIdOf(action.value) ?? decodeStackMeta(view?.private_metadata)?.taskId;
  if (!view || taskId === undefined) return undefined;
  const who: Who = { teamId: teamIdOf(body), userId: body.user.id };
  return { view, taskId, who, depth: stackDepth(view), triggerId: body.trigger_id || undefined };
}
type Click = NonNullable<ReturnType<typeof detailsClickOf>>;

/** The details view again, with a line saying why nothing happened. */
async function explainInPlace(deps: DetailsHandlerDeps, click: Click, err: unknown, what: string, form?: string): Promise<void> {
  const fromSlack = !(err instanceof DomainError) && slackErrorCode(err) !== undefined;
  if (err instanceof DomainError || fromSlack) deps.logger.info(`task ${click.taskId}: ${click.who.userId} ${what}: ${describeError(err)}`);
  else deps.logger.error(`task ${click.taskId} (team ${click.who.teamId}): ${click.who.userId} ${what} failed: ${describeError(err)}`);
  const notice = fromSlack && form ? couldNotOpenText(form, err) : userMessageFor(err);
  await showDetails(deps, deps.tasks, click.who, click.taskId, click.view, { depth: click.depth, notice }).catch((e: unknown) =>
    deps.logger.warn(`task ${click.taskId}: could not redraw the details for ${click.who.userId}: ${describeError(e)}`),
  );
}

/** Complete: changes the task, then redraws the details view in place. */
export const handleDetailsComplete = (deps: DetailsHandlerDeps) =>
  async function detailsComplete({ ack, body, action }: ClickArgs): Promise<void> {
    await ack();
    const click = detailsClickOf(body as DetailsClick, action);
    if (!click) return;
    try {
      await deps.tasks.complete(click.who, { id: click.taskId });
    } catch (err) {
      await explainInPlace(deps, click, err, 'completing from the details');
      return;
    }
    await showDetails(deps, deps.tasks, click.who, click.taskId, click.view, { depth: click.depth });
  };

/** Edit: the form on top of the details (or in its place at the stack's limit), for the assignee or creator. */
export const handleDetailsEdit = (deps: DetailsHandlerDeps) => openFormOnTop('edit', deps);
/** Comment: the comment form on top of the details. */
export const handleDetailsComment = (deps: DetailsHandlerDeps) => openFormOnTop('comment', deps);
/** Delete: the confirmation on top of the details, for the creator. */
export const handleDetailsDelete = (deps: DetailsHandlerDeps) => openFormOnTop('delete', deps);

const openFormOnTop = (verb: 'edit' | 'comment' | 'delete', deps: DetailsHandlerDeps) =>
  async function openForm({ ack, body, action }: ClickArgs): Promise<void> {
    await ack();
    const click = detailsClickOf(body as DetailsClick, action);
    if (!click) return;
    try {
      const task = await deps.tasks.get(click.who, { id: click.taskId });
      const actor: Actor = click.who;
      if (verb === 'edit' && !mayChange(task, actor)) throw notAllowedError(task, 'edit');
      if (verb === 'delete' && !mayDelete(task, actor)) throw notAllowedError(task, 'delete');
      // The form's submission checks the editor's "today" and maybe a new assignee: warm the cache.
      if (verb === 'edit') warmUser(deps, click.who.userId);
      const build = (meta: StackMeta) =>
        verb === 'edit' ? editTaskModal(task, meta) : verb === 'comment' ? commentTaskModal(task, meta) : deleteTaskConfirmModal(task, meta);
      await placeOnTop(deps, click.view, click.triggerId, build, task.id);
    } catch (err) {
      await explainInPlace(deps, click, err, `opening the ${verb} form`, verb === 'delete' ? 'the confirmation' : `the ${verb === 'edit' ? 'Edit' : 'Comment'} form`);
    }
  };

/**
 * What a form's submission shares: who, which task, and how to go back to the details — pop
 * and redraw the parent (pushed form), or answer with the details in the form's place.
 */
function submissionOf(body: ViewSubmitAction, view: ViewOutput) {
  const meta = decodeStackMeta(view.private_metadata);
  // Answered in the ack: whether the user is a guest is asked of Slack within a bounded wait.
  const who: Who = { teamId: teamIdOf(body), userId: body.user.id, lookupBudgetMs: LOOKUP_BUDGET_MS };
  // Pushed on the details view: Slack names it previous_view_id; the metadata says the same.
  const parentId = meta?.parentId ? (stringOf(view.previous_view_id) ?? meta.parentId) : undefined;
  const parent: ViewRef | undefined = parentId && meta ? { id: parentId, ...(parentId === meta.parentId && meta.parentHash ? { hash: meta.parentHash } : {}) } : undefined;
  return { meta, who, parent };
}
type Submission = ReturnType<typeof submissionOf>;

/** The answer that returns to the details view (or a notice) once the change is stored. */
async function backToDetails(deps: DetailsHandlerDeps, s: Submission, ack: Ack, timeZone?: string): Promise<void> {
  if (!s.meta) return ack({ response_action: 'update', view: noticeModal('Task not found', 'That task no longer exists.') });
  if (s.parent) return ack(); // pops the form; the parent is redrawn after the ack
  const view = await renderDetailsNow(deps, deps.tasks, s.who, s.meta.taskId, s.meta.depth, timeZone);
  return ack({ response_action: 'update', view });
}

async function refreshParent(deps: DetailsHandlerDeps, s: Submission): Promise<void> {
  if (!s.parent || !s.meta) return;
  await showDetails(deps, deps.tasks, s.who, s.meta.taskId, s.parent, { depth: Math.max(1, s.meta.depth - 1) });
}

/** A refusal that has no input to go on: the form becomes a notice (the stack stays). */
async function refuse(deps: DetailsHandlerDeps, ack: Ack, title: string, err: unknown, what: string, s: Submission): Promise<void> {
  if (!(err instanceof DomainError)) deps.logger.error(`task ${s.meta?.taskId ?? '?'} (team ${s.who.teamId}): ${s.who.userId} ${what} failed: ${describeError(err)}`);
  await ack({ response_action: 'update', view: noticeModal(title, userMessageFor(err)) });
  // The details below may be stale too (a task deleted meanwhile): redraw them from the store.
  await refreshParent(deps, s);
}

/** The Edit form's submission: checked and stored before the ack; a new assignee after it. */
export const handleEditTaskSubmit = (deps: DetailsHandlerDeps) =>
  async function editTaskSubmit({ ack, body, view }: SubmitArgs): Promise<void> {
    const { tasks } = deps;
    const s = submissionOf(body, view);
    if (!s.meta) return backToDetails(deps, s, ack);
    const ref = { id: s.meta.taskId };
    const task = await tasks.find(s.who, ref);
    if (!task) return refuse(deps, ack, 'Edit task', new NotFoundError('task gone', 'That task no longer exists. It may have been deleted.'), 'editing', s);
    if (!mayChange(task, s.who)) return refuse(deps, ack, 'Edit task', notAllowedError(task, 'edit'), 'editing', s);

    const form = readTaskForm(view.state.values);
    const newAssignee = form.assigneeId && form.assigneeId !== task.assigneeId ? form.assigneeId : undefined;
    const { errors, timeZone } = await checkTaskForm(deps, {
      userId: s.who.userId,
      form,
      // An unchanged due date may be in the past by now; only a new one must not be.
      checkDue: form.dueDate !== task.dueDate,
      checkAssignee: newAssignee !== undefined,
    });
    if (Object.keys(errors).length > 0) return ack({ response_action: 'errors', errors });
    try {
      await tasks.edit(
        { ...s.who, timeZone: timeZone ?? ZONE_UTC_MINUS_12 },
        ref,
        { title: form.title, description: form.description, dueDate: form.dueDate, priority: form.priority },
      );
    } catch (err) {
      if (err instanceof InvalidInputError && Object.keys(toBlockErrors(err.fields)).length > 0) {
        return ack({ response_action: 'errors', errors: toBlockErrors(err.fields) });
      }
      return refuse(deps, ack, 'Edit task', err, 'editing', s);
    }
    await backToDetails(deps, s, ack, timeZone);

    // After the ack: a new assignee (users.info may be needed), then the details view below.
    if (newAssignee) {
      try {
        await tasks.assign(s.who, ref, newAssignee);
      } catch (err) {
        if (!(err instanceof DomainError)) deps.logger.error(`task ${task.id}: reassigning from the edit form failed: ${describeError(err)}`);
        await dm(deps, s.who.userId, `Your other changes to ${taskLabel(task)} were saved, but I couldn’t reassign it to ${mention(newAssignee)}: ${userMessageFor(err)}`);
      }
      if (!s.parent) await showDetails(deps, tasks, s.who, task.id, { id: view.id }, { depth: s.meta.depth });
    }
    await refreshParent(deps, s);
  };

/** The Comment form's submission. */
export const handleCommentTaskSubmit = (deps: DetailsHandlerDeps) =>
  async function commentTaskSubmit({ ack, body, view }: SubmitArgs): Promise<void> {
    const s = submissionOf(body, view);
    if (!s.meta) return backToDetails(deps, s, ack);
    const text = viewInput(view.state.values, COMMENT_FIELD).text() ?? '';
    try {
      await deps.tasks.comment(s.who, { id: s.meta.taskId }, text);
    } catch (err) {
      if (err instanceof InvalidInputError) return ack({ response_action: 'errors', errors: { [COMMENT_FIELD]: err.fields['comment'] ?? err.userMessage } });
      return refuse(deps, ack, 'Comment', err, 'commenting', s);
    }
    await backToDetails(deps, s, ack);
    await refreshParent(deps, s);
  };

/** Delete: the store change decides the answer; "clear" closes the whole stack, details included. */
export const handleDeleteTaskSubmit = (deps: DetailsHandlerDeps) =>
  async function deleteTaskSubmit({ ack, body, view }: SubmitArgs): Promise<void> {
    const s = submissionOf(body, view);
    try {
      if (!s.meta) throw new NotFoundError('no task id in the delete confirmation', 'That task no longer exists.');
      await deps.tasks.remove(s.who, { id: s.meta.taskId });
    } catch (err) {
      return refuse(deps, ack, 'Delete task', err, 'deleting', s);
    }
    await ack({ response_action: 'clear' });
  };

async function dm(deps: Pick<Services, 'client' | 'logger'>, userId: string, text: string): Promise<void> {
  await deps.client.chat.postMessage({ channel: userId, text }).catch((err: unknown) => deps.logger.warn(`could not DM ${userId}: ${describeError(err)}`));
}
