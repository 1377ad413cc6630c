import type { types } from '@slack/bolt';
import { ACTION, VIEW } from '../../slack/ids.js';
import { LIMIT, escapeMrkdwn, mention, slackDate, truncate, userText } from '../../slack/mrkdwn.js';
import { metadataObject } from '../../slack/values.js';
import type { Approval } from '../../store/approvals.js';

/**
 * Pure builders for everything approvals show in Slack: data in, Block Kit out, no I/O. Every
 * user-typed string goes through `userText` (escaped for mrkdwn, cut to the Block Kit limit) or
 * `plain` (plain_text, cut), so a title can neither ping `@channel` nor break a call.
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
  const m = userIds.map(mention);
  if (m.length <= 1) return m.join('');
  return `${m.slice(0, -1).join(', ')} ${conjunction} ${m[m.length - 1] as string}`;
}

const approverIds = (a: Approval): string[] => a.approvers.map((r) => r.userId);

// ---------------------------------------------------------------- what users are told

export function onlyApproversText(a: Approval): string {
  return `Only ${mentionList(approverIds(a))} can decide on this request.`;
}

/** The ephemeral answer to a click on a request that is no longer pending. */
export function alreadyDecidedText(a: Approval): string {
  if (a.status === 'failed') return 'This request could not be sent to every approver and was cancelled; it can no longer be decided.';
  const when = a.decidedAt !== null ? ` on ${slackDate(a.decidedAt)}` : '';
  const who = a.decidedBy ? ` by ${mention(a.decidedBy)}` : '';
  return `Already ${a.status}${who}${when}.`;
}

