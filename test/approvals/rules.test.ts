// The approval rules and the repository, without Slack: a real migrated SQLite store in memory.
import { OutboxRepository } from '../../src/store/outbox.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import {
  MAX_APPROVERS,
  parseApprovalRequest,
  parseComment,
  parseStepInputs,
  stepOutputs,
} from '../../src/features/approvals/service.js';
import {
  alreadyDecidedText,
  approveCommentModal,
  decidedCardBlocks,
  failedCardBlocks,
  onlyApproversText,
  rejectReasonModal,
  requestCardBlocks,
  requesterNoticeBlocks,
} from '../../src/features/approvals/views.js';
import { ApprovalsRepository, type Approval } from '../../src/store/approvals.js';
import { openStore, type Store } from '../../src/store/db.js';
import { validateMessage, validateView } from '../../src/sandbox/blockKit.js';
import { approval as approvalFixture } from '../unit/blocks.js';

const T = 'T0AAAAAAA';
const OTHER = 'T0BBBBBBB';

function fieldsOf(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.fields;
    throw err;
  }
  throw new Error('expected InvalidInputError');
}

describe('parseApprovalRequest / parseStepInputs', () => {
  it('de-duplicates approvers keeping the first, trims title and details', () => {
    expect(parseStepInputs({ approver: 'U1AAA', other_approvers: ['U2BBB', 'U1AAA', 'U2BBB'], title: '  Hi ', details: ' d ', requester: 'U3CCC' })).toEqual({
      approverIds: ['U1AAA', 'U2BBB'],
      title: 'Hi',
      details: 'd',
      requesterId: 'U3CCC',
      remindAfterHours: null,
      escalateTo: null,
      expireAfterHours: null,
    });
  });

  it('optional inputs may be absent, null or empty', () => {
    expect(parseStepInputs({ approver: 'U1AAA', title: 'x', other_approvers: null, details: null, requester: '' })).toEqual({
      approverIds: ['U1AAA'],
      title: 'x',
      details: '',
      requesterId: null,
      remindAfterHours: null,
      escalateTo: null,
      expireAfterHours: null,
    });
  });

  it('chasing inputs: whole hours from 1 to 8760 (a numeral in a string too), escalate_to a user id', () => {
    expect(parseStepInputs({ approver: 'U1AAA', title: 'x', remind_after_hours: 24, escalate_to: 'U4DDD', expire_after_hours: '72' })).toMatchObject({
      remindAfterHours: 24,
      escalateTo: 'U4DDD',
      expireAfterHours: 72,
    });
    expect(parseStepInputs({ approver: 'U1AAA', title: 'x', remind_after_hours: 8760, expire_after_hours: 1 })).toMatchObject({ remindAfterHours: 8760, expireAfterHours: 1 });
    expect(parseStepInputs({ approver: 'U1AAA', title: 'x', remind_after_hours: null, escalate_to: '', expire_after_hours: '' })).toMatchObject({
      remindAfterHours: null,
      escalateTo: null,
      expireAfterHours: null,
    });
  });

  it.each([0, -3, 1.5, 8761, 1e9, 'soon', '2h', true, [4], Number.NaN])('a remind or expire interval of %j is refused, naming the input', (bad) => {
    expect(fieldsOf(() => parseStepInputs({ approver: 'U1AAA', title: 'x', remind_after_hours: bad }))).toEqual({
      remind: `The "Remind after (hours)" input must be a whole number of hours from 1 to 8760 (got ${JSON.stringify(bad)}).`,
    });
    expect(Object.keys(fieldsOf(() => parseStepInputs({ approver: 'U1AAA', title: 'x', expire_after_hours: bad })))).toEqual(['expire']);
  });

  it('escalate_to must be a user id, and needs remind_after_hours (escalation goes with the first reminder)', () => {
    expect(fieldsOf(() => parseStepInputs({ approver: 'U1AAA', title: 'x', remind_after_hours: 4, escalate_to: 'boss' })).escalate).toMatch(/not a Slack user id: "boss"/);
    expect(fieldsOf(() => parseStepInputs({ approver: 'U1AAA', title: 'x', escalate_to: 'U4DDD' })).escalate).toMatch(/needs "Remind after \(hours\)"/);
  });

  it('the approver input is required even when other approvers are given', () => {
    expect(fieldsOf(() => parseStepInputs({ other_approvers: ['U2BBB'], title: 'x' }))).toEqual({ approvers: 'The "Approver" input is required.' });
  });

  it('names every problem at once', () => {
    const f = fieldsOf(() => parseStepInputs({ approver: 'U1AAA', other_approvers: [42], title: '', details: 7, requester: 'someone' }));
    expect(Object.keys(f).sort()).toEqual(['approvers', 'details', 'requester', 'title']);
  });

  it(`caps approvers at ${MAX_APPROVERS}`, () => {
    const ids = Array.from({ length: MAX_APPROVERS + 1 }, (_, i) => `U${String(i).padStart(5, '0')}`);
    expect(fieldsOf(() => parseApprovalRequest({ approverIds: ids, title: 'x' })).approvers).toMatch(/at most 25/);
    expect(parseApprovalRequest({ approverIds: ids.slice(1), title: 'x' }).approverIds).toHaveLength(MAX_APPROVERS);
  });
});

