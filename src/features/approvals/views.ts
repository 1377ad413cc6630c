import type { types } from '@slack/bolt';
import { Blocks, Elements, Modal, type BlockBuilder } from 'slack-block-builder';
import { ACTION, VIEW } from '../../slack/ids.js';
import { LIMIT, escapeMrkdwn, mention, slackDate, truncate, userText } from '../../slack/mrkdwn.js';
import { metadataObject } from '../../slack/values.js';
import { blocks } from '../../slack/views.js';
import type { Approval } from '../../store/approvals.js';

/**
 * Pure builders for everything approvals show in Slack: data in, Block Kit out, no I/O. Every
 * user-typed string goes through `userText` (escaped for mrkdwn, cut to the Block Kit limit), so a
 * title can neither ping `@channel` nor break a call.
 */

type KnownBlock = types.KnownBlock;
type ModalView = types.ModalView;

/** Block and action ids of our modal inputs (ours alone, never in the manifest). */
export const INPUT = {
  reason: { block: 'approval_reason', action: 'reason' },
  comment: { block: 'approval_comment', action: 'comment' },
} as const;

/** What a decision or rejection reason may hold. */
export const MAX_COMMENT = 2000;
/** Title and details as long as Slack lets one section show them (what is stored is never cut). */
const TITLE_MAX = 300;

const BLOCK = {
  title: 'approval_title',
  details: 'approval_details',
  meta: 'approval_meta',
  actions: 'approval_actions',
  outcome: 'approval_outcome',
  escalated: 'approval_escalated',
} as const;

/** What a modal carries from the click to its submission (`private_metadata`). */
export interface ApprovalModalMeta {
  approvalId: number;
}

export function encodeMeta(meta: ApprovalModalMeta): string {
  return JSON.stringify(meta);
}

export function decodeMeta(raw: unknown): ApprovalModalMeta | undefined {
  const approvalId = metadataObject(raw)?.['approvalId'];
  return typeof approvalId === 'number' && Number.isSafeInteger(approvalId) ? { approvalId } : undefined;
}

/** "<@A>", "<@A> or <@B>", "<@A>, <@B> or <@C>". */
export function mentionList(userIds: readonly string[], conjunction = 'or'): string {
  return joinList(userIds.map(mention), conjunction);
}

function joinList(m: readonly string[], conjunction: string): string {
  if (m.length <= 1) return m.join('');
  return `${m.slice(0, -1).join(', ')} ${conjunction} ${m[m.length - 1] as string}`;
}

const approverIds = (a: Approval): string[] => a.approvers.map((r) => r.userId);

/** "1 hour", "36 hours". */
export function hoursText(hours: number): string {
  return hours === 1 ? '1 hour' : `${hours} hours`;
}

/** The comment an expired request is stored (and its step completed) with. */
export function expiryComment(expireAfterHours: number): string {
  return `No decision within ${hoursText(expireAfterHours)}`;
}

/** Reminders sent at most this many times per request. */
export const MAX_REMINDERS = 3;

// ---------------------------------------------------------------- what users are told

export function onlyApproversText(a: Approval): string {
  return `Only ${mentionList(approverIds(a))} can decide on this request.`;
}

/** The ephemeral answer to a click on a request that is no longer pending. */
export function alreadyDecidedText(a: Approval): string {
  if (a.status === 'failed') return 'This request could not be sent to every approver and was cancelled; it can no longer be decided.';
  if (a.status === 'expired') {
    const when = a.decidedAt !== null ? ` on ${slackDate(a.decidedAt)}` : '';
    return `This request expired${when} (${expiredWhy(a)}); it can no longer be decided.`;
  }
  const when = a.decidedAt !== null ? ` on ${slackDate(a.decidedAt)}` : '';
  const who = a.decidedBy ? ` by ${mention(a.decidedBy)}` : '';
  return `Already ${a.status}${who}${when}.`;
}

/** The same, for a modal's input error (plain text: mentions and dates would not render there). */
export function alreadyDecidedPlain(a: Approval): string {
  if (a.status === 'failed') return 'This request was cancelled and can no longer be decided.';
  if (a.status === 'expired') return `This request expired while the form was open (${expiredWhy(a)}); it can no longer be decided.`;
  return `This request was already ${a.status} by someone else while the form was open.`;
}

