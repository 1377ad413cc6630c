import type { WebClient } from '@slack/web-api';
import { approvalAuditEvent, auditEffect } from '../audit/feed.js';
import { messageEffect, stepEffect } from '../../outbox/kinds.js';
import { findPosted, type Outbox } from '../../outbox/sender.js';
import { isGone, type SlackFailure } from '../../slack/failures.js';
import { mention } from '../../slack/mrkdwn.js';
import { slackErrorCode, slackFailureText } from '../../slack/slackErrors.js';
import type { Approval } from '../../store/approvals.js';
import type { OutboxRow } from '../../store/schema.js';
import type { ApprovalsStore } from '../../store/approvalsStore.js';
import type { Effect } from '../../store/outbox.js';
import { homeEffects } from '../home/effects.js';
import {
  decisionUndeliveredText,
  decidedCardBlocks,
  decidedCardText,
  expiryComment,
  failedCardBlocks,
  failedCardText,
  requestCardBlocks,
  MAX_REMINDERS,
  reminderText,
  requestCardText,
  requestFailedText,
  requesterNoticeBlocks,
  requesterNoticeText,
  requestSentText,
} from './views.js';

/**
 * What an approval's changes owe Slack, as outbox effects written in the change's transaction:
 * each approver's request card, the cards turned into the outcome, the requester's DM, the
 * workflow step's completion, the approvers' Homes. Cards are rendered when sent, from the
 * approval as it is then: a card never goes out with live buttons for a decided request.
 */

export const APPROVAL_KIND = {
  /** One approver's request card (the DM with the buttons), recorded once posted. */
  card: 'approval.card',
  /** Every posted card turned into the outcome (coalesced per approval). */
  cards: 'approval.cards',
  /** Reminder n of a pending request (scheduled: `remind_after_hours` after the previous one). */
  remind: 'approval.remind',
  /** A request nobody decided in `expire_after_hours` becomes `expired` (scheduled at creation). */
  expire: 'approval.expire',
} as const;

const HOUR_MS = 60 * 60_000;

/** The workflow token was refused (expired: ~15 min, or the step already ended): post with the bot token. */
const TOKEN_REFUSED = new Set(['token_expired', 'invalid_auth', 'token_revoked', 'not_authed']);

/** Why an approver could not get the DM, in words (said inside parentheses). */
const DM_FAILURE: Record<string, string> = {
  messages_tab_disabled: 'they do not accept direct messages from apps',
  cannot_dm_bot: 'it is a bot',
  user_disabled: 'their account is deactivated',
  account_inactive: 'their account is deactivated',
  user_not_found: 'Slack does not know this user',
  channel_not_found: 'Slack does not know this user',
  user_not_visible: 'Tasklane cannot see this user',
};

export type StepOutcome = 'approved' | 'rejected' | 'expired';

/**
 * The step's outputs, exactly the manifest's `output_parameters`. An expired request has no
 * decider: `decided_by` (not required) is left out rather than given a user id nobody chose.
 */
export function stepOutputs(a: Approval): { approved: boolean; outcome: StepOutcome; decided_by?: string; comment: string; approval_id: string } {
  const outcome: StepOutcome = a.status === 'approved' || a.status === 'expired' ? a.status : 'rejected';
  return { approved: a.status === 'approved', outcome, ...(a.decidedBy ? { decided_by: a.decidedBy } : {}), comment: a.comment ?? '', approval_id: String(a.id) };
}

export const remindKey = (a: Pick<Approval, 'id'>, n: number) => `approval:${a.id}:remind:${n}`;
export const expireKey = (a: Pick<Approval, 'id'>) => `approval:${a.id}:expire`;

export const cardKey = (a: Pick<Approval, 'id'>, userId: string) => `approval:${a.id}:card:${userId}`;

export class ApprovalEffects {
  /** `auditFeed.everyWorkspace`: `AUDIT_WEBHOOK_URL` is set, so every workspace's events are kept. */
  constructor(private readonly auditFeed: { everyWorkspace: boolean }) {}

  /** A new request: a card for every approver. */
  requested(a: Approval, now: number): Effect[] {
    return [...a.approvers.map((p) => cardEffect(a, p.userId)), ...this.homes(a, now), ...this.scheduled(a)];
  }

