// Chasing a request_approval step: reminders, escalation and expiry, through the real HTTP path
// and the fake Slack, with the clock in the test's hands. What is due is an outbox row; moving
// the clock and kicking the sender is what "time passes" means here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INPUT } from '../../src/features/approvals/views.js';
import { ACTION } from '../../src/slack/ids.js';
import type { FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { storeRows } from '../support/storeRows.js';
import { ALICE, BOB, CAROL, SHY, actionIds, addPeople, approvalOf, approve, card, click, defaultInputs, runStep } from './support.js';

const DANA = 'U0DANA001'; // escalate_to
const HOUR = 60 * 60_000;
/**
 * "Just before": a row due within the sender's tracking window (5 s) keeps `settle` waiting on a
 * real timer while this clock stands still, so "not yet" is a minute early.
 */
const MINUTE = 60_000;
const START = Date.UTC(2026, 2, 2, 9, 0, 0);

let clock = START;
let t: TestApp;

beforeEach(async () => {
  clock = START;
  t = await startTestApp({ now: () => clock });
  addPeople(t);
  t.fake.addUser({ id: DANA, teamId: TEAM, name: 'dana' });
});
afterEach(async () => {
  await t.dispose();
});

/** Time passes: the clock moves on, the sender looks at what fell due. */
async function advance(ms: number): Promise<void> {
  clock += ms;
  t.services.outbox.kick();
  await t.settle();
}

/** The reminders a user got, in their DM with the app. */
const reminders = (userId: string) => t.fake.messages(t.fake.dmChannel(userId)).filter((m) => (m.text ?? "").startsWith(':bell: Reminder'));

/** The request card in a user's DM (the message the store recorded as theirs). */
async function requestCard(userId: string, executionId: string): Promise<FakeMessage> {
  const approver = (await approvalOf(t, executionId)).approvers.find((p) => p.userId === userId);
  const m = t.fake.messages(t.fake.dmChannel(userId)).find((x) => x.ts === approver?.messageTs);
  if (!m) throw new Error(`no request card for ${userId}`);
  return m;
}

const completions = () => t.fake.callsTo('functions.completeSuccess');

describe('remind_after_hours', () => {
  it('reminds every undecided approver once per interval, 3 times at most, never before the interval', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 4 }));
    expect(await approvalOf(t, executionId)).toMatchObject({ remindAfterHours: 4, remindersSent: 0 });

    await advance(4 * HOUR - MINUTE);
    expect(reminders(ALICE)).toHaveLength(0);
    await advance(MINUTE);
    expect(reminders(ALICE)).toHaveLength(1);
    expect(reminders(BOB)).toHaveLength(1);
    expect(reminders(ALICE)[0]?.text).toContain('Budget for the Q3 offsite');
    expect(reminders(ALICE)[0]?.text).toContain('(1 of 3)');
    expect(reminders(CAROL)).toHaveLength(0); // the requester is not an approver

    await advance(4 * HOUR);
    expect(reminders(ALICE)).toHaveLength(2);
    await advance(4 * HOUR);
    expect(reminders(ALICE).map((m) => m.text?.match(/\((\d) of 3\)/)?.[1])).toEqual(['1', '2', '3']);
    expect(reminders(BOB)).toHaveLength(3);
    await advance(40 * HOUR);
    expect(reminders(ALICE)).toHaveLength(3);
    expect(reminders(BOB)).toHaveLength(3);
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'pending', remindersSent: 3 });
    // The request card keeps its buttons; it can still be decided.
    expect(actionIds(await requestCard(ALICE, executionId))).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.reject]);
  });

  it('no reminder after a decision', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 2 }));
    await advance(2 * HOUR);
    expect(reminders(BOB)).toHaveLength(1);
    await approve(t, ALICE, await requestCard(ALICE, executionId));
    await t.settle();
    await advance(10 * HOUR);
    expect(reminders(ALICE)).toHaveLength(1);
    expect(reminders(BOB)).toHaveLength(1);
    expect((await approvalOf(t, executionId)).remindersSent).toBe(1);
  });

  it('a request without remind_after_hours schedules nothing', async () => {
    await runStep(t, defaultInputs());
    expect((await t.outboxRows()).filter((r) => r.kind.startsWith('approval.remind') || r.kind === 'approval.expire')).toEqual([]);
    await advance(1000 * HOUR);
    expect(reminders(ALICE)).toHaveLength(0);
  });
});