/**
 * Tells the decider what of their decision did not reach Slack (the decision itself is stored);
 * the outbox appends Slack's reason. `problem` is our own words, with mentions but no user text.
 */
export function decisionUndeliveredText(a: Approval, problem: string): string {
  return `Your decision on *${userText(a.title, TITLE_MAX)}* is recorded, but ${problem}`;
}

// ---------------------------------------------------------------- messages

function titleBlock(a: Approval, lead: string): BlockBuilder {
  return Blocks.Section({ blockId: BLOCK.title, text: `${lead}\n*${userText(a.title, TITLE_MAX)}*` });
}

function detailsBlock(a: Approval): BlockBuilder | undefined {
  if (a.details.trim() === '') return undefined;
  return Blocks.Section({ blockId: BLOCK.details, text: userText(a.details, LIMIT.sectionText) });
}

/** Why an expired request expired, in words ("no decision within 48 hours"). */
function expiredWhy(a: Approval): string {
  return a.expireAfterHours !== null ? `no decision within ${hoursText(a.expireAfterHours)}` : 'no decision in time';
}

/** The approvers, an escalated one marked as such. */
function approverList(a: Approval): string {
  return joinList(
    a.approvers.map((p) => (p.escalated ? `${mention(p.userId)} (escalated)` : mention(p.userId))),
    'or',
  );
}

function metaBlock(a: Approval): BlockBuilder {
  const from = a.requesterId ? `Requested by ${mention(a.requesterId)}` : 'Requested by a workflow';
  const ids = approverIds(a);
  const who = ids.length > 1 ? `Any one of ${approverList(a)} can decide` : `Approver: ${approverList(a)}`;
  // Only user ids (validated as such) and our own words: nothing here is user-typed text.
  return Blocks.Context({ blockId: BLOCK.meta }).elements(`${from} · ${who}`);
}

/** Told on an escalated approver's own card: why they were added. */
function escalatedBlock(a: Approval, viewer: string | undefined): BlockBuilder | undefined {
  if (!a.approvers.some((p) => p.userId === viewer && p.escalated)) return undefined;
  const why = a.remindAfterHours !== null ? `nobody decided within ${hoursText(a.remindAfterHours)}` : 'nobody decided in time';
  return Blocks.Context({ blockId: BLOCK.escalated }).elements(`:arrow_heading_up: You were added as an approver because ${why}.`);
}

/**
 * The DM each approver gets: title, details, requester, and the decision buttons. `viewer`: whose
 * card it is (an approver added by escalation is told why).
 */
export function requestCardBlocks(a: Approval, viewer?: string): KnownBlock[] {
  const value = String(a.id);
  return blocks(
    titleBlock(a, ':raised_hand: *Approval requested*'),
    detailsBlock(a),
    metaBlock(a),
    escalatedBlock(a, viewer),
    Blocks.Actions({ blockId: BLOCK.actions }).elements(
      Elements.Button({ text: 'Approve', actionId: ACTION.approve, value }).primary(),
      Elements.Button({ text: 'Approve with comment…', actionId: ACTION.approveWithComment, value }),
      Elements.Button({ text: 'Reject', actionId: ACTION.reject, value }).danger(),
    ),
  );
}

export function requestCardText(a: Approval): string {
  return `Approval requested: ${userText(a.title, TITLE_MAX)}`;
}

/**
 * A comment as a mrkdwn quote, every line quoted, escaped, and cut to `max` *with* the `>` marks:
 * a 2000-character comment of short lines gains one mark per line, which would push the section
 * past Block Kit's 3000 characters if the cut came before the marks.
 */
function quote(comment: string, max: number): string {
  const quoted = escapeMrkdwn(comment)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
  return truncate(quoted, max);
}