  /**
   * What chasing a request owes from the start: its first reminder and its expiry, as outbox rows
   * due at the request's creation time plus the interval (the outbox is the scheduler).
   */
  scheduled(a: Approval): Effect[] {
    const effects: Effect[] = [];
    if (a.remindAfterHours !== null) effects.push(remindEffect(a, 1, a.createdAt + a.remindAfterHours * HOUR_MS));
    if (a.expireAfterHours !== null) {
      effects.push({ key: expireKey(a), teamId: a.teamId, kind: APPROVAL_KIND.expire, target: String(a.id), payload: { approvalId: a.id }, notBefore: a.createdAt + a.expireAfterHours * HOUR_MS });
    }
    return effects;
  }

  /**
   * Reminder `n` was counted: a reminder DM to every approver who has not decided (all of them:
   * one decision ends the request), except one escalation just added, who gets the request card
   * instead (saying why); the other cards then list them; the next reminder, unless this was the last.
   */
  reminded(a: Approval, n: number, now: number): Effect[] {
    const added = n === 1 ? a.approvers.filter((p) => p.escalated && p.userId === a.escalateTo) : [];
    const effects: Effect[] = a.approvers
      .filter((p) => !added.includes(p))
      .map((p) => messageEffect({ key: `${remindKey(a, n)}:${p.userId}`, teamId: a.teamId, channel: p.userId, text: reminderText(a, n) }));
    if (added.length > 0) effects.push(...added.map((p) => cardEffect(a, p.userId)), this.refresh(a), ...homeEffects(a.teamId, added.map((p) => p.userId), now));
    if (n < MAX_REMINDERS && a.remindAfterHours !== null) effects.push(remindEffect(a, n + 1, now + a.remindAfterHours * HOUR_MS));
    return effects;
  }

  /** Nobody decided in time: like a decision (cards, step outputs, requester, Homes), with no decider. */
  expired(a: Approval, now: number): Effect[] {
    return this.decided(a, now);
  }

  /** Approvers still owed a card (a store from before the outbox): their card effects. */
  unsent(a: Approval): Effect[] {
    return a.approvers.filter((p) => !p.messageTs).map((p) => cardEffect(a, p.userId));
  }

  /** A decision: the step's outputs, every card shows it, the requester hears of it. */
  decided(a: Approval, now: number): Effect[] {
    const effects: Effect[] = [this.refresh(a, a.decidedBy ?? undefined)];
    if (a.functionExecutionId) effects.push(this.step(a));
    if (a.requesterId && a.requesterId !== a.decidedBy) {
      effects.push(
        messageEffect({
          key: `approval:${a.id}:outcome`,
          teamId: a.teamId,
          channel: a.requesterId,
          text: requesterNoticeText(a),
          blocks: requesterNoticeBlocks(a),
          ...(a.decidedBy ? { notify: { userId: a.decidedBy, text: decisionUndeliveredText(a, `I couldn’t tell ${mention(a.requesterId)} about it.`) } } : {}),
        }),
      );
    }
    effects.push(auditEffect(approvalAuditEvent(a), this.auditFeed));
    return [...effects, ...this.homes(a, now)];
  }

  /** Cancelled (an approver could not be reached, or the step's inputs were unusable). */
  failed(a: Approval, now: number): Effect[] {
    const effects: Effect[] = [this.refresh(a)];
    if (a.functionExecutionId) effects.push(this.step(a));
    else if (a.requesterId) effects.push(messageEffect({ key: `approval:${a.id}:not-sent`, teamId: a.teamId, channel: a.requesterId, text: requestFailedText(a) }));
    return [...effects, ...this.homes(a, now)];
  }

  /** The `request_approval` step's result: outputs for a decision, an error for a cancelled request. */
  step(a: Approval): Effect {
    const effect = this.stepResult(a);
    // The decider hears if the workflow could not be told (it will not go on).
    if (a.decidedBy) effect.payload = { ...effect.payload, notify: { userId: a.decidedBy, text: decisionUndeliveredText(a, 'Slack did not take it, so the workflow will not go on.') } };
    return effect;
  }

  private stepResult(a: Approval): Effect {
    return a.status === 'failed'
      ? stepEffect({ teamId: a.teamId, executionId: a.functionExecutionId ?? '', error: a.failureReason ?? 'Tasklane could not request approval.', owner: { table: 'approvals', id: a.id } })
      : stepEffect({
          teamId: a.teamId,
          executionId: a.functionExecutionId ?? '',
          outputs: stepOutputs(a),
          owner: { table: 'approvals', id: a.id },
        });
  }

