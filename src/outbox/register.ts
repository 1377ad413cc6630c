import type { WebClient } from '@slack/web-api';
import { ApprovalEffects, registerApprovalKinds } from '../features/approvals/effects.js';
import { registerHomeKind } from '../features/home/effects.js';
import { registerTaskKinds } from '../features/tasks/effects.js';
import { UserDirectory } from '../slack/users.js';
import { ApprovalsRepository } from '../store/approvals.js';
import { DashboardReadModel } from '../store/dashboard.js';
import type { Store } from '../store/db.js';
import { HomeStateRepository } from '../store/homeState.js';
import { TasksRepository } from '../store/tasks.js';
import { registerCommonKinds } from './kinds.js';
import type { Outbox } from './sender.js';

/**
 * Every kind of effect the app writes, registered on a sender with what its handlers read: the
 * store (on the sender's own connection) and the sender's Web API client. The same for the sender
 * thread (worker.ts) and for a sender on the main thread (an in-memory store, or the thread died).
 */
export function registerEffectKinds(outbox: Outbox, store: Store, deps: { client: WebClient; now: () => number; users?: UserDirectory }): void {
  registerCommonKinds(outbox, store);
  registerTaskKinds(outbox, new TasksRepository(store));
  registerApprovalKinds(outbox, new ApprovalsRepository(store, deps.now), new ApprovalEffects(store), deps.now);
  registerHomeKind(outbox, {
    client: deps.client,
    dashboard: new DashboardReadModel(store),
    homeState: new HomeStateRepository(store),
    users: deps.users ?? new UserDirectory(deps.client, undefined, deps.now),
    now: deps.now,
  });
}
