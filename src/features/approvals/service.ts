import type { WebClient } from '@slack/web-api';
import { AlreadyDoneError, InvalidInputError, NotAllowedError, NotFoundError } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { trimInput } from '../../slack/inputText.js';
import { mention } from '../../slack/mrkdwn.js';
import { slackErrorCode, slackFailureText } from '../../slack/slackErrors.js';
import { ApprovalsRepository, ForeignExecutionError, type Approval, type DecisionOutcome, type StepEnd } from '../../store/approvals.js';
import {
  MAX_COMMENT,
  alreadyDecidedText,
  decidedCardBlocks,
  decisionUndeliveredText,
  decidedCardText,
  failedCardBlocks,
  failedCardText,
  onlyApproversText,
  requestCardBlocks,
  requestCardText,
  requesterNoticeBlocks,
  requesterNoticeText,
} from './views.js';

/**
 * The one place approvals are requested and decided, whatever the surface: the
 * `request_approval` workflow step, DM buttons and modals, the App Home, the shortcut.
 *
 * Order of work, always: the store first (one transaction, conditional on `status='pending'`, so
 * exactly one decision wins), then Slack. The workflow step is completed with the bot token and
 * the stored execution id, never the workflow token, which expires; `step_state` records whether
 * Slack has been told, so a crash in between is repaired at the next start.
 */

/** A click or submission on a request that is no longer pending (decided, or cancelled). */
export class ApprovalClosedError extends AlreadyDoneError {
  constructor(readonly approval: Approval) {
    super(`approval ${approval.id} is ${approval.status}`, alreadyDecidedText(approval));
  }
}

export const MAX_APPROVERS = 25;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface ApprovalRequestInput {
  approverIds: string[];
  title: string;
  details: string;
  requesterId: string | null;
}

/**
 * Validates what a request needs, from any surface. Approvers are de-duplicated (first one
 * keeps its place). Throws InvalidInputError whose `fields` are keyed approvers/title/details.
 */
export function parseApprovalRequest(input: {
  approverIds: readonly unknown[];
  title: unknown;
  details?: unknown;
  requesterId?: unknown;
}): ApprovalRequestInput {
  const fields: Record<string, string> = {};
  const approverIds = [...new Set(input.approverIds.filter((v) => v !== undefined && v !== null && v !== ''))];
  const badIds = approverIds.filter((v) => typeof v !== 'string' || !USER_ID.test(v));
  if (approverIds.length === 0) fields.approvers = 'Choose at least one approver.';
  else if (badIds.length > 0) fields.approvers = `These are not Slack user ids: ${badIds.map((v) => JSON.stringify(v)).join(', ')}.`;
  else if (approverIds.length > MAX_APPROVERS) fields.approvers = `Choose at most ${MAX_APPROVERS} approvers (there are ${approverIds.length}).`;

  const title = typeof input.title === 'string' ? trimInput(input.title) : '';
  if (title === '') fields.title = 'Give the request a title.';

  let details = '';
  if (input.details !== undefined && input.details !== null) {
    if (typeof input.details !== 'string') fields.details = 'Details must be text.';
    else details = trimInput(input.details);
  }

  let requesterId: string | null = null;
  if (input.requesterId !== undefined && input.requesterId !== null && input.requesterId !== '') {
    if (typeof input.requesterId !== 'string' || !USER_ID.test(input.requesterId)) {
      fields.requester = `The requester is not a Slack user id: ${JSON.stringify(input.requesterId)}.`;
    } else requesterId = input.requesterId;
  }

  const problems = Object.values(fields);
  if (problems.length > 0) throw new InvalidInputError(problems.join(' '), fields);
  return { approverIds: approverIds as string[], title, details, requesterId };
}