  refresh(a: Approval, decider?: string): Effect {
    const notify = decider ? { userId: decider, text: decisionUndeliveredText(a, 'I couldn’t update every request message; some may still show the buttons.') } : undefined;
    return { key: `approval:${a.id}:cards`, teamId: a.teamId, kind: APPROVAL_KIND.cards, target: String(a.id), payload: { approvalId: a.id, ...(notify ? { notify } : {}) }, coalesce: true };
  }

  /** The approvers' Homes ("Waiting on you"); the requester's Home shows nothing of their requests. */
  private homes(a: Approval, now: number): Effect[] {
    return homeEffects(a.teamId, a.approvers.map((p) => p.userId), now);
  }
}

function remindEffect(a: Approval, n: number, at: number): Effect {
  return { key: remindKey(a, n), teamId: a.teamId, kind: APPROVAL_KIND.remind, target: String(a.id), payload: { approvalId: a.id, n }, notBefore: at };
}

function cardEffect(a: Approval, userId: string): Effect {
  return { key: cardKey(a, userId), teamId: a.teamId, kind: APPROVAL_KIND.card, target: userId, payload: { approvalId: a.id } };
}

/** Turns one approver's card into the outcome (decided, or cancelled): no buttons left. */
async function showOutcome(client: WebClient, approval: Approval, channel: string, ts: string): Promise<void> {
  const cancelled = approval.status === 'failed';
  await client.chat.update({
    channel,
    ts,
    text: cancelled ? failedCardText(approval) : decidedCardText(approval),
    blocks: cancelled ? failedCardBlocks(approval) : decidedCardBlocks(approval),
  });
}

export function registerApprovalKinds(outbox: Outbox, repo: ApprovalsStore, effects: ApprovalEffects, now: () => number): void {
  outbox.register(APPROVAL_KIND.card, {
    async send({ row, payload, post, token, client, logger }) {
      const approval = await repo.get(row.teamId, Number(payload['approvalId']));
      if (!approval) return 'skipped: no such approval';
      const approver = approval.approvers.find((p) => p.userId === row.target);
      if (!approver) return 'skipped: not an approver';
      if (approver.channelId && approver.messageTs) {
        // Posted by an earlier attempt, decided since: that card shows the outcome (idempotent).
        if (approval.status !== 'pending') await showOutcome(client, approval, approver.channelId, approver.messageTs);
        return `${approver.channelId}/${approver.messageTs}`;
      }
      if (approval.status !== 'pending') {
        // Decided before this card was recorded: if an earlier attempt posted it (its answer lost),
        // it is recorded now and shows the outcome; otherwise no card is owed any more.
        const found = row.uncertain ? await findPosted(client, row.target, row.key, row.createdAt) : undefined;
        if (!found) return `skipped: ${approval.status}`;
        await repo.recordMessage(approval.teamId, approval.id, row.target, found.channel, found.ts);
        await showOutcome(client, approval, found.channel, found.ts);
        return `${found.channel}/${found.ts}`;
      }
      const message = { channel: row.target, text: requestCardText(approval), blocks: requestCardBlocks(approval, row.target) };
      let posted: { channel: string; ts: string };
      try {
        // The workflow token, while the request that wrote this effect lent it: clicks on its
        // buttons then carry the step's interactivity. The bot token otherwise.
        posted = await post(token ? { ...message, token } : message);
      } catch (err) {
        const code = slackErrorCode(err);
        if (!token || code === undefined || !TOKEN_REFUSED.has(code)) throw err;
        logger.info(`approval ${approval.id} (team ${approval.teamId}): the workflow token was refused (${code}); sending the card with the bot token`);
        posted = await post(message);
      }
      await repo.recordMessage(approval.teamId, approval.id, row.target, posted.channel, posted.ts);
      const current = await repo.get(approval.teamId, approval.id);
      if (current && current.status !== 'pending') {
        // Decided while this card was on its way: the decision's refresh may have missed it.
        await showOutcome(client, current, posted.channel, posted.ts);
      } else if (current && current.origin === 'shortcut' && current.requesterId && current.approvers.every((p) => p.messageTs)) {
        await outbox.add([messageEffect({ key: `approval:${current.id}:sent`, teamId: current.teamId, channel: current.requesterId, text: requestSentText(current) })]);
      }
      return `${posted.channel}/${posted.ts}`;
    },
    /** An approver who cannot get the DM cancels the request: nobody could decide it for them. */
    async gaveUp({ row, payload, logger }, failure: SlackFailure) {
      const approval = await repo.get(row.teamId, Number(payload['approvalId']));
      if (!approval || approval.status !== 'pending') return;
      if (approval.approvers.some((p) => p.userId === row.target && p.escalated)) {
        // An approver added by escalation who cannot get the DM: the request stays with the others.
        logger.warn(`approval ${approval.id} (team ${approval.teamId}): the escalation to ${row.target} could not be delivered (${failure.kind}); the request stays with the other approvers`);
        return;
      }
      // Slack busy or silent all along: it "did not answer"; otherwise its reason, in words.
      const code = failure.kind === 'transient' || failure.kind === 'rate_limited' ? undefined : failure.code;
      const why = (code !== undefined ? DM_FAILURE[code] : undefined) ?? slackFailureText(code).replace(/\.$/, '');
      const error = `Tasklane could not send the approval request to user ${row.target} (${why}). The request was cancelled; check the approvers and try again.`;
      await repo.markFailed(approval.teamId, approval.id, error, approval.requesterId ?? 'workflow', (failed) => effects.failed(failed, now()));
      outbox.kick();
    },
  });

  outbox.register(APPROVAL_KIND.remind, {
    send: ({ row, payload, now: at }) => sendReminder(repo, effects, outbox, row, Number(payload['approvalId']), Number(payload['n']), at),
  });

  outbox.register(APPROVAL_KIND.expire, {
    send: ({ row, payload, now: at }) => expireRequest(repo, effects, outbox, row, Number(payload['approvalId']), at),
  });

  outbox.register(APPROVAL_KIND.cards, {
    async send({ row, payload, client, logger }) {
      const approval = await repo.get(row.teamId, Number(payload['approvalId']));
      if (!approval) return 'skipped';
      const failures: unknown[] = [];
      await Promise.all(
        approval.approvers.map(async ({ userId, channelId, messageTs }) => {
          if (!channelId || !messageTs) return;
          try {
            // Still pending (an approver was added by escalation): the request, listing them, with its buttons.
            if (approval.status === 'pending') await client.chat.update({ channel: channelId, ts: messageTs, text: requestCardText(approval), blocks: requestCardBlocks(approval, userId) });
            else await showOutcome(client, approval, channelId, messageTs);
          } catch (err) {
            if (isGone(err)) return; // deleted by its reader
            logger.warn(`approval ${approval.id} (team ${approval.teamId}): could not update ${userId}'s card: ${slackErrorCode(err) ?? 'no answer'}`);
            failures.push(err);
          }
        }),
      );
      if (failures.length > 0) throw failures[0];
      return `${approval.approvers.filter((p) => p.messageTs).length} card(s)`;
    },
  });
}

