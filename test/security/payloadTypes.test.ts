// Every value read from a payload is type-checked: a view submission whose inputs hold a number,
// an object or an array where Slack sends a string gets its answer in time (field errors, or the
// same answer as an empty input), no listener throws, and nothing is stored from the bad values.
// Clicks whose value, selected option or selected user has the wrong type change nothing either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT, REQUEST_INPUT } from '../../src/features/approvals/views.js';
import { COMMENT_FIELD, NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ACTION, SHORTCUT, VIEW } from '../../src/slack/ids.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { storeRows } from '../support/storeRows.js';
import { ALICE, addPeople as addApprovalPeople, approvalOf, card, click, defaultInputs, runStep } from '../approvals/support.js';
import { ANN, BOB, addPeople, dmCard, slash, taskByNumber } from '../tasks/helpers.js';
import { crashesSince, mark, snapshot } from './support.js';

/** Values of the wrong type for a string input: what a broken or hostile client could send. */
const WRONG: [string, unknown][] = [
  ['a number', 42],
  ['an object', { text: 'Nice try' }],
  ['an array', ['Nice', 'try']],
  ['a boolean', true],
];

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  addPeople(t);
  addApprovalPeople(t);
});
afterAll(async () => t?.dispose());

/** Submits `values` to `view` and checks the answer came within Slack's 3 s, without a crash in the log. */
async function submitBad(view: FakeView, userId: string, values: Record<string, Record<string, unknown>>) {
  const m = mark(t);
  const started = Date.now();
  const r = await t.slack.viewSubmission({ teamId: TEAM, userId, viewId: view.id, values });
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(r.response.status).toBe(200);
  await t.settle();
  expect(crashesSince(t, m)).toEqual([]);
  return r;
}

function taskForm(bad: unknown): Record<string, Record<string, unknown>> {
  return {
    [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: bad } },
    [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: { type: 'plain_text_input', value: bad } },
    [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: bad } },
    [NEW_TASK_FIELD.dueDate]: { [NEW_TASK_FIELD.dueDate]: { type: 'datepicker', selected_date: bad } },
    [NEW_TASK_FIELD.priority]: { [NEW_TASK_FIELD.priority]: { type: 'static_select', selected_option: bad } },
    [NEW_TASK_FIELD.channel]: { [NEW_TASK_FIELD.channel]: { type: 'conversations_select', selected_conversation: bad } },
  };
}

const taskCount = async () => Number((await storeRows<{ n: number | string }>(t, 'SELECT count(*) AS n FROM tasks'))[0]?.n);

