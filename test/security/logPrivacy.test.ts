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
    const toBob = (args: Record<string, unknown>) => args['channel'] === BOB || args['channel'] === t.fake.dmChannel(BOB);
    // A command whose DM to the assignee fails: the creator is told (a DM that names the task),
    // the give-up logged.
    t.fake.failWhen('chat.postMessage', toBob, { error: 'messages_tab_disabled' }, 1);
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "${TYPED.commandTitle}" <@${BOB}|bob>` });
    await t.settle();

    // A workflow step's task whose DM fails: no one to tell, so the give-up is only logged.
    t.fake.failWhen('chat.postMessage', toBob, { error: 'messages_tab_disabled' }, 1);
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: TYPED.stepTitle, assignee: BOB, wait_for_completion: false } });
    await t.settle();

    // An approval rejected with a reason: its card update fails past the retries (given up, the
    // decider told in a DM that names the approval), and the requester's notice fails three
    // times before it goes out (the retry path).
    await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: { approver: CAT, title: TYPED.approvalTitle, requester: ANN } });
    await t.settle();
    const card = t.fake.messages(t.fake.dmChannel(CAT)).find((m) => findElement(m.blocks, ACTION.reject));
    expect(card).toBeDefined();
    await t.slack.blockAction({ teamId: TEAM, userId: CAT, actionId: ACTION.reject, container: 'message', channelId: card!.channel, messageTs: card!.ts });
    await t.settle();
    t.fake.failWhen('chat.update', (args) => args['channel'] === card!.channel, { error: 'internal_error' }, 4);
    t.fake.failWhen('chat.postMessage', (args) => args['channel'] === ANN || args['channel'] === t.fake.dmChannel(ANN), { error: 'internal_error' }, 3);
    await t.slack.viewSubmission({ teamId: TEAM, userId: CAT, viewId: t.fake.topView(CAT)!.id, values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: TYPED.reason } } } });
    await t.settle();

    // A failed query as drizzle reports it (its async drivers): the values are in its message.
    const queryError = new DrizzleQueryError('insert into "tasks" ("team_id", "title") values (?, ?)', [null, TYPED.queryValue], new Error('NOT NULL constraint failed: tasks.team_id'));
    expect(queryError.message).toContain(TYPED.queryValue);
    t.services.logger.error(`a store write failed: ${describeError(queryError)}`);
    t.services.logger.error('a store write failed:', queryError);

    const leaks = t.logger.lines.filter((l) => Object.values(TYPED).some((typed) => l.message.includes(typed)));
    expect(leaks.map((l) => `${l.level}: ${l.message.slice(0, 300)}`)).toEqual([]);
    // The failing paths really ran, and logged (without the text).
    const text = t.logger.text();
    expect(text.match(/outbox: gave up task:\d+:card:assignee \(team T0AAAAAAA\) after 1 attempt\(s\): .*messages_tab_disabled/g)).toHaveLength(2);
    expect(text).toMatch(/approval \d+ \(team T0AAAAAAA\): could not update UCAT00003's card: internal_error/);
    expect(text).toMatch(/outbox: gave up approval:\d+:cards \(team T0AAAAAAA\) after 4 attempt\(s\): .*internal_error/);
    expect(text).toMatch(/outbox: approval:\d+:outcome \(team T0AAAAAAA\) not delivered yet \(.*internal_error.*\); attempt 4 in/);
    expect(text).toMatch(/database query failed: .*NOT NULL/);
    // …and the people were told, in DMs that do carry the text (messages, not logs).
    const rows = await t.outboxRows();
    const undelivered = rows.filter((r) => r.key.endsWith(':undelivered'));
    expect(undelivered.map((r) => [r.target, r.state])).toEqual([
      [ANN, 'done'], // the command's author
      [CAT, 'done'], // the decider
    ]);
    expect(undelivered.map((r) => String(JSON.parse(r.payload)['text']))).toEqual([
      expect.stringContaining(TYPED.commandTitle),
      expect.stringContaining(TYPED.approvalTitle),
    ]);
    expect(rows.find((r) => r.key.startsWith('approval:') && r.key.endsWith(':outcome'))).toMatchObject({ state: 'done', attempts: 4 });

  }, 30_000);
});
