// Logs carry ids, kinds, counts and Slack error codes, never what people typed: a distinctive title,
// comment, reason and command text, driven through the real app with Slack calls failing on the
// way (the paths that log), appear in no log line. At the default level (info): debug is opt-in
// and shows the libraries' request bodies.
import { DrizzleQueryError } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT } from '../../src/features/approvals/views.js';
import { describeError } from '../../src/runtime.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { findElement } from '../../src/sandbox/driver.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';

const ANN = 'UANN00001';
const BOB = 'UBOB00002';
const CAT = 'UCAT00003';
const CHANNEL = 'CGENERAL1';

/** What people typed; each is unique enough that finding it in a log line can only be a leak. */
const TYPED = {
  commandTitle: 'Qwertyzx payroll for Hildegard',
  stepTitle: 'Zyxwvut board minutes',
  approvalTitle: 'Plorkfish budget request',
  reason: 'Vexillology is over budget',
  queryValue: 'Gribbleflap secret plan',
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { logLevel: 'info' } });
  t.fake.addUser({ id: ANN, teamId: TEAM, name: 'ann' });
  t.fake.addUser({ id: BOB, teamId: TEAM, name: 'bob' });
  t.fake.addUser({ id: CAT, teamId: TEAM, name: 'cat' });
  t.fake.addChannel({ id: CHANNEL, teamId: TEAM, name: 'general', botIsMember: true });
});
afterAll(async () => t?.dispose());

describe('logs carry no user-typed text', () => {
  it('titles, reasons and command text stay out of every log line, on failing paths too', async () => {
    // A command whose DM to the assignee fails: the creator is told, the failure logged.
    t.fake.failNext('chat.postMessage', { error: 'messages_tab_disabled' });
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "${TYPED.commandTitle}" <@${BOB}|bob>` });
    await t.settle();

    // A workflow step's task whose DM fails: no one to tell, so the app logs that it could not.
    t.fake.failNext('chat.postMessage', { error: 'messages_tab_disabled' });
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: TYPED.stepTitle, assignee: BOB, wait_for_completion: false } });
    await t.settle();

    // An approval rejected with a reason, its card updates failing.
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: { approver: CAT, title: TYPED.approvalTitle, requester: ANN } });
    await t.settle();
    const card = t.fake.messages(t.fake.dmChannel(CAT)).find((m) => findElement(m.blocks, ACTION.reject));
    expect(card).toBeDefined();
    await t.slack.blockAction({ teamId: TEAM, userId: CAT, actionId: ACTION.reject, container: 'message', channelId: card!.channel, messageTs: card!.ts });
    await t.settle();
    t.fake.failNext('chat.update', { error: 'internal_error' }, 3);
    t.fake.failNext('chat.postMessage', { error: 'internal_error' }, 3);
    await t.slack.viewSubmission({ teamId: TEAM, userId: CAT, viewId: t.fake.topView(CAT)!.id, values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: TYPED.reason } } } });
    await t.settle();

    // A failed query as drizzle reports it (its async drivers): the values are in its message.
    const queryError = new DrizzleQueryError('insert into "tasks" ("team_id", "title") values (?, ?)', [null, TYPED.queryValue], new Error('NOT NULL constraint failed: tasks.team_id'));
    expect(queryError.message).toContain(TYPED.queryValue);
    t.services.logger.error(`a store write failed: ${describeError(queryError)}`);
    t.services.logger.error('a store write failed:', queryError);

    const leaks = t.logger.lines.filter((l) => Object.values(TYPED).some((typed) => l.message.includes(typed)));
    expect(leaks.map((l) => `${l.level}: ${l.message.slice(0, 300)}`)).toEqual([]);
    // The failing paths really logged (without the text).
    const text = t.logger.text();
    expect(text).toMatch(/workflow task \(team /);
    expect(text).toMatch(/could not update UCAT00003's message: .*internal_error/);
    expect(text).toMatch(/database query failed: .*NOT NULL/);

  }, 30_000);
});