describe('view submissions with values of the wrong type', () => {
  it.each(WRONG)('New task: %s in every input → "needs a title" on the title, nothing created', async (_name, bad) => {
    await slash(t, ANN, '');
    const view = t.fake.topView(ANN)!;
    expect(view.callback_id).toBe(VIEW.newTask);
    const before = await taskCount();
    const r = await submitBad(view, ANN, taskForm(bad));
    // The assignee reads as not chosen too: both are the errors of an empty form.
    expect(r.json).toEqual({ response_action: 'errors', errors: { [NEW_TASK_FIELD.title]: 'The task needs a title.', [NEW_TASK_FIELD.assignee]: 'Pick who should do it.' } });
    expect(await taskCount()).toBe(before);
    t.fake.closeTopView(ANN);
  });

  it.each(WRONG)('Edit and Comment from the details: %s → field errors, the task and its comments unchanged', async (_name, bad) => {
    const { text } = await slash(t, ANN, `add "Typed fields" <@${BOB}|bob>`);
    const task = await taskByNumber(t, Number(/#(\d+)/.exec(text)?.[1]));
    const c = await dmCard(t, task.id);
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskOpen, container: 'message', channelId: c.channel, messageTs: c.ts });
    await t.settle();
    const details = t.fake.topView(BOB)!;
    expect(details.callback_id).toBe(VIEW.taskDetails);
    const before = await snapshot(t);

    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.detailsEdit, container: 'view', viewId: details.id });
    await t.settle();
    const edit = t.fake.topView(BOB)!;
    expect(edit.callback_id).toBe(VIEW.editTask);
    const e = await submitBad(edit, BOB, taskForm(bad));
    expect(e.json).toMatchObject({ response_action: 'errors', errors: { [NEW_TASK_FIELD.title]: 'The task needs a title.' } });
    t.fake.closeTopView(BOB);

    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.detailsComment, container: 'view', viewId: details.id });
    await t.settle();
    const comment = t.fake.topView(BOB)!;
    expect(comment.callback_id).toBe(VIEW.commentTask);
    const r = await submitBad(comment, BOB, { [COMMENT_FIELD]: { [COMMENT_FIELD]: { type: 'plain_text_input', value: bad } } });
    expect(r.json).toEqual({ response_action: 'errors', errors: { [COMMENT_FIELD]: 'Write something first.' } });
    expect(await snapshot(t)).toEqual(before);
    t.fake.closeTopView(BOB);
    t.fake.closeTopView(BOB);
  });

  it.each(WRONG)('Reject reason: %s → "give a reason", the approval still pending; Approve with comment: %s reads as no comment', async (_name, bad) => {
    const { executionId } = await runStep(t, defaultInputs({ other_approvers: [] }));
    await click(t, ALICE, ACTION.reject, card(t, ALICE));
    await t.settle();
    const reject = t.fake.topView(ALICE)!;
    expect(reject.callback_id).toBe(VIEW.rejectReason);
    const r = await submitBad(reject, ALICE, { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: bad } } });
    expect(r.json).toEqual({ response_action: 'errors', errors: { [INPUT.reason.block]: 'Please give a reason for rejecting.' } });
    expect((await approvalOf(t, executionId)).status).toBe('pending');
    t.fake.closeTopView(ALICE);

    await click(t, ALICE, ACTION.approveWithComment, card(t, ALICE));
    await t.settle();
    const approve = t.fake.topView(ALICE)!;
    expect(approve.callback_id).toBe(VIEW.approveComment);
    await submitBad(approve, ALICE, { [INPUT.comment.block]: { [INPUT.comment.action]: { type: 'plain_text_input', value: bad } } });
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', comment: '' });
  });

  it.each(WRONG)('Request approval: %s for the title and the approvers → errors on both, nothing stored or sent', async (_name, bad) => {
    await t.slack.globalShortcut({ teamId: TEAM, userId: ANN, callbackId: SHORTCUT.requestApproval });
    await t.settle();
    const view = t.fake.topView(ANN)!;
    expect(view.callback_id).toBe(VIEW.requestApproval);
    const before = await snapshot(t);
    const r = await submitBad(view, ANN, {
      [REQUEST_INPUT.approvers.block]: { [REQUEST_INPUT.approvers.action]: { type: 'multi_users_select', selected_users: bad } },
      [REQUEST_INPUT.title.block]: { [REQUEST_INPUT.title.action]: { type: 'plain_text_input', value: bad } },
      [REQUEST_INPUT.details.block]: { [REQUEST_INPUT.details.action]: { type: 'plain_text_input', value: bad } },
    });
    // An array of strings is the right type for approvers, but these are no user ids.
    const approversError = Array.isArray(bad) ? 'These are not Slack user ids: "Nice", "try".' : 'Choose at least one approver.';
    expect(r.json).toEqual({
      response_action: 'errors',
      errors: { [REQUEST_INPUT.approvers.block]: approversError, [REQUEST_INPUT.title.block]: 'Give the request a title.' },
    });
    expect(await snapshot(t)).toEqual(before);
    t.fake.closeTopView(ANN);
  });

  it('Request approval: approvers with one entry that is not a string → "choose an approver", nothing stored', async () => {
    await t.slack.globalShortcut({ teamId: TEAM, userId: ANN, callbackId: SHORTCUT.requestApproval });
    await t.settle();
    const view = t.fake.topView(ANN)!;
    const before = await snapshot(t);
    const r = await submitBad(view, ANN, {
      [REQUEST_INPUT.approvers.block]: { [REQUEST_INPUT.approvers.action]: { type: 'multi_users_select', selected_users: [ALICE, { id: BOB }] } },
      [REQUEST_INPUT.title.block]: { [REQUEST_INPUT.title.action]: { type: 'plain_text_input', value: 'New chairs' } },
    });
    expect(r.json).toEqual({ response_action: 'errors', errors: { [REQUEST_INPUT.approvers.block]: 'Choose at least one approver.' } });
    expect(await snapshot(t)).toEqual(before);
    t.fake.closeTopView(ANN);
  });
});