/** The same, for a modal's input error (plain text: mentions and dates would not render there). */
export function alreadyDecidedPlain(a: Approval): string {
  if (a.status === 'failed') return 'This request was cancelled and can no longer be decided.';
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

function titleBlock(a: Approval, lead: string): KnownBlock {
  return {
    type: 'section',
    block_id: BLOCK.title,
    text: { type: 'mrkdwn', text: `${lead}\n*${userText(a.title, TITLE_MAX)}*` },
  };
}

function detailsBlocks(a: Approval): KnownBlock[] {
  if (a.details.trim() === '') return [];
  return [{ type: 'section', block_id: BLOCK.details, text: { type: 'mrkdwn', text: userText(a.details, LIMIT.sectionText) } }];
}

function metaBlock(a: Approval): KnownBlock {
  const from = a.requesterId ? `Requested by ${mention(a.requesterId)}` : 'Requested by a workflow';
  const ids = approverIds(a);
  const who = ids.length > 1 ? `Any one of ${mentionList(ids)} can decide` : `Approver: ${mentionList(ids)}`;
  // Only user ids (validated as such) and our own words: nothing here is user-typed text.
  return { type: 'context', block_id: BLOCK.meta, elements: [{ type: 'mrkdwn', text: `${from} · ${who}` }] };
}

/** The DM each approver gets: title, details, requester, and the decision buttons. */
export function requestCardBlocks(a: Approval): KnownBlock[] {
  const value = String(a.id);
  return [
    titleBlock(a, ':raised_hand: *Approval requested*'),
    ...detailsBlocks(a),
    metaBlock(a),
    {
      type: 'actions',
      block_id: BLOCK.actions,
      elements: [
        { type: 'button', action_id: ACTION.approve, text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value },
        { type: 'button', action_id: ACTION.approveWithComment, text: { type: 'plain_text', text: 'Approve with comment…' }, value },
        { type: 'button', action_id: ACTION.reject, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value },
      ],
    },
  ];
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
  const icon = a.status === 'approved' ? ':white_check_mark:' : ':x:';
  const verb = a.status === 'approved' ? 'Approved' : 'Rejected';
  const who = a.decidedBy ? ` by ${mention(a.decidedBy)}` : '';
  const when = a.decidedAt !== null ? ` on ${slackDate(a.decidedAt)}` : '';
  const label = a.status === 'rejected' ? 'Reason' : 'Comment';
  const comment = a.comment ? `\n*${label}:*\n${quote(a.comment, MAX_COMMENT + 200)}` : '';
  return `${icon} *${verb}*${who}${when}${comment}`;
}

/** What every approver's DM becomes once someone decided: outcome, who, when, comment; no buttons. */
export function decidedCardBlocks(a: Approval): KnownBlock[] {
  return [
    titleBlock(a, ':ballot_box_with_check: *Approval request*'),
    ...detailsBlocks(a),
    metaBlock(a),
    { type: 'section', block_id: BLOCK.outcome, text: { type: 'mrkdwn', text: outcomeLine(a) } },
  ];
}

export function decidedCardText(a: Approval): string {
  return `${a.status === 'approved' ? 'Approved' : 'Rejected'}: ${userText(a.title, TITLE_MAX)}`;
}

/** What approvers who did get the request see when it could not reach the others. */
export function failedCardBlocks(a: Approval): KnownBlock[] {
  const reason = a.failureReason ? `\n${userText(a.failureReason, 2000)}` : '';
  return [
    titleBlock(a, ':warning: *Approval request cancelled*'),
    ...detailsBlocks(a),
    {
      type: 'section',
      block_id: BLOCK.outcome,
      text: { type: 'mrkdwn', text: `This request could not be sent to every approver, so nobody needs to decide on it.${reason}` },
    },
  ];
}

export function failedCardText(a: Approval): string {
  return `Approval request cancelled: ${userText(a.title, TITLE_MAX)}`;
}

/** The requester's DM once an approver decided. */
export function requesterNoticeBlocks(a: Approval): KnownBlock[] {
  const verb = a.status === 'approved' ? 'approved' : 'rejected';
  return [
    {
      type: 'section',
      block_id: BLOCK.title,
      text: { type: 'mrkdwn', text: `Your request *${userText(a.title, TITLE_MAX)}* was ${verb}.` },
    },
    { type: 'section', block_id: BLOCK.outcome, text: { type: 'mrkdwn', text: outcomeLine(a) } },
  ];
}

export function requesterNoticeText(a: Approval): string {
  return `Your request "${userText(a.title, TITLE_MAX)}" was ${a.status === 'approved' ? 'approved' : 'rejected'}.`;
}

// ---------------------------------------------------------------- modals

function summaryBlock(a: Approval): KnownBlock {
  const details = a.details.trim() === '' ? '' : `\n${userText(a.details, 1000)}`;
  return { type: 'section', block_id: BLOCK.title, text: { type: 'mrkdwn', text: `*${userText(a.title, TITLE_MAX)}*${details}` } };
}

/** A decision's modal: the request's summary and one text input for the reason or comment. */
function decisionModal(
  a: Approval,
  o: { callbackId: string; title: string; submit: string; input: { block: string; action: string }; label: string; hint: string; optional: boolean; placeholder?: string },
): ModalView {
  return {
    type: 'modal',
    callback_id: o.callbackId,
    private_metadata: encodeMeta({ approvalId: a.id }),
    title: { type: 'plain_text', text: o.title },
    submit: { type: 'plain_text', text: o.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      summaryBlock(a),
      {
        type: 'input',
        block_id: o.input.block,
        ...(o.optional ? { optional: true } : {}),
        label: { type: 'plain_text', text: o.label },
        hint: { type: 'plain_text', text: o.hint },
        element: {
          type: 'plain_text_input',
          action_id: o.input.action,
          multiline: true,
          max_length: MAX_COMMENT,
          ...(o.placeholder ? { placeholder: { type: 'plain_text', text: o.placeholder } } : {}),
        },
      },
    ],
  };
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
  return {
    type: 'modal',
    callback_id: VIEW.requestApproval,
    title: { type: 'plain_text', text: 'Request approval' },
    submit: { type: 'plain_text', text: 'Send request' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: REQUEST_INPUT.approvers.block,
        label: { type: 'plain_text', text: 'Approvers' },
        hint: { type: 'plain_text', text: 'Each gets the request in a DM; the first to decide settles it.' },
        element: { type: 'multi_users_select', action_id: REQUEST_INPUT.approvers.action, max_selected_items: maxApprovers },
      },
      {
        type: 'input',
        block_id: REQUEST_INPUT.title.block,
        label: { type: 'plain_text', text: 'What needs approving?' },
        element: {
          type: 'plain_text_input',
          action_id: REQUEST_INPUT.title.action,
          max_length: REQUEST_TITLE_MAX,
          placeholder: { type: 'plain_text', text: 'e.g. Budget for the Q3 offsite' },
        },
      },
      {
        type: 'input',
        block_id: REQUEST_INPUT.details.block,
        optional: true,
        label: { type: 'plain_text', text: 'Details' },
        element: { type: 'plain_text_input', action_id: REQUEST_INPUT.details.action, multiline: true, max_length: REQUEST_DETAILS_MAX },
      },
    ],
  };
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
