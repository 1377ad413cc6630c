import { HomeStateRepository } from '../../src/store/homeState.js';
import { OutboxRepository } from '../../src/store/outbox.js';
import { openStore } from '../../src/store/db.js';
import { ApprovalsRepository } from '../../src/store/approvals.js';
import { ApprovalEffects } from '../../src/features/approvals/effects.js';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalService } from '../../src/features/approvals/service.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { validateMessage } from '../../src/sandbox/blockKit.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { ALICE, BOB, CAROL, MALLORY, SHY, actionIds, addPeople, approvalOf, approve, card, defaultInputs, repo, runStep } from './support.js';

let t: TestApp;

beforeEach(async () => {
  t = await startTestApp();
  addPeople(t);
  openHomes();
});
afterEach(async () => {
  await t.dispose();
});

/** The approvers and the requester have opened their App Home: changes republish theirs (outbox rows). */
function openHomes() {
  const homes = new HomeStateRepository(t.store);
  for (const u of [ALICE, BOB, CAROL]) homes.touchIn(TEAM, u, t.services.now());
}

/** Whose Home an outbox publish was written for, and how many times it was (re)written. */
async function homePublishes(): Promise<Record<string, number>> {
  return Object.fromEntries((await t.outboxRows()).filter((r) => r.kind === 'home').map((r) => [r.target, r.generation + 1]));
}

const postsTo = (userId: string) => t.fake.callsTo('chat.postMessage').filter((c) => c.args['channel'] === userId);

describe('request_approval: the request', () => {
  it('records the approval by execution id and DMs every approver once a card with title, details, requester and buttons', async () => {
    const { executionId } = await runStep(t, defaultInputs({ other_approvers: [BOB, ALICE, BOB] }));
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({
      teamId: TEAM,
      title: 'Budget for the Q3 offsite',
      details: 'Venue and travel, 12 people.',
      requesterId: CAROL,
      status: 'pending',
      origin: 'workflow',
      stepState: 'waiting',
    });
    expect(a.workflowExecutionId).toMatch(/^Wx/);
    // de-duplicated, the required approver first
    expect(a.approvers.map((r) => r.userId)).toEqual([ALICE, BOB]);
    for (const r of a.approvers) {
      const m = card(t, r.userId);
      expect(r).toMatchObject({ channelId: m.channel, messageTs: m.ts });
      const shown = JSON.stringify(m.blocks);
      expect(shown).toContain('Budget for the Q3 offsite');
      expect(shown).toContain('Venue and travel, 12 people.');
      expect(shown).toContain(`Requested by <@${CAROL}>`);
      expect(actionIds(m)).toEqual([ACTION.approve, ACTION.approveWithComment, ACTION.reject]);
      expect(m.postedWithToken).toMatch(/^xwfp-/);
    }
    expect(postsTo(ALICE)).toHaveLength(1);
    expect(postsTo(BOB)).toHaveLength(1);
    expect(t.fake.execution(executionId)?.state).toBe('running');
    // The approvers' Homes ("Waiting on you"); the requester's (CAROL) shows nothing of it.
    expect(await homePublishes()).toEqual({ [ALICE]: 1, [BOB]: 1 });
    expect(t.fake.callsTo('views.publish').map((c) => c.args['user_id']).sort()).toEqual([ALICE, BOB].sort());
  });

  it('works with only the required inputs', async () => {
    const { executionId } = await runStep(t, { approver: ALICE, title: 'Ship it' });
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'pending', requesterId: null, details: '' });
    expect(JSON.stringify(card(t, ALICE).blocks)).toContain('Requested by a workflow');
  });

  it('a retried function_executed (same execution: same event id, then a new event id) sends nothing twice', async () => {
    const first = await runStep(t, defaultInputs());
    await runStep(t, defaultInputs(), { executionId: first.executionId, eventId: first.eventId, retryNum: 1 });
    await runStep(t, defaultInputs(), { executionId: first.executionId, retryNum: 2 });
    // and two deliveries of one execution at the same moment
    await Promise.all([
      t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: defaultInputs(), executionId: 'FxTWINS0001' }),
      t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: defaultInputs(), executionId: 'FxTWINS0001', retryNum: 1 }),
    ]);
    await t.settle();

    const rows = t.store.sqlite.prepare('SELECT function_execution_id AS fx FROM approvals ORDER BY id').all() as { fx: string }[];
    expect(rows.map((r) => r.fx)).toEqual([first.executionId, 'FxTWINS0001']);
    expect(postsTo(ALICE)).toHaveLength(2);
    expect(postsTo(BOB)).toHaveLength(2);
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(0);
  });

  it('shows mrkdwn in title and details escaped: no @channel ping, no forged link', async () => {
    await runStep(t, defaultInputs({ title: `<!channel> Pay <@${MALLORY}> & co`, details: 'See <https://evil.example|the invoice> & <!here>' }));
    const post = postsTo(ALICE)[0];
    const sent = JSON.stringify({ text: post?.args['text'], blocks: post?.args['blocks'] });
    expect(sent).toContain(`&lt;!channel&gt; Pay &lt;@${MALLORY}&gt; &amp; co`);
    expect(sent).toContain('See &lt;https://evil.example|the invoice&gt; &amp; &lt;!here&gt;');
    for (const raw of ['<!channel>', '<!here>', '<https://evil.example', `<@${MALLORY}>`]) expect(sent).not.toContain(raw);
  });

  it('cuts very long details to Block Kit limits instead of failing (no invalid_blocks), and keeps the full text', async () => {
    const details = `${'Lorem ipsum & <dolor> '.repeat(250)}`.slice(0, 5000);
    const title = 'T'.repeat(2000);
    const { executionId } = await runStep(t, defaultInputs({ details, title }));
    expect(t.fake.calls.filter((c) => c.response['ok'] !== true)).toEqual([]);
    const m = card(t, ALICE);
    expect(validateMessage({ blocks: m.blocks })).toEqual([]);
    const sections = (m.blocks as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section');
    for (const s of sections) expect(s.text?.text.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(m.blocks)).toContain('…');
    const a = await approvalOf(t, executionId);
    expect(a.details).toBe(details.trim());

    // the decided card is within limits too
    await approve(t, ALICE, m);
    await t.settle();
    expect(t.fake.calls.filter((c) => c.response['ok'] !== true)).toEqual([]);
    expect(validateMessage({ blocks: card(t, BOB).blocks })).toEqual([]);
  });
});