/** The `request_approval` step's inputs (manifest `input_parameters`) as a request; errors worded for the step. */
export function parseStepInputs(inputs: Record<string, unknown>): ApprovalRequestInput {
  const approver = inputs['approver'];
  const others = inputs['other_approvers'];
  const otherIds: unknown[] = others === undefined || others === null ? [] : Array.isArray(others) ? others : [others];
  const missingApprover = approver === undefined || approver === null || approver === '';
  let parsed: ApprovalRequestInput | undefined;
  let fields: Record<string, string> = {};
  try {
    parsed = parseApprovalRequest({ approverIds: [approver, ...otherIds], title: inputs['title'], details: inputs['details'], requesterId: inputs['requester'] });
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    fields = { ...err.fields };
  }
  if (missingApprover) fields.approvers = 'The "Approver" input is required.';
  if (fields.title) fields.title = 'The "Title" input is required and cannot be blank.';
  const problems = Object.values(fields);
  if (problems.length > 0 || !parsed) throw new InvalidInputError(problems.join(' '), fields);
  return parsed;
}

/** A decision's comment: trimmed; a rejection needs one; ≤ 2000 characters either way. */
export function parseComment(outcome: DecisionOutcome, raw: string | null | undefined): string {
  const comment = trimInput(raw ?? '');
  const field = outcome === 'rejected' ? 'reason' : 'comment';
  if (outcome === 'rejected' && comment === '') {
    throw new InvalidInputError('a rejection needs a reason', { reason: 'Please give a reason for rejecting.' });
  }
  if (comment.length > MAX_COMMENT) {
    const what = outcome === 'rejected' ? 'reason' : 'comment';
    throw new InvalidInputError(`${what} too long`, {
      [field]: `Keep the ${what} to ${MAX_COMMENT} characters or fewer (it has ${comment.length}).`,
    });
  }
  return comment;
}

/** The step's outputs, exactly the manifest's `output_parameters`. */
export function stepOutputs(a: Approval): { approved: boolean; decided_by: string; comment: string; approval_id: string } {
  return { approved: a.status === 'approved', decided_by: a.decidedBy ?? '', comment: a.comment ?? '', approval_id: String(a.id) };
}

/** completeSuccess/completeError answers that no retry can change. */
const STEP_REFUSED_FOR_GOOD = new Set(['function_execution_not_found', 'parameter_validation_failed', 'invalid_arguments']);

/** The workflow token was refused (expired: ~15 min, or the step already ended): post with the bot token. */
const TOKEN_REFUSED = new Set(['token_expired', 'invalid_auth', 'token_revoked', 'not_authed']);

/** Card updates that fail because the card is gone (deleted by its reader): nothing to tell anyone. */
const CARD_GONE = new Set(['message_not_found', 'channel_not_found']);

/**
 * A pending approval whose cards are not all recorded is repaired by the recovery job only once
 * it is this old (or older than the process): younger ones may still be sending.
 */
const UNSENT_GRACE_MS = 60_000;
/**
 * …and no older than this: a request whose cards went missing longer ago is left as it is (its
 * approvers still find it under "Waiting on you" in the App Home).
 */
const UNSENT_HORIZON_MS = 7 * 24 * 60 * 60 * 1000;

/** The key of an approval's card-sending lock: `fx:<execution id>` or `id:<id>`. */
const sendKey = (a: { id: number; functionExecutionId: string | null }): string =>
  a.functionExecutionId ? `fx:${a.functionExecutionId}` : `id:${a.id}`;

const DM_FAILURE: Record<string, string> = {
  messages_tab_disabled: 'they do not accept direct messages from apps',
  cannot_dm_bot: 'it is a bot',
  user_disabled: 'their account is deactivated',
  account_inactive: 'their account is deactivated',
  user_not_found: 'Slack does not know this user',
  channel_not_found: 'Slack does not know this user',
  user_not_visible: 'Tasklane cannot see this user',
};

export type WorkflowRequestResult =
  | { kind: 'sent'; approval: Approval }
  | { kind: 'duplicate'; approval: Approval }
  /** Another delivery of the same execution is being handled right now. */
  | { kind: 'busy' }
  | { kind: 'failed'; approval: Approval; error: string };

