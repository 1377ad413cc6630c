import type { WebClient } from '@slack/web-api';
import { ApprovalEffects, registerApprovalKinds } from '../features/approvals/effects.js';
import { auditFeedFor, registerAuditKind } from '../features/audit/feed.js';
import { registerHomeKind } from '../features/home/effects.js';
import { registerTaskKinds } from '../features/tasks/effects.js';
import { registerReminderKinds } from '../features/tasks/reminderKinds.js';
import { UserDirectory } from '../slack/users.js';
import type { Stores } from '../store/engine.js';
import { registerCommonKinds } from './kinds.js';
import type { Outbox } from './sender.js';

/**
 * Every kind of effect the app writes, registered on a sender with what its handlers read: the
 * store (the sender thread's own SQLite connection, or the app's) and the sender's Web API client.
 * The same for the sender thread (worker.ts) and for a sender on the main thread (PostgreSQL, an
 * in-memory SQLite store, or the thread died).
 */
export function registerEffectKinds(outbox: Outbox, stores: Stores, deps: { client: WebClient; now: () => number; users?: UserDirectory; auditWebhookUrl?: string | undefined }): void {
  const users = deps.users ?? new UserDirectory(deps.client, undefined, deps.now);
  const auditFeed = auditFeedFor(deps.auditWebhookUrl);
  registerCommonKinds(outbox, stores);
  registerTaskKinds(outbox, stores.tasks, deps.now, auditFeed);
  registerReminderKinds(outbox, { stores, users });
  registerApprovalKinds(outbox, stores.approvals, new ApprovalEffects(auditFeed), deps.now);
  registerHomeKind(outbox, {
    client: deps.client,
    dashboard: stores.dashboard,
    homeState: stores.homeState,
    users,
    now: deps.now,
  });
  registerAuditKind(outbox, { settings: stores.settings, tasks: stores.tasks, outbox: stores.outbox, defaultUrl: deps.auditWebhookUrl, now: deps.now });
}