describe('request_approval: the step fails clearly', () => {
  it.each([
    ['no approver', { approver: undefined }, 'The "Approver" input is required.'],
    ['a blank title', { title: '   ' }, 'The "Title" input is required and cannot be blank.'],
    ['a title of invisible characters', { title: '\u200B\u2060\u200D' }, 'The "Title" input is required and cannot be blank.'],
    ['no title', { title: undefined }, 'The "Title" input is required and cannot be blank.'],
    ['an approver that is not a user id', { approver: 'alice' }, 'These are not Slack user ids: "alice".'],
    ['other approvers that are not user ids', { other_approvers: ['C0CHANNEL'] }, 'These are not Slack user ids: "C0CHANNEL".'],
  ])('%s → fail with a clear error; the approval is recorded as failed; nobody is messaged', async (_name, over, message) => {
    const { executionId } = await runStep(t, defaultInputs(over));
    const exec = t.fake.execution(executionId);
    expect(exec?.state).toBe('failed');
    expect(exec?.error).toContain(message);
    expect(exec?.error).toMatch(/^Tasklane could not request approval: /);
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'failed', stepState: 'completed' });
    expect(a.failureReason).toContain(message);
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(0);
    expect(t.fake.callsTo('functions.completeError')).toHaveLength(1);
  });

  it('an approver who cannot be messaged → fail naming them; the others see the request cancelled; stored failed', async () => {
    const { executionId } = await runStep(t, defaultInputs({ approver: ALICE, other_approvers: [SHY, BOB] }));
    const exec = t.fake.execution(executionId);
    expect(exec?.state).toBe('failed');
    expect(exec?.error).toBe(
      `Tasklane could not send the approval request to user ${SHY} (they do not accept direct messages from apps). The request was cancelled; check the approvers and try again.`,
    );
    const a = await approvalOf(t, executionId);
    expect(a).toMatchObject({ status: 'failed', stepState: 'completed', failureReason: exec?.error });
    for (const who of [ALICE, BOB]) {
      const m = card(t, who);
      expect(m.updates).toBe(1);
      expect(actionIds(m)).toEqual([]);
      expect(JSON.stringify(m.blocks)).toContain('could not be sent to every approver');
    }
    // a late click on the cancelled request changes nothing
    await approve(t, ALICE, card(t, ALICE), { approvalId: a.id });
    await t.settle();
    expect(t.fake.ephemerals(card(t, ALICE).channel, ALICE)[0]?.text).toContain('could not be sent to every approver');
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(0);
    expect((await approvalOf(t, executionId)).status).toBe('failed');
  });
});