export interface WorkflowRequest {
  teamId: string;
  functionExecutionId: string;
  workflowExecutionId: string;
  inputs: Record<string, unknown>;
  /** The workflow-token client Bolt built for this execution (the bot token is the fallback). */
  client: WebClient;
  /** Called once the execution is recorded in the store (the listener acknowledges Slack then). */
  recorded?: () => Promise<void>;
}

/** Tells the person who acted something only they see. */
export type Tell = (text: string) => Promise<void>;

export interface DecisionRequest {
  teamId: string;
  approvalId: number;
  userId: string;
  outcome: DecisionOutcome;
  /** Optional for an approval, required for a rejection (the reason). */
  comment?: string | null;
  /**
   * How to tell the decider what of the decision did not reach Slack; default an ephemeral in
   * their DM with the app (where their card is).
   */
  tell?: Tell;
}

export class ApprovalService {
  readonly repo: ApprovalsRepository;
  /** Claims on step completion older than this belong to a previous process (see recovery). */
  private readonly startedAt: number;
  /** The recovery job has run once in this process (the first run also redoes the Slack follow-ups). */
  private recoveredOnce = false;
  /**
   * Approvals whose cards are being sent right now in this process: a twin delivery of the same
   * execution, or the recovery job, leaves them alone. createApp builds one service per app.
   */
  private readonly sending = new Set<string>();

  constructor(
    private readonly svc: Services,
    repo?: ApprovalsRepository,
  ) {
    this.repo = repo ?? new ApprovalsRepository(svc.store, svc.now);
    this.startedAt = svc.now();
  }

  /** Takes the right to send this approval's cards in this process; false when someone has it. */
  private lockSending(key: string): boolean {
    if (this.sending.has(key)) return false;
    this.sending.add(key);
    return true;
  }

  // ------------------------------------------------------------------ requesting

  /**
   * The `request_approval` step: records the approval keyed by its execution id and DMs every
   * approver with `client` (the workflow token, so clicks carry `function_data`; the bot token
   * when Slack refuses it). Another delivery of the same execution records nothing and, while the
   * request is pending, sends only the cards a previous attempt did not get to send (a crash
   * part-way); never a second card to an approver who has one. Invalid inputs or an approver who
   * cannot be messaged fail the step with a clear error and leave the approval `failed`.
   * `recorded` is called once the execution is in the store (before any Slack call).
   */
  async requestFromWorkflow(req: WorkflowRequest): Promise<WorkflowRequestResult> {
    const key = sendKey({ id: 0, functionExecutionId: req.functionExecutionId });
    if (!this.lockSending(key)) {
      this.svc.logger.info(`request_approval: execution ${req.functionExecutionId} (team ${req.teamId}) is being handled already; ignoring this delivery`);
      await req.recorded?.();
      return { kind: 'busy' };
    }
    try {
      return await this.recordAndSend(req);
    } finally {
      this.sending.delete(key);
    }
  }

  private async recordAndSend(req: WorkflowRequest): Promise<WorkflowRequestResult> {
    const { teamId, functionExecutionId } = req;
    const log = this.svc.logger;
    let input: ApprovalRequestInput | undefined;
    let invalid: InvalidInputError | undefined;
    try {
      input = parseStepInputs(req.inputs);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      invalid = err;
    }

    let recorded: { approval: Approval; created: boolean };
    try {
      recorded = await this.repo.create({
        teamId,
        title: input?.title ?? (typeof req.inputs['title'] === 'string' ? req.inputs['title'] : ''),
        details: input?.details ?? '',
        requesterId: input?.requesterId ?? null,
        approverIds: input?.approverIds ?? [],
        origin: 'workflow',
        functionExecutionId,
        workflowExecutionId: req.workflowExecutionId,
        actorId: input?.requesterId ?? 'workflow',
      });
    } catch (err) {
      if (!(err instanceof ForeignExecutionError)) throw err;
      // Never legitimately (Slack's ids are unique): acknowledged, and nothing of the other workspace touched.
      log.warn(`request_approval: ${err.message}; ignoring this delivery`);
      await req.recorded?.();
      return { kind: 'busy' };
    }
    const { approval, created } = recorded;
    await req.recorded?.();
    if (!created) {
      const unsent = approval.status === 'pending' ? approval.approvers.filter((a) => !a.messageTs).map((a) => a.userId) : [];
      if (unsent.length === 0) {
        log.info(`request_approval: execution ${functionExecutionId} (team ${teamId}) already recorded as approval ${approval.id}; not sending again`);
        return { kind: 'duplicate', approval };
      }
      log.info(`request_approval: execution ${functionExecutionId} (team ${teamId}) redelivered; approval ${approval.id} still owes cards to ${unsent.join(', ')}`);
      return this.send(approval, req.client);
    }
    if (invalid || !input) {
      const error = `Tasklane could not request approval: ${invalid?.message ?? 'the inputs are invalid.'}`;
      log.warn(`request_approval: execution ${functionExecutionId} (team ${teamId}) has invalid inputs: ${invalid ? Object.keys(invalid.fields).join(', ') : '?'}`);
      const failed = await this.fail(approval, error);
      return { kind: 'failed', approval: failed, error };
    }
    log.info(`approval ${approval.id} requested by workflow execution ${functionExecutionId} (team ${teamId}) from ${input.approverIds.join(', ')}`);
    return this.send(approval, req.client);
  }

