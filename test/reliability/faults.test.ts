// Under Slack faults: every path that calls Slack, with 429 + Retry-After, 500s (a few, which the
// outbox's retries get through, and more than its attempts, after which the effect is given up),
// expired workflow tokens and invalid_blocks. For each: the app keeps serving, whoever acted is
// told in a DM what did not reach Slack, the store (and its outbox rows) is right, and retries do
// not apply anything twice.
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApprovalEffects, cardKey } from '../../src/features/approvals/effects.js';
import { requestCardBlocks, requestCardText } from '../../src/features/approvals/views.js';
import { EFFECT_EVENT_TYPE } from '../../src/outbox/sender.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import type { Fault } from '../../src/sandbox/fakeSlack.js';
import { ApprovalsRepository } from '../../src/store/approvals.js';
import { openStore } from '../../src/store/db.js';
import { OutboxRepository } from '../../src/store/outbox.js';
import type { OutboxRow } from '../../src/store/schema.js';
import { TEAM, TEST_RETRY_DELAYS_MS, startTestApp, type TestApp, type TestAppOptions } from '../support/harness.js';
import { ALICE, BOB, CAROL, addPeople as addApprovalPeople, actionIds, approvalOf, approve, card, defaultInputs, runStep } from '../approvals/support.js';
import { ANN, BOB as TBOB, addPeople as addTaskPeople, auditOf, cardsOf, dmCard, slash, taskByNumber } from '../tasks/helpers.js';

/** The outbox's attempts in tests (TEST_RETRY_DELAYS_MS): this many failures in a row are still got through… */
const WITHIN = TEST_RETRY_DELAYS_MS.length;
/** …and this many outlast them: the effect is given up. */
const OUTLAST = TEST_RETRY_DELAYS_MS.length + 1;
const RATE_LIMITED: Fault = { status: 429, retryAfter: 1 };
const SERVER_ERROR: Fault = { status: 500 };

let t: TestApp;
async function start(opts: TestAppOptions = {}): Promise<TestApp> {
  // The periodic recovery is driven by the tests (every 300 ms) so "later" is quick to observe.
  const app = await startTestApp({ recoveryEveryMs: 300, ...opts });
  addApprovalPeople(app);
  addTaskPeople(app);
  return app;
}
beforeEach(async () => {
  t = await start();
});
afterEach(async () => {
  await t.dispose();
});

const posts = (channel: string) => t.fake.callsTo('chat.postMessage').filter((c) => c.args['channel'] === channel);
const okPosts = (channel: string) => posts(channel).filter((c) => c.response['ok'] === true);
const errorLogs = () => t.logger.lines.filter((l) => l.level === 'error').map((l) => l.message);
const ephemeralTexts = (channel: string, user: string) => t.fake.ephemerals(channel, user).map((e) => e.text ?? '');
/** What the app's DM with `user` shows, oldest first. */
const dmTexts = (user: string) => t.fake.messages(t.fake.dmChannel(user)).map((m) => m.text ?? '');
/** The DMs that tell `user` something did not reach Slack ("…, but I couldn’t …"). */
const toldIn = (user: string) => dmTexts(user).filter((text) => text.includes('I couldn’t'));
const outboxRows = (): Promise<OutboxRow[]> => t.outboxRows();
const outboxRow = async (key: string): Promise<OutboxRow> => {
  const rows = await outboxRows();
  const row = rows.find((r) => r.key === key);
  if (!row) throw new Error(`no outbox row ${key}; rows: ${rows.map((r) => r.key).join(', ')}`);
  return row;
};
/** The rows a step's completion and a task's cards use (src/outbox/kinds.ts, src/features/tasks/effects.ts). */
const stepKey = (executionId: string) => `step:${executionId}`;

function approvalAudit(id: number): string[] {
  const rows = t.store.sqlite.prepare(`SELECT action FROM audit_log WHERE entity = 'approval' AND entity_id = ? ORDER BY id`).all(id) as { action: string }[];
  return rows.map((r) => r.action);
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await t.settle();
}

/** After a fault: a fresh request on the same path works. */
async function stillServesApprovals(): Promise<void> {
  const { executionId } = await runStep(t, defaultInputs({ title: 'Still serving?' }));
  expect((await approvalOf(t, executionId)).status).toBe('pending');
  await approve(t, ALICE, card(t, ALICE));
  await t.settle();
  expect(t.fake.execution(executionId)?.state).toBe('completed');
}

