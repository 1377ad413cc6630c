import type { BlockAction, ButtonAction, RespondFn, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { DomainError, InvalidInputError, NotAllowedError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { openModal, triggerOf, type ModalTrigger } from '../../slack/modals.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { rowIdOf, teamIdOf, viewInput } from '../../slack/values.js';
import { noticeModal } from '../../slack/views.js';
import type { Approval, DecisionOutcome } from '../../store/approvals.js';
import { ApprovalClosedError, type ApprovalService } from './service.js';
import { INPUT, alreadyDecidedPlain, approveCommentModal, decodeMeta, rejectReasonModal } from './views.js';

/**
 * Approve / Reject / Approve with comment, on a card (DM, channel) or the App Home, and the reason
 * and comment forms. A decision is a local store write (with what it owes Slack, in the outbox),
 * made before the ack: a click Slack saw accepted is never lost to a crash. Slack calls go out
 * with the bot token: the workflow token of a function-bound click expires.
 */

export type DecisionDeps = { approvals: ApprovalService } & Pick<Services, 'client' | 'logger'>;
type SlackDeps = Pick<Services, 'client' | 'logger'>;
type SubmitDeps = Pick<DecisionDeps, 'approvals' | 'logger'>;

type ClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction<ButtonAction>>, 'ack' | 'body' | 'action' | 'respond'>;
type SubmitArgs = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/** Approve: decided at once; a refusal (not an approver, already decided) is told after the ack. */
export const handleApproveClick = (deps: DecisionDeps) =>
  async function approveClick({ ack, body, action, respond }: ClickArgs): Promise<void> {
    const click = clickOf(body, action);
    const refused = await deps.approvals.decide({ ...click, outcome: 'approved', comment: '' }).then(
      () => undefined,
      (err: unknown) => ({ err }),
    );
    await ack();
    if (refused) await explain(deps, click, refused.err, body.response_url ? respond : undefined);
  };

/** Reject: the form asking why, for an approval this user may still decide. */
export const handleRejectClick = (deps: DecisionDeps) => decisionFormClick('rejected', deps);

/** Approve with comment: the form for the comment, for an approval this user may still decide. */
export const handleApproveWithCommentClick = (deps: DecisionDeps) => decisionFormClick('approved', deps);

/** The reject reason form's submission. */
export const handleRejectReasonSubmit = (deps: SubmitDeps) => decisionSubmit('rejected', deps);

/** The approve comment form's submission. */
export const handleApproveCommentSubmit = (deps: SubmitDeps) => decisionSubmit('approved', deps);

const decisionFormClick = (outcome: DecisionOutcome, deps: DecisionDeps) =>
  async function openDecisionForm({ ack, body, action, respond }: ClickArgs): Promise<void> {
    await ack();
    const click = clickOf(body, action);
    const reply = body.response_url ? respond : undefined;
    let approval: Approval;
    try {
      approval = await deps.approvals.decidable(click.teamId, click.approvalId, click.userId);
    } catch (err) {
      await explain(deps, click, err, reply);
      return;
    }
    const view = outcome === 'rejected' ? rejectReasonModal(approval) : approveCommentModal(approval);
    try {
      await openModal(deps.client, click, view);
    } catch (err) {
      deps.logger.warn(`approval ${click.approvalId} (team ${click.teamId}): could not open the ${outcome} form for ${click.userId}: ${describeError(err)}`);
      await tell(deps, click, couldNotOpenText('the form', err), reply);
    }
  };

/** A reason / comment form's submission: decided before the ack, so a refusal goes back on the input. */
const decisionSubmit = (outcome: DecisionOutcome, deps: SubmitDeps) =>
  async function submitDecision({ ack, body, view }: SubmitArgs): Promise<void> {
    const input = outcome === 'rejected' ? INPUT.reason : INPUT.comment;
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const approvalId = decodeMeta(view.private_metadata)?.approvalId ?? Number.NaN;
    const comment = viewInput(view.state.values, input.block, input.action).text() ?? '';
    let error: string | undefined;
    try {
      await deps.approvals.decide({ teamId, approvalId, userId, outcome, comment });
    } catch (err) {
      if (!(err instanceof DomainError)) {
        deps.logger.error(`approval ${approvalId} (team ${teamId}): recording ${userId}'s decision failed: ${describeError(err)}`);
      }
      error = modalErrorText(err, input.action);
    }
    await ack(error === undefined ? undefined : { response_action: 'errors', errors: { [input.block]: error } });
  };

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
async function tell({ client, logger }: SlackDeps, click: Click, text: string, respond: RespondFn | undefined): Promise<void> {
  try {
    if (respond) await respond({ response_type: 'ephemeral', replace_original: false, text });
    else if (click.channelId) await client.chat.postEphemeral({ channel: click.channelId, user: click.userId, text });
    else await openModal(client, click, noticeModal('Tasklane', text));
  } catch (err) {
    logger.warn(`approval ${click.approvalId} (team ${click.teamId}): could not tell ${click.userId} the outcome of their click: ${describeError(err)}`);
  }
}

/** Domain errors become their user message; anything else is logged and gets the generic apology. */
async function explain(deps: SlackDeps, click: Click, err: unknown, respond: RespondFn | undefined): Promise<void> {
  if (!(err instanceof DomainError)) {
    deps.logger.error(`approval ${click.approvalId} (team ${click.teamId}): ${click.userId}'s click failed: ${describeError(err)}`);
  } else {
    deps.logger.info(`approval ${click.approvalId} (team ${click.teamId}): ${click.userId}'s click refused: ${err.message}`);
  }
  await tell(deps, click, userMessageFor(err), respond);
}

/** A modal input error is plain text: no mentions or dates, which would not render there. */
function modalErrorText(err: unknown, field: string): string {
  if (err instanceof InvalidInputError) return err.fields[field] ?? Object.values(err.fields)[0] ?? err.userMessage;
  if (err instanceof ApprovalClosedError) return alreadyDecidedPlain(err.approval);
  if (err instanceof NotAllowedError) return 'Only the approvers of this request can decide on it.';
  return userMessageFor(err);
}