  /**
   * A request made outside Workflow Builder (the "Request approval" shortcut): no execution id,
   * DMs sent with the bot token. Throws InvalidInputError (fields approvers/title/details) before
   * anything is stored; otherwise returns the approval as it ended up (`pending`, or `failed`
   * with `failureReason` when an approver could not be messaged).
   */
  async requestApproval(req: {
    teamId: string;
    requesterId: string;
    approverIds: readonly string[];
    title: string;
    details?: string;
  }): Promise<Approval> {
    const input = parseApprovalRequest({ ...req });
    const { approval } = await this.repo.create({
      teamId: req.teamId,
      ...input,
      origin: 'shortcut',
      actorId: req.requesterId,
    });
    this.svc.logger.info(`approval ${approval.id} requested by ${req.requesterId} (team ${req.teamId}) from ${input.approverIds.join(', ')}`);
    const key = sendKey(approval);
    this.sending.add(key);
    try {
      const result = await this.send(approval, this.svc.client);
      return result.kind === 'busy' ? approval : result.approval;
    } finally {
      this.sending.delete(key);
    }
  }

  /**
   * DMs every approver who has no recorded card yet (all of them for a new request); when any DM
   * fails, cancels the request everywhere it did arrive. The caller holds the approval's send lock.
   */
  private async send(approval: Approval, client: WebClient): Promise<WorkflowRequestResult> {
    const { teamId, id } = approval;
    const blocks = requestCardBlocks(approval);
    const text = requestCardText(approval);
    let poster = client;
    const post = async (channel: string) => {
      const used = poster;
      try {
        // Through the bot's client (which may make the call on its thread) with the workflow token.
        return await this.svc.client.chat.postMessage({ channel, text, blocks, ...(used !== this.svc.client && used.token ? { token: used.token } : {}) });
      } catch (err) {
        const code = slackErrorCode(err);
        if (used === this.svc.client || code === undefined || !TOKEN_REFUSED.has(code)) throw err;
        // The workflow token expired (or the step ended): the bot token still reaches the approver.
        if (poster !== this.svc.client) {
          this.svc.logger.info(`approval ${id} (team ${teamId}): the workflow token was refused (${code}); sending cards with the bot token`);
          poster = this.svc.client;
        }
        return this.svc.client.chat.postMessage({ channel, text, blocks });
      }
    };
    const results = await Promise.all(
      approval.approvers
        .filter((a) => !a.messageTs)
        .map(async ({ userId }) => {
          try {
            const res = await post(userId);
            if (res.channel && res.ts) await this.repo.recordMessage(teamId, id, userId, res.channel, res.ts);
            return { userId, ok: true as const };
          } catch (err) {
            this.svc.logger.warn(`approval ${id} (team ${teamId}): could not DM approver ${userId}: ${describeError(err)}`);
            return { userId, ok: false as const, code: slackErrorCode(err) };
          }
        }),
    );
    const failures = results.filter((r) => !r.ok);
    if (failures.length === 0) {
      this.svc.homes.changed(teamId, approverIdsOf(approval));
      return { kind: 'sent', approval: (await this.repo.get(teamId, id)) ?? approval };
    }
    // Said inside parentheses, so without the sentence's full stop.
    const why = (code: string | undefined) => (code !== undefined ? DM_FAILURE[code] : undefined) ?? slackFailureText(code).replace(/\.$/, '');
    const reasons = failures.map((f) => `user ${f.userId} (${why(f.code)})`);
    const error = `Tasklane could not send the approval request to ${reasons.join(', ')}. The request was cancelled; check the approvers and try again.`;
    const failed = await this.fail(approval, error);
    return { kind: 'failed', approval: failed, error };
  }

