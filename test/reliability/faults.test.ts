// Under Slack faults: every path that calls Slack, with 429 + Retry-After, 500s that
// exhaust the client's 2 retries, expired workflow tokens and invalid_blocks. For each: the app
// keeps serving, whoever waits is told what did not reach Slack, the store is right, and retries
// do not apply anything twice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import type { Fault } from '../../src/sandbox/fakeSlack.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, BOB, CAROL, addPeople as addApprovalPeople, actionIds, approvalOf, approve, card, defaultInputs, runStep } from '../approvals/support.js';
import { ANN, BOB as TBOB, addPeople as addTaskPeople, auditOf, cardsOf, dmCard, slash, taskByNumber } from '../tasks/helpers.js';

/** Three failures in a row: the first call and both of the client's retries. */
const EXHAUST = 3;
const RATE_LIMITED: Fault = { status: 429, retryAfter: 1 };
const SERVER_ERROR: Fault = { status: 500 };

let t: TestApp;
beforeEach(async () => {
  // The periodic recovery is driven by the tests (every 300 ms) so "later" is quick to observe.
  t = await startTestApp({ recoveryEveryMs: 300 });
  addApprovalPeople(t);
  addTaskPeople(t);
});
afterEach(async () => {
  await t.dispose();
});

const posts = (channel: string) => t.fake.callsTo('chat.postMessage').filter((c) => c.args['channel'] === channel);
const okPosts = (channel: string) => posts(channel).filter((c) => c.response['ok'] === true);
const errorLogs = () => t.logger.lines.filter((l) => l.level === 'error').map((l) => l.message);
const ephemeralTexts = (channel: string, user: string) => t.fake.ephemerals(channel, user).map((e) => e.text ?? '');

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
  return { n, reply: r.text, task: taskByNumber(t, n) };
}

// ------------------------------------------------------------------------------------------