describe('escalate_to', () => {
  it('is added as an approver with the first reminder: their card says why, every card lists them, and they can decide', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 24, escalate_to: DANA }));
    expect(t.fake.messages(t.fake.dmChannel(DANA))).toHaveLength(0);
    await advance(24 * HOUR);

    const a = await approvalOf(t, executionId);
    expect(a.approvers.map((p) => [p.userId, p.escalated])).toEqual([
      [ALICE, false],
      [BOB, false],
      [DANA, true],
    ]);
    const danaDm = t.fake.messages(t.fake.dmChannel(DANA));
    expect(danaDm).toHaveLength(1); // the card (with why), no separate reminder
    const danaCard = danaDm[0] as FakeMessage;
    expect(actionIds(danaCard)).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.reject]);
    expect(JSON.stringify(danaCard.blocks)).toContain('You were added as an approver because nobody decided within 24 hours.');
    // The other cards were refreshed to list DANA (still with their buttons); they got reminder 1.
    for (const who of [ALICE, BOB]) {
      const m = await requestCard(who, executionId);
      expect(m.updates).toBe(1);
      expect(JSON.stringify(m.blocks)).toContain(`<@${DANA}> (escalated)`);
      expect(actionIds(m)).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.reject]);
      expect(reminders(who)).toHaveLength(1);
    }
    expect(JSON.stringify((await requestCard(ALICE, executionId)).blocks)).not.toContain('You were added');

    // Reminder 2 goes to DANA too (an approver who has not decided).
    await advance(24 * HOUR);
    expect(reminders(DANA)).toHaveLength(1);

    await approve(t, DANA, danaCard);
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', decidedBy: DANA });
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: true, decided_by: DANA, outcome: 'approved' });
  });

  it('is added once: the reminder handler running again (a lost outcome, a restart) adds nobody and sends nothing twice', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 6, escalate_to: DANA }));
    await advance(6 * HOUR);
    const id = (await approvalOf(t, executionId)).id;
    // As if the sender had died before recording the outcome: the row is due again.
    await storeRows(t, `UPDATE outbox SET state = 'pending', next_attempt_at = ?, lease_owner = NULL, lease_until = NULL WHERE key = ?`, [clock, `approval:${id}:remind:1`]);
    await advance(1);
    t = await t.restart();
    await advance(1);
    const a = await approvalOf(t, executionId);
    expect(a.approvers.filter((p) => p.userId === DANA)).toHaveLength(1);
    expect(a.remindersSent).toBe(1);
    expect(t.fake.messages(t.fake.dmChannel(DANA))).toHaveLength(1);
    expect(reminders(ALICE)).toHaveLength(1);
    const [audit] = await storeRows<{ n: number | string }>(t, `SELECT count(*) AS n FROM audit_log WHERE entity = 'approval' AND entity_id = ? AND action = 'reminded'`, [id]);
    expect(Number(audit?.n)).toBe(1);
  });

  it('an escalate_to who cannot get DMs from apps does not cancel the request: it stays with the others', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 1, escalate_to: SHY }));
    await advance(HOUR);
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'pending', remindersSent: 1 });
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(0);
    expect(reminders(ALICE)).toHaveLength(1);
    await approve(t, ALICE, await requestCard(ALICE, executionId));
    await t.settle();
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: true, outcome: 'approved', decided_by: ALICE });
  });

  it('an escalate_to who already is an approver is not added again', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 1, escalate_to: BOB }));
    await advance(HOUR);
    const a = await approvalOf(t, executionId);
    expect(a.approvers.map((p) => [p.userId, p.escalated])).toEqual([
      [ALICE, false],
      [BOB, false],
    ]);
    expect(t.fake.messages(t.fake.dmChannel(BOB)).filter((m) => (m.text ?? "").startsWith('Approval requested'))).toHaveLength(1);
    expect(reminders(BOB)).toHaveLength(1);
  });
});