describe('request_approval: outputs', () => {
  interface Param {
    type: string;
    is_required?: boolean;
  }
  const manifest = JSON.parse(readFileSync(new URL('../../manifest.json', import.meta.url), 'utf8')) as {
    functions: Record<string, { output_parameters: Record<string, Param> }>;
  };
  const declared = manifest.functions[FUNCTION.requestApproval]?.output_parameters ?? {};

  function expectMatchesManifest(outputs: Record<string, unknown> | undefined) {
    expect(outputs).toBeDefined();
    // Every output declared; every required one given (an optional one may be left out).
    expect(Object.keys(declared)).toEqual(expect.arrayContaining(Object.keys(outputs ?? {})));
    for (const [name, param] of Object.entries(declared)) {
      const value = outputs?.[name];
      if (param.is_required) expect(value, name).not.toBeUndefined();
      if (value === undefined) continue;
      switch (param.type) {
        case 'boolean':
          expect(typeof value, name).toBe('boolean');
          break;
        case 'string':
          expect(typeof value, name).toBe('string');
          break;
        case 'slack#/types/user_id':
          expect(value, name).toMatch(/^[UW][A-Z0-9]+$/);
          break;
        default:
          throw new Error(`test does not know output type ${param.type}`);
      }
    }
  }

  it('approve, reject and expiry outputs have exactly the manifest output_parameters, with their types', async () => {
    const approved = await runStep(t, defaultInputs());
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expectMatchesManifest(t.fake.execution(approved.executionId)?.outputs);

    const rejected = await runStep(t, defaultInputs());
    const a = await approvalOf(t, rejected.executionId);
    await new ApprovalService(t.services).decide({ teamId: TEAM, approvalId: a.id, userId: BOB, outcome: 'rejected', comment: 'No' });
    await t.settle();
    expectMatchesManifest(t.fake.execution(rejected.executionId)?.outputs);
    expect(t.fake.execution(rejected.executionId)?.outputs).toEqual({ approved: false, decided_by: BOB, comment: 'No', approval_id: String(a.id), outcome: 'rejected' });
    expect(Object.keys(t.fake.execution(approved.executionId)?.outputs ?? {}).sort()).toEqual(Object.keys(declared).sort());

    // Expired: nobody decided, so no decided_by (not required).
    const expired = await runStep(t, defaultInputs({ expire_after_hours: 1 }));
    const x = await approvalOf(t, expired.executionId);
    const service = new ApprovalService(t.services);
    await repo(t).expire(TEAM, x.id, 'No decision within 1 hour', (e) => service.effects.expired(e, t.services.now()));
    t.services.outbox.kick();
    await t.settle();
    expectMatchesManifest(t.fake.execution(expired.executionId)?.outputs);
    expect(t.fake.execution(expired.executionId)?.outputs).toEqual({ approved: false, outcome: 'expired', comment: 'No decision within 1 hour', approval_id: String(x.id) });
  });
});