  /** pending → failed; approvers who got the DM see it cancelled; the step fails with `error`. */
  private async fail(approval: Approval, error: string): Promise<Approval> {
    const { teamId, id } = approval;
    const marked = await this.repo.markFailed(teamId, id, error, approval.requesterId ?? 'workflow');
    const current = (await this.repo.get(teamId, id)) ?? approval;
    if (!marked) {
      // Someone decided in the instant between the DMs and this: that decision stands.
      this.svc.logger.info(`approval ${id} (team ${teamId}) was ${current.status} before it could be cancelled`);
      return current;
    }
    await this.updateApproverMessages(current);
    await this.completeStep(current);
    this.svc.homes.changed(teamId, approverIdsOf(current));
    return current;
  }

  // ------------------------------------------------------------------ deciding

  /**
   * The approval, if `userId` may decide it now. Throws NotFoundError (no such approval in this
   * team), NotAllowedError (not an approver: "Only @a or @b can decide…"), ApprovalClosedError
   * (already decided: "Already approved by @x on …"). Reads the local store only.
   */
  async decidable(teamId: string, approvalId: number, userId: string): Promise<Approval> {
    const approval = Number.isSafeInteger(approvalId) ? await this.repo.get(teamId, approvalId) : undefined;
    if (!approval) {
      throw new NotFoundError(`approval ${approvalId} not found in team ${teamId}`, 'This approval request no longer exists.');
    }
    if (!approval.approvers.some((a) => a.userId === userId)) {
      throw new NotAllowedError(`user ${userId} is not an approver of approval ${approvalId}`, onlyApproversText(approval));
    }
    if (approval.status !== 'pending') throw new ApprovalClosedError(approval);
    return approval;
  }

  /**
   * Records a decision in the store, and nothing else: safe before a view_submission ack. Exactly
   * one concurrent decision wins; the others get ApprovalClosedError. Also throws what
   * `decidable` throws, and InvalidInputError (fields `reason`/`comment`) for a bad comment.
   * Follow with `announceDecision` once Slack has its ack.
   */
  async recordDecision(req: DecisionRequest): Promise<Approval> {
    const comment = parseComment(req.outcome, req.comment);
    await this.decidable(req.teamId, req.approvalId, req.userId);
    const { decided, approval } = await this.repo.decide({
      teamId: req.teamId,
      id: req.approvalId,
      outcome: req.outcome,
      deciderId: req.userId,
      comment,
    });
    if (!approval) throw new NotFoundError(`approval ${req.approvalId} vanished`, 'This approval request no longer exists.');
    if (!decided) throw new ApprovalClosedError(approval);
    this.svc.logger.info(`approval ${approval.id} (team ${req.teamId}) ${req.outcome} by ${req.userId}`);
    return approval;
  }

