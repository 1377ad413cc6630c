import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import { INPUT } from '../../src/features/approvals/views.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { storeRows } from '../support/storeRows.js';
import { ALICE, BOB, CAROL, MALLORY, actionIds, addPeople, approvalOf, approve, card, click, defaultInputs, runStep } from './support.js';

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
  addPeople(t);
});
afterEach(async () => {
  await t.dispose();
});

const auditActions = async (t: TestApp, id: number) =>
  (await storeRows<{ action: string; actor_id: string }>(t, `SELECT action, actor_id FROM audit_log WHERE entity = 'approval' AND entity_id = ? ORDER BY id`, [id])).map(
    (r) => `${r.action}:${r.actor_id}`,
  );

describe('Approve', () => {
  it('decides at once: step completed with the outputs, every DM updated without buttons, requester told', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const aliceCard = card(t, ALICE);
    expect(actionIds(aliceCard)).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.reject]);
    // Posted with the workflow token, so the click comes back with function_data and no trigger_id.
    expect(aliceCard.postedWithToken).toMatch(/^xwfp-/);

    const res = await approve(t, ALICE, aliceCard);
    expect(res.response.status).toBe(200);
    expect(res.triggerId).toBeUndefined();
    await t.settle();

    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'approved', decidedBy: ALICE, comment: '', stepState: 'completed' });
    expect(a.decidedAt).toBeTypeOf('number');
    expect(t.fake.execution(executionId)).toMatchObject({
      state: 'completed',
      outputs: { approved: true, decided_by: ALICE, comment: '', approval_id: String(a.id), outcome: 'approved' },
    });
    const completions = t.fake.callsTo('functions.completeSuccess');
    expect(completions).toHaveLength(1);
    expect(completions[0]?.token).toBe(t.fake.botToken);

    for (const who of [ALICE, BOB]) {
      const m = card(t, who);
      expect(m.updates).toBe(1);
      expect(actionIds(m)).toEqual([]);
      expect(JSON.stringify(m.blocks)).toContain(`*Approved* by <@${ALICE}> on <!date^`);
    }
    const notice = card(t, CAROL);
    expect(notice.text).toContain('was approved');
    expect(await auditActions(t, a.id)).toEqual([`requested:${CAROL}`, `approved:${ALICE}`]);
  });

  it('approve with comment opens a small modal; the optional comment lands in the outputs and the cards', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const res = await click(t, BOB, ACTION.approveWithComment, card(t, BOB));
    await t.settle();
    const modal = t.fake.topView(BOB);
    expect(modal?.callback_id).toBe(VIEW.approveComment);
    // Opened with the interactivity pointer, the click had no trigger_id.
    expect(t.fake.callsTo('views.open')[0]?.args['interactivity_pointer']).toBe(res.interactivityPointer);

    const sub = await t.slack.viewSubmission({
      teamId: TEAM,
      userId: BOB,
      viewId: modal?.id as string,
      values: { [INPUT.comment.block]: { [INPUT.comment.action]: { type: 'plain_text_input', value: '  Go <!here> & enjoy  ' } } },
    });
    expect(sub.action).toBe('pop');
    await t.settle();
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: true, decided_by: BOB, comment: 'Go <!here> & enjoy' });
    const shown = JSON.stringify(card(t, ALICE).blocks);
    expect(shown).toContain('Go &lt;!here&gt; &amp; enjoy');
    expect(shown).not.toContain('<!here>');
  });

  it('an empty comment is fine for an approval', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    await click(t, ALICE, ACTION.approveWithComment, card(t, ALICE));
    await t.settle();
    const modal = t.fake.topView(ALICE);
    const sub = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal?.id as string, values: { [INPUT.comment.block]: { [INPUT.comment.action]: { type: 'plain_text_input', value: null } } } });
    expect(sub.action).toBe('pop');
    await t.settle();
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: true, comment: '' });
  });
});