function outcomeLine(a: Approval): string {
  if (a.status === 'expired') {
    const when = a.decidedAt !== null ? ` on ${slackDate(a.decidedAt)}` : '';
    return `:hourglass: *Expired* — ${expiredWhy(a)}${when}. Nobody can decide on it any more.`;
  }
  const icon = a.status === 'approved' ? ':white_check_mark:' : ':x:';
  const verb = a.status === 'approved' ? 'Approved' : 'Rejected';
  const who = a.decidedBy ? ` by ${mention(a.decidedBy)}` : '';
  const when = a.decidedAt !== null ? ` on ${slackDate(a.decidedAt)}` : '';
  const label = a.status === 'rejected' ? 'Reason' : 'Comment';
  const comment = a.comment ? `\n*${label}:*\n${quote(a.comment, MAX_COMMENT + 200)}` : '';
  return `${icon} *${verb}*${who}${when}${comment}`;
}

function outcomeBlock(text: string): BlockBuilder {
  return Blocks.Section({ blockId: BLOCK.outcome, text });
}

/** What every approver's DM becomes once someone decided: outcome, who, when, comment; no buttons. */
export function decidedCardBlocks(a: Approval): KnownBlock[] {
  return blocks(titleBlock(a, ':ballot_box_with_check: *Approval request*'), detailsBlock(a), metaBlock(a), outcomeBlock(outcomeLine(a)));
}

export function decidedCardText(a: Approval): string {
  return `${outcomeWord(a)}: ${userText(a.title, TITLE_MAX)}`;
}

function outcomeWord(a: Approval): string {
  return a.status === 'approved' ? 'Approved' : a.status === 'expired' ? 'Expired' : 'Rejected';
}

/** What approvers who did get the request see when it could not reach the others. */
export function failedCardBlocks(a: Approval): KnownBlock[] {
  const reason = a.failureReason ? `\n${userText(a.failureReason, 2000)}` : '';
  return blocks(
    titleBlock(a, ':warning: *Approval request cancelled*'),
    detailsBlock(a),
    outcomeBlock(`This request could not be sent to every approver, so nobody needs to decide on it.${reason}`),
  );
}

export function failedCardText(a: Approval): string {
  return `Approval request cancelled: ${userText(a.title, TITLE_MAX)}`;
}

/** The requester's DM once an approver decided. */
export function requesterNoticeBlocks(a: Approval): KnownBlock[] {
  const verb = a.status === 'expired' ? 'expired' : `was ${outcomeWord(a).toLowerCase()}`;
  return blocks(
    Blocks.Section({ blockId: BLOCK.title, text: `Your request *${userText(a.title, TITLE_MAX)}* ${verb}.` }),
    outcomeBlock(outcomeLine(a)),
  );
}

export function requesterNoticeText(a: Approval): string {
  if (a.status === 'expired') return `Your request "${userText(a.title, TITLE_MAX)}" expired: ${expiredWhy(a)}.`;
  return `Your request "${userText(a.title, TITLE_MAX)}" was ${a.status === 'approved' ? 'approved' : 'rejected'}.`;
}

/**
 * Reminder `n` to an approver who has not decided (a DM of its own, so it notifies; the buttons
 * stay on the request card, the one message that is updated once someone decides).
 */
export function reminderText(a: Approval, n: number): string {
  const from = a.requesterId ? ` from ${mention(a.requesterId)}` : '';
  const since = ` since ${slackDate(a.createdAt)}`;
  return `:bell: Reminder (${n} of ${MAX_REMINDERS}): the approval request${from} *${userText(a.title, TITLE_MAX)}* has been waiting for a decision${since}. Approve or reject it with the buttons on the request above, or in Tasklane’s Home tab.`;
}

// ---------------------------------------------------------------- modals

function summaryBlock(a: Approval): BlockBuilder {
  const details = a.details.trim() === '' ? '' : `\n${userText(a.details, 1000)}`;
  return Blocks.Section({ blockId: BLOCK.title, text: `*${userText(a.title, TITLE_MAX)}*${details}` });
}

