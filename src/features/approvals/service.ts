import { AlreadyDoneError, InvalidInputError, NotAllowedError, NotFoundError } from '../../errors.js';
import type { Services } from '../../services.js';
import { trimInput } from '../../slack/inputText.js';
import { ForeignExecutionError, type Approval, type DecisionOutcome } from '../../store/approvals.js';
import type { ApprovalsStore } from '../../store/approvalsStore.js';
import { ApprovalEffects, cardKey } from './effects.js';
import { MAX_COMMENT, alreadyDecidedText, onlyApproversText } from './views.js';

/**
 * The one place approvals are requested and decided, whatever the surface: the
 * `request_approval` workflow step, DM buttons and modals, the App Home, the shortcut.
 *
 * Every change is one transaction, conditional on `status='pending'` (so exactly one decision
 * wins), that also writes what it owes Slack as outbox effects (effects.ts); the outbox sends
 * them. The workflow step is completed with the bot token and the stored execution id, never the
 * workflow token, which expires.
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

export { stepOutputs } from './effects.js';

export type WorkflowRequestResult =
  | { kind: 'sent'; approval: Approval }
  | { kind: 'duplicate'; approval: Approval }
  /** Another workspace's execution id: nothing recorded, nothing touched. */
  | { kind: 'busy' }
  | { kind: 'failed'; approval: Approval; error: string };

export interface WorkflowRequest {
  teamId: string;
  functionExecutionId: string;
  workflowExecutionId: string;
  inputs: Record<string, unknown>;
  /** The workflow token Bolt got with this execution: lent to the outbox for the cards (never stored). */
  workflowToken?: string;
}

export interface DecisionRequest {
  teamId: string;
  approvalId: number;
  userId: string;
  outcome: DecisionOutcome;
  /** Optional for an approval, required for a rejection (the reason). */
  comment?: string | null;
}

export class ApprovalService {
  readonly repo: ApprovalsStore;
  readonly effects = new ApprovalEffects();

  constructor(private readonly svc: Services) {
    this.repo = svc.stores.approvals;
  }

  // ------------------------------------------------------------------ requesting