describe('Reject', () => {
  async function openReject(userId = ALICE) {
    const req = await runStep(t, defaultInputs());
    const res = await click(t, userId, ACTION.reject, card(t, userId));
    expect(res.response.status).toBe(200);
    await t.settle();
    const modal = t.fake.topView(userId);
    expect(modal?.callback_id).toBe(VIEW.rejectReason);
    return { ...req, modal: modal as NonNullable<typeof modal>, interactivityPointer: res.interactivityPointer };
  }
  const reason = (value: string | null) => ({ [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value } } });

  it('a click without trigger_id opens the reason modal with the interactivity pointer', async () => {
    const { interactivityPointer } = await openReject();
    const open = t.fake.callsTo('views.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.args['trigger_id']).toBeUndefined();
    expect(open[0]?.args['interactivity_pointer']).toBe(interactivityPointer);
    expect(open[0]?.response['ok']).toBe(true);
  });

  it('records the reason, completes the step with approved=false and shows the reason to everyone', async () => {
    const { executionId, modal } = await openReject();
    const sub = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: reason('Over budget by 20%') });
    expect(sub.action).toBe('pop');
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'rejected', decidedBy: ALICE, comment: 'Over budget by 20%', stepState: 'completed' });
    expect(t.fake.execution(executionId)?.outputs).toEqual({ approved: false, decided_by: ALICE, comment: 'Over budget by 20%', approval_id: String(a.id), outcome: 'rejected' });
    for (const who of [ALICE, BOB]) {
      const shown = JSON.stringify(card(t, who).blocks);
      expect(shown).toContain('*Rejected* by');
      expect(shown).toContain('Over budget by 20%');
      expect(actionIds(card(t, who))).toEqual([]);
    }
    expect(card(t, CAROL).text).toContain('was rejected');
  });

  it.each([
    ['blank', ''],
    ['whitespace only', '   \n\t '],
    ['invisible characters only', '\u200B\u200C\u200D\u2060\uFEFF'],
    ['missing', null],
  ])('refuses a %s reason with an error on the reason block, and nothing changes', async (_name, value) => {
    const { executionId, modal } = await openReject();
    const sub = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: reason(value) });
    expect(sub.action).toBe('errors');
    expect(sub.stackError).toBeUndefined();
    expect(sub.json).toEqual({ response_action: 'errors', errors: { [INPUT.reason.block]: 'Please give a reason for rejecting.' } });
    await t.settle();
    expect((await approvalOf(t, executionId)).status).toBe('pending');
    expect(t.fake.execution(executionId)?.state).toBe('running');
    expect(t.fake.callsTo('chat.update')).toHaveLength(0);
  });

  it('refuses a reason over 2000 characters, accepts exactly 2000', async () => {
    const { executionId, modal } = await openReject();
    const long = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: reason('x'.repeat(2001)) });
    expect(long.action).toBe('errors');
    expect((long.json as { errors: Record<string, string> }).errors[INPUT.reason.block]).toMatch(/2000 characters or fewer \(it has 2001\)/);
    expect((await approvalOf(t, executionId)).status).toBe('pending');

    const ok = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: reason('y'.repeat(2000)) });
    expect(ok.action).toBe('pop');
    await t.settle();
    expect(t.fake.callsTo('chat.update').every((c) => c.response['ok'] === true)).toBe(true);
    expect((await approvalOf(t, executionId)).comment).toHaveLength(2000);
  });

  it('a reason submitted after someone else decided gets an error on the input and changes nothing', async () => {
    const { executionId, modal } = await openReject(ALICE);
    await approve(t, BOB, card(t, BOB));
    await t.settle();
    const sub = await t.slack.viewSubmission({ teamId: TEAM, userId: ALICE, viewId: modal.id, values: reason('No') });
    expect(sub.action).toBe('errors');
    expect(JSON.stringify(sub.json)).toContain('already approved');
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', decidedBy: BOB });
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
  });
});

describe('exactly one decision', () => {
  it('two approvers racing: one decision row, one completeSuccess, the loser is told who won', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const [a, b] = [card(t, ALICE), card(t, BOB)];
    await Promise.all([approve(t, ALICE, a), approve(t, BOB, b)]);
    await t.settle();

    const approval = await approvalOf(t, executionId);
    expect(approval.status).toBe('approved');
    const winner = approval.decidedBy as string;
    const loser = winner === ALICE ? BOB : ALICE;
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(t.fake.execution(executionId)?.outputs?.['decided_by']).toBe(winner);
    const [decisions] = await storeRows<{ n: number | string }>(t, `SELECT count(*) AS n FROM audit_log WHERE entity = 'approval' AND entity_id = ? AND action IN ('approved','rejected')`, [approval.id]);
    expect(Number(decisions?.n)).toBe(1);

    const loserDm = t.fake.dmChannel(loser);
    const told = t.fake.ephemerals(loserDm, loser);
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toMatch(new RegExp(`^Already approved by <@${winner}> on <!date\\^\\d+\\^`));
    expect(t.fake.ephemerals(t.fake.dmChannel(winner), winner)).toHaveLength(0);
  });

  it('approve and reject racing: still exactly one outcome', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    await click(t, BOB, ACTION.reject, card(t, BOB));
    await t.settle();
    const modal = t.fake.topView(BOB);
    await Promise.all([
      approve(t, ALICE, card(t, ALICE)),
      t.slack.viewSubmission({
        teamId: TEAM,
        userId: BOB,
        viewId: modal?.id as string,
        values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: 'no' } } },
      }),
    ]);
    await t.settle();
    const a = await approvalOf(t, executionId);
    expect(['approved', 'rejected']).toContain(a.status);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(t.fake.execution(executionId)?.outputs?.['approved']).toBe(a.status === 'approved');
  });

  it('a double click decides once; the second click hears "Already approved by you"', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const m = card(t, ALICE);
    await Promise.all([approve(t, ALICE, m), approve(t, ALICE, m)]);
    await t.settle();
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect((await approvalOf(t, executionId)).decidedBy).toBe(ALICE);
    const told = t.fake.ephemerals(m.channel, ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toContain(`Already approved by <@${ALICE}>`);
    // and a third click from a client still showing the old card: same answer, still one completion
    await approve(t, ALICE, m, { approvalId: (await approvalOf(t, executionId)).id });
    await t.settle();
    expect(t.fake.ephemerals(m.channel, ALICE)).toHaveLength(2);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
  });

  it('Reject on a decided request does not open the modal; it explains', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    await click(t, BOB, ACTION.reject, card(t, BOB), { approvalId: (await approvalOf(t, executionId)).id });
    await t.settle();
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
    expect(t.fake.ephemerals(card(t, BOB).channel, BOB)[0]?.text).toContain(`Already approved by <@${ALICE}>`);
  });
});

