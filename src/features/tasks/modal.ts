import type {
  BlockAction,
  GlobalShortcut,
  SlackActionMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
  SlackViewMiddlewareArgs,
  UsersSelectAction,
  ViewOutput,
  ViewSubmitAction,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { DomainError, InvalidInputError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { openModal } from '../../slack/modals.js';
import { metadataObject, objectOf, teamIdOf } from '../../slack/values.js';
import { TASK_ORIGINS, type TaskOrigin } from '../../store/schema.js';
import type { TaskService } from './service.js';
import { plainText } from './steps.js';
import { LOOKUP_BUDGET_MS, checkTaskForm, readTaskForm, toBlockErrors, warmUser } from './taskForm.js';
import { NEW_TASK_FIELD, newTaskModal, type NewTaskMetadata } from './views.js';

/**
 * The New task modal, opened by `/task`, the New task shortcut, the App Home and —
 * prefilled — Make a task. The submission is checked and the task stored before the ack (store,
 * payload, cached users, bounded look-ups; see taskForm.ts); its Slack effects go out through the outbox.
 */

/**
 * Opens the New task modal at once: nothing is awaited before `views.open`, so the 3-second
 * trigger id is used while fresh. The user's time zone goes in the metadata when the cache has
 * it; otherwise the user is looked up meanwhile, for the submission to find in the cache.
 * Throws what views.open throws (see `couldNotOpenText`).
 */
export async function openNewTaskModal(
  client: WebClient,
  svc: Pick<Services, 'users' | 'background' | 'logger'>,
  opts: { triggerId: string; userId: string; origin: TaskOrigin; title?: string; description?: string },
): Promise<void> {
  const tz = svc.users.peek(opts.userId)?.tz;
  warmUser(svc, opts.userId);
  const metadata: NewTaskMetadata = { origin: opts.origin, ...(tz ? { tz } : {}) };
  await openModal(client, opts, newTaskModal({ userId: opts.userId, metadata, title: opts.title, description: opts.description }));
}

export function readNewTaskMetadata(raw: unknown): NewTaskMetadata {
  const m = metadataObject(raw) as Partial<Record<keyof NewTaskMetadata, unknown>> | undefined;
  const origin = TASK_ORIGINS.find((o) => o === m?.origin) ?? 'shortcut';
  const s = objectOf(m?.source);
  const source =
    s && typeof s['channelId'] === 'string' && typeof s['ts'] === 'string'
      ? { channelId: s['channelId'], ts: s['ts'], ...(typeof s['threadTs'] === 'string' ? { threadTs: s['threadTs'] } : {}) }
      : undefined;
  return { origin, ...(typeof m?.tz === 'string' && m.tz !== '' ? { tz: m.tz } : {}), ...(source ? { source } : {}) };
}

type FormDeps = Pick<Services, 'users' | 'background' | 'logger'>;
type ErrorsResponse = { response_action: 'errors'; errors: Record<string, string> };

/**
 * The assignee select dispatches each choice (dispatch_action): look the person up now, so the
 * submission can tell a bot or a deactivated account from the cache, before its ack.
 */
export const handleAssigneePicked = (deps: FormDeps) =>
  async function assigneePicked({ ack, action }: Pick<SlackActionMiddlewareArgs<BlockAction<UsersSelectAction>>, 'ack' | 'action'>): Promise<void> {
    await ack();
    warmUser(deps, action.selected_user);
  };

/** The New task form's submission: stored before the ack, or refused on the form. */
export const handleNewTaskSubmit = (deps: { tasks: TaskService } & FormDeps & Pick<Services, 'now'>) =>
  async function newTaskSubmit({ ack, view, body }: Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>): Promise<void> {
    await ack(await createFromForm(deps, body, view));
  };

/** Creates the submitted task; the form's errors when it is refused, undefined once it is stored. */
async function createFromForm(deps: { tasks: TaskService } & FormDeps & Pick<Services, 'now'>, body: ViewSubmitAction, view: ViewOutput): Promise<ErrorsResponse | undefined> {
  const teamId = teamIdOf(body);
  const userId = body.user.id;
  const meta = readNewTaskMetadata(view.private_metadata);
  const form = readTaskForm(view.state.values);
  // One budget for everything Slack is asked before the ack (the form's checks and the service's).
  const deadline = Date.now() + LOOKUP_BUDGET_MS;

  // Decided before the ack, from the payload, the store and cached users.
  const { errors, timeZone } = await checkTaskForm(deps, { userId, form, timeZone: meta.tz, checkDue: true, checkAssignee: true });
  if (Object.keys(errors).length > 0) return { response_action: 'errors', errors };
  // Stored before the ack (a form Slack saw accepted is never lost); what only Slack knows is
  // asked within the same budget, and the cards and DMs go out through the outbox after.
  try {
    await deps.tasks.create(
      { teamId, userId, lookupBudgetMs: Math.max(0, deadline - Date.now()), ...(timeZone ? { timeZone } : {}) },
      {
        title: form.title,
        description: form.description,
        assigneeId: form.assigneeId,
        dueDate: form.dueDate,
        priority: form.priority,
        channelId: form.channelId ?? null,
        origin: meta.origin,
        ...(form.repeat ? { repeat: form.repeat } : {}),
        ...(meta.source ? { sourceMessage: meta.source } : {}),
      },
    );
  } catch (err) {
    if (err instanceof InvalidInputError && Object.keys(toBlockErrors(err.fields)).length > 0) {
      // A modal's error text is plain: a mention would show as <@U…>, so people are named.
      const named = (text: string) => text.replace(/<@([UW][A-Z0-9]+)>/g, (_, id: string) => deps.users.peek(id)?.name ?? 'That person');
      return { response_action: 'errors', errors: Object.fromEntries(Object.entries(toBlockErrors(err.fields)).map(([block, text]) => [block, named(text)])) };
    }
    if (!(err instanceof DomainError)) deps.logger.error(`new task modal (team ${teamId}, user ${userId}): ${describeError(err)}`);
    return { response_action: 'errors', errors: { [NEW_TASK_FIELD.title]: `The task was not created: ${plainText(userMessageFor(err))}` } };
  }
  return undefined;
}

/** The New task shortcut: the form, or a DM saying why it could not open (a global shortcut has no channel or response_url). */
export const handleNewTaskShortcut = (deps: FormDeps) =>
  async function newTaskShortcut({ ack, shortcut, client }: Pick<SlackShortcutMiddlewareArgs<GlobalShortcut>, 'ack' | 'shortcut'> & { client: WebClient }): Promise<void> {
    await ack();
    const userId = shortcut.user.id;
    try {
      await openNewTaskModal(client, deps, { triggerId: shortcut.trigger_id, userId, origin: 'shortcut' });
    } catch (err) {
      deps.logger.warn(`new task shortcut (user ${userId}): could not open the modal: ${describeError(err)}`);
      await client.chat
        .postMessage({ channel: userId, text: couldNotOpenText('the New task form', err) })
        .catch((e: unknown) => deps.logger.warn(`could not DM ${userId}: ${describeError(e)}`));
    }
  };