describe('request_approval step: DMs to approvers', () => {
  it('429 with Retry-After: waits, sends each approver exactly one card', async () => {
    t.fake.failNext('chat.postMessage', RATE_LIMITED);
    const started = Date.now();
    const { executionId } = await runStep(t, defaultInputs());
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('pending');
    for (const who of [ALICE, BOB]) {
      expect(okPosts(who)).toHaveLength(1);
      expect(t.fake.messages(t.fake.dmChannel(who))).toHaveLength(1);
      expect(a.approvers.find((r) => r.userId === who)?.messageTs).toBe(card(t, who).ts);
    }
    expect(t.fake.execution(executionId)?.state).toBe('running');
    expect(errorLogs()).toEqual([]);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, /Slack did not answer/],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, /Slack could not show what Tasklane sent/],
  ])('%s: the step fails with a clear error, recorded once as failed', async (_name, fault, reason) => {
    t.fake.failNext('chat.postMessage', fault, fault === SERVER_ERROR ? EXHAUST : 1);
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('failed');
    expect(a.failureReason).toMatch(reason);
    expect(a.failureReason).toContain(`user ${ALICE}`);
    expect(a.decidedBy).toBeNull();
    const exec = t.fake.execution(executionId);
    expect(exec?.state).toBe('failed');
    expect(exec?.error).toBe(a.failureReason);
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(1);
    expect(approvalAudit(a.id)).toEqual(['requested', 'failed']);
    expect(t.fake.messages(t.fake.dmChannel(ALICE))).toHaveLength(0);
    await stillServesApprovals();
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

  it('a redelivery (new event id, same execution) sends only the cards still missing, while pending', async () => {
    const first = await runStep(t, defaultInputs());
    const a = await approvalOf(t, first.executionId);
    // As if the process died after Alice's card and before Bob's.
    t.store.sqlite.prepare('UPDATE approval_approvers SET channel_id = NULL, message_ts = NULL WHERE approval_id = ? AND user_id = ?').run(a.id, BOB);
    t.fake.messages(t.fake.dmChannel(BOB)).length = 0;

    await runStep(t, defaultInputs(), { executionId: first.executionId, retryNum: 1 });
    expect(okPosts(ALICE)).toHaveLength(1);
    expect(okPosts(BOB)).toHaveLength(2);
    expect(t.fake.messages(t.fake.dmChannel(BOB))).toHaveLength(1);
    const again = await approvalOf(t, first.executionId);
    expect(again.approvers.find((r) => r.userId === BOB)?.messageTs).toBe(card(t, BOB).ts);
    expect(again.status).toBe('pending');

    // Nothing is missing any more: a further redelivery, even with the same event id, sends nothing.
    await runStep(t, defaultInputs(), { executionId: first.executionId, eventId: first.eventId, retryNum: 2 });
    await runStep(t, defaultInputs(), { executionId: first.executionId, retryNum: 3 });
    expect(okPosts(ALICE)).toHaveLength(1);
    expect(okPosts(BOB)).toHaveLength(2);
    expect(t.store.sqlite.prepare('SELECT count(*) AS n FROM approvals').get()).toEqual({ n: 1 });

    // Once decided, a redelivery sends nothing either.
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    t.store.sqlite.prepare('UPDATE approval_approvers SET channel_id = NULL, message_ts = NULL WHERE approval_id = ? AND user_id = ?').run(a.id, BOB);
    await runStep(t, defaultInputs(), { executionId: first.executionId, retryNum: 4 });
    expect(okPosts(BOB)).toHaveLength(2);
  });

  it('a restart sends the cards a dead process did not get to send', async () => {
    const first = await runStep(t, defaultInputs());
    const a = await approvalOf(t, first.executionId);
    t.store.sqlite.prepare('UPDATE approval_approvers SET channel_id = NULL, message_ts = NULL WHERE approval_id = ? AND user_id = ?').run(a.id, BOB);
    t.fake.messages(t.fake.dmChannel(BOB)).length = 0;
    t = await t.restart();
    await until("Bob's card", () => t.fake.messages(t.fake.dmChannel(BOB)).length === 1);
    expect(okPosts(ALICE)).toHaveLength(1);
    expect((await approvalOf(t, first.executionId)).approvers.every((r) => r.messageTs)).toBe(true);
    await approve(t, BOB, card(t, BOB));
    await t.settle();
    expect(t.fake.execution(first.executionId)).toMatchObject({ state: 'completed', outputs: { decided_by: BOB } });
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
    expect(ephemeralTexts(card(t, ALICE).channel, ALICE)).toEqual([]);
  });

  it('500s that outlast the retries: the decision stands, the approver is told, the step completes later without a restart', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, EXHAUST);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'approved', decidedBy: ALICE });
    expect(approvalAudit(a.id)).toEqual(['requested', 'approved']);
    // Every card shows the outcome, the requester was told.
    for (const who of [ALICE, BOB]) expect(actionIds(card(t, who))).toEqual([]);
    expect(okPosts(CAROL)).toHaveLength(1);
    const told = ephemeralTexts(card(t, ALICE).channel, ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/saved/i);
    expect(told[0]).toMatch(/workflow/i);

    await until('the step to complete', () => t.fake.execution(executionId)?.state === 'completed');
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: true, decided_by: ALICE });
    expect((await approvalOf(t, executionId)).stepState).toBe('completed');
    // The recovery did not tell anyone twice.
    expect(okPosts(CAROL)).toHaveLength(1);
    expect(t.fake.callsTo('functions.completeSuccess').filter((c) => c.response['ok'] === true)).toHaveLength(1);
    await stillServesApprovals();
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
  it('429 on chat.update: every card updated exactly once', async () => {
    await runStep(t, defaultInputs());
    t.fake.failNext('chat.update', RATE_LIMITED);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    for (const who of [ALICE, BOB]) {
      expect(card(t, who).updates).toBe(1);
      expect(actionIds(card(t, who))).toEqual([]);
    }
    expect(ephemeralTexts(card(t, ALICE).channel, ALICE)).toEqual([]);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, EXHAUST],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1],
  ])("%s on the clicker's card: the decision stands and the clicker is told", async (_name, fault, times) => {
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    t.fake.failNext('chat.update', fault, times);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'approved', decidedBy: ALICE, stepState: 'completed' });
    expect(t.fake.execution(executionId)?.state).toBe('completed');
    expect(card(t, ALICE).updates).toBe(0);
    const told = ephemeralTexts(card(t, ALICE).channel, ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/saved/i);
    expect(told[0]).toMatch(/message/i);
    // A second click on the card that still shows buttons: "already approved", nothing twice.
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect(ephemeralTexts(card(t, ALICE).channel, ALICE)[1]).toContain('Already approved by');
    expect(approvalAudit(a.id)).toEqual(['requested', 'approved']);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    await stillServesApprovals();
  });

  it('the requester cannot be told (500s): the clicker hears it; the requester is not DMed twice', async () => {
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Lone approver', requester: CAROL });
    // The next postMessage calls are the requester notice and its two retries.
    t.fake.failNext('chat.postMessage', SERVER_ERROR, EXHAUST);
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect((await approvalOf(t, executionId)).status).toBe('approved');
    expect(okPosts(CAROL)).toHaveLength(0);
    const told = ephemeralTexts(card(t, ALICE).channel, ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`<@${CAROL}>`);
    t = await t.restart();
    await t.settle();
    expect(okPosts(CAROL)).toHaveLength(0);
  });
});