async function newTask(title: string) {
  const r = await slash(t, ANN, `add "${title}" <@${TBOB}|bob>`);
  const n = Number(/#(\d+)/.exec(r.text)?.[1]);
  return { n, reply: r.text, task: await taskByNumber(t, n) };
}

// ------------------------------------------------------------------------------------------

describe('request_approval step: DMs to approvers', () => {
  it('429 with Retry-After: waits, sends each approver exactly one card', async () => {
    t.fake.failNext('chat.postMessage', RATE_LIMITED);
    // The retry's spread at its lowest: the wait must still not be shorter than Retry-After.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    const started = Date.now();
    const { executionId } = await runStep(t, defaultInputs()).finally(() => random.mockRestore());
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('pending');
    for (const who of [ALICE, BOB]) {
      expect(okPosts(who)).toHaveLength(1);
      expect(t.fake.messages(t.fake.dmChannel(who))).toHaveLength(1);
      expect(a.approvers.find((r) => r.userId === who)?.messageTs).toBe(card(t, who).ts);
      expect(await outboxRow(cardKey(a, who))).toMatchObject({ state: 'done', lastError: null });
    }
    // The rate-limited card waited for its Retry-After, and only that one needed a second attempt.
    expect((await outboxRows()).filter((r) => r.key.startsWith(`approval:${a.id}:card:`)).map((r) => r.attempts).sort()).toEqual([1, 2]);
    expect(t.fake.execution(executionId)?.state).toBe('running');
    expect(errorLogs()).toEqual([]);
  });

  const cancelled = (why: string) => `Tasklane could not send the approval request to user ${ALICE} (${why}). The request was cancelled; check the approvers and try again.`;
  it.each([
    // The words for a 500 are checked by the test below.
    ['500s that outlast the retries', SERVER_ERROR, OUTLAST, undefined, /statusCode = 500/],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1, 'Slack could not show what Tasklane sent; please try again, and tell an admin if it keeps happening', /invalid_blocks/],
  ])('%s: the step fails with a clear error, recorded once as failed', async (_name, fault, times, why, lastError) => {
    t.fake.failNext('chat.postMessage', fault, times);
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('failed');
    if (why) expect(a.failureReason).toBe(cancelled(why));
    else expect(a.failureReason).toMatch(new RegExp(`^Tasklane could not send the approval request to user ${ALICE} \\(.+\\)\\. The request was cancelled; check the approvers and try again\\.$`));
    expect(a.decidedBy).toBeNull();
    expect(a.stepState).toBe('completed');
    const exec = t.fake.execution(executionId);
    expect(exec?.state).toBe('failed');
    expect(exec?.error).toBe(a.failureReason);
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(1);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(0);
    expect(approvalAudit(a.id)).toEqual(['requested', 'failed']);
    expect(t.fake.messages(t.fake.dmChannel(ALICE))).toHaveLength(0);
    // The card was tried as often as the fault lasted, then given up with Slack's reason kept.
    expect(await outboxRow(cardKey(a, ALICE))).toMatchObject({ state: 'failed', attempts: times });
    expect((await outboxRow(cardKey(a, ALICE))).lastError).toMatch(lastError);
    expect(await outboxRow(stepKey(executionId))).toMatchObject({ state: 'done', result: 'failed' });
    // A workflow request has no requester to DM: the step's error is what the workflow shows.
    expect(t.fake.messages(t.fake.dmChannel(CAROL))).toHaveLength(0);
    await stillServesApprovals();
  });

  // Slack answering 500 refused nothing: the reason says it did not answer (no code, nothing for an admin).
  it('500s that outlast the retries: the step’s error says Slack did not answer, not that it refused', async () => {
    t.fake.failNext('chat.postMessage', SERVER_ERROR, OUTLAST);
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('failed');
    expect(a.failureReason).not.toMatch(/refused/);
    expect(a.failureReason).toMatch(/Slack (did not answer|had a problem)/);
  });

  it('an expired workflow token: the cards go out with the bot token instead, once each', async () => {
    const exec = t.fake.startFunctionExecution({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: defaultInputs() });
    t.fake.expireWorkflowToken(exec.workflowToken);
    await runStep(t, defaultInputs(), { executionId: exec.executionId });
    const a = await approvalOf(t, exec.executionId);
    expect(a.status).toBe('pending');
    for (const who of [ALICE, BOB]) {
      expect(okPosts(who)).toHaveLength(1);
      expect(card(t, who).postedWithToken).toBe(t.fake.botToken);
    }
    // Those cards work: the decision completes the step with the bot token.
    await approve(t, BOB, card(t, BOB));
    await t.settle();
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { approved: true, decided_by: BOB } });
  });

  it('a redelivery (new event id, same execution) writes nothing new: no approver gets a second card, pending or decided', async () => {
    /** The outbox as a redelivery must leave it: the same keys, none of them written again. */
    const snapshot = async () => (await outboxRows()).map((r) => ({ key: r.key, generation: r.generation, createdAt: r.createdAt }));
    // Bob's card is still on its way (429) when Slack delivers the execution a second time.
    t.fake.failWhen('chat.postMessage', (args) => args['channel'] === BOB, RATE_LIMITED, 1);
    const first = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: defaultInputs() });
    expect(first.response.status).toBe(200);
    const written = await snapshot();
    expect(written.map((r) => r.key).filter((k) => k.includes(':card:'))).toHaveLength(2);
    const again = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: defaultInputs(), executionId: first.executionId, retryNum: 1 });
    expect(again.response.status).toBe(200);
    expect(await snapshot()).toEqual(written);
    await t.settle();
    for (const who of [ALICE, BOB]) {
      expect(okPosts(who)).toHaveLength(1);
      expect(t.fake.messages(t.fake.dmChannel(who))).toHaveLength(1);
    }
    const a = await approvalOf(t, first.executionId);
    expect(a.status).toBe('pending');
    expect(a.approvers.map((p) => p.messageTs)).toEqual([card(t, ALICE).ts, card(t, BOB).ts]);
    expect(await outboxRow(cardKey(a, BOB))).toMatchObject({ state: 'done', attempts: 2 });

    // Further redeliveries, even with the first event id, write and send nothing.
    await runStep(t, defaultInputs(), { executionId: first.executionId, eventId: first.eventId, retryNum: 2 });
    await runStep(t, defaultInputs(), { executionId: first.executionId, retryNum: 3 });
    expect(await snapshot()).toEqual(written);
    expect(okPosts(ALICE)).toHaveLength(1);
    expect(okPosts(BOB)).toHaveLength(1);
    expect(t.store.sqlite.prepare('SELECT count(*) AS n FROM approvals').get()).toEqual({ n: 1 });

    // Once decided, a redelivery writes and sends nothing either, and the decision stands.
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const decided = await snapshot();
    await runStep(t, defaultInputs(), { executionId: first.executionId, retryNum: 4 });
    expect(await snapshot()).toEqual(decided);
    expect(okPosts(ALICE)).toHaveLength(1);
    expect(okPosts(BOB)).toHaveLength(1);
    for (const who of [ALICE, BOB]) expect(actionIds(card(t, who))).toEqual([]);
    expect(await approvalOf(t, first.executionId)).toMatchObject({ status: 'approved', decidedBy: ALICE, stepState: 'completed' });
    expect(t.fake.execution(first.executionId)).toMatchObject({ state: 'completed', outputs: { decided_by: ALICE } });
    expect(t.fake.callsTo('functions.completeSuccess').filter((c) => c.response['ok'] === true)).toHaveLength(1);
  });

  it('a restart sends the cards a dead process left in the outbox, each exactly once', async () => {
    // Leases of 200 ms (30 s in production), so a dead sender's rows come back quickly.
    await t.dispose();
    t = await start({ outbox: { leaseMs: 200 } });
    const exec = t.fake.startFunctionExecution({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: defaultInputs() });
    await t.stop();

    // The process that died: it recorded the request with its cards' effects, its sender leased
    // both rows, posted Alice's card (Slack took it; the answer never came back) and died before
    // sending Bob's.
    const store = openStore(t.dbPath);
    let approvalId: number;
    try {
      const { approval } = await new ApprovalsRepository(store).create(
        {
          teamId: TEAM,
          title: 'Left behind',
          details: '',
          requesterId: CAROL,
          approverIds: [ALICE, BOB],
          origin: 'workflow',
          functionExecutionId: exec.executionId,
          workflowExecutionId: exec.workflowExecutionId,
          actorId: CAROL,
        },
        (a) => new ApprovalEffects({ everyWorkspace: false }).requested(a, Date.now()),
      );
      approvalId = approval.id;
      const leased = new OutboxRepository(store).claim('sender-of-a-dead-process', Date.now(), 200, 100);
      expect(leased.map((r) => r.key).sort()).toEqual([cardKey(approval, ALICE), cardKey(approval, BOB)].sort());
      const dead = new WebClient(t.fake.botToken, { slackApiUrl: t.fake.apiUrl, retryConfig: { retries: 0 } });
      await dead.chat.postMessage({
        channel: ALICE,
        text: requestCardText(approval),
        blocks: requestCardBlocks(approval),
        metadata: { event_type: EFFECT_EVENT_TYPE, event_payload: { key: cardKey(approval, ALICE) } },
      });
    } finally {
      store.close();
    }
    const alicesCard = card(t, ALICE);
    expect(t.fake.messages(t.fake.dmChannel(BOB))).toHaveLength(0);

    t = await t.restart();
    await until("Bob's card", () => t.fake.messages(t.fake.dmChannel(BOB)).length === 1);
    // Alice's card was found in her DM, not posted again; Bob's was sent once.
    expect(okPosts(ALICE)).toHaveLength(1);
    expect(t.fake.messages(t.fake.dmChannel(ALICE))).toEqual([alicesCard]);
    expect(okPosts(BOB)).toHaveLength(1);
    const a = await approvalOf(t, exec.executionId);
    expect(a.id).toBe(approvalId);
    expect(a.approvers.map((p) => [p.userId, p.messageTs])).toEqual([
      [ALICE, alicesCard.ts],
      [BOB, card(t, BOB).ts],
    ]);
    for (const who of [ALICE, BOB]) expect(await outboxRow(cardKey(a, who))).toMatchObject({ state: 'done', leaseOwner: null, lastError: null });
    expect((await outboxRows()).filter((r) => r.state !== 'done')).toEqual([]);

    // Another restart finds nothing left to send.
    t = await t.restart();
    await t.settle();
    expect(okPosts(ALICE)).toHaveLength(1);
    expect(okPosts(BOB)).toHaveLength(1);

    await approve(t, BOB, card(t, BOB));
    await t.settle();
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { decided_by: BOB } });
    expect(errorLogs()).toEqual([]);
  });
});