  /**
   * Tells Slack about a recorded decision: completes the workflow step (bot token, stored
   * execution id), turns every approver's DM into the outcome, DMs the requester, refreshes Homes.
   * Each part is attempted even when another fails; failures are logged, the store stays right.
   */
  async announceDecision(approval: Approval, tell?: Tell): Promise<void> {
    // The decision is committed: the Homes' publish (background) need not wait for the rest.
    this.svc.homes.changed(approval.teamId, approverIdsOf(approval));
    const step = await this.completeStep(approval);
    const notUpdated = await this.updateApproverMessages(approval);
    const requesterTold = await this.notifyRequester(approval);

    // The decider is waiting to see the outcome: say what did not reach Slack.
    const problems: string[] = [];
    if (step === 'waiting') problems.push('Slack did not answer, so the workflow has not heard of it yet; Tasklane keeps trying.');
    if (step === 'failed') problems.push('Slack refused to finish the workflow step, so the workflow will not go on.');
    if (notUpdated.length > 0) problems.push(`I couldn’t update the request message of ${notUpdated.map(mention).join(', ')}; it may still show the buttons.`);
    if (!requesterTold && approval.requesterId) problems.push(`I couldn’t tell ${mention(approval.requesterId)} about it.`);
    if (problems.length > 0) await this.tellDecider(approval, decisionUndeliveredText(approval, problems), tell);
  }

  /** `recordDecision` then `announceDecision`: for surfaces that already acked (buttons, Home). */
  async decide(req: DecisionRequest): Promise<Approval> {
    const approval = await this.recordDecision(req);
    await this.announceDecision(approval, req.tell);
    return approval;
  }

  private async tellDecider(approval: Approval, text: string, tell: Tell | undefined): Promise<void> {
    const { id, teamId, decidedBy } = approval;
    try {
      if (tell) return await tell(text);
      const channel = approval.approvers.find((a) => a.userId === decidedBy)?.channelId;
      if (decidedBy && channel) await this.svc.client.chat.postEphemeral({ channel, user: decidedBy, text });
      else this.svc.logger.warn(`approval ${id} (team ${teamId}): nowhere to tell the decider what did not reach Slack`);
    } catch (err) {
      this.svc.logger.warn(`approval ${id} (team ${teamId}): could not tell ${decidedBy ?? '?'} what did not reach Slack: ${describeError(err)}`);
    }
  }

  // ------------------------------------------------------------------ Slack follow-ups

  /**
   * Completes the workflow step once: `completeSuccess` with the outputs for a decision,
   * `completeError` for a cancelled request. Claims the step in the store first, so no two paths
   * complete it; `execution_not_in_running_state` means Slack already has it.
   */
  private async completeStep(approval: Approval, staleBefore?: number): Promise<StepEnd | undefined> {
    const { teamId, id, functionExecutionId } = approval;
    if (!functionExecutionId || approval.status === 'pending') return undefined;
    if (!(await this.repo.claimStep(teamId, id, staleBefore))) return undefined;
    let end: StepEnd = 'completed';
    try {
      if (approval.status === 'failed') {
        await this.svc.client.functions.completeError({
          function_execution_id: functionExecutionId,
          error: approval.failureReason ?? 'Tasklane could not request approval.',
        });
      } else {
        await this.svc.client.functions.completeSuccess({ function_execution_id: functionExecutionId, outputs: stepOutputs(approval) });
      }
      this.svc.logger.info(`approval ${id} (team ${teamId}): completed step ${functionExecutionId} (${approval.status})`);
    } catch (err) {
      const code = slackErrorCode(err);
      if (code === 'execution_not_in_running_state') {
        this.svc.logger.info(`approval ${id} (team ${teamId}): step ${functionExecutionId} was already completed`);
      } else if (code !== undefined && STEP_REFUSED_FOR_GOOD.has(code)) {
        end = 'failed';
        this.svc.logger.error(`approval ${id} (team ${teamId}): Slack refused to complete step ${functionExecutionId}: ${describeError(err)}`);
      } else {
        end = 'waiting';
        this.svc.logger.warn(`approval ${id} (team ${teamId}): completing step ${functionExecutionId} failed; will retry at next start: ${describeError(err)}`);
      }
    }
    await this.repo.finishStep(teamId, id, end);
    return end;
  }

