import type { BlockAction, ButtonAction, RespondFn, ViewSubmitAction } from '@slack/bolt';
import { DomainError, InvalidInputError, NotAllowedError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import type { Services } from '../../services.js';
import { ACTION, FUNCTION, SHORTCUT, VIEW } from '../../slack/ids.js';
import { rowIdOf, teamIdOf, viewInput } from '../../slack/values.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { openModal, triggerOf, type ModalTrigger } from '../../slack/modals.js';
import { noticeModal } from '../../slack/views.js';
import type { Approval, DecisionOutcome } from '../../store/approvals.js';
import { ApprovalClosedError, ApprovalService, MAX_APPROVERS, parseApprovalRequest } from './service.js';
import {
  INPUT,
  REQUEST_INPUT,
  alreadyDecidedPlain,
  approveCommentModal,
  decodeMeta,
  rejectReasonModal,
  requestApprovalModal,
} from './views.js';

/**
 * Approvals' listeners, kept thin: read the payload, call ApprovalService, render, call Slack.
 * Buttons and modal submissions record the decision (and its effects) in the local store before
 * the ack, so a refusal can show on the input and nothing acknowledged is lost; the outbox tells
 * Slack after. Slack calls go out with the bot token: the workflow token of a function-bound click expires.
 */
export function registerApprovals(reg: ListenerRegistry, svc: Services): ApprovalService {
  const approvals = new ApprovalService(svc);

  // Slack hears "received" only once the execution and its cards are recorded (a local store
  // write): a crash before that makes Slack redeliver it, instead of a workflow waiting forever.
  reg.function(
    FUNCTION.requestApproval,
    async ({ event, body, client, ack }) => {
      await approvals.requestFromWorkflow({
        teamId: teamIdOf(body),
        functionExecutionId: event.function_execution_id,
        workflowExecutionId: event.workflow_execution_id,
        inputs: event.inputs as Record<string, unknown>,
        workflowToken: client.token,
      });
      await ack?.();
    },
    { autoAcknowledge: false },
  );

  // "Request approval" outside Workflow Builder (a shortcut): a form, then the same service.
  reg.globalShortcut(SHORTCUT.requestApproval, async ({ ack, shortcut }) => {
    await ack();
    const userId = shortcut.user.id;
    try {
      await openRequestApprovalModal(svc, { triggerId: shortcut.trigger_id });
    } catch (err) {
      svc.logger.warn(`request approval shortcut (user ${userId}): could not open the modal: ${describeError(err)}`);
      await dm(svc, userId, couldNotOpenText('the Request approval form', err));
    }
  });

  reg.view<ViewSubmitAction>(VIEW.requestApproval, async ({ ack, body, view }) => {
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const values = view.state.values;
    const request = {
      approverIds: viewInput(values, REQUEST_INPUT.approvers.block, REQUEST_INPUT.approvers.action).selectedUsers() ?? [],
      title: viewInput(values, REQUEST_INPUT.title.block, REQUEST_INPUT.title.action).text() ?? '',
      details: viewInput(values, REQUEST_INPUT.details.block, REQUEST_INPUT.details.action).text() ?? '',
    };
    // Stored (with its cards in the outbox) before the ack: a request Slack saw accepted is never
    // lost. The requester hears from the outbox once the cards went out, or why they could not.
    try {
      await approvals.requestApproval({ teamId, requesterId: userId, ...request });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      await ack({ response_action: 'errors', errors: requestErrors(err) });
      return;
    }
    await ack();
  });

  // The decision is a local store write (with what it owes Slack, in the outbox), made before the
  // ack: a click Slack saw accepted is never lost to a crash.
  reg.action<BlockAction<ButtonAction>>(ACTION.approve, async ({ ack, body, action, respond }) => {
    const click = clickOf(body, action);
    try {
      await approvals.decide({ ...click, outcome: 'approved', comment: '' });
    } catch (err) {
      await ack();
      await explain(svc, click, err, body.response_url ? respond : undefined);
      return;
    }
    await ack();
  });

  const openDecisionModal = (outcome: DecisionOutcome) =>
    async function openDecisionForm({ ack, body, action, respond }: DecisionClickArgs): Promise<void> {
      await ack();
      const click = clickOf(body, action);
      let approval: Approval;
      try {
        approval = await approvals.decidable(click.teamId, click.approvalId, click.userId);
      } catch (err) {
        await explain(svc, click, err, body.response_url ? respond : undefined);
        return;
      }
      const view = outcome === 'rejected' ? rejectReasonModal(approval) : approveCommentModal(approval);
      try {
        await openModal(svc.client, click, view);
      } catch (err) {
        svc.logger.warn(`approval ${click.approvalId} (team ${click.teamId}): could not open the ${outcome} form for ${click.userId}: ${describeError(err)}`);
        await tell(svc, click, couldNotOpenText('the form', err), body.response_url ? respond : undefined);
      }
    };
  reg.action<BlockAction<ButtonAction>>(ACTION.reject, openDecisionModal('rejected'));
  reg.action<BlockAction<ButtonAction>>(ACTION.approveWithComment, openDecisionModal('approved'));

  const submitDecision = (outcome: DecisionOutcome) =>
    async function submit({ ack, body, view }: DecisionSubmitArgs): Promise<void> {
      const input = outcome === 'rejected' ? INPUT.reason : INPUT.comment;
      const teamId = teamIdOf(body);
      const userId = body.user.id;
      const approvalId = decodeMeta(view.private_metadata)?.approvalId ?? Number.NaN;
      const comment = viewInput(view.state.values, input.block, input.action).text() ?? '';
      try {
        // Local store only: validation and the decision itself, so an error can go back on the input.
        await approvals.decide({ teamId, approvalId, userId, outcome, comment });
      } catch (err) {
        if (!(err instanceof DomainError)) {
          svc.logger.error(`approval ${approvalId} (team ${teamId}): recording ${userId}'s decision failed: ${describeError(err)}`);
        }
        await ack({ response_action: 'errors', errors: { [input.block]: modalErrorText(err, input.action) } });
        return;
      }
      await ack();
    };
  reg.view<ViewSubmitAction>(VIEW.rejectReason, submitDecision('rejected'));
  reg.view<ViewSubmitAction>(VIEW.approveComment, submitDecision('approved'));

  svc.onStart('approvals: effects a store from before the outbox still owes', async () => {
    await approvals.ensureEffects();
  });

  return approvals;
}

/**
 * Opens the Request approval form (the shortcut; the App Home's header button may use it too).
 * Throws what views.open throws, e.g. `expired_trigger_id`.
 */
export async function openRequestApprovalModal(svc: Services, trigger: ModalTrigger): Promise<void> {
  await openModal(svc.client, trigger, requestApprovalModal(MAX_APPROVERS));
}

/** parseApprovalRequest's fields (approvers, title, details) keyed by the form's block ids. */
function requestErrors(err: InvalidInputError): Record<string, string> {
  const blocks: Record<string, string> = {
    approvers: REQUEST_INPUT.approvers.block,
    title: REQUEST_INPUT.title.block,
    details: REQUEST_INPUT.details.block,
  };
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(err.fields)) out[blocks[field] ?? REQUEST_INPUT.title.block] = message;
  return out;
}


