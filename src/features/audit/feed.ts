import { createHash } from 'node:crypto';
import { ErrorCode, type WebClient } from '@slack/web-api';
import { messageEffect } from '../../outbox/kinds.js';
import type { Outbox } from '../../outbox/sender.js';
import { describeError } from '../../runtime.js';
import { mention, slackDate, userText } from '../../slack/mrkdwn.js';
import type { OutboxStore } from '../../store/outboxStore.js';
import type { Effect } from '../../store/outbox.js';
import type { SettingsStore } from '../../store/settings.js';
import type { TasksStore } from '../../store/tasksStore.js';

/**
 * The audit feed: every approval decision, expiry and workflow-made task's completion, posted as
 * one message to a channel through a Slack incoming webhook (the workspace's, set by an admin in
 * the Home settings, else AUDIT_WEBHOOK_URL). Each event is an outbox effect written in the
 * transaction of the change it reports, keyed by the event: retried while the webhook fails,
 * never posted twice, not lost in a crash. The URL is read when the effect is sent, never stored
 * with it (it is a secret).
 */

export const AUDIT_KIND = 'audit';

/** A webhook call that gets no answer in this long is tried again later. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** One audit event: `key` names it for good (the same event written twice is posted once). */
export interface AuditEvent {
  key: string;
  teamId: string;
  /** mrkdwn: who, what, when. */
  text: string;
  /** A Slack message to link back to (a card; a task's first card), resolved to a permalink when sent. */
  link?: { channel: string; ts: string } | { taskId: number };
}

/** Which workspaces have a feed: all of them when `AUDIT_WEBHOOK_URL` (`defaultUrl`) is set. */
export const auditFeedFor = (defaultUrl: string | undefined): { everyWorkspace: boolean } => ({ everyWorkspace: Boolean(defaultUrl) });

/**
 * The event as an outbox effect. Without a feed for every workspace (`AUDIT_WEBHOOK_URL`,
 * `everyWorkspace`), it is written only for a workspace whose admin saved a webhook URL: an event
 * no feed would take is not kept.
 */
export function auditEffect(e: AuditEvent, feed: { everyWorkspace: boolean }): Effect {
  return {
    key: `audit:${e.key}`,
    teamId: e.teamId,
    kind: AUDIT_KIND,
    target: e.teamId,
    payload: { text: e.text, ...(e.link ? { link: e.link } : {}) },
    ...(feed.everyWorkspace ? {} : { onlyIf: { auditFeedSet: true } }),
  };
}

/** A pasted URL longer than this is not a webhook URL (they are about 80 characters). */
const URL_MAX = 500;

/**
 * Why `raw` cannot be a workspace's audit webhook, or undefined: it must be a Slack incoming
 * webhook (`https://hooks.slack.com/services/…`), or, in the sandbox and tests, one on the Slack
 * emulator (the configured Slack API's origin, `/services/…`). Nothing else: the app would post
 * to whatever URL an admin typed.
 */
