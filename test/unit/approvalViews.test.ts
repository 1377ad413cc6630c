// The approval views as pure functions: an approval in, blocks out, checked for what approvers and
// requesters see and click, in every state, and against Block Kit's limits.
import { describe, expect, it } from 'vitest';
import {
  INPUT,
  MAX_COMMENT,
  REQUEST_DETAILS_MAX,
  REQUEST_INPUT,
  REQUEST_TITLE_MAX,
  alreadyDecidedPlain,
  alreadyDecidedText,
  approveCommentModal,
  decidedCardBlocks,
  decidedCardText,
  expiryComment,
  reminderText,
  requesterNoticeText,
  decodeMeta,
  failedCardBlocks,
  rejectReasonModal,
  requestApprovalModal,
  requestCardBlocks,
  requesterNoticeBlocks,
} from '../../src/features/approvals/views.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import type { Approval } from '../../src/store/approvals.js';
import { ANN, BOB, NOW, approval, blockById, buttons, expectValidMessage, expectValidView, texts, types } from './blocks.js';


const LONG = '<&>'.repeat(1000);
const MANY = Array.from({ length: 25 }, (_, i) => `UAPPROVER${String(i).padStart(2, '0')}`);
/** The largest approval: every text at its longest, every line of the comment quoted, 25 approvers. */
const largest = (over: Partial<Approval>) => approval({ title: LONG, details: LONG, failureReason: LONG, comment: '&\n'.repeat(1000), decidedBy: ANN, decidedAt: NOW, ...over }, MANY);
const decided = (status: 'approved' | 'rejected', comment: string | null) => approval({ status, decidedBy: ANN, decidedAt: NOW, comment });

describe('approval request card', () => {
  it('title, who asked, who decides, and the three decision buttons carrying the approval id', () => {
    const blocks = requestCardBlocks(approval());
    expectValidMessage(blocks);
    expect(types(blocks)).toEqual(['section', 'context', 'actions']);
    expect(texts(blocks)).toEqual([':raised_hand: *Approval requested*\n*Budget for the offsite*', `Requested by <@${BOB}> · Approver: <@${ANN}>`, '']);
    expect(buttons(blocks)).toEqual([
      { actionId: ACTION.approve, text: 'Approve', value: '42', style: 'primary' },
      { actionId: ACTION.approveWithComment, text: 'Approve with comment…', value: '42', style: undefined },
      { actionId: ACTION.reject, text: 'Reject', value: '42', style: 'danger' },
    ]);
  });

  it('details, a workflow as requester, several approvers', () => {
    const blocks = requestCardBlocks(approval({ details: 'Flights <!here> & hotel', requesterId: null }, [ANN, BOB, 'UCAT00003']));
    expectValidMessage(blocks);
    expect(texts([blockById(blocks, 'approval_details')])).toEqual(['Flights &lt;!here&gt; &amp; hotel']);
    expect(texts([blockById(blocks, 'approval_meta')])).toEqual([`Requested by a workflow · Any one of <@${ANN}>, <@${BOB}> or <@UCAT00003> can decide`]);
  });

  it('at its largest it still fits, escaped', () => {
    const blocks = requestCardBlocks(largest({ status: 'pending' }));
    expectValidMessage(blocks);
    expect(texts(blocks).slice(0, 2).join('')).not.toMatch(/[<>]/);
    expect(buttons(blocks)).toHaveLength(3);
  });
});