describe('who may decide', () => {
  it('a non-approver gets an ephemeral naming the approvers, and nothing changes', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const m = card(t, ALICE);
    for (const actionId of [ACTION.approve, ACTION.reject, ACTION.approveWithComment]) {
      const res = await click(t, MALLORY, actionId, m);
      expect(res.response.status).toBe(200);
    }
    await t.settle();
    const told = t.fake.ephemerals(m.channel, MALLORY);
    expect(told.map((e) => e.text)).toEqual(Array(3).fill(`Only <@${ALICE}> or <@${BOB}> can decide on this request.`));
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'pending', decidedBy: null, stepState: 'waiting' });
    expect(t.fake.execution(executionId)?.state).toBe('running');
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
    expect(t.fake.callsTo('chat.update')).toHaveLength(0);
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(0);
  });

  it('a click carrying an approval id of another workspace finds nothing there', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const a = await approvalOf(t, executionId);
    const m = card(t, ALICE);
    await t.slack.blockAction({
      teamId: 'T0BBBBBBB',
      userId: ALICE,
      actionId: ACTION.approve,
      container: 'message',
      channelId: m.channel,
      messageTs: m.ts,
      value: String(a.id),
    });
    await t.settle();
    expect((await approvalOf(t, executionId)).status).toBe('pending');
    expect(t.fake.ephemerals(m.channel, ALICE)[0]?.text).toBe('This approval request no longer exists.');
  });
});

describe('later, elsewhere', () => {
  it('the app restarted between the request and the decision: the store holds it, the step completes', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t = await t.restart();
    await approve(t, BOB, card(t, BOB));
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { approved: true, decided_by: BOB } });
    expect((await approvalOf(t, executionId)).stepState).toBe('completed');
  });

  it('the workflow token expired before the decision: completes with the bot token and the stored execution id', async () => {
    const { executionId, workflowToken } = await runStep(t, defaultInputs());
    t.fake.expireWorkflowToken(workflowToken);
    await click(t, ALICE, ACTION.reject, card(t, ALICE));
    await t.settle();
    const modal = t.fake.topView(ALICE);
    expect(modal?.callback_id).toBe(VIEW.rejectReason);
    await t.slack.viewSubmission({
      teamId: TEAM,
      userId: ALICE,
      viewId: modal?.id as string,
      values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: 'Too late' } } },
    });
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { approved: false, comment: 'Too late' } });
    // Only the request DMs went out with the workflow token; nothing after the decision did.
    expect(t.fake.calls.filter((c) => c.token === workflowToken).map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage']);
    expect(t.fake.calls.filter((c) => c.response['ok'] !== true)).toEqual([]);
  });

  it('a decision from a view (App Home: no channel, no function_data) completes the step too', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const a = await approvalOf(t, executionId);
    // A Home-like view holding the same Approve button.
    await t.services.client.views.publish({
      user_id: BOB,
      view: { type: 'home', blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: ACTION.approve, value: String(a.id), text: { type: 'plain_text', text: 'Approve' } }] }] },
    });
    const home = t.fake.homeView(BOB);
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.approve, container: 'view', viewId: home?.id as string });
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { decided_by: BOB } });
    // a second click from the Home is told in a small modal (there is no channel for an ephemeral)
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.approve, container: 'view', viewId: home?.id as string });
    await t.settle();
    expect(JSON.stringify(t.fake.topView(BOB)?.blocks)).toContain(`Already approved by <@${BOB}>`);
  });
});
