import type { Services } from '../../services.js';
import type { Approval } from '../../store/approvals.js';
import type { ApprovalsStore } from '../../store/approvalsStore.js';
import type { ApprovalContext } from './context.js';
import { decidable, decide, type DecisionRequest } from './decide.js';
import { auditFeedFor } from '../audit/feed.js';
import { ApprovalEffects } from './effects.js';
import { ensureEffects } from './recovery.js';
import { requestApproval, requestFromWorkflow, type WorkflowRequest, type WorkflowRequestResult } from './request.js';

/**
 * The one place approvals are requested and decided, whatever the surface: the
 * `request_approval` workflow step, DM buttons and modals, the App Home, the shortcut.
 *
 * Every change is one transaction, conditional on `status='pending'` (so exactly one decision
 * wins), that also writes what it owes Slack as outbox effects (effects.ts); the outbox sends
 * them. The workflow step is completed with the bot token and the stored execution id, never the
 * workflow token, which expires.
 */

export { ApprovalClosedError, parseComment, type DecisionRequest } from './decide.js';
export { MAX_APPROVERS, parseApprovalRequest, parseStepInputs, type ApprovalRequestInput, type WorkflowRequest, type WorkflowRequestResult } from './request.js';
export { stepOutputs } from './effects.js';

/** The approvals feature's one entry point: requesting (request.ts), deciding (decide.ts), recovery (recovery.ts). */
export class ApprovalService {
  readonly repo: ApprovalsStore;
  readonly effects: ApprovalEffects;
  private readonly ctx: ApprovalContext;

  constructor(svc: Services) {
    this.repo = svc.stores.approvals;
    this.effects = new ApprovalEffects(auditFeedFor(svc.config.auditWebhookUrl));
    this.ctx = { repo: this.repo, effects: this.effects, svc };
  }

  requestFromWorkflow(req: WorkflowRequest): Promise<WorkflowRequestResult> {
    return requestFromWorkflow(this.ctx, req);
  }

  requestApproval(req: Parameters<typeof requestApproval>[1]): Promise<Approval> {
    return requestApproval(this.ctx, req);
  }

  decidable(teamId: string, approvalId: number, userId: string): Promise<Approval> {
    return decidable(this.ctx, teamId, approvalId, userId);
  }

  decide(req: DecisionRequest): Promise<Approval> {
    return decide(this.ctx, req);
  }

  ensureEffects(): Promise<number> {
    return ensureEffects(this.ctx);
  }
}