async function dm(svc: Services, userId: string, text: string): Promise<void> {
  try {
    await svc.client.chat.postMessage({ channel: userId, text });
  } catch (err) {
    svc.logger.warn(`could not DM ${userId}: ${describeError(err)}`);
  }
}

interface DecisionClickArgs {
  ack: () => Promise<void>;
  body: BlockAction<ButtonAction>;
  action: ButtonAction;
  respond: RespondFn;
}
interface DecisionSubmitArgs {
  ack: (response?: { response_action: 'errors'; errors: Record<string, string> }) => Promise<void>;
  body: ViewSubmitAction;
  view: ViewSubmitAction['view'];
}

/** What a click on an approval button tells us, whatever surface it came from (DM, App Home). */
interface Click extends ModalTrigger {
  teamId: string;
  userId: string;
  approvalId: number;
  /** The channel of the clicked message; absent for clicks in a view (App Home, modal). */
  channelId: string | undefined;
}

function clickOf(body: BlockAction<ButtonAction>, action: ButtonAction): Click {
  const container = body.container as { channel_id?: unknown };
  const channelId = body.channel?.id ?? (typeof container.channel_id === 'string' ? container.channel_id : undefined);
  return {
    teamId: teamIdOf(body),
    userId: body.user.id,
    approvalId: rowIdOf(action.value) ?? Number.NaN,
    channelId,
    ...triggerOf(body),
  };
}

/**
 * Tells the clicker something only they should see: through response_url when Slack gave one,
 * else an ephemeral in the clicked message's channel, else (a click in the App Home) a small modal.
 */
async function tell(svc: Services, click: Click, text: string, respond: RespondFn | undefined): Promise<void> {
  try {
    if (respond) await respond({ response_type: 'ephemeral', replace_original: false, text });
    else if (click.channelId) await svc.client.chat.postEphemeral({ channel: click.channelId, user: click.userId, text });
    else await openModal(svc.client, click, noticeModal('Tasklane', text));
  } catch (err) {
    svc.logger.warn(`approval ${click.approvalId} (team ${click.teamId}): could not tell ${click.userId} the outcome of their click: ${describeError(err)}`);
  }
}

/** Domain errors become their user message; anything else is logged and gets the generic apology. */
async function explain(svc: Services, click: Click, err: unknown, respond: RespondFn | undefined): Promise<void> {
  if (!(err instanceof DomainError)) {
    svc.logger.error(`approval ${click.approvalId} (team ${click.teamId}): ${click.userId}'s click failed: ${describeError(err)}`);
  } else {
    svc.logger.info(`approval ${click.approvalId} (team ${click.teamId}): ${click.userId}'s click refused: ${err.message}`);
  }
  await tell(svc, click, userMessageFor(err), respond);
}

/** A modal input error is plain text: no mentions or dates, which would not render there. */
function modalErrorText(err: unknown, field: string): string {
  if (err instanceof InvalidInputError) return err.fields[field] ?? Object.values(err.fields)[0] ?? err.userMessage;
  if (err instanceof ApprovalClosedError) return alreadyDecidedPlain(err.approval);
  if (err instanceof NotAllowedError) return 'Only the approvers of this request can decide on it.';
  return userMessageFor(err);
}