describe('request_approval step: completing it after the decision', () => {
  it('429 with Retry-After: the step completes once', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', RATE_LIMITED);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { approved: true, decided_by: ALICE } });
    expect(t.fake.callsTo('functions.completeSuccess').filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect((await approvalOf(t, executionId)).stepState).toBe('completed');
    expect(await outboxRow(stepKey(executionId))).toMatchObject({ state: 'done', attempts: 2, result: 'completed' });
    // Nothing to tell anyone: Alice's DM holds her card alone.
    expect(dmTexts(ALICE)).toHaveLength(1);
    expect(ephemeralTexts(card(t, ALICE).channel, ALICE)).toEqual([]);
  });

  it('500s within the outbox’s retries: the decision stands, the step completes later without a restart, once', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, WITHIN);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'approved', decidedBy: ALICE });
    expect(approvalAudit(a.id)).toEqual(['requested', 'approved']);
    // Every card shows the outcome, the requester was told.
    for (const who of [ALICE, BOB]) expect(actionIds(card(t, who))).toEqual([]);
    expect(okPosts(CAROL)).toHaveLength(1);

    await until('the step to complete', () => t.fake.execution(executionId)?.state === 'completed');
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: true, decided_by: ALICE });
    expect((await approvalOf(t, executionId)).stepState).toBe('completed');
    expect(await outboxRow(stepKey(executionId))).toMatchObject({ state: 'done', attempts: WITHIN + 1, result: 'completed', lastError: null });
    // The retries did not tell anyone twice, nor anything at all to Alice.
    expect(okPosts(CAROL)).toHaveLength(1);
    expect(toldIn(ALICE)).toEqual([]);
    expect(t.fake.callsTo('functions.completeSuccess').filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(errorLogs()).toEqual([]);
    await stillServesApprovals();
  });

  it('500s that outlast the retries: the decision stands, the completion is given up and recorded, nothing sent twice', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, OUTLAST);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'approved', decidedBy: ALICE, stepState: 'failed' });
    expect(approvalAudit(a.id)).toEqual(['requested', 'approved']);
    for (const who of [ALICE, BOB]) expect(actionIds(card(t, who))).toEqual([]);
    expect(okPosts(CAROL)).toHaveLength(1);
    expect(await outboxRow(stepKey(executionId))).toMatchObject({ state: 'failed', attempts: OUTLAST });
    expect((await outboxRow(stepKey(executionId))).lastError).toMatch(/statusCode = 500/);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(OUTLAST);
    // Given up for good: the recovery jobs (every 300 ms) and a restart do not complete it twice or tell Carol twice.
    t = await t.restart();
    await new Promise((r) => setTimeout(r, 700));
    await t.settle();
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(OUTLAST);
    expect(okPosts(CAROL)).toHaveLength(1);
    await stillServesApprovals();
  });

  // The workflow waits at this step for good: the approver who decided is told.
  it('500s that outlast the retries: the approver is told in a DM that the workflow could not go on', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, OUTLAST);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect((await outboxRow(stepKey(executionId))).state).toBe('failed');
    const told = dmTexts(ALICE).filter((text) => /workflow/i.test(text));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/recorded|saved/i);
  });

  it('the workflow token expired before the click: completes with the bot token', async () => {
    const { executionId, workflowToken } = await runStep(t, defaultInputs());
    t.fake.expireWorkflowToken(workflowToken);
    await approve(t, BOB, card(t, BOB));
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { decided_by: BOB } });
    expect(t.fake.callsTo('functions.completeSuccess')[0]?.token).toBe(t.fake.botToken);
  });
});