  /** Turns every approver's card into the outcome; returns whose card could not be updated. */
  private async updateApproverMessages(approval: Approval): Promise<string[]> {
    const cancelled = approval.status === 'failed';
    const blocks = cancelled ? failedCardBlocks(approval) : decidedCardBlocks(approval);
    const text = cancelled ? failedCardText(approval) : decidedCardText(approval);
    const failed: string[] = [];
    await Promise.all(
      approval.approvers.map(async ({ userId, channelId, messageTs }) => {
        if (!channelId || !messageTs) return;
        try {
          await this.svc.client.chat.update({ channel: channelId, ts: messageTs, text, blocks });
        } catch (err) {
          this.svc.logger.warn(`approval ${approval.id} (team ${approval.teamId}): could not update ${userId}'s message: ${describeError(err)}`);
          if (!CARD_GONE.has(slackErrorCode(err) ?? '')) failed.push(userId);
        }
      }),
    );
    return failed;
  }

  /**
   * At most once per approval (a delivery key survives restarts), and not to the decider themself.
   * False when the notice was due and could not be sent.
   */
  private async notifyRequester(approval: Approval): Promise<boolean> {
    const { requesterId, teamId, id } = approval;
    if (!requesterId || requesterId === approval.decidedBy) return true;
    if (!(await this.svc.deliveries.claim(teamId, `approval-outcome:${teamId}:${id}`))) return true;
    try {
      await this.svc.client.chat.postMessage({ channel: requesterId, text: requesterNoticeText(approval), blocks: requesterNoticeBlocks(approval) });
      return true;
    } catch (err) {
      this.svc.logger.warn(`approval ${id} (team ${teamId}): could not tell requester ${requesterId}: ${describeError(err)}`);
      return false;
    }
  }

  /**
   * Recovery (at start, then periodically): completes steps still `waiting` (Slack failed, or a
   * crash before the call) or stuck `completing` by a previous process. The first run in a process
   * also refreshes the approvers' messages and tells the requester, which a crash may have cut
   * short; later runs only retry the steps (the live path told people already). Returns how many
   * approvals it looked at.
   */
  async completeWaitingSteps(): Promise<number> {
    const first = !this.recoveredOnce;
    this.recoveredOnce = true;
    const rows = await this.repo.stepsToComplete();
    for (const approval of rows) {
      await this.completeStep(approval, this.startedAt);
      if (!first) continue;
      await this.updateApproverMessages(approval);
      if (approval.status !== 'failed') await this.notifyRequester(approval);
      this.svc.homes.changed(approval.teamId, approverIdsOf(approval));
    }
    if (rows.length > 0) this.svc.logger.info(`approvals: retried ${rows.length} workflow step(s) left waiting`);
    return rows.length;
  }

  /**
   * Recovery: sends the cards of pending approvals that a process died while sending (approvers
   * with no recorded card), as a redelivery of the step would. Approvals being sent right now in
   * this process are left alone. Cards go out with the bot token (workflow tokens are not stored).
   * Returns how many approvals it sent cards for.
   */
  async sendUnsentCards(): Promise<number> {
    const now = this.svc.now();
    const rows = await this.repo.pendingWithUnsentCards(now - UNSENT_HORIZON_MS, Math.max(this.startedAt, now - UNSENT_GRACE_MS));
    let repaired = 0;
    for (const row of rows) {
      const key = sendKey(row);
      if (!this.lockSending(key)) continue;
      try {
        const approval = await this.repo.get(row.teamId, row.id);
        if (!approval || approval.status !== 'pending' || approval.approvers.every((a) => a.messageTs)) continue;
        const unsent = approval.approvers.filter((a) => !a.messageTs).map((a) => a.userId);
        this.svc.logger.info(`approval ${approval.id} (team ${approval.teamId}): sending the cards a previous attempt did not send, to ${unsent.join(', ')}`);
        await this.send(approval, this.svc.client);
        repaired += 1;
      } finally {
        this.sending.delete(key);
      }
    }
    return repaired;
  }
}

/**
 * Whose App Home an approval appears on: its approvers' ("Waiting on you"). The requester's Home
 * shows nothing of their own requests, so a request or a decision does not republish it.
 */
function approverIdsOf(approval: Approval): string[] {
  return approval.approvers.map((a) => a.userId);
}