describe('request_approval: completion survives crashes', () => {
  it('the start-up job completes a decided approval whose step was left waiting (crash before the Slack call)', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const a = await approvalOf(t, executionId);
    // The decision reached the store; the process died before telling Slack.
    const { decided } = await repo(t).decide({ teamId: TEAM, id: a.id, outcome: 'rejected', deciderId: BOB, comment: 'Not this quarter' });
    expect(decided).toBe(true);
    expect((await approvalOf(t, executionId)).stepState).toBe('waiting');
    expect(t.fake.execution(executionId)?.state).toBe('running');

    t = await t.restart();
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({
      state: 'completed',
      outputs: { approved: false, decided_by: BOB, comment: 'Not this quarter', approval_id: String(a.id) },
    });
    expect((await approvalOf(t, executionId)).stepState).toBe('completed');
    expect(actionIds(card(t, ALICE))).toEqual([]);
    expect(JSON.stringify(card(t, ALICE).blocks)).toContain('*Rejected* by');
    expect(card(t, CAROL).text).toContain('was rejected');

    // a further restart does nothing more
    t = await t.restart();
    await t.settle();
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.args['channel'] === CAROL)).toHaveLength(1);
  });

  it('effects a process leased and died with are sent by the next process once the lease runs out, once', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    const a = await approvalOf(t, executionId);
    // The decision and its effects reached the store; a sender took them and died before Slack answered.
    await t.stop();
    const store = openStore(t.dbPath);
    const effects = new ApprovalEffects({ everyWorkspace: false });
    await new ApprovalsRepository(store).decide({ teamId: TEAM, id: a.id, outcome: 'approved', deciderId: ALICE, comment: '' }, (d) => effects.decided(d, Date.now()));
    const leased = new OutboxRepository(store).claim('a-dead-sender', Date.now(), 300, 100);
    // (The approvers' Home publishes may not be due yet: a Home is published at most every 250 ms.)
    // (No audit event: no feed is configured, so none is kept.)
    expect(leased.map((r) => r.kind).filter((k) => k !== 'home').sort()).toEqual(['approval.cards', 'message', 'step']);
    store.close();

    t = await t.restart();
    await new Promise((r) => setTimeout(r, 400));
    await t.settle();
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { approved: true, decided_by: ALICE } });
    expect((await approvalOf(t, executionId)).stepState).toBe('completed');
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
    expect(actionIds(card(t, BOB))).toEqual([]);
    // The requester's notice had an unknown fate (the lease ran out): looked for, then posted once.
    expect(t.fake.callsTo('conversations.history').length).toBeGreaterThan(0);
    expect(t.fake.messages(t.fake.dmChannel(CAROL)).filter((m) => (m.text ?? '').includes('was approved'))).toHaveLength(1);
    expect((await t.outboxRows()).every((r) => r.state === 'done')).toBe(true);
  });

  it('Slack failing the completion (fatal_error) is retried by the outbox: the step completes once, without a restart', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', { error: 'fatal_error' });
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', stepState: 'completed' });
    expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { approved: true, decided_by: ALICE } });
    expect(t.fake.callsTo('functions.completeSuccess').map((c) => c.response['ok'])).toEqual([false, true]);
    // the people were told as well
    expect(actionIds(card(t, BOB))).toEqual([]);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.args['channel'] === CAROL)).toHaveLength(1);
  });

  it('a step Slack no longer knows is marked failed and not retried forever', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', { error: 'function_execution_not_found' });
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', stepState: 'failed' });
    t = await t.restart();
    await t.settle();
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(1);
  });

  it('a step Slack already completed (execution_not_in_running_state) counts as completed', async () => {
    const { executionId } = await runStep(t, defaultInputs());
    t.fake.failNext('functions.completeSuccess', { error: 'execution_not_in_running_state' });
    await approve(t, ALICE, card(t, ALICE));
    await t.settle();
    expect(await approvalOf(t, executionId)).toMatchObject({ status: 'approved', stepState: 'completed' });
  });
});

describe('requests outside Workflow Builder (the shortcut, later)', () => {
  it('requestApproval: DMs with the bot token, no step; the decision updates cards and tells the requester', async () => {
    const approvals = new ApprovalService(t.services);
    const a = await approvals.requestApproval({ teamId: TEAM, requesterId: CAROL, approverIds: [ALICE, BOB, ALICE], title: 'New laptop', details: '' });
    await t.settle();
    expect(a).toMatchObject({ status: 'pending', origin: 'shortcut', stepState: 'none', functionExecutionId: null });
    expect(a.approvers.map((r) => r.userId)).toEqual([ALICE, BOB]);
    const m = card(t, BOB);
    expect(m.postedWithToken).toBe(t.fake.botToken);

    const statusOf = (id: number) => (t.store.sqlite.prepare('SELECT status FROM approvals WHERE id = ?').get(id) as { status: string }).status;
    expect(statusOf(a.id)).toBe('pending');

    // A bot-token message: the click has a trigger_id and a response_url; the loser hears it there.
    await approve(t, BOB, m);
    await t.settle();
    await approve(t, ALICE, card(t, ALICE), { approvalId: a.id });
    await t.settle();
    expect(t.fake.callsTo('functions.completeSuccess')).toHaveLength(0);
    expect(statusOf(a.id)).toBe('approved');
    expect(actionIds(card(t, ALICE))).toEqual([]);
    expect(card(t, CAROL).text).toContain('"New laptop" was approved');
    const told = t.fake.allResponses().map((r) => r.body['text']);
    expect(told).toEqual([expect.stringContaining(`Already approved by <@${BOB}>`)]);
    // The request and the decision each republished both approvers' Homes (one coalesced row each).
    expect(await homePublishes()).toEqual({ [ALICE]: 2, [BOB]: 2 });
    // Once every card was out, the requester heard the request went; then its outcome.
    expect(t.fake.messages(t.fake.dmChannel(CAROL)).map((m) => m.text)).toEqual([expect.stringContaining('went to'), expect.stringContaining('"New laptop" was approved')]);
  });

  it('requestApproval refuses invalid input before storing anything', async () => {
    const approvals = new ApprovalService(t.services);
    await expect(approvals.requestApproval({ teamId: TEAM, requesterId: CAROL, approverIds: [], title: ' ' })).rejects.toMatchObject({
      fields: { approvers: 'Choose at least one approver.', title: 'Give the request a title.' },
    });
    expect(t.store.sqlite.prepare('SELECT count(*) AS n FROM approvals').get()).toEqual({ n: 0 });
  });
});