describe('approval buttons: updating the cards and telling the requester', () => {
  it('429 on chat.update: the refresh waits for Retry-After and every card shows the outcome', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('chat.update', RATE_LIMITED);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const a = await approvalOf(t, executionId);
    // The refresh (one row for every card) is tried again as a whole after the Retry-After: the
    // card that met the 429 is updated once, a card already updated gets the same content again.
    const updates = t.fake.callsTo('chat.update');
    expect(updates).toHaveLength(4); // two cards, two attempts
    const [firstAttempt, secondAttempt] = [updates.slice(0, 2), updates.slice(2)];
    const limited = firstAttempt.find((c) => c.status === 429);
    expect(limited).toBeDefined();
    expect(secondAttempt.every((c) => c.response['ok'] === true)).toBe(true);
    // jitter: ±10 % of the 1 s Retry-After
    expect(Math.min(...secondAttempt.map((c) => c.at)) - Math.max(...firstAttempt.map((c) => c.at))).toBeGreaterThanOrEqual(850);
    for (const who of [ALICE, BOB]) {
      expect(card(t, who).updates).toBeGreaterThanOrEqual(1);
      expect(card(t, who).updates).toBeLessThanOrEqual(2);
      expect(actionIds(card(t, who))).toEqual([]);
      expect(t.fake.messages(t.fake.dmChannel(who))).toHaveLength(1);
    }
    expect(t.fake.message(String(limited?.args['channel']), String(limited?.args['ts']))?.updates).toBe(1);
    expect(await outboxRow(`approval:${a.id}:cards`)).toMatchObject({ state: 'done', attempts: 2, lastError: null });
    // Decided once, completed once, the requester told once, the clicker told nothing.
    expect(approvalAudit(a.id)).toEqual(['requested', 'approved']);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(okPosts(CAROL)).toHaveLength(1);
    expect(toldIn(ALICE)).toEqual([]);
    expect(ephemeralTexts(card(t, ALICE).channel, ALICE)).toEqual([]);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, OUTLAST, /statusCode = 500/],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1, /invalid_blocks/],
  ])("%s on the clicker's card: the decision stands and the clicker is told", async (name, fault, times, lastError) => {
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    const aliceCard = card(t, ALICE);
    t.fake.failNext('chat.update', fault, times);
    await approve(t, ALICE, aliceCard);
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'approved', decidedBy: ALICE, stepState: 'completed' });
    expect(t.fake.execution(executionId)?.state).toBe('completed');
    expect(aliceCard.updates).toBe(0);
    expect(actionIds(aliceCard)).not.toEqual([]);
    expect(await outboxRow(`approval:${a.id}:cards`)).toMatchObject({ state: 'failed', attempts: times });
    expect((await outboxRow(`approval:${a.id}:cards`)).lastError).toMatch(lastError);
    // Told in a DM from the app, once; no ephemeral any more.
    const told = toldIn(ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^Your decision on \*Lone approver\* is recorded, but I couldn’t update every request message; some may still show the buttons\. \S/);
    if (name === 'invalid_blocks') expect(told[0]).toMatch(/Slack could not show what Tasklane sent/);
    expect(ephemeralTexts(aliceCard.channel, ALICE)).toEqual([]);
    // A second click on the card that still shows buttons: "already approved", nothing twice.
    await approve(t, ALICE, aliceCard);
    await t.settle();
    expect(ephemeralTexts(aliceCard.channel, ALICE)).toHaveLength(1);
    expect(ephemeralTexts(aliceCard.channel, ALICE)[0]).toContain('Already approved by');
    expect(approvalAudit(a.id)).toEqual(['requested', 'approved']);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(okPosts(CAROL)).toHaveLength(1);
    expect(toldIn(ALICE)).toHaveLength(1);
    await stillServesApprovals();
  });

  it('the clicker’s notice escapes the title (mrkdwn): a title cannot ping the channel or forge a link', async () => {
    await runStep(t, defaultInputs({ title: 'Pay <!channel> & <https://evil.example|the bank>' }));
    t.fake.failNext('chat.update', SERVER_ERROR, OUTLAST * 2); // both cards, every attempt
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const told = dmTexts(ALICE).filter((text) => text.startsWith('Your decision on'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('*Pay &lt;!channel&gt; &amp; &lt;https://evil.example|the bank&gt;* is recorded, but');
    expect(told[0]).not.toMatch(/<!channel>|<https:/);
  });

  it('the requester cannot be told (500s): the clicker hears it; the requester is not DMed twice', async () => {
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    // The next postMessage calls are the requester notice and all its attempts.
    t.fake.failNext('chat.postMessage', SERVER_ERROR, OUTLAST);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('approved');
    expect(okPosts(CAROL)).toHaveLength(0);
    expect(t.fake.messages(t.fake.dmChannel(CAROL))).toHaveLength(0);
    expect(await outboxRow(`approval:${a.id}:outcome`)).toMatchObject({ state: 'failed', attempts: OUTLAST });
    const told = toldIn(ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(new RegExp(`^Your decision on \\*Lone approver\\* is recorded, but I couldn’t tell <@${CAROL}> about it\\. \\S`));
    t = await t.restart();
    await t.settle();
    expect(okPosts(CAROL)).toHaveLength(0);
    expect(toldIn(ALICE)).toHaveLength(1);
  });
});

describe('/task add: the assignee’s DM card', () => {
  it('429 with Retry-After: one task, one card, one card row', async () => {
    t.fake.failNext('chat.postMessage', RATE_LIMITED);
    const { task, reply } = await newTask('Rate limited card');
    expect(reply).toContain(`Created #${task.number}`);
    expect(reply).not.toContain('saved, but');
    expect(okPosts(TBOB)).toHaveLength(1);
    expect(await cardsOf(t, task.id)).toHaveLength(1);
    expect(await auditOf(t, task.id)).toEqual(['created']);
    expect(await outboxRow(`task:${task.id}:card:assignee`)).toMatchObject({ state: 'done', attempts: 2 });
    expect(dmTexts(ANN)).toEqual([]);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, OUTLAST, undefined, /statusCode = 500/],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1, 'Slack could not show what Tasklane sent; please try again, and tell an admin if it keeps happening.', /invalid_blocks/],
  ])('%s: the task is saved once and the creator is told the DM did not go out', async (_name, fault, times, why, lastError) => {
    t.fake.failNext('chat.postMessage', fault, times);
    const { task, reply } = await newTask('Undeliverable card');
    expect(reply).toContain(`Created #${task.number}`);
    // The creator hears it in a DM from the app (the words for a 500 are checked by the test below).
    const told = dmTexts(ANN);
    expect(told).toHaveLength(1);
    const prefix = `#${task.number} Undeliverable card was saved, but I couldn’t send <@${TBOB}> the task in a DM. `;
    expect(told[0]?.startsWith(prefix)).toBe(true);
    if (why) expect(told[0]).toBe(prefix + why);
    else expect(told[0]?.length).toBeGreaterThan(prefix.length);
    expect(await outboxRow(`task:${task.id}:card:assignee`)).toMatchObject({ state: 'failed', attempts: times });
    expect((await outboxRow(`task:${task.id}:card:assignee`)).lastError).toMatch(lastError);
    expect(await cardsOf(t, task.id)).toHaveLength(0);
    expect(t.fake.messages(t.fake.dmChannel(TBOB))).toHaveLength(0);
    expect(t.store.sqlite.prepare(`SELECT count(*) AS n FROM tasks WHERE title = 'Undeliverable card'`).get()).toEqual({ n: 1 });
    expect(await auditOf(t, task.id)).toEqual(['created']);
    const next = await newTask('The next one');
    expect(next.reply).not.toContain('saved, but');
    expect(await cardsOf(t, next.task.id)).toHaveLength(1);
    expect(dmTexts(ANN)).toHaveLength(1);
  });

  // Slack answering 500 refused nothing: the creator is told it did not answer.
  it('500s that outlast the retries: the creator is told Slack did not answer, not that it refused', async () => {
    t.fake.failNext('chat.postMessage', SERVER_ERROR, OUTLAST);
    const { task } = await newTask('Undeliverable card');
    const told = dmTexts(ANN);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(new RegExp(`^#${task.number} Undeliverable card was saved, but I couldn’t send <@${TBOB}> the task in a DM\\. Slack (did not answer|had a problem); please try again in a moment\\.$`));
  });
});

