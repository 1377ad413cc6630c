import type {
  BlockAction,
  BlockSuggestion,
  ButtonAction,
  ExternalSelectAction,
  OverflowAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackViewMiddlewareArgs,
  StaticSelectAction,
  ViewSubmitAction,
  types,
} from '@slack/bolt';
import { DomainError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { LIMIT } from '../../slack/mrkdwn.js';
import { openModal } from '../../slack/modals.js';
import { rowIdOf, selectedOptionValue, stringOf, teamIdOf, viewInput } from '../../slack/values.js';
import { noticeModal } from '../../slack/views.js';
import type { DashboardStore } from '../../store/dashboardStore.js';
import type { HomeStatePrefsStore } from '../../store/homeStateStore.js';
import { isHomeFilter, type HomePrefs } from '../../store/homeState.js';
import { openRequestApprovalModal } from '../approvals/requestForm.js';
import { openTaskDetails, openTaskForm, type DetailsDeps } from '../tasks/details.js';
import { openNewTaskModal } from '../tasks/modal.js';
import type { TaskService } from '../tasks/service.js';
import { LOOKUP_BUDGET_MS } from '../tasks/taskForm.js';
import { homePublishEffect } from './effects.js';
import { REASSIGN_INPUT, decodeTaskMeta, parsePageValue, parseTaskMenuValue, reassignModal, searchOptions } from './views.js';

/**
 * The App Home's listeners. They stay thin: ack, read the payload, call a service or the
 * home_state repository, then let the outbox redraw. Homes are drawn by the outbox (effects.ts):
 * every feature's changes write a publish for the people they affect, and opening the Home or
 * clicking on it writes one for that person.
 */

/** What redrawing a Home needs: the home_state repository and the outbox. */
export type RepublishDeps = { homeState: HomeStatePrefsStore } & Pick<Services, 'outbox' | 'now'>;
/** What the Home's task buttons need: the tasks feature's service and modals. */
export type HomeTaskDeps = { tasks: TaskService } & DetailsDeps;

type ClickArgs<A extends BlockAction> = Pick<SlackActionMiddlewareArgs<A>, 'ack' | 'body' | 'action'>;

/**
 * The user's Home, drawn afresh (an outbox row, coalesced with any change's), with `prefs`
 * stored in the same transaction (none: only the time they looked at it).
 */
async function republish(deps: RepublishDeps, teamId: string, userId: string, prefs?: HomePrefs): Promise<void> {
  const publish = [homePublishEffect(teamId, userId)];
  const now = deps.now();
  await (prefs ? deps.homeState.save(teamId, userId, prefs, now, publish) : deps.homeState.touch(teamId, userId, now, publish));
  deps.outbox.kick();
}

/** Opening the Home tab draws it. */
export const handleHomeOpened = (deps: RepublishDeps) =>
  async function homeOpened({ event, body }: Pick<SlackEventMiddlewareArgs<'app_home_opened'>, 'event' | 'body'>): Promise<void> {
    // Slack sends this event for the Messages tab too; only the Home tab is ours to draw.
    if (event.tab !== 'home') return;
    await republish(deps, teamIdOf(body), event.user);
  };

/** The filter select: that list, from its first page. */
export const handleHomeFilter = (deps: RepublishDeps) =>
  async function homeFilter({ ack, body, action }: ClickArgs<BlockAction<StaticSelectAction>>): Promise<void> {
    await ack();
    const click = clickOf(body);
    const filter = selectedOptionValue(action);
    if (!isHomeFilter(filter)) return;
    await republish(deps, click.teamId, click.userId, { filter, page: 0 });
  };

/** Previous / Next: the page the button names. */
export const handleHomePage = (deps: RepublishDeps) =>
  async function turnPage({ ack, body, action }: ClickArgs<BlockAction<ButtonAction>>): Promise<void> {
    await ack();
    const click = clickOf(body);
    const target = parsePageValue(stringOf(action.value));
    const filter = target?.filter;
    if (!target || !isHomeFilter(filter)) return;
    // The button says which filter it was drawn for: a click on a stale Home cannot page another list.
    await republish(deps, click.teamId, click.userId, { filter, page: target.page });
  };

/** The header's New task button: the tasks feature's modal (its submission creates the task, origin "home"). */
export const handleHomeNewTask = (deps: Pick<Services, 'client' | 'logger' | 'users' | 'background'>) =>
  async function homeNewTask({ ack, body }: Pick<ClickArgs<BlockAction<ButtonAction>>, 'ack' | 'body'>): Promise<void> {
    await ack();
    const click = clickOf(body);
    if (!click.triggerId) return;
    try {
      await openNewTaskModal(deps.client, deps, { triggerId: click.triggerId, userId: click.userId, origin: 'home' });
    } catch (err) {
      deps.logger.warn(`home: could not open the New task modal for ${click.userId} (team ${click.teamId}): ${describeError(err)}`);
    }
  };

/** The header's Request approval button: the same modal as the Request approval shortcut. */
export const handleHomeRequestApproval = (deps: Pick<Services, 'client' | 'logger'>) =>
  async function homeRequestApproval({ ack, body }: Pick<ClickArgs<BlockAction<ButtonAction>>, 'ack' | 'body'>): Promise<void> {
    await ack();
    const click = clickOf(body);
    if (!click.triggerId) return;
    await openRequestApprovalModal(deps, { triggerId: click.triggerId }).catch((err: unknown) =>
      deps.logger.warn(`home: could not open the Request approval modal for ${click.userId} (team ${click.teamId}): ${describeError(err)}`),
    );
  };

/**
 * Search options come from the local store (Slack waits 3 s for them), one workspace only, what
 * the user may see only; whether they are a guest is asked of Slack within a bounded wait.
 */
export const handleHomeSearchOptions = (deps: { tasks: TaskService; dashboard: DashboardStore }) =>
  async function homeSearchOptions({ ack, body }: Pick<SlackOptionsMiddlewareArgs<BlockSuggestion['type']>, 'ack' | 'body'>): Promise<void> {
    const b = body as BlockSuggestion;
    const teamId = teamIdOf(b);
    const reader = teamId === '' ? undefined : await deps.tasks.viewer({ teamId, userId: b.user.id, lookupBudgetMs: LOOKUP_BUDGET_MS });
    const hits = reader ? await deps.dashboard.searchTasks(reader, b.value.slice(0, 200), LIMIT.staticOptions) : [];
    await ack({ options: searchOptions(hits) });
  };

/** A search result picked: its details modal. */
export const handleHomeSearchPick = (deps: HomeTaskDeps) =>
  async function homeSearchPick({ ack, body, action }: ClickArgs<BlockAction<ExternalSelectAction>>): Promise<void> {
    await ack();
    const taskId = rowIdOf(selectedOptionValue(action));
    if (taskId === undefined) return;
    await openTask(deps, clickOf(body), taskId);
  };

/** A task's Complete button. The change writes a Home publish for everyone it affects (an outbox effect). */
export const handleHomeTaskComplete = (deps: HomeTaskDeps) =>
  async function homeTaskComplete({ ack, body, action }: ClickArgs<BlockAction<ButtonAction>>): Promise<void> {
    await ack();
    const click = clickOf(body);
    const taskId = rowIdOf(action.value);
    if (taskId === undefined) return;
    try {
      await deps.tasks.complete(actorOf(click), { id: taskId });
    } catch (err) {
      await explain(deps, click, err, `completing task ${taskId}`);
    }
  };

/** A task's menu: open, reopen, edit, delete, reassign. */
export const handleHomeTaskMenu = (deps: HomeTaskDeps) =>
  async function homeTaskMenu({ ack, body, action }: ClickArgs<BlockAction<OverflowAction>>): Promise<void> {
    await ack();
    const click = clickOf(body);
    const choice = parseTaskMenuValue(selectedOptionValue(action));
    if (!choice) return;
    const ref = { id: choice.taskId };
    try {
      switch (choice.verb) {
        case 'open':
          await openTask(deps, click, choice.taskId);
          return;
        case 'reopen':
          await deps.tasks.reopen(actorOf(click), ref);
          return;
        case 'edit':
        case 'delete':
          if (click.triggerId) await openTaskForm(deps, deps.tasks, choice.verb, { ...actorOf(click), taskId: choice.taskId, triggerId: click.triggerId });
          return;
        case 'reassign':
          await openModalFor(deps, click, reassignModal(await deps.tasks.get(actorOf(click), ref)));
          return;
      }
    } catch (err) {
      await explain(deps, click, err, `${choice.verb} task ${choice.taskId}`);
    }
  };

/**
 * The Reassign modal's submission, answered in the ack: a guest lookup (rarely needed: only the
 * assignee or creator may reassign) is bounded. Who the assignee is (bot? deactivated?) needs
 * Slack, so the service checks that after the ack and the modal shows the outcome.
 */
export const handleReassignSubmit = (deps: { tasks: TaskService } & Pick<Services, 'client' | 'logger'>) =>
  async function reassignSubmit({ ack, body, view }: Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>): Promise<void> {
    const actor = { teamId: teamIdOf(body), userId: body.user.id, lookupBudgetMs: LOOKUP_BUDGET_MS };
    const taskId = decodeTaskMeta(view.private_metadata)?.taskId;
    const assigneeId = viewInput(view.state.values, REASSIGN_INPUT.block, REASSIGN_INPUT.action).selectedUser() || undefined;
    if (!assigneeId) {
      await ack({ response_action: 'errors', errors: { [REASSIGN_INPUT.block]: 'Pick the person who should do this task.' } });
      return;
    }
    // Before the ack only the local store is read.
    const task = taskId === undefined ? undefined : await deps.tasks.find(actor, { id: taskId });
    if (!task) {
      await ack({ response_action: 'update', view: noticeModal('Reassign task', 'That task no longer exists.') });
      return;
    }
    if (task.assigneeId === assigneeId) {
      await ack({ response_action: 'errors', errors: { [REASSIGN_INPUT.block]: 'The task is already assigned to this person.' } });
      return;
    }
    await ack({ response_action: 'update', view: noticeModal('Reassign task', `Reassigning *#${task.number}*…`) });
    let outcome: string;
    try {
      const updated = await deps.tasks.assign(actor, { id: task.id }, assigneeId);
      outcome = `*#${updated.number}* is now assigned to <@${updated.assigneeId}>.`;
    } catch (err) {
      if (!(err instanceof DomainError)) deps.logger.error(`home: reassigning task ${task.id} (team ${actor.teamId}) failed: ${describeError(err)}`);
      outcome = userMessageFor(err);
    }
    await deps.client.views
      .update({ view_id: view.id, view: noticeModal('Reassign task', outcome) })
      .catch((err: unknown) => deps.logger.warn(`home: could not show the reassign outcome to ${actor.userId}: ${describeError(err)}`));
  };

interface Click {
  teamId: string;
  userId: string;
  triggerId: string | undefined;
}

function clickOf(body: BlockAction): Click {
  return { teamId: teamIdOf(body), userId: body.user.id, triggerId: body.trigger_id || undefined };
}

const actorOf = (click: Click) => ({ teamId: click.teamId, userId: click.userId });

async function openTask(deps: HomeTaskDeps, click: Click, taskId: number): Promise<void> {
  if (!click.triggerId) return;
  try {
    // The tasks feature's details modal, with the buttons this user may use (Edit, Comment, …).
    await openTaskDetails(deps, deps.tasks, { ...actorOf(click), taskId, triggerId: click.triggerId });
  } catch (err) {
    await explain(deps, click, err, `opening task ${taskId}`);
  }
}

/** Domain errors become their user message in a small modal (a Home has no channel to answer in). */
async function explain(deps: Pick<Services, 'client' | 'logger'>, click: Click, err: unknown, what: string): Promise<void> {
  if (err instanceof DomainError) deps.logger.info(`home: ${click.userId} (team ${click.teamId}) ${what}: ${err.message}`);
  else deps.logger.error(`home: ${click.userId} (team ${click.teamId}) ${what} failed: ${describeError(err)}`);
  await openModalFor(deps, click, noticeModal('Tasklane', userMessageFor(err)));
}

async function openModalFor(deps: Pick<Services, 'client' | 'logger'>, click: Click, view: types.ModalView): Promise<void> {
  if (!click.triggerId) return;
  try {
    await openModal(deps.client, click, view);
  } catch (err) {
    deps.logger.warn(`home: could not open a modal for ${click.userId} (team ${click.teamId}): ${describeError(err)}`);
  }
}
