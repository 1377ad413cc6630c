import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUEST_INPUT } from '../../src/features/approvals/views.js';
import { ACTION, SHORTCUT, VIEW } from '../../src/slack/ids.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { storeRows } from '../support/storeRows.js';
import { ALICE, BOB, CAROL, SHY, actionIds, addPeople, approve, card, repo } from '../approvals/support.js';
import { lastDm, refusedCalls } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
  addPeople(t);
});
afterEach(async () => t?.dispose());

async function openForm(userId = CAROL): Promise<FakeView> {
  const { response } = await t.slack.globalShortcut({ teamId: TEAM, userId, callbackId: SHORTCUT.requestApproval });
  expect(response.status).toBe(200);
  await t.settle();
  const view = t.fake.topView(userId);
  expect(view?.callback_id).toBe(VIEW.requestApproval);
  return view as FakeView;
}

const values = (approvers: string[], title: string | null, details: string | null = null) => ({
  [REQUEST_INPUT.approvers.block]: { [REQUEST_INPUT.approvers.action]: { type: 'multi_users_select', selected_users: approvers } },
  [REQUEST_INPUT.title.block]: { [REQUEST_INPUT.title.action]: { type: 'plain_text_input', value: title } },
  [REQUEST_INPUT.details.block]: { [REQUEST_INPUT.details.action]: { type: 'plain_text_input', value: details } },
});

async function submit(view: FakeView, v: ReturnType<typeof values>, userId = CAROL) {
  const r = await t.slack.viewSubmission({ teamId: TEAM, userId, viewId: view.id, values: v });
  await t.settle();
  return r;
}

const approvalsInStore = async () =>
  (await storeRows<{ id: number | string; title: string; status: string; origin: string; requesterId: string }>(t, 'SELECT id, title, status, origin, requester_id AS "requesterId" FROM approvals ORDER BY id')).map((a) => ({ ...a, id: Number(a.id) }));

describe('Request approval (global shortcut)', () => {
  it('blank title and no approvers: errors on both inputs, nothing stored or sent', async () => {
    const view = await openForm();
    const r = await submit(view, values([], '   '));
    expect(r.action).toBe('errors');
    expect(r.json).toEqual({
      response_action: 'errors',
      errors: { [REQUEST_INPUT.approvers.block]: 'Choose at least one approver.', [REQUEST_INPUT.title.block]: 'Give the request a title.' },
    });
    expect(await approvalsInStore()).toEqual([]);
    expect(t.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('a title of invisible characters only is blank', async () => {
    const view = await openForm();
    const r = await submit(view, values([BOB], '\u200B\u2060\u200D\uFEFF'));
    expect(r.json).toEqual({ response_action: 'errors', errors: { [REQUEST_INPUT.title.block]: 'Give the request a title.' } });
    expect(await approvalsInStore()).toEqual([]);
  });

  it('end to end: form → DMs to the approvers → a confirmation to the requester → approve → the requester is told', async () => {
    const view = await openForm();
    expect(view.blocks.map((b) => (b as { block_id?: string }).block_id)).toEqual([REQUEST_INPUT.approvers.block, REQUEST_INPUT.title.block, REQUEST_INPUT.details.block]);
    const r = await submit(view, values([ALICE, BOB, ALICE], '  New laptop <!here>  ', 'MacBook & dock'));
    expect(r.action).toBe('pop');

    const [approval] = await approvalsInStore();
    expect(await approvalsInStore()).toHaveLength(1);
    expect(approval).toMatchObject({ title: 'New laptop <!here>', status: 'pending', origin: 'shortcut', requesterId: CAROL });
    for (const who of [ALICE, BOB]) {
      const m = card(t, who);
      expect(actionIds(m)).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.reject]);
      expect(JSON.stringify(m.blocks)).toContain('New laptop &lt;!here&gt;');
      expect(m.postedWithToken).toBe(t.fake.botToken);
    }
    expect(lastDm(t, CAROL)).toBe(
      `:outbox_tray: Your approval request *New laptop &lt;!here&gt;* went to <@${ALICE}> and <@${BOB}>; the first of them to decide settles it. I’ll tell you here when it is decided.`,
    );

    const click = await approve(t, BOB, card(t, BOB));
    expect(click.response.status).toBe(200);
    await t.settle();
    expect(await repo(t).get(TEAM, approval?.id as number)).toMatchObject({ status: 'approved', decidedBy: BOB });
    expect(lastDm(t, CAROL)).toContain('was approved');
    expect(actionIds(card(t, ALICE))).toEqual([]);
    expect(refusedCalls(t)).toEqual([]);
  });

  it('an approver who cannot be messaged: the request is cancelled and the requester told why', async () => {
    const view = await openForm();
    expect((await submit(view, values([ALICE, SHY], 'Conference trip'))).action).toBe('pop');
    expect(await approvalsInStore()).toEqual([expect.objectContaining({ title: 'Conference trip', status: 'failed' })]);
    expect(lastDm(t, CAROL)).toContain('Your approval request *Conference trip* was not sent.');
    expect(lastDm(t, CAROL)).toContain('do not accept direct messages from apps');
  });

  it('an expired trigger id: a DM explains', async () => {
    t.fake.failNext('views.open', { error: 'expired_trigger_id' });
    await t.slack.globalShortcut({ teamId: TEAM, userId: CAROL, callbackId: SHORTCUT.requestApproval });
    await t.settle();
    expect(lastDm(t, CAROL)).toBe('Slack took too long to open the Request approval form, so it did not open. Please try again.');
  });
});
