// People are told what to do about a failed Slack call, never Slack's error code: the fake Slack
// answers missing_scope (and others) to calls whose failure reaches a person, on each kind of
// surface (command reply, DM after a shortcut, ephemeral after a click, a workflow step's error).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, SHORTCUT } from '../../src/slack/ids.js';
import { slackFailureText } from '../../src/slack/slackErrors.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, addPeople as addApprovalPeople, approvalOf, runStep } from '../approvals/support.js';
import { lastDm } from '../modals/helpers.js';
import { ANN, BOB, addPeople as addTaskPeople, dmCard, slash, taskByNumber } from '../tasks/helpers.js';

const REINSTALL = 'Tasklane is missing a permission in this workspace; ask an admin to reinstall the app.';
/** A Slack error code's shape (`missing_scope`, `not_in_channel`): none may reach a person. */
const CODE = /\b[a-z]+_[a-z_]+\b/;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  addTaskPeople(t);
  addApprovalPeople(t);
});
afterAll(async () => t?.dispose());

/** The text with no code in it; emoji shortcodes (`:white_check_mark:`) have the same shape and are fine. */
function expectNoCode(text: string | undefined): void {
  expect((text ?? '').replace(/:[a-z0-9_+-]+:/g, '')).not.toMatch(CODE);
}

describe('a failed Slack call is explained without its code', () => {
  it('/task: views.open refused with missing_scope → the reply says to ask an admin to reinstall', async () => {
    t.fake.failNext('views.open', { error: 'missing_scope', extra: { needed: 'im:write', provided: 'chat:write' } });
    const { text } = await slash(t, ANN, '');
    expect(text).toBe(`I couldn’t open the New task form. ${REINSTALL}`);
    expectNoCode(text);
  });

  it('/task add: the assignee’s DM refused with missing_scope → saved, and the reply says what to do', async () => {
    // The reply (the ack) goes before the DM is tried; the refusal is given up at once and the
    // author is told in a DM from the app.
    t.fake.failWhen('chat.postMessage', (args) => args['channel'] === BOB || args['channel'] === t.fake.dmChannel(BOB), { error: 'missing_scope' }, 1);
    const { text } = await slash(t, ANN, `add "Order toner" <@${BOB}|bob>`);
    expect(text).toMatch(/^:white_check_mark: Created #\d+ Order toner for /);
    expectNoCode(text);
    const task = await taskByNumber(t, Number(/#(\d+)/.exec(text)?.[1]));
    expect(task.status).toBe('open');
    expect(await t.services.outbox.repo.byKey(`task:${task.id}:card:assignee`)).toMatchObject({ state: 'failed', attempts: 1 });
    const told = lastDm(t, ANN);
    expect(told).toBe(`#${task.number} Order toner was saved, but I couldn’t send <@${BOB}> the task in a DM. ${REINSTALL}`);
    expectNoCode(told.replace(/<@[A-Z0-9]+>/g, ''));
  });

  it('the New task shortcut: views.open refused with ratelimited → a DM saying Slack is busy', async () => {
    t.fake.failNext('views.open', { error: 'ratelimited' });
    await t.slack.globalShortcut({ teamId: TEAM, userId: BOB, callbackId: SHORTCUT.newTask });
    await t.settle();
    expect(lastDm(t, BOB)).toBe('I couldn’t open the New task form. Slack is busy; try again in a minute.');
    expectNoCode(lastDm(t, BOB));
  });

  it('Complete on a card: chat.update refused with missing_scope → the clicker is told what to do', async () => {
    const { text } = await slash(t, ANN, `add "Water the plants" <@${BOB}|bob>`);
    const task = await taskByNumber(t, Number(/#(\d+)/.exec(text)?.[1]));
    const c = await dmCard(t, task.id);
    t.fake.failWhen('chat.update', (args) => args['ts'] === c.ts, { error: 'missing_scope' }, 1);
    const r = await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskComplete, container: 'message', channelId: c.channel, messageTs: c.ts });
    await t.settle();
    // The completion is kept; the card refresh is given up at once and the clicker gets a DM.
    expect(await taskByNumber(t, task.number)).toMatchObject({ status: 'done', completedBy: BOB });
    expect(await t.services.outbox.repo.byKey(`task:${task.id}:cards`)).toMatchObject({ state: 'failed', attempts: 1 });
    expect(t.fake.responses(r.responseUrl!)).toEqual([]);
    const told = lastDm(t, BOB);
    expect(told).toBe(`#${task.number} Water the plants is completed, but I couldn’t update its card; it may still show the buttons. ${REINSTALL}`);
    expectNoCode(told);
  });

  it('Open on a card: views.open refused with missing_scope → an ephemeral note without the code', async () => {
    const { text } = await slash(t, ANN, `add "Book the room" <@${BOB}|bob>`);
    const task = await taskByNumber(t, Number(/#(\d+)/.exec(text)?.[1]));
    const c = await dmCard(t, task.id);
    t.fake.failNext('views.open', { error: 'missing_scope' });
    const r = await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskOpen, container: 'message', channelId: c.channel, messageTs: c.ts });
    await t.settle();
    const notes = [...t.fake.responses(r.responseUrl!).map((b) => String(b['text'] ?? '')), ...t.fake.ephemerals(c.channel, BOB).map((e) => e.text ?? '')];
    expect(notes.some((n) => n.includes(REINSTALL))).toBe(true);
    for (const n of notes) expectNoCode(n);
  });

  it('request_approval: the approver’s card refused with missing_scope → the step’s error says what to do', async () => {
    t.fake.failNext('chat.postMessage', { error: 'missing_scope' });
    const { executionId } = await runStep(t, { approver: ALICE, title: 'New laptops', requester: ANN });
    const a = await approvalOf(t, executionId);
    expect(a.status).toBe('failed');
    expect(a.failureReason).toContain(REINSTALL.replace(/\.$/, ''));
    expectNoCode(a.failureReason ?? '');
    expect(t.fake.execution(executionId)?.error).toBe(a.failureReason);
  });

  it('the logs keep the code', () => {
    expect(t.logger.text()).toMatch(/missing_scope/);
  });
});

describe('slackFailureText', () => {
  it.each(['missing_scope', 'channel_not_found', 'not_in_channel', 'expired_trigger_id', 'ratelimited', 'user_not_found', 'cannot_dm_bot', 'is_archived', 'msg_too_long', 'invalid_blocks', 'some_future_code', undefined])(
    '%s → a sentence saying what to do, without a code',
    (code) => {
      const text = slackFailureText(code);
      expect(text).toMatch(/^[A-Z].*\.$/);
      expectNoCode(text);
    },
  );

  it('distinct advice for the common cases', () => {
    expect(slackFailureText('missing_scope')).toBe(REINSTALL);
    expect(slackFailureText('not_in_channel')).toBe('I can’t post in that channel; invite @Tasklane to it or pick another.');
    expect(slackFailureText('channel_not_found')).toBe(slackFailureText('not_in_channel'));
    expect(slackFailureText('expired_trigger_id')).toBe('That took too long; please try again.');
    expect(slackFailureText('ratelimited')).toBe('Slack is busy; try again in a minute.');
    expect(slackFailureText({ data: { error: 'missing_scope' } })).toBe(REINSTALL);
  });
});
