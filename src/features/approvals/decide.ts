import { AlreadyDoneError, InvalidInputError, NotAllowedError, NotFoundError } from '../../errors.js';
import { trimInput } from '../../slack/inputText.js';
import type { Approval, DecisionOutcome } from '../../store/approvals.js';
import type { ApprovalContext } from './context.js';
import { MAX_COMMENT, alreadyDecidedText, onlyApproversText } from './views.js';

/**
 * Deciding: every decision is one transaction, conditional on `status='pending'` (so exactly one
 * decision wins), that also writes what it owes Slack as outbox effects.
 */

/** A click or submission on a request that is no longer pending (decided, or cancelled). */
export class ApprovalClosedError extends AlreadyDoneError {
  constructor(readonly approval: Approval) {
    super(`approval ${approval.id} is ${approval.status}`, alreadyDecidedText(approval));
  }
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

export interface DecisionRequest {
  teamId: string;
  approvalId: number;
  userId: string;
  outcome: DecisionOutcome;
  /** Optional for an approval, required for a rejection (the reason). */
  comment?: string | null;
}

/**
 * The approval, if `userId` may decide it now. Throws NotFoundError (no such approval in this
 * team), NotAllowedError (not an approver: "Only @a or @b can decide…"), ApprovalClosedError
 * (already decided: "Already approved by @x on …"). Reads the local store only.
 */
export async function decidable(ctx: ApprovalContext, teamId: string, approvalId: number, userId: string): Promise<Approval> {
  const approval = Number.isSafeInteger(approvalId) ? await ctx.repo.get(teamId, approvalId) : undefined;
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
export async function decide(ctx: ApprovalContext, req: DecisionRequest): Promise<Approval> {
  const comment = parseComment(req.outcome, req.comment);
  await decidable(ctx, req.teamId, req.approvalId, req.userId);
  const { decided, approval } = await ctx.repo.decide(
    { teamId: req.teamId, id: req.approvalId, outcome: req.outcome, deciderId: req.userId, comment },
    (a) => ctx.effects.decided(a, ctx.svc.now()),
  );
  if (!approval) throw new NotFoundError(`approval ${req.approvalId} vanished`, 'This approval request no longer exists.');
  if (!decided) throw new ApprovalClosedError(approval);
  ctx.svc.logger.info(`approval ${approval.id} (team ${req.teamId}) ${req.outcome} by ${req.userId}`);
  ctx.svc.outbox.kick();
  return approval;
}