describe('decided card and the requester’s notice', () => {
  it('approved without a comment: outcome, who and when, no buttons', () => {
    const a = decided('approved', null);
    const card = decidedCardBlocks(a);
    expectValidMessage(card);
    expect(buttons(card)).toEqual([]);
    expect(types(card)).toEqual(['section', 'context', 'section']);
    expect(texts([blockById(card, 'approval_outcome')])[0]).toMatch(new RegExp(`^:white_check_mark: \\*Approved\\* by <@${ANN}> on <!date\\^${NOW / 1000}\\^[^>]+>$`));
    const notice = requesterNoticeBlocks(a);
    expectValidMessage(notice);
    expect(texts(notice)[0]).toBe('Your request *Budget for the offsite* was approved.');
  });

  it('rejected with a reason: every line quoted and escaped', () => {
    const a = decided('rejected', 'Too <b>expensive</b>\nTry Q4');
    for (const blocks of [decidedCardBlocks(a), requesterNoticeBlocks(a)]) {
      expectValidMessage(blocks);
      expect(buttons(blocks)).toEqual([]);
      const outcome = texts([blockById(blocks, 'approval_outcome')])[0]!;
      expect(outcome.startsWith(`:x: *Rejected* by <@${ANN}>`)).toBe(true);
      expect(outcome.endsWith('\n*Reason:*\n>Too &lt;b&gt;expensive&lt;/b&gt;\n>Try Q4')).toBe(true);
    }
  });

  it('at its largest (a comment of 1,000 short lines) it still fits', () => {
    for (const status of ['approved', 'rejected'] as const) {
      expectValidMessage(decidedCardBlocks(largest({ status })));
      expectValidMessage(requesterNoticeBlocks(largest({ status })));
    }
  });
});

describe('chasing: escalated approver, reminders, expiry', () => {
  const escalated = (over: Partial<Approval> = {}) => {
    const a = approval({ remindAfterHours: 24, escalateTo: 'UDANA0003', ...over }, [ANN, 'UDANA0003']);
    return { ...a, approvers: a.approvers.map((p) => ({ ...p, escalated: p.userId === 'UDANA0003' })) };
  };

  it('every card marks the escalated approver; only theirs says why they were added', () => {
    const a = escalated();
    const theirs = requestCardBlocks(a, 'UDANA0003');
    const others = requestCardBlocks(a, ANN);
    for (const blocks of [theirs, others]) {
      expectValidMessage(blocks);
      expect(texts([blockById(blocks, 'approval_meta')])).toEqual([`Requested by <@${BOB}> · Any one of <@${ANN}> or <@UDANA0003> (escalated) can decide`]);
      expect(buttons(blocks)).toHaveLength(3);
    }
    expect(texts([blockById(theirs, 'approval_escalated')])).toEqual([':arrow_heading_up: You were added as an approver because nobody decided within 24 hours.']);
    expect(blockById(others, 'approval_escalated')).toBeUndefined();
    expect(blockById(requestCardBlocks(a), 'approval_escalated')).toBeUndefined();
  });

  it('a reminder names the request (escaped), who asked, since when, and which reminder it is', () => {
    const text = reminderText(approval({ title: 'Fix <!channel> & co', createdAt: NOW }), 2);
    expect(text).toMatch(new RegExp(`^:bell: Reminder \\(2 of 3\\): the approval request from <@${BOB}> \\*Fix &lt;!channel&gt; &amp; co\\* has been waiting for a decision since <!date\\^${NOW / 1000}\\^`));
    expect(text).not.toContain('<!channel>');
  });

  it('expired: the card says so, without buttons; the requester and a late click are told', () => {
    const a = approval({ status: 'expired', decidedAt: NOW, expireAfterHours: 48, comment: expiryComment(48) }, [ANN, BOB]);
    expect(expiryComment(48)).toBe('No decision within 48 hours');
    expect(expiryComment(1)).toBe('No decision within 1 hour');
    const card = decidedCardBlocks(a);
    expectValidMessage(card);
    expect(buttons(card)).toEqual([]);
    expect(texts([blockById(card, 'approval_outcome')])[0]).toMatch(new RegExp(`^:hourglass: \\*Expired\\* — no decision within 48 hours on <!date\\^${NOW / 1000}\\^[^>]+>\\. Nobody can decide on it any more\\.$`));
    expect(decidedCardText(a)).toBe('Expired: Budget for the offsite');
    const notice = requesterNoticeBlocks(a);
    expectValidMessage(notice);
    expect(texts(notice)[0]).toBe('Your request *Budget for the offsite* expired.');
    expect(requesterNoticeText(a)).toBe('Your request "Budget for the offsite" expired: no decision within 48 hours.');
    expect(alreadyDecidedText(a)).toMatch(/^This request expired on <!date\^\d+\^[^>]+> \(no decision within 48 hours\); it can no longer be decided\.$/);
    expect(alreadyDecidedPlain(a)).toBe('This request expired while the form was open (no decision within 48 hours); it can no longer be decided.');
    expectValidMessage(decidedCardBlocks(largest({ status: 'expired', expireAfterHours: 8760 })));
  });
});

