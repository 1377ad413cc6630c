import type {
  BlockAction,
  BlockSuggestion,
  ButtonAction,
  ExternalSelectAction,
  OverflowAction,
  StaticSelectAction,
  ViewSubmitAction,
  types,
} from '@slack/bolt';
import { DomainError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { ACTION, EVENT, VIEW } from '../../slack/ids.js';
import { LIMIT } from '../../slack/mrkdwn.js';
import { rowIdOf, selectedOptionValue, stringOf, teamIdOf, viewInput } from '../../slack/values.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { openModal } from '../../slack/modals.js';
import { noticeModal } from '../../slack/views.js';
import { isHomeFilter, type HomePrefs } from '../../store/homeState.js';
import { openRequestApprovalModal } from '../approvals/requestForm.js';
import { openNewTaskModal } from '../tasks/modal.js';
import { LOOKUP_BUDGET_MS } from '../tasks/taskForm.js';
import type { TaskService } from '../tasks/service.js';
import { openTaskDetails, openTaskForm } from '../tasks/details.js';
import { homePublishEffect } from './effects.js';
import {
  REASSIGN_INPUT,
  decodeTaskMeta,
  parsePageValue,
  parseTaskMenuValue,
  reassignModal,
  searchOptions,
} from './views.js';

/**
 * The App Home. Listeners stay thin: ack, read the payload, call a service or the
 * home_state repository, then let the outbox redraw. Approve / Reject on the Home use the
 * approvals feature's own ACTION.approve / ACTION.reject listeners, which serve view containers.
 *
 * Homes are drawn by the outbox (effects.ts): every feature's changes write a publish for the
 * people they affect, and opening the Home or clicking on it writes one for that person.
 */
export function registerHome(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  const { homeState, dashboard } = svc.stores;

  /**
   * The user's Home, drawn afresh (an outbox row, coalesced with any change's), with `prefs`
   * stored in the same transaction (none: only the time they looked at it).
   */
  const republish = async (teamId: string, userId: string, prefs?: HomePrefs) => {
    const publish = [homePublishEffect(teamId, userId)];
    const now = svc.now();
    await (prefs ? homeState.save(teamId, userId, prefs, now, publish) : homeState.touch(teamId, userId, now, publish));
    svc.outbox.kick();
  };

  reg.event(EVENT.appHomeOpened, async ({ event, body }) => {
    // Slack sends this event for the Messages tab too; only the Home tab is ours to draw.
    if (event.tab !== 'home') return;
    const teamId = teamIdOf(body);
    await republish(teamId, event.user);
  });

  // ---------------------------------------------------------------- filter and pages

  reg.action<BlockAction<StaticSelectAction>>(ACTION.homeFilter, async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    const filter = selectedOptionValue(action);
    if (!isHomeFilter(filter)) return;
    await republish(click.teamId, click.userId, { filter, page: 0 });
  });

  const turnPage = async ({ ack, body, action }: { ack: () => Promise<void>; body: BlockAction<ButtonAction>; action: ButtonAction }) => {
    await ack();
    const click = clickOf(body);
    const target = parsePageValue(stringOf(action.value));
    const filter = target?.filter;
    if (!target || !isHomeFilter(filter)) return;
    // The button says which filter it was drawn for: a click on a stale Home cannot page another list.
    await republish(click.teamId, click.userId, { filter, page: target.page });
  };
  reg.action<BlockAction<ButtonAction>>(ACTION.homePrev, turnPage);
  reg.action<BlockAction<ButtonAction>>(ACTION.homeNext, turnPage);

  // ---------------------------------------------------------------- header

  reg.action<BlockAction<ButtonAction>>(ACTION.homeNewTask, async ({ ack, body }) => {
    await ack();
    const click = clickOf(body);
    if (!click.triggerId) return;
    try {
      // The tasks feature's New task modal; its submission creates the task (origin "home").
      await openNewTaskModal(svc.client, svc, { triggerId: click.triggerId, userId: click.userId, origin: 'home' });
    } catch (err) {
      svc.logger.warn(`home: could not open the New task modal for ${click.userId} (team ${click.teamId}): ${describeError(err)}`);
    }
  });

  // The same modal as the Request approval shortcut.
  reg.action<BlockAction<ButtonAction>>(ACTION.homeRequestApproval, async ({ ack, body }) => {
    await ack();
    const click = clickOf(body);
    if (!click.triggerId) return;
    await openRequestApprovalModal(svc, { triggerId: click.triggerId }).catch((err: unknown) =>
      svc.logger.warn(`home: could not open the Request approval modal for ${click.userId} (team ${click.teamId}): ${describeError(err)}`),
    );
  });

  // Search: options come from the local store (Slack waits 3 s for them), one workspace only, what
  // the user may see only; whether they are a guest is asked of Slack within a bounded wait.
  reg.options(ACTION.homeSearch, async ({ ack, body }) => {
    const b = body as BlockSuggestion;
    const teamId = teamIdOf(b);
    const reader = teamId === '' ? undefined : await tasks.viewer({ teamId, userId: b.user.id, lookupBudgetMs: LOOKUP_BUDGET_MS });
    const hits = reader ? await dashboard.searchTasks(reader, b.value.slice(0, 200), LIMIT.staticOptions) : [];
    await ack({ options: searchOptions(hits) });
  });

  reg.action<BlockAction<ExternalSelectAction>>(ACTION.homeSearch, async ({ ack, body, action }) => {
    await ack();
    const taskId = rowIdOf(selectedOptionValue(action));
    if (taskId === undefined) return;
    await openTask(clickOf(body), taskId);
  });

  // ---------------------------------------------------------------- a task's buttons

  reg.action<BlockAction<ButtonAction>>(ACTION.homeTaskComplete, async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    const taskId = rowIdOf(action.value);
    if (taskId === undefined) return;
    try {
      // The change writes a Home publish for everyone it affects (an outbox effect).
      await tasks.complete(actorOf(click), { id: taskId });
    } catch (err) {
      await explain(click, err, `completing task ${taskId}`);
    }
  });

  reg.action<BlockAction<OverflowAction>>(ACTION.homeTaskOverflow, async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    const choice = parseTaskMenuValue(selectedOptionValue(action));
    if (!choice) return;
    const ref = { id: choice.taskId };
    try {
      switch (choice.verb) {
        case 'open':
          await openTask(click, choice.taskId);
          return;
        case 'reopen':
          await tasks.reopen(actorOf(click), ref);
          return;
        case 'edit':
        case 'delete':
          if (click.triggerId) await openTaskForm(svc, tasks, choice.verb, { ...actorOf(click), taskId: choice.taskId, triggerId: click.triggerId });
          return;
        case 'reassign':
          await openModalFor(svc, click, reassignModal(await tasks.get(actorOf(click), ref)));
          return;
      }
    } catch (err) {
      await explain(click, err, `${choice.verb} task ${choice.taskId}`);
    }
  });

  reg.view<ViewSubmitAction>(VIEW.reassignTask, async ({ ack, body, view }) => {
    // Answered in the ack: a guest lookup (rarely needed: only the assignee or creator may reassign) is bounded.
    const actor = { teamId: teamIdOf(body), userId: body.user.id, lookupBudgetMs: LOOKUP_BUDGET_MS };
    const taskId = decodeTaskMeta(view.private_metadata)?.taskId;
    const assigneeId = viewInput(view.state.values, REASSIGN_INPUT.block, REASSIGN_INPUT.action).selectedUser() || undefined;
    if (!assigneeId) {
      await ack({ response_action: 'errors', errors: { [REASSIGN_INPUT.block]: 'Pick the person who should do this task.' } });
      return;
    }
    // Before the ack only the local store is read; who the assignee is (bot? deactivated?) needs
    // Slack, so the service checks that after the ack and the modal shows the outcome.
    const task = taskId === undefined ? undefined : await tasks.find(actor, { id: taskId });
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
      const updated = await tasks.assign(actor, { id: task.id }, assigneeId);
      outcome = `*#${updated.number}* is now assigned to <@${updated.assigneeId}>.`;
    } catch (err) {
      if (!(err instanceof DomainError)) svc.logger.error(`home: reassigning task ${task.id} (team ${actor.teamId}) failed: ${describeError(err)}`);
      outcome = userMessageFor(err);
    }
    await svc.client.views
      .update({ view_id: view.id, view: noticeModal('Reassign task', outcome) })
      .catch((err: unknown) => svc.logger.warn(`home: could not show the reassign outcome to ${actor.userId}: ${describeError(err)}`));
  });

  async function openTask(click: Click, taskId: number): Promise<void> {
    if (!click.triggerId) return;
    try {
      // The tasks feature's details modal, with the buttons this user may use (Edit, Comment, …).
      await openTaskDetails(svc, tasks, { ...actorOf(click), taskId, triggerId: click.triggerId });
    } catch (err) {
      await explain(click, err, `opening task ${taskId}`);
    }
  }

  /** Domain errors become their user message in a small modal (a Home has no channel to answer in). */
  async function explain(click: Click, err: unknown, what: string): Promise<void> {
    if (err instanceof DomainError) svc.logger.info(`home: ${click.userId} (team ${click.teamId}) ${what}: ${err.message}`);
    else svc.logger.error(`home: ${click.userId} (team ${click.teamId}) ${what} failed: ${describeError(err)}`);
    await openModalFor(svc, click, noticeModal('Tasklane', userMessageFor(err)));
  }

}

interface Click {
  teamId: string;
  userId: string;
  triggerId: string | undefined;
}

function clickOf(body: BlockAction): Click {
  return { teamId: teamIdOf(body), userId: body.user.id, triggerId: body.trigger_id || undefined };
}

const actorOf = (click: Click) => ({ teamId: click.teamId, userId: click.userId });

async function openModalFor(svc: Services, click: Click, view: types.ModalView): Promise<void> {
  if (!click.triggerId) return;
  try {
    await openModal(svc.client, click, view);
  } catch (err) {
    svc.logger.warn(`home: could not open a modal for ${click.userId} (team ${click.teamId}): ${describeError(err)}`);
  }
}