describe('expire_after_hours', () => {
  it('no decision in time: the step completes once with approved=false, outcome=expired; every card shows Expired; the requester is told', async () => {
    const { executionId } = await runStep(t, defaultInputs({ expire_after_hours: 48 }));
    await advance(48 * HOUR - MINUTE);
    expect(completions()).toHaveLength(0);
    await advance(MINUTE);

    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'expired', decidedBy: null, comment: 'No decision within 48 hours', stepState: 'completed', decidedAt: START + 48 * HOUR });
    expect(completions()).toHaveLength(1);
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed' });
    expect(t.fake.execution(executionId)?.outputs).toEqual({ approved: false, outcome: 'expired', comment: 'No decision within 48 hours', approval_id: String(a.id) });
    for (const who of [ALICE, BOB]) {
      const m = await requestCard(who, executionId);
      expect(m.updates).toBe(1);
      expect(actionIds(m)).toEqual([]);
      expect(JSON.stringify(m.blocks)).toContain('*Expired* — no decision within 48 hours');
      expect(m.text).toContain('Expired');
    }
    expect(card(t, CAROL).text).toBe('Your request "Budget for the Q3 offsite" expired: no decision within 48 hours.');
    const [audit] = await storeRows<{ action: string; actor_id: string }>(t, `SELECT action, actor_id FROM audit_log WHERE entity = 'approval' AND entity_id = ? ORDER BY id DESC LIMIT 1`, [a.id]);
    expect(audit).toEqual({ action: 'expired', actor_id: 'tasklane' });

    await advance(100 * HOUR);
    expect(completions()).toHaveLength(1);
  });

  it('a late Approve click is refused with a clear message and changes nothing; so is a late reason', async () => {
    const { executionId } = await runStep(t, defaultInputs({ expire_after_hours: 2 }));
    // BOB opens the reject form before it expires, submits after.
    await click(t, BOB, ACTION.reject, await requestCard(BOB, executionId));
    await t.settle();
    const modal = t.fake.topView(BOB);
    expect(modal).toBeDefined();
    await advance(2 * HOUR);
    const id = (await approvalOf(t, executionId)).id;

    const aliceCard = await requestCard(ALICE, executionId);
    await approve(t, ALICE, aliceCard, { approvalId: id });
    await t.settle();
    const told = t.fake.ephemerals(aliceCard.channel, ALICE);
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toMatch(/^This request expired on <!date\^\d+\^.*\(no decision within 2 hours\); it can no longer be decided\.$/);

    const sub = await t.slack.viewSubmission({
      teamId: TEAM,
      userId: BOB,
      viewId: modal?.id as string,
      values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: 'too late' } } },
    });
    expect(sub.action).toBe('errors');
    expect(JSON.stringify(sub.json)).toContain('This request expired while the form was open (no decision within 2 hours)');
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'expired', decidedBy: null });
    expect(completions()).toHaveLength(1);
    expect(t.fake.execution(executionId)?.outputs?.['outcome']).toBe('expired');
  });

  it('outcome is approved or rejected on a decision', async () => {
    const approved = await runStep(t, defaultInputs({ expire_after_hours: 2 }));
    const rejected = await runStep(t, defaultInputs({ expire_after_hours: 2 }));
    await approve(t, ALICE, await requestCard(ALICE, approved.executionId));
    await click(t, BOB, ACTION.reject, await requestCard(BOB, rejected.executionId));
    await t.settle();
    await t.slack.viewSubmission({
      teamId: TEAM,
      userId: BOB,
      viewId: t.fake.topView(BOB)?.id as string,
      values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: 'no' } } },
    });
    await t.settle();
    expect(t.fake.execution(approved.executionId)?.outputs).toMatchObject({ approved: true, outcome: 'approved', decided_by: ALICE });
    expect(t.fake.execution(rejected.executionId)?.outputs).toMatchObject({ approved: false, outcome: 'rejected', decided_by: BOB, comment: 'no' });
    await advance(3 * HOUR);
    expect(completions()).toHaveLength(2);
  });
});