describe('Complete from a task card', () => {
  async function clickComplete(userId: string, on: { channel: string; ts: string }) {
    const r = await t.slack.blockAction({ teamId: TEAM, userId, actionId: ACTION.taskComplete, container: 'message', channelId: on.channel, messageTs: on.ts });
    expect(r.response.status).toBe(200);
    await t.settle();
    return r.responseUrl ? t.fake.responses(r.responseUrl).map((b) => String(b['text'] ?? '')) : [];
  }

  it('429 on chat.update: done once, the card updated once', async () => {
    const { n, task } = await newTask('Complete me');
    const c = await dmCard(t, task.id);
    t.fake.failNext('chat.update', RATE_LIMITED);
    const replies = await clickComplete(TBOB, c);
    expect(replies).toEqual([]);
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: TBOB });
    expect(t.fake.message(c.channel, c.ts)?.updates).toBe(1);
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed']);
    expect(await outboxRow(`task:${task.id}:cards`)).toMatchObject({ state: 'done', attempts: 2 });
    expect(toldIn(TBOB)).toEqual([]);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, OUTLAST, /statusCode = 500/],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1, /invalid_blocks/],
  ])('%s on chat.update: done once, and the clicker is told the card could not be updated', async (name, fault, times, lastError) => {
    const { n, task } = await newTask('Complete me anyway');
    const c = await dmCard(t, task.id);
    t.fake.failNext('chat.update', fault, times);
    const replies = await clickComplete(TBOB, c);
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: TBOB });
    expect(t.fake.message(c.channel, c.ts)?.updates).toBe(0);
    expect(await outboxRow(`task:${task.id}:cards`)).toMatchObject({ state: 'failed', attempts: times });
    expect((await outboxRow(`task:${task.id}:cards`)).lastError).toMatch(lastError);
    // Told in a DM from the app, once; nothing through response_url.
    expect(replies).toEqual([]);
    const told = toldIn(TBOB);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(new RegExp(`^#${n} Complete me anyway is completed, but I couldn’t update its card; it may still show the buttons\\. \\S`));
    if (name === 'invalid_blocks') expect(told[0]).toMatch(/Slack could not show what Tasklane sent/);
    // The creator still hears it was completed, once.
    expect(dmTexts(ANN)).toHaveLength(1);
    // The card kept its button: a second click says who did it, and completes nothing twice.
    const again = await clickComplete(TBOB, c);
    expect(again[0]).toContain('was already completed by');
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed']);
    expect(toldIn(TBOB)).toHaveLength(1);
    expect(dmTexts(ANN)).toHaveLength(1);
    // and the next task works
    const next = await newTask('Next to complete');
    expect(await clickComplete(TBOB, await dmCard(t, next.task.id))).toEqual([]);
    expect(t.fake.message((await dmCard(t, next.task.id)).channel, (await dmCard(t, next.task.id)).ts)?.updates).toBe(1);
    expect(toldIn(TBOB)).toHaveLength(1);
  });
});