export function auditWebhookUrlProblem(raw: string, slackApiUrl: string | undefined): string | undefined {
  const expected = 'Only Slack incoming webhook URLs are accepted: they start with https://hooks.slack.com/services/.';
  if (raw.length > URL_MAX) return `That URL is ${raw.length} characters long; a webhook URL is far shorter. ${expected}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'That is not a URL. Paste the incoming webhook URL Slack gave you, like https://hooks.slack.com/services/T…/B…/….';
  }
  if (url.username || url.password) return expected;
  let emulator: string | undefined;
  try {
    emulator = slackApiUrl ? new URL(slackApiUrl).origin : undefined;
  } catch {
    emulator = undefined; // a configured URL that does not parse allows nothing more
  }
  const isSlack = url.protocol === 'https:' && url.host === 'hooks.slack.com' && url.pathname.startsWith('/services/');
  const isEmulator = emulator !== undefined && url.origin === emulator && url.pathname.startsWith('/services/');
  return isSlack || isEmulator ? undefined : expected;
}

/** A webhook's answer that is not `ok`, shaped like a Web API error so the sender judges it the same way. */
class WebhookError extends Error {
  readonly code = ErrorCode.HTTPError;
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`the audit webhook answered ${statusCode}${body ? ` ${body.slice(0, 80)}` : ''}`);
  }
}

export interface AuditFeedDeps {
  settings: SettingsStore;
  tasks: Pick<TasksStore, 'messages'>;
  outbox: Pick<OutboxStore, 'add'>;
  /** AUDIT_WEBHOOK_URL: the feed of workspaces whose admin set none. */
  defaultUrl: string | undefined;
  now: () => number;
  fetch?: typeof fetch;
}

/** Registers the audit feed's effect kind on a sender. */
export function registerAuditKind(sender: Outbox, deps: AuditFeedDeps): void {
  const post = deps.fetch ?? fetch;
  const urlOf = async (teamId: string) => {
    const ws = await deps.settings.workspace(teamId);
    return { url: ws?.auditWebhookUrl ?? deps.defaultUrl, admin: ws?.auditWebhookUrl ? ws.updatedBy : undefined };
  };
  sender.register(AUDIT_KIND, {
    async send({ row, payload, client }) {
      const { url } = await urlOf(row.teamId);
      if (!url) return 'skipped: no audit feed';
      let text = String(payload['text'] ?? '');
      const message = await linkedMessage(deps.tasks, row.teamId, payload['link']);
      if (message) {
        const permalink = await client.chat.getPermalink({ channel: message.channel, message_ts: message.ts }).then(
          (r) => r.permalink,
          () => undefined, // a card deleted or out of reach: the event is still worth posting
        );
        if (permalink) text += ` · <${permalink}|View in Slack>`;
      }
      let res: Response;
      try {
        res = await post(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text, unfurl_links: false, unfurl_media: false }),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
      } catch (err) {
        // No answer: Slack may or may not have posted it; another attempt later.
        throw Object.assign(new Error(`the audit webhook did not answer: ${describeError(err)}`), { code: ErrorCode.RequestError });
      }
      const body = (await res.text().catch(() => '')).trim();
      if (!res.ok) throw new WebhookError(res.status, body);
      return 'posted';
    },
    async gaveUp({ row, logger }, failure) {
      const { url, admin } = await urlOf(row.teamId);
      const why = failure.kind === 'transient' || failure.kind === 'rate_limited' ? 'it kept failing' : `Slack answered ${failure.code ?? 'an error'}`;
      if (!url) return;
      if (!admin) {
        logger.error(`audit feed: AUDIT_WEBHOOK_URL does not work for team ${row.teamId} (${why}); an event was not posted`);
        return;
      }
      // Once per broken URL: a new URL that breaks is reported again.
      const urlId = createHash('sha256').update(url).digest('hex').slice(0, 16);
      await deps.outbox.add(
        [
          messageEffect({
            key: `audit-feed-broken:${row.teamId}:${urlId}`,
            teamId: row.teamId,
            channel: admin,
            text: `${mention(admin)}, Tasklane’s audit feed could not post to the webhook you set (${why}); events are not reaching the channel. Open Tasklane’s Home → *Settings* and paste a working incoming webhook URL.`,
          }),
        ],
        deps.now(),
      );
    },
  });
}

/** The message an event links to: given, or the task's first card (the store is read when sending). */
async function linkedMessage(tasks: AuditFeedDeps['tasks'], teamId: string, link: unknown): Promise<{ channel: string; ts: string } | undefined> {
  const l = link as { channel?: unknown; ts?: unknown; taskId?: unknown } | undefined;
  if (typeof l?.channel === 'string' && typeof l.ts === 'string') return { channel: l.channel, ts: l.ts };
  if (typeof l?.taskId !== 'number') return undefined;
  const [card] = await tasks.messages(teamId, l.taskId);
  return card ? { channel: card.channelId, ts: card.ts } : undefined;
}

/** The feed's line for an approval that was decided or expired. */
export function approvalAuditEvent(a: {
  id: number;
  teamId: string;
  title: string;
  status: string;
  decidedBy: string | null;
  decidedAt: number | null;
  requesterId: string | null;
  comment: string | null;
  approvers: readonly { userId: string; channelId: string | null; messageTs: string | null }[];
}): AuditEvent {
  const when = slackDate(a.decidedAt ?? 0);
  const what = a.status === 'approved' ? '✅ *Approved*' : a.status === 'rejected' ? '❌ *Rejected*' : a.status === 'expired' ? '⌛ *Expired*' : `*${a.status}*`;
  const who = a.decidedBy ? ` by ${mention(a.decidedBy)}` : '';
  const requested = a.requesterId ? ` Requested by ${mention(a.requesterId)}.` : '';
  const comment = a.comment ? ` ${a.status === 'rejected' ? 'Reason' : 'Comment'}: “${userText(a.comment, 500)}”` : '';
  const card = a.approvers.find((p) => p.userId === a.decidedBy && p.messageTs) ?? a.approvers.find((p) => p.messageTs);
  return {
    key: `approval:${a.id}:${a.status}`,
    teamId: a.teamId,
    text: `${what}: “${userText(a.title, 300)}” (approval ${a.id})${who} on ${when}.${requested}${comment}`,
    ...(card?.channelId && card.messageTs ? { link: { channel: card.channelId, ts: card.messageTs } } : {}),
  };
}

/** The feed's line for a workflow-made task that was completed (each completion of it, if reopened). */
export function taskCompletedAuditEvent(task: { id: number; teamId: string; number: number; title: string; completedBy: string | null; completedAt: number | null; assigneeId: string; creatorId: string }): AuditEvent {
  const at = task.completedAt ?? 0;
  return {
    key: `task:${task.id}:completed:${at}`,
    teamId: task.teamId,
    link: { taskId: task.id },
    text: `☑️ *Completed*: #${task.number} “${userText(task.title, 300)}”${task.completedBy ? ` by ${mention(task.completedBy)}` : ''} on ${slackDate(at)}. A workflow’s task, assigned to ${mention(task.assigneeId)}.`,
  };
}