describe('races', () => {
  it('a decision just before the expiry wins: the expiry completes nothing', async () => {
    const { executionId } = await runStep(t, defaultInputs({ expire_after_hours: 1, remind_after_hours: 1 }));
    await advance(HOUR - MINUTE);
    await approve(t, BOB, await requestCard(BOB, executionId));
    await t.settle();
    await advance(MINUTE);
    await advance(5 * HOUR);
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', decidedBy: BOB });
    expect(completions()).toHaveLength(1);
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ outcome: 'approved' });
    expect(reminders(ALICE)).toHaveLength(0);
    expect(JSON.stringify((await requestCard(ALICE, executionId)).blocks)).toContain('*Approved* by');
  });

  it('the expiry just before a click: the click is refused', async () => {
    const { executionId } = await runStep(t, defaultInputs({ expire_after_hours: 1 }));
    const bobCard = await requestCard(BOB, executionId);
    const id = (await approvalOf(t, executionId)).id;
    await advance(HOUR);
    await approve(t, BOB, bobCard, { approvalId: id });
    await t.settle();
    expect(t.fake.ephemerals(bobCard.channel, BOB)[0]?.text).toContain('This request expired');
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'expired' });
    expect(completions()).toHaveLength(1);
  });
});

describe('missed while the app was down', () => {
  it('reminders due meanwhile: one reminder at start-up, not a burst; the next one an interval later', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 2 }));
    await t.stop();
    clock += 7 * HOUR; // reminders 1, 2 and 3 would all have been due
    t = await t.restart();
    await advance(0);
    expect(reminders(ALICE)).toHaveLength(1);
    expect(reminders(BOB)).toHaveLength(1);
    await advance(2 * HOUR - MINUTE);
    expect(reminders(ALICE)).toHaveLength(1);
    await advance(MINUTE);
    expect(reminders(ALICE)).toHaveLength(2);
    expect((await approvalOf(t, executionId)).remindersSent).toBe(2);
  });

  it('reminders and the expiry due meanwhile: no reminder, the request expires once', async () => {
    const { executionId } = await runStep(t, defaultInputs({ remind_after_hours: 2, expire_after_hours: 5, escalate_to: DANA }));
    await t.stop();
    clock += 9 * HOUR;
    t = await t.restart();
    await advance(0);
    await advance(HOUR);
    expect(reminders(ALICE)).toHaveLength(0);
    expect(t.fake.messages(t.fake.dmChannel(DANA))).toHaveLength(0);
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'expired', remindersSent: 0 });
    expect(completions()).toHaveLength(1);
    expect(t.fake.execution(executionId)?.outputs).toMatchObject({ approved: false, outcome: 'expired', comment: 'No decision within 5 hours' });
  });
});

describe('invalid chasing inputs fail the step with a clear error', () => {
  it.each([
    [{ remind_after_hours: 0 }, 'The "Remind after (hours)" input must be a whole number of hours from 1 to 8760 (got 0).'],
    [{ expire_after_hours: 1.5 }, 'The "Expire after (hours)" input must be a whole number of hours from 1 to 8760 (got 1.5).'],
    [{ expire_after_hours: 8761 }, 'The "Expire after (hours)" input must be a whole number of hours from 1 to 8760 (got 8761).'],
    [{ remind_after_hours: -2 }, 'The "Remind after (hours)" input must be a whole number of hours from 1 to 8760 (got -2).'],
    [{ escalate_to: DANA }, 'The "Escalate to" input needs "Remind after (hours)": the person is added with the first reminder.'],
    [{ remind_after_hours: 3, escalate_to: 'the boss' }, '"Escalate to" is not a Slack user id: "the boss".'],
  ])('%j', async (over, message) => {
    const { executionId } = await runStep(t, defaultInputs(over));
    const errors = t.fake.callsTo('functions.completeError');
    expect(errors).toHaveLength(1);
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'failed', error: `Tasklane could not request approval: ${message}` });
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'failed' });
    expect(t.fake.messages(t.fake.dmChannel(ALICE))).toHaveLength(0);
    expect((await t.outboxRows()).filter((r) => r.kind === 'approval.remind' || r.kind === 'approval.expire')).toEqual([]);
  });
});
