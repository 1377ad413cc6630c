import type { Services } from '../../services.js';
import { ACTION, FUNCTION, SHORTCUT, VIEW } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import {
  handleApproveClick,
  handleApproveCommentSubmit,
  handleApproveWithCommentClick,
  handleRejectClick,
  handleRejectReasonSubmit,
} from './decisions.js';
import { handleRequestApprovalShortcut, handleRequestApprovalSubmit } from './requestForm.js';
import { ApprovalService } from './service.js';
import { handleRequestApprovalStep } from './step.js';

/**
 * Approvals' listeners (each in the file of its surface), kept thin: read the payload, call
 * ApprovalService, render, call Slack.
 */
export function registerApprovals(reg: ListenerRegistry, svc: Services): ApprovalService {
  const approvals = new ApprovalService(svc);
  const deps = { approvals, client: svc.client, logger: svc.logger };

  // In Workflow Builder (step.ts); outside it, the shortcut and its form (requestForm.ts).
  reg.function(FUNCTION.requestApproval, handleRequestApprovalStep(deps), { autoAcknowledge: false });

  reg.globalShortcut(SHORTCUT.requestApproval, handleRequestApprovalShortcut(deps));
  reg.view(VIEW.requestApproval, handleRequestApprovalSubmit(deps));

  // The decision buttons, on cards and on the App Home, and the reason / comment forms (decisions.ts).
  reg.action(ACTION.approve, handleApproveClick(deps));
  reg.action(ACTION.reject, handleRejectClick(deps));
  reg.action(ACTION.approveWithComment, handleApproveWithCommentClick(deps));
  reg.view(VIEW.rejectReason, handleRejectReasonSubmit(deps));
  reg.view(VIEW.approveComment, handleApproveCommentSubmit(deps));

  svc.onStart('approvals: effects a store from before the outbox still owes', async () => {
    await approvals.ensureEffects();
  });

  return approvals;
}