describe('/task add: the assignee’s DM card', () => {
  it('429 with Retry-After: one task, one card, one card row', async () => {
    t.fake.failNext('chat.postMessage', RATE_LIMITED);
    const { task, reply } = await newTask('Rate limited card');
    expect(reply).toContain(`Created #${task.number}`);
    expect(reply).not.toContain('saved, but');
    expect(okPosts(TBOB)).toHaveLength(1);
    expect(cardsOf(t, task.id)).toHaveLength(1);
    expect(auditOf(t, task.id)).toEqual(['created']);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, EXHAUST, 'Slack did not answer; please try again in a moment.'],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1, 'Slack could not show what Tasklane sent; please try again, and tell an admin if it keeps happening.'],
  ])('%s: the task is saved once and the creator is told the DM did not go out', async (_name, fault, times, why) => {
    t.fake.failNext('chat.postMessage', fault, times);
    const { task, reply } = await newTask('Undeliverable card');
    expect(reply).toContain(`Created #${task.number}`);
    expect(reply).toContain(`#${task.number} Undeliverable card was saved, but: I couldn’t send <@${TBOB}> the task in a DM. ${why}`);
    expect(cardsOf(t, task.id)).toHaveLength(0);
    expect(t.store.sqlite.prepare(`SELECT count(*) AS n FROM tasks WHERE title = 'Undeliverable card'`).get()).toEqual({ n: 1 });
    expect(auditOf(t, task.id)).toEqual(['created']);
    const next = await newTask('The next one');
    expect(next.reply).not.toContain('saved, but');
    expect(cardsOf(t, next.task.id)).toHaveLength(1);
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
    const c = dmCard(t, task.id);
    t.fake.failNext('chat.update', RATE_LIMITED);
    const replies = await clickComplete(TBOB, c);
    expect(replies).toEqual([]);
    expect(taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: TBOB });
    expect(t.fake.message(c.channel, c.ts)?.updates).toBe(1);
    expect(auditOf(t, task.id)).toEqual(['created', 'completed']);
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, EXHAUST],
    ['invalid_blocks', { error: 'invalid_blocks' } as Fault, 1],
  ])('%s on chat.update: done once, and the clicker is told the card could not be updated', async (_name, fault, times) => {
    const { n, task } = await newTask('Complete me anyway');
    const c = dmCard(t, task.id);
    t.fake.failNext('chat.update', fault, times);
    const replies = await clickComplete(TBOB, c);
    expect(taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: TBOB });
    expect(t.fake.message(c.channel, c.ts)?.updates).toBe(0);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(new RegExp(`#${n} Complete me anyway is completed, but I couldn’t update its card`));
    // The card kept its button: a second click says who did it, and completes nothing twice.
    const again = await clickComplete(TBOB, c);
    expect(again[0]).toContain('was already completed by');
    expect(auditOf(t, task.id)).toEqual(['created', 'completed']);
    // and the next task works
    const next = await newTask('Next to complete');
    expect(await clickComplete(TBOB, dmCard(t, next.task.id))).toEqual([]);
    expect(t.fake.message(dmCard(t, next.task.id).channel, dmCard(t, next.task.id).ts)?.updates).toBe(1);
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
  });

  it('create_task, 500s that outlast the retries: one task; the step completes later, once, without a restart', async () => {
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, EXHAUST);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Slack was down', assignee: TBOB } });
    await until('the step to complete', () => t.fake.execution(exec.executionId)?.state === 'completed');
    const rows = taskOfExecution(exec.executionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.stepState).toBe('completed');
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
    // A redelivery of the execution makes no second task and completes nothing twice.
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Slack was down', assignee: TBOB }, executionId: exec.executionId, retryNum: 1 });
    await t.settle();
    expect(taskOfExecution(exec.executionId)).toHaveLength(1);
    expect(t.fake.execution(exec.executionId)?.state).toBe('completed');
    expect(errorLogs()).toEqual([]);
  });

  it('create_task with an expired workflow token: everything goes out with the bot token', async () => {
    const e = t.fake.startFunctionExecution({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Late', assignee: TBOB } });
    t.fake.expireWorkflowToken(e.workflowToken);
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Late', assignee: TBOB }, executionId: e.executionId });
    await t.settle();
    expect(t.fake.execution(e.executionId)?.state).toBe('completed');
    expect(okPosts(TBOB)).toHaveLength(1);
  });

  it('complete_task, 500s that outlast the retries: the task is done once and the step completes (not fails) later', async () => {
    const { n, task } = await newTask('Finish me from a workflow');
    t.fake.failNext('functions.completeSuccess', SERVER_ERROR, EXHAUST);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.completeTask, inputs: { task: `#${n}`, completed_by_user: TBOB } });
    await until('the step to complete', () => t.fake.execution(exec.executionId)?.state !== 'running', 8_000);
    expect(t.fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { completed_by: TBOB } });
    expect(taskByNumber(t, n)).toMatchObject({ status: 'done' });
    expect(auditOf(t, task.id)).toEqual(['created', 'completed']);
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(0);
  });

  it('complete_task, 429: completes once', async () => {
    const { n } = await newTask('Finish me, rate limited');
    t.fake.failNext('functions.completeSuccess', RATE_LIMITED);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.completeTask, inputs: { task: String(n), completed_by_user: TBOB } });
    await t.settle();
    expect(t.fake.execution(exec.executionId)?.state).toBe('completed');
    expect(completions(exec.executionId).filter((c) => c.response['ok'] === true)).toHaveLength(1);
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
  });

  it.each([
    ['500s that outlast the retries', SERVER_ERROR, EXHAUST],
    ['invalid_arguments', { error: 'invalid_arguments' } as Fault, 1],
  ])('%s: logged, nothing lost, the next visit publishes', async (_name, fault, times) => {
    await newTask('On my Home');
    t.fake.failNext('views.publish', fault, times);
    await t.slack.appHomeOpened({ teamId: TEAM, userId: TBOB });
    await t.settle();
    expect(t.fake.homeView(TBOB)).toBeUndefined();
    expect(t.logger.lines.some((l) => l.level === 'warn' && l.message.includes('could not publish'))).toBe(true);
    await t.slack.appHomeOpened({ teamId: TEAM, userId: TBOB });
    await t.settle();
    expect(JSON.stringify(t.fake.homeView(TBOB)?.blocks)).toContain('On my Home');
    expect(errorLogs()).toEqual([]);
  });
});