describe('create_task and complete_task steps', () => {
  const completions = (executionId: string) =>
    t.fake.calls.filter((c) => c.method.startsWith('functions.complete') && c.args['function_execution_id'] === executionId);
  const taskOfExecution = (executionId: string) =>
    t.store.sqlite.prepare('SELECT id, number, status, step_state AS stepState FROM tasks WHERE function_execution_id = ?').all(executionId) as {
      id: number;
      number: number;
      status: string;
      stepState: string;
    }[];

  it('create_task, 429 on completeSuccess: one task, completed once', async () => {
    t.fake.failNext('functions.completeSuccess', RATE_LIMITED);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'From a workflow', assignee: TBOB } });
    await t.settle();
    const rows = taskOfExecution(exec.executionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.stepState).toBe('completed');
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { task_number: rows[0]?.number } });
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(await outboxRow(stepKey(exec.executionId))).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('create_task, 500s within the outbox’s retries: one task; the step completes later, once, without a restart', async () => {
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, WITHIN);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Slack was down', assignee: TBOB } });
    await until('the step to complete', () => t.fake.execution(exec.executionId)?.state === 'completed');
    const rows = taskOfExecution(exec.executionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.stepState).toBe('completed');
    expect(completions(exec.executionId)).toHaveLength(WITHIN + 1);
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(await outboxRow(stepKey(exec.executionId))).toMatchObject({ state: 'done', attempts: WITHIN + 1, lastError: null });
    // A redelivery of the execution makes no second task, writes no second completion and completes nothing twice.
    const rowsBefore = (await outboxRows()).length;
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Slack was down', assignee: TBOB }, executionId: exec.executionId, retryNum: 1 });
    await t.settle();
    expect(taskOfExecution(exec.executionId)).toHaveLength(1);
    expect(t.fake.execution(exec.executionId)?.state).toBe('completed');
    expect(completions(exec.executionId)).toHaveLength(WITHIN + 1);
    expect(await outboxRows()).toHaveLength(rowsBefore);
    expect(okPosts(TBOB)).toHaveLength(1);
    expect(errorLogs()).toEqual([]);
  });

  it('create_task with an expired workflow token: everything goes out with the bot token', async () => {
    const e = t.fake.startFunctionExecution({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Late', assignee: TBOB } });
    t.fake.expireWorkflowToken(e.workflowToken);
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Late', assignee: TBOB }, executionId: e.executionId });
    await t.settle();
    expect(t.fake.execution(e.executionId)?.state).toBe('completed');
    expect(okPosts(TBOB)).toHaveLength(1);
    for (const call of [...completions(e.executionId), ...okPosts(TBOB)]) expect(call.token).toBe(t.fake.botToken);
  });

  it('complete_task, 500s within the outbox’s retries: the task is done once and the step completes (not fails) later', async () => {
    const { n, task } = await newTask('Finish me from a workflow');
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, WITHIN);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.completeTask, inputs: { task: `#${n}`, completed_by_user: TBOB } });
    await until('the step to complete', () => t.fake.execution(exec.executionId)?.state !== 'running', 8_000);
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: TBOB } });
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done' });
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed']);
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(0);
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(await outboxRow(stepKey(exec.executionId))).toMatchObject({ state: 'done', attempts: WITHIN + 1, result: 'completed' });
  });

  it('complete_task, 429: completes once', async () => {
    const { n } = await newTask('Finish me, rate limited');
    t.fake.failNext('functions.completeSuccess', RATE_LIMITED);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.completeTask, inputs: { task: String(n), completed_by_user: TBOB } });
    await t.settle();
    expect(t.fake.execution(exec.executionId)?.state).toBe('completed');
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(await outboxRow(stepKey(exec.executionId))).toMatchObject({ state: 'done', attempts: 2 });
  });
});