  /**
   * The `request_approval` step: records the approval keyed by its execution id, with a card for
   * every approver in the outbox (one transaction). Another delivery of the same execution
   * records nothing and sends nothing twice: each card is one outbox key. Invalid inputs fail the
   * step with a clear error and leave the approval `failed`. Only local store writes happen here:
   * the listener acknowledges Slack once this returns.
   */
  async requestFromWorkflow(req: WorkflowRequest): Promise<WorkflowRequestResult> {
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
      recorded = await this.repo.create(
        {
          teamId,
          title: input?.title ?? (typeof req.inputs['title'] === 'string' ? req.inputs['title'] : ''),
          details: input?.details ?? '',
          requesterId: input?.requesterId ?? null,
          approverIds: input?.approverIds ?? [],
          origin: 'workflow',
          functionExecutionId,
          workflowExecutionId: req.workflowExecutionId,
          actorId: input?.requesterId ?? 'workflow',
        },
        (approval) => (input ? this.effects.requested(approval, this.svc.now()) : []),
      );
    } catch (err) {
      if (!(err instanceof ForeignExecutionError)) throw err;
      // Never legitimately (Slack's ids are unique): acknowledged, and nothing of the other workspace touched.
      log.warn(`request_approval: ${err.message}; ignoring this delivery`);
      return { kind: 'busy' };
    }
    const { approval, created } = recorded;
    if (req.workflowToken) for (const p of approval.approvers) this.svc.outbox.lend(cardKey(approval, p.userId), req.workflowToken);
    if (!created) {
      log.info(`request_approval: execution ${functionExecutionId} (team ${teamId}) already recorded as approval ${approval.id}; its cards are in the outbox`);
      return { kind: 'duplicate', approval };
    }
    if (invalid || !input) {
      const error = `Tasklane could not request approval: ${invalid?.message ?? 'the inputs are invalid.'}`;
      log.warn(`request_approval: execution ${functionExecutionId} (team ${teamId}) has invalid inputs: ${invalid ? Object.keys(invalid.fields).join(', ') : '?'}`);
      await this.repo.markFailed(teamId, approval.id, error, 'workflow', (failed) => this.effects.failed(failed, this.svc.now()));
      this.svc.outbox.kick();
      return { kind: 'failed', approval: (await this.repo.get(teamId, approval.id)) ?? approval, error };
    }
    log.info(`approval ${approval.id} requested by workflow execution ${functionExecutionId} (team ${teamId}) from ${input.approverIds.join(', ')}`);
    this.svc.outbox.kick();
    return { kind: 'sent', approval };
  }

  /**
   * A request made outside Workflow Builder (the "Request approval" shortcut): no execution id,
   * cards sent with the bot token. Throws InvalidInputError (fields approvers/title/details) before
   * anything is stored. The requester hears from the outbox once every card went out ("sent"), or
   * that it was cancelled because an approver could not be reached.
   */
  async requestApproval(req: { teamId: string; requesterId: string; approverIds: readonly string[]; title: string; details?: string }): Promise<Approval> {
    const input = parseApprovalRequest({ ...req });
    const { approval } = await this.repo.create({ teamId: req.teamId, ...input, origin: 'shortcut', actorId: req.requesterId }, (a) => this.effects.requested(a, this.svc.now()));
    this.svc.logger.info(`approval ${approval.id} requested by ${req.requesterId} (team ${req.teamId}) from ${input.approverIds.join(', ')}`);
    this.svc.outbox.kick();
    return approval;
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
   * Records a decision with everything it owes Slack (the step's outputs, the cards, the
   * requester's DM, the Homes) in one transaction: a local store write, safe before a
   * view_submission ack. Exactly one concurrent decision wins; the others get
   * ApprovalClosedError. Also throws what `decidable` throws, and InvalidInputError (fields
   * `reason`/`comment`) for a bad comment.
   */
  async decide(req: DecisionRequest): Promise<Approval> {
    const comment = parseComment(req.outcome, req.comment);
    await this.decidable(req.teamId, req.approvalId, req.userId);
    const { decided, approval } = await this.repo.decide(
      { teamId: req.teamId, id: req.approvalId, outcome: req.outcome, deciderId: req.userId, comment },
      (a) => this.effects.decided(a, this.svc.now()),
    );
    if (!approval) throw new NotFoundError(`approval ${req.approvalId} vanished`, 'This approval request no longer exists.');
    if (!decided) throw new ApprovalClosedError(approval);
    this.svc.logger.info(`approval ${approval.id} (team ${req.teamId}) ${req.outcome} by ${req.userId}`);
    this.svc.outbox.kick();
    return approval;
  }

  /**
   * Start-up check: what a store from before the outbox still owes (decided steps not completed,
   * pending approvals with unsent cards) is in the outbox. A no-op for effects already there.
   */
  async ensureEffects(): Promise<number> {
    const now = this.svc.now();
    const outbox = this.svc.outbox.repo;
    // A step whose completion is in the outbox already is on its way: only the others are owed.
    const absent = async (key: string) => (await outbox.byKey(key)) === undefined;
    const steps = await kept(await this.repo.stepsToComplete(), (a) => absent(`step:${a.functionExecutionId ?? ''}`));
    const unsent = await kept(await this.repo.pendingWithUnsentCards(now - UNSENT_HORIZON_MS, now), async (a) => (await Promise.all(a.approvers.map((p) => absent(cardKey(a, p.userId))))).some(Boolean));
    const effects = [...steps.flatMap((a) => (a.status === 'failed' ? this.effects.failed(a, now) : this.effects.decided(a, now))), ...unsent.flatMap((a) => this.effects.unsent(a))];
    if (effects.length > 0) await this.svc.outbox.add(effects);
    return effects.length;
  }
}

/** The items `test` holds for (asked of all at once). */
async function kept<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<T[]> {
  const held = await Promise.all(items.map(test));
  return items.filter((_, i) => held[i]);
}

/**
 * Pending approvals whose cards went missing longer ago than this are left as they are (their
 * approvers still find them under "Waiting on you" in the App Home).
 */
const UNSENT_HORIZON_MS = 7 * 24 * 60 * 60 * 1000;
