// Shared set-up for the approvals tests: people, a request through the real HTTP path, and
// helpers to find and click the DM each approver got.
import { expect } from 'vitest';
import { FUNCTION, ACTION } from '../../src/slack/ids.js';
import type { Approval } from '../../src/store/approvals.js';
import type { ApprovalsStore } from '../../src/store/approvalsStore.js';
import type { FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { TEAM, type TestApp } from '../support/harness.js';

export const ALICE = 'U0ALICE01'; // approver
export const BOB = 'U0BOB0001'; // other approver
export const CAROL = 'U0CAROL01'; // requester
export const MALLORY = 'U0MALLORY'; // not an approver
export const SHY = 'U0SHY0001'; // does not accept DMs from apps

export function addPeople(t: TestApp): void {
  for (const id of [ALICE, BOB, CAROL, MALLORY]) t.fake.addUser({ id, teamId: TEAM, name: id.slice(2).toLowerCase() });
  t.fake.addUser({ id: SHY, teamId: TEAM, name: 'shy', canDm: false });
}

export interface Requested {
  executionId: string;
  workflowToken: string;
  eventId: string;
}

/** Sends `function_executed` for request_approval and waits for everything it set off. */
export async function runStep(
  t: TestApp,
  inputs: Record<string, unknown>,
  opts: { executionId?: string; eventId?: string; retryNum?: number } = {},
): Promise<Requested> {
  const r = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs, ...opts });
  expect(r.response.status).toBe(200);
  await t.settle();
  return { executionId: r.executionId, workflowToken: r.workflowToken, eventId: r.eventId };
}

export const defaultInputs = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  approver: ALICE,
  other_approvers: [BOB],
  title: 'Budget for the Q3 offsite',
  details: 'Venue and travel, 12 people.',
  requester: CAROL,
  ...over,
});

/** The approval card in a user's DM (the last one Tasklane posted there). */
export function card(t: TestApp, userId: string): FakeMessage {
  const list = t.fake.messages(t.fake.dmChannel(userId));
  const m = list[list.length - 1];
  if (!m) throw new Error(`no message in ${userId}'s DM`);
  return m;
}

/**
 * Clicks a button on a message. `stale` clicks a button the message no longer shows (a client
 * that had not redrawn yet): the payload carries the approval id the button had.
 */
export function click(t: TestApp, userId: string, actionId: string, on: FakeMessage, stale?: { approvalId: number }) {
  return t.slack.blockAction({
    teamId: TEAM,
    userId,
    actionId,
    container: 'message',
    channelId: on.channel,
    messageTs: on.ts,
    ...(stale ? { unchecked: true, value: String(stale.approvalId) } : {}),
  });
}

export const approve = (t: TestApp, userId: string, on: FakeMessage, stale?: { approvalId: number }) =>
  click(t, userId, ACTION.approve, on, stale);

export function repo(t: TestApp): ApprovalsStore {
  return t.stores.approvals;
}

export async function approvalOf(t: TestApp, executionId: string): Promise<Approval> {
  const a = await repo(t).getByExecution(TEAM, executionId);
  if (!a) throw new Error(`no approval for ${executionId}`);
  return a;
}

/** Action ids of every interactive element in a message's blocks. */
export function actionIds(m: FakeMessage): string[] {
  const out: string[] = [];
  for (const b of (m.blocks ?? []) as { elements?: { action_id?: string }[]; accessory?: { action_id?: string } }[]) {
    for (const e of b.elements ?? []) if (e.action_id) out.push(e.action_id);
    if (b.accessory?.action_id) out.push(b.accessory.action_id);
  }
  return out;
}