describe('App Home publish', () => {
  it('429 with Retry-After: published once', async () => {
    t.fake.failNext('views.publish', RATE_LIMITED);
    const r = await t.slack.appHomeOpened({ teamId: TEAM, userId: ANN });
    expect(r.status).toBe(200);
    await t.settle();
    expect(t.fake.callsTo('views.publish').filter((c) => c.response['ok'] === true)).toHaveLength(1);
    expect(t.fake.homeView(ANN)).toBeDefined();
    expect(await outboxRow(`home:${TEAM}:${ANN}`)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, OUTLAST],
    ['invalid_arguments', { error: 'invalid_arguments' } as Fault, 1],
  ])('%s: logged, nothing lost, the next visit publishes', async (_name, fault, times) => {
    await newTask('On my Home');
    t.fake.failNext('views.publish', fault, times);
    await t.slack.appHomeOpened({ teamId: TEAM, userId: TBOB });
    await t.settle();
    expect(t.fake.homeView(TBOB)).toBeUndefined();
    const key = `home:${TEAM}:${TBOB}`;
    expect(await outboxRow(key)).toMatchObject({ state: 'failed', attempts: times });
    expect((await outboxRow(key)).lastError).toBeTruthy();
    // Logged (the give-up, with the row's key); the Home has nobody to tell: no DM.
    expect(errorLogs().filter((m) => m.includes(`gave up ${key}`))).toHaveLength(1);
    expect(dmTexts(TBOB)).toHaveLength(1); // the task's card, nothing else
    await t.slack.appHomeOpened({ teamId: TEAM, userId: TBOB });
    await t.settle();
    expect(JSON.stringify(t.fake.homeView(TBOB)?.blocks)).toContain('On my Home');
    expect(await outboxRow(key)).toMatchObject({ state: 'done', lastError: null });
    expect(errorLogs().filter((m) => !m.includes(`gave up ${key}`))).toEqual([]);
  });
});