/**
 * Reminder `n` of a request, when it is due: nothing once the request is decided or expired (or its
 * expiry is due: that goes first), or when reminder `n` was already counted (a second run, another
 * instance). A reminder found late (the app was down) is sent once, and the next one is due an
 * interval after it, not at once: no burst of stale reminders.
 */
async function sendReminder(repo: ApprovalsStore, effects: ApprovalEffects, outbox: Outbox, row: OutboxRow, approvalId: number, n: number, now: number): Promise<string> {
  const approval = await repo.get(row.teamId, approvalId);
  if (!approval) return 'skipped: no such approval';
  if (approval.status !== 'pending') return `skipped: ${approval.status}`;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_REMINDERS) return `skipped: no reminder ${n}`;
  if (approval.expireAfterHours !== null && now >= approval.createdAt + approval.expireAfterHours * HOUR_MS) return 'skipped: its expiry is due';
  const { reminded } = await repo.remind(approval.teamId, approval.id, n, (a) => effects.reminded(a, n, now));
  if (!reminded) return `skipped: reminder ${n} already counted, or decided meanwhile`;
  outbox.kick();
  return `reminder ${n}`;
}

/** A request nobody decided in time becomes `expired`, unless a decision came first (then nothing). */
async function expireRequest(repo: ApprovalsStore, effects: ApprovalEffects, outbox: Outbox, row: OutboxRow, approvalId: number, now: number): Promise<string | { later: number }> {
  const approval = await repo.get(row.teamId, approvalId);
  if (!approval) return 'skipped: no such approval';
  if (approval.status !== 'pending') return `skipped: ${approval.status}`;
  if (approval.expireAfterHours === null) return 'skipped: no expiry';
  const due = approval.createdAt + approval.expireAfterHours * HOUR_MS;
  if (now < due) return { later: due };
  const { expired } = await repo.expire(approval.teamId, approval.id, expiryComment(approval.expireAfterHours), (a) => effects.expired(a, now));
  if (!expired) return 'skipped: decided meanwhile';
  outbox.kick();
  return 'expired';
}