describe('private_metadata that is not what Tasklane wrote', () => {
  type Ids = { taskId: number; approvalId: number };
  /** Metadata naming (or trying to name) a task and an approval of ANN's own, so only the type check stands in the way. */
  const METADATA: [string, (ids: Ids) => unknown][] = [
    ['a number', (ids) => ids.taskId],
    ['an object', (ids) => ids],
    // JSON.parse(["…"]) would read the one string in it: this one names a real task and approval.
    ['an array of our JSON', (ids) => [JSON.stringify({ ...ids, depth: 1 })]],
    ['JSON with ids of the wrong type', (ids) => JSON.stringify({ taskId: [ids.taskId], approvalId: String(ids.approvalId), depth: '3', parentId: 5, origin: {}, tz: 7, source: 'C1' })],
    ['not JSON', () => '{"taskId":'],
  ];

  it.each(METADATA)('%s in every modal’s submission: answered in time, nothing crashes or changes', async (_name, metadataFor) => {
    const { text } = await slash(t, ANN, `add "Metadata target" <@${ANN}|ann>`);
    const task = await taskByNumber(t, Number(/#(\d+)/.exec(text)?.[1]));
    const { executionId } = await runStep(t, { approver: ANN, title: 'Metadata target' });
    const ids = { taskId: task.id, approvalId: (await approvalOf(t, executionId)).id };
    const before = await snapshot(t);
    const m = mark(t);
    const common = { token: 'fake-verification-token', api_app_id: t.fake.appId, team: { id: TEAM, domain: 'x' }, user: { id: ANN, name: 'ann', team_id: TEAM } };
    const values = {
      [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: 'Changed' } },
      [COMMENT_FIELD]: { [COMMENT_FIELD]: { type: 'plain_text_input', value: 'A comment' } },
      [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: 'A reason' } },
    };
    for (const callbackId of Object.values(VIEW)) {
      const view = { id: 'VMETA', team_id: TEAM, type: 'modal', callback_id: callbackId, hash: 'h', private_metadata: metadataFor(ids), state: { values } };
      const started = Date.now();
      const r = await t.slack.sendPayload({ type: 'view_submission', ...common, view, trigger_id: t.fake.issueTriggerId(ANN, TEAM) });
      expect([callbackId, r.status]).toEqual([callbackId, 200]);
      expect(Date.now() - started).toBeLessThan(3_000);
    }
    await t.settle();
    expect(crashesSince(t, m)).toEqual([]);
    expect(await snapshot(t)).toEqual(before);
  });
});

describe('clicks with values of the wrong type', () => {
  it('a task card button whose value is an object, the assignee select with an object, the Home filter with a string option: answered, nothing changes', async () => {
    const { text } = await slash(t, ANN, `add "Typed clicks" <@${BOB}|bob>`);
    const task = await taskByNumber(t, Number(/#(\d+)/.exec(text)?.[1]));
    const c = await dmCard(t, task.id);
    const before = await snapshot(t);
    const m = mark(t);
    const common = { token: 'fake-verification-token', api_app_id: t.fake.appId, team: { id: TEAM, domain: 'x' }, user: { id: BOB, name: 'bob', team_id: TEAM }, trigger_id: t.fake.issueTriggerId(BOB, TEAM) };
    const clicks = [
      { type: 'block_actions', ...common, container: { type: 'message', message_ts: c.ts, channel_id: c.channel }, channel: { id: c.channel }, message: { ts: c.ts, text: '' }, actions: [{ type: 'button', action_id: ACTION.taskComplete, block_id: 'b', value: { id: task.id } }] },
      { type: 'block_actions', ...common, container: { type: 'message', message_ts: c.ts, channel_id: c.channel }, channel: { id: c.channel }, message: { ts: c.ts, text: '' }, actions: [{ type: 'button', action_id: ACTION.taskOpen, block_id: 'b', value: [String(task.id)] }] },
      { type: 'block_actions', ...common, container: { type: 'view', view_id: 'V1' }, view: { id: 'V1', callback_id: VIEW.newTask, state: { values: {} } }, actions: [{ type: 'users_select', action_id: ACTION.taskFormAssignee, block_id: 'b', selected_user: { id: BOB } }] },
      { type: 'block_actions', ...common, container: { type: 'view', view_id: 'VH' }, view: { id: 'VH', type: 'home', callback_id: '', state: { values: {} } }, actions: [{ type: 'static_select', action_id: ACTION.homeFilter, block_id: 'b', selected_option: 'done' }] },
      { type: 'block_actions', ...common, container: { type: 'view', view_id: 'VH' }, view: { id: 'VH', type: 'home', callback_id: '', state: { values: {} } }, actions: [{ type: 'overflow', action_id: ACTION.homeTaskOverflow, block_id: 'b', selected_option: { value: 42 } }] },
    ];
    for (const payload of clicks) {
      const r = await t.slack.sendPayload(payload);
      expect(r.status).toBe(200);
    }
    await t.settle();
    expect(crashesSince(t, m)).toEqual([]);
    expect(await snapshot(t)).toEqual(before);
    // The selected "user" that is an object was not taken for an id to look up.
    expect(t.fake.calls.slice(m.calls).filter((call) => call.method === 'users.info')).toEqual([]);
  });
});