/** A decision's modal: the request's summary and one text input for the reason or comment. */
function decisionModal(
  a: Approval,
  o: { callbackId: string; title: string; submit: string; input: { block: string; action: string }; label: string; hint: string; optional: boolean; placeholder?: string },
): ModalView {
  const input = Blocks.Input({ label: o.label, blockId: o.input.block, hint: o.hint }).element(
    Elements.TextInput({ actionId: o.input.action, multiline: true, maxLength: MAX_COMMENT, placeholder: o.placeholder }),
  );
  // A required input leaves `optional` out (Slack's default) instead of sending `false`.
  return Modal({ title: o.title, submit: o.submit, close: 'Cancel', callbackId: o.callbackId, privateMetaData: encodeMeta({ approvalId: a.id }) })
    .blocks(summaryBlock(a), o.optional ? input.optional(true) : input)
    .buildToObject();
}

/** Reject: a required reason, ≤ 2000 characters (checked again on submit). */
export function rejectReasonModal(a: Approval): ModalView {
  return decisionModal(a, {
    callbackId: VIEW.rejectReason,
    title: 'Reject request',
    submit: 'Reject',
    input: INPUT.reason,
    label: 'Reason',
    hint: `The requester sees this. Up to ${MAX_COMMENT} characters.`,
    optional: false,
    placeholder: 'Why is this rejected?',
  });
}

/** Approve with an optional comment. */
export function approveCommentModal(a: Approval): ModalView {
  return decisionModal(a, {
    callbackId: VIEW.approveComment,
    title: 'Approve request',
    submit: 'Approve',
    input: INPUT.comment,
    label: 'Comment',
    hint: `Optional; the requester sees it. Up to ${MAX_COMMENT} characters.`,
    optional: true,
  });
}

// ---------------------------------------------------------------- requesting outside Workflow Builder

/** Block and action ids of the Request approval modal; errors are keyed by the block ids. */
export const REQUEST_INPUT = {
  approvers: { block: 'approval_request_approvers', action: 'approvers' },
  title: { block: 'approval_request_title', action: 'title' },
  details: { block: 'approval_request_details', action: 'details' },
} as const;

/** Longest title the form accepts (what a card shows in full). */
export const REQUEST_TITLE_MAX = 200;
export const REQUEST_DETAILS_MAX = 3000;

/** The "Request approval" shortcut's form: approvers (any one decides), title, details. */
export function requestApprovalModal(maxApprovers: number): ModalView {
  return Modal({ title: 'Request approval', submit: 'Send request', close: 'Cancel', callbackId: VIEW.requestApproval })
    .blocks(
      Blocks.Input({ label: 'Approvers', blockId: REQUEST_INPUT.approvers.block, hint: 'Each gets the request in a DM; the first to decide settles it.' }).element(
        Elements.UserMultiSelect({ actionId: REQUEST_INPUT.approvers.action, maxSelectedItems: maxApprovers }),
      ),
      Blocks.Input({ label: 'What needs approving?', blockId: REQUEST_INPUT.title.block }).element(
        Elements.TextInput({ actionId: REQUEST_INPUT.title.action, maxLength: REQUEST_TITLE_MAX, placeholder: 'e.g. Budget for the Q3 offsite' }),
      ),
      Blocks.Input({ label: 'Details', blockId: REQUEST_INPUT.details.block })
        .optional(true)
        .element(Elements.TextInput({ actionId: REQUEST_INPUT.details.action, multiline: true, maxLength: REQUEST_DETAILS_MAX })),
    )
    .buildToObject();
}

/** The requester's DM once the request went out (the outcome comes in another DM, requesterNotice*). */
export function requestSentText(a: Approval): string {
  const ids = approverIds(a);
  const to = ids.length > 1 ? `${mentionList(ids, 'and')}; the first of them to decide settles it` : mentionList(ids);
  return `:outbox_tray: Your approval request *${userText(a.title, TITLE_MAX)}* went to ${to}. I’ll tell you here when it is decided.`;
}

/** The requester's DM when the request could not reach every approver and was cancelled. */
export function requestFailedText(a: Approval): string {
  const why = a.failureReason ? ` ${userText(a.failureReason, 2000)}` : '';
  return `:warning: Your approval request *${userText(a.title, TITLE_MAX)}* was not sent.${why}`;
}