describe('cancelled (failed) card', () => {
  it('says nobody needs to decide, with the reason, and offers nothing to click', () => {
    const blocks = failedCardBlocks(approval({ status: 'failed', failureReason: 'Could not DM <@U1>' }));
    expectValidMessage(blocks);
    expect(buttons(blocks)).toEqual([]);
    expect(texts(blocks)).toEqual([
      ':warning: *Approval request cancelled*\n*Budget for the offsite*',
      'This request could not be sent to every approver, so nobody needs to decide on it.\nCould not DM &lt;@U1&gt;',
    ]);
    expectValidMessage(failedCardBlocks(largest({ status: 'failed' })));
    expect(texts(failedCardBlocks(approval({ status: 'failed' })))[1]).toBe('This request could not be sent to every approver, so nobody needs to decide on it.');
  });
});

describe('decision modals', () => {
  it('Reject: a required reason, the approval id in the metadata', () => {
    const view = rejectReasonModal(approval({ details: 'Flights' }));
    expectValidView(view);
    expect([view.callback_id, view.title.text, view.submit?.text, view.close?.text]).toEqual([VIEW.rejectReason, 'Reject request', 'Reject', 'Cancel']);
    expect(decodeMeta(view.private_metadata)).toEqual({ approvalId: 42 });
    expect(texts(view.blocks)[0]).toBe('*Budget for the offsite*\nFlights');
    const input = blockById(view.blocks, INPUT.reason.block)!;
    expect(input['optional']).toBeUndefined();
    expect(input['element']).toMatchObject({ type: 'plain_text_input', action_id: INPUT.reason.action, multiline: true, max_length: MAX_COMMENT });
  });

  it('Approve with comment: an optional comment', () => {
    const view = approveCommentModal(approval());
    expectValidView(view);
    expect([view.callback_id, view.submit?.text]).toEqual([VIEW.approveComment, 'Approve']);
    const input = blockById(view.blocks, INPUT.comment.block)!;
    expect(input['optional']).toBe(true);
    expect(input['element']).toMatchObject({ action_id: INPUT.comment.action, max_length: MAX_COMMENT });
  });

  it('both fit at their largest', () => {
    expectValidView(rejectReasonModal(largest({})));
    expectValidView(approveCommentModal(largest({})));
  });
});

describe('Request approval modal', () => {
  it('approvers (up to the maximum), a title and optional details, each within its limits', () => {
    const view = requestApprovalModal(10);
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.requestApproval);
    expect(view.blocks.map((b) => b.block_id)).toEqual([REQUEST_INPUT.approvers.block, REQUEST_INPUT.title.block, REQUEST_INPUT.details.block]);
    expect(blockById(view.blocks, REQUEST_INPUT.approvers.block)!['element']).toEqual({ type: 'multi_users_select', action_id: REQUEST_INPUT.approvers.action, max_selected_items: 10 });
    expect(blockById(view.blocks, REQUEST_INPUT.title.block)!['element']).toMatchObject({ action_id: REQUEST_INPUT.title.action, max_length: REQUEST_TITLE_MAX });
    const details = blockById(view.blocks, REQUEST_INPUT.details.block)!;
    expect(details['optional']).toBe(true);
    expect(details['element']).toMatchObject({ action_id: REQUEST_INPUT.details.action, multiline: true, max_length: REQUEST_DETAILS_MAX });
  });
});