describe('parseComment', () => {
  it('a rejection needs a non-blank reason of at most 2000 characters', () => {
    expect(fieldsOf(() => parseComment('rejected', ' \n '))).toEqual({ reason: 'Please give a reason for rejecting.' });
    expect(fieldsOf(() => parseComment('rejected', 'r'.repeat(2001))).reason).toMatch(/2000 characters or fewer/);
    expect(parseComment('rejected', `  ${'r'.repeat(2000)}  `)).toHaveLength(2000);
  });

  it('an approval comment is optional, also at most 2000', () => {
    expect(parseComment('approved', undefined)).toBe('');
    expect(parseComment('approved', null)).toBe('');
    expect(fieldsOf(() => parseComment('approved', 'c'.repeat(2001))).comment).toMatch(/comment to 2000/);
  });
});

describe('ApprovalsRepository', () => {
  let store: Store;
  let repo: ApprovalsRepository;
  let clock = 1_700_000_000_000;
  beforeEach(() => {
    store = openStore(':memory:');
    repo = new ApprovalsRepository(store, () => clock);
  });
  afterEach(() => store.close());

  const create = (over: Partial<Parameters<ApprovalsRepository['create']>[0]> = {}) =>
    repo.create({
      teamId: T,
      title: 'Title',
      details: '',
      requesterId: 'U3CCC',
      approverIds: ['U1AAA', 'U2BBB'],
      origin: 'workflow',
      functionExecutionId: `Fx${Math.random().toString(36).slice(2, 10)}`,
      workflowExecutionId: 'Wx1',
      actorId: 'U3CCC',
      ...over,
    });

  it('one approval per function execution id', async () => {
    const first = await create({ functionExecutionId: 'FxSAME' });
    const again = await create({ functionExecutionId: 'FxSAME', title: 'Other' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, approval: { id: first.approval.id, title: 'Title' } });
    expect(store.sqlite.prepare('SELECT count(*) AS n FROM approval_approvers').get()).toEqual({ n: 2 });
    expect(store.sqlite.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'requested'`).get()).toEqual({ n: 1 });
  });

  it('shortcut approvals (no execution id) do not collide with each other', async () => {
    const a = await create({ origin: 'shortcut', functionExecutionId: undefined });
    const b = await create({ origin: 'shortcut', functionExecutionId: undefined });
    expect(a.created && b.created).toBe(true);
    expect(a.approval.stepState).toBe('none');
  });

  it('decide: the first decision wins, later ones change nothing and see the winner', async () => {
    const { approval } = await create();
    const decisions = await Promise.all([
      repo.decide({ teamId: T, id: approval.id, outcome: 'approved', deciderId: 'U1AAA', comment: '' }),
      repo.decide({ teamId: T, id: approval.id, outcome: 'rejected', deciderId: 'U2BBB', comment: 'no' }),
    ]);
    expect(decisions.map((d) => d.decided)).toEqual([true, false]);
    expect(decisions[1]?.approval).toMatchObject({ status: 'approved', decidedBy: 'U1AAA', decidedAt: clock });
    expect(store.sqlite.prepare(`SELECT action, actor_id AS actor FROM audit_log ORDER BY id`).all()).toEqual([
      { action: 'requested', actor: 'U3CCC' },
      { action: 'approved', actor: 'U1AAA' },
    ]);
    expect(await repo.markFailed(T, approval.id, 'late', 'x')).toBe(false);
  });

  it('everything is scoped by team: another workspace cannot read or decide', async () => {
    const { approval } = await create();
    expect(await repo.get(OTHER, approval.id)).toBeUndefined();
    expect(await repo.decide({ teamId: OTHER, id: approval.id, outcome: 'approved', deciderId: 'U1AAA', comment: '' })).toEqual({
      decided: false,
      approval: undefined,
    });
    expect(await repo.markFailed(OTHER, approval.id, 'no', 'U1AAA')).toBe(false);
    expect((await repo.get(T, approval.id))?.status).toBe('pending');
  });

  it('a decision writes its effects in its own transaction; a decision that loses writes none', async () => {
    const { approval } = await create();
    const outbox = new OutboxRepository(store);
    const effects = (a: Approval) => [{ key: `test:${a.id}:${a.decidedBy}`, teamId: a.teamId, kind: 'message', target: a.decidedBy ?? '?' }];
    const first = await repo.decide({ teamId: T, id: approval.id, outcome: 'approved', deciderId: 'U1AAA', comment: '' }, effects);
    expect(first.decided).toBe(true);
    const second = await repo.decide({ teamId: T, id: approval.id, outcome: 'rejected', deciderId: 'U2BBB', comment: 'late' }, effects);
    expect(second.decided).toBe(false);
    expect(outbox.all().map((r) => r.key)).toEqual([`test:${approval.id}:U1AAA`]);
    // A transaction that fails writes neither the decision nor its effects.
    const { approval: other } = await create();
    await expect(
      repo.decide({ teamId: T, id: other.id, outcome: 'approved', deciderId: 'U1AAA', comment: '' }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await repo.get(T, other.id))?.status).toBe('pending');
    expect(outbox.all()).toHaveLength(1);
  });

  it('stepsToComplete lists decided or failed workflow approvals still waiting', async () => {
    const pending = await create();
    const decided = await create();
    const failed = await create();
    await create({ origin: 'shortcut', functionExecutionId: undefined });
    await repo.decide({ teamId: T, id: decided.approval.id, outcome: 'rejected', deciderId: 'U1AAA', comment: 'r' });
    await repo.markFailed(T, failed.approval.id, 'could not DM', 'workflow');
    expect((await repo.stepsToComplete()).map((a) => a.id)).toEqual([decided.approval.id, failed.approval.id]);
    expect(pending.approval.status).toBe('pending');
  });
});

describe('views stay inside Block Kit limits and escape user text', () => {
  const nasty = `<!channel> & <https://x|y> ${'é🙂'.repeat(3000)}`;
  const approvers = Array.from({ length: MAX_APPROVERS }, (_, i) => `U${String(i).padStart(8, '0')}`);
  const approval = (over: Partial<Approval> = {}): Approval =>
    approvalFixture({ id: 7, teamId: T, title: nasty, details: nasty, requesterId: 'U3CCC', origin: 'workflow', functionExecutionId: 'Fx1', workflowExecutionId: 'Wx1', stepState: 'waiting', createdAt: 0, updatedAt: 0, ...over }, approvers);
  const decided = approval({ status: 'rejected', decidedBy: 'U1AAA', decidedAt: 1_700_000_000_000, comment: `${'<!here>\n'.repeat(300)}` });
  const failed = approval({ status: 'failed', failureReason: nasty });

  it.each([
    ['request card', requestCardBlocks(approval())],
    ['decided card', decidedCardBlocks(decided)],
    ['failed card', failedCardBlocks(failed)],
    ['requester notice', requesterNoticeBlocks(decided)],
  ])('%s', (_name, blocks) => {
    expect(validateMessage({ blocks })).toEqual([]);
    const json = JSON.stringify(blocks);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<!here>');
    expect(json).not.toContain('<https://x');
  });

  it.each([
    ['reject modal', rejectReasonModal(approval())],
    ['approve modal', approveCommentModal(approval())],
  ])('%s', (_name, view) => {
    expect(validateView(view, 'modal')).toEqual({ ok: true });
    expect(JSON.stringify(view)).not.toContain('<!channel>');
  });

  it('what users are told', () => {
    const a = approval({ approvers: ['UA', 'UB', 'UC'].map((userId) => ({ approvalId: 7, teamId: T, userId, channelId: null, messageTs: null, escalated: false })) });
    expect(onlyApproversText(a)).toBe('Only <@UA>, <@UB> or <@UC> can decide on this request.');
    expect(alreadyDecidedText(decided)).toBe(`Already rejected by <@U1AAA> on <!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC>.`);
  });

  it('stepOutputs has the manifest shape, comment empty when none', () => {
    expect(stepOutputs(approval({ status: 'approved', decidedBy: 'U1AAA', comment: null }))).toEqual({
      approved: true,
      decided_by: 'U1AAA',
      comment: '',
      approval_id: '7',
      outcome: 'approved',
    });
    expect(stepOutputs(approval({ status: 'rejected', decidedBy: 'U1AAA', comment: 'no' }))).toMatchObject({ approved: false, outcome: 'rejected', decided_by: 'U1AAA' });
    // Nobody decided an expired request: no decider rather than a made-up one.
    expect(stepOutputs(approval({ status: 'expired', decidedBy: null, comment: 'No decision within 48 hours', expireAfterHours: 48 }))).toEqual({
      approved: false,
      outcome: 'expired',
      comment: 'No decision within 48 hours',
      approval_id: '7',
    });
  });
});
