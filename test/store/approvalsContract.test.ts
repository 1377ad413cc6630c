// The approvals store's contract, run on both engines: SQLite (a file store opened as in
// production) and PostgreSQL (a database of this file's own, migrated as at start-up). The same
// cases, the same expectations; SQLite's behaviour is the reference. PostgreSQL alone adds
// decisions and creates racing through two pools, as two instances would.
import { asc } from 'drizzle-orm';
import pg from 'pg';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalsRepository } from '../../src/store/approvals.js';
import { ForeignExecutionError, type Approval, type ApprovalsStore, type NewApproval } from '../../src/store/approvalsStore.js';
import type { Store } from '../../src/store/db.js';
import type { Effect } from '../../src/store/outbox.js';
import { PgApprovalsRepository } from '../../src/store/pg/approvals.js';
import { pgDatabase, type PgDb } from '../../src/store/pg/db.js';
import * as pgSchema from '../../src/store/pg/schema.js';
import * as sqliteSchema from '../../src/store/schema.js';
import type { ApproverRow, AuditRow, OutboxRow, StepState } from '../../src/store/schema.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';

const A = 'T0AAAAAAA';
const B = 'T0BBBBBBB';
let clock = 1_700_000_000_000;
const now = () => clock;
const tick = () => (clock += 1000);

const request = (over: Partial<NewApproval> = {}): NewApproval => ({
  teamId: A,
  title: 'Budget for the offsite',
  details: 'Venue and travel',
  requesterId: 'UREQ',
  approverIds: ['UANN', 'UBOB'],
  origin: 'workflow',
  functionExecutionId: `Fx${Math.random().toString(36).slice(2, 10)}`,
  workflowExecutionId: 'Wx1',
  actorId: 'UREQ',
  ...over,
});

/** One engine's store, and what the tests read and set behind the repository's back. */
interface Engine {
  repo: ApprovalsStore;
  outbox(): Promise<OutboxRow[]>;
  audit(): Promise<AuditRow[]>;
  approverRows(): Promise<ApproverRow[]>;
  approvalCount(): Promise<number>;
  /** What the outbox sender leaves once Slack was told (src/outbox/kinds.ts). */
  setStepState(id: number, state: StepState): Promise<void>;
}

function sqliteEngine(store: Store): Engine {
  const s = sqliteSchema;
  return {
    repo: new ApprovalsRepository(store, now),
    outbox: async () => store.db.select().from(s.outbox).orderBy(asc(s.outbox.id)).all(),
    audit: async () => store.db.select().from(s.auditLog).orderBy(asc(s.auditLog.id)).all(),
    approverRows: async () => store.db.select().from(s.approvalApprovers).orderBy(asc(s.approvalApprovers.approvalId), asc(s.approvalApprovers.userId)).all(),
    approvalCount: async () => store.db.select().from(s.approvals).all().length,
    setStepState: async (id, state) => {
      store.sqlite.prepare('UPDATE approvals SET step_state = ? WHERE id = ?').run(state, id);
    },
  };
}

function pgEngine(db: PgDb, pool: pg.Pool): Engine {
  const s = pgSchema;
  return {
    repo: new PgApprovalsRepository(db, now),
    outbox: async () => db.select().from(s.outbox).orderBy(asc(s.outbox.id)),
    audit: async () => db.select().from(s.auditLog).orderBy(asc(s.auditLog.id)),
    approverRows: async () => db.select().from(s.approvalApprovers).orderBy(asc(s.approvalApprovers.approvalId), asc(s.approvalApprovers.userId)),
    approvalCount: async () => (await db.select().from(s.approvals)).length,
    setStepState: async (id, state) => {
      await pool.query('UPDATE approvals SET step_state = $1 WHERE id = $2', [state, id]);
    },
  };
}

/** One card effect per approver, as a request owes them. */
const cards = (a: Approval): Effect[] => a.approvers.map((p) => ({ key: `card:${a.id}:${p.userId}`, teamId: a.teamId, kind: 'message', target: p.userId }));
/** One effect naming the decision (or failure) and who made it. */
const outcome = (a: Approval): Effect[] => [{ key: `outcome:${a.id}`, teamId: a.teamId, kind: 'message', target: a.requesterId ?? '?', payload: { status: a.status, by: a.decidedBy } }];
const boom = (): Effect[] => {
  throw new Error('cannot describe the effects');
};
const keys = (rows: OutboxRow[]) => rows.map((r) => r.key).sort();
const parsed = (rows: AuditRow[]) => rows.map((r) => ({ ...r, detail: r.detail && JSON.parse(r.detail) }));

/** Every case, against whichever engine `current()` gives (fresh and empty for each case). */
function contract(current: () => Engine): void {
  const e = () => current();
  const repo = () => current().repo;
  const decide = (id: number, outcome: 'approved' | 'rejected', deciderId: string, comment = '', teamId = A, effects?: (a: Approval) => Effect[]) =>
    repo().decide({ teamId, id, outcome, deciderId, comment }, effects);

  describe('create', () => {
    it('stores the request with its approvers in the order given, audits it and writes its cards', async () => {
      const when = tick();
      const { approval, created } = await repo().create(request({ functionExecutionId: 'Fx1', approverIds: ['UZED', 'UANN', 'UMID'] }), cards);
      expect(created).toBe(true);
      expect(approval).toEqual({
        id: expect.any(Number),
        teamId: A,
        title: 'Budget for the offsite',
        details: 'Venue and travel',
        requesterId: 'UREQ',
        status: 'pending',
        decidedBy: null,
        comment: null,
        decidedAt: null,
        failureReason: null,
        origin: 'workflow',
        functionExecutionId: 'Fx1',
        workflowExecutionId: 'Wx1',
        stepState: 'waiting',
        remindAfterHours: null,
        escalateTo: null,
        expireAfterHours: null,
        remindersSent: 0,
        createdAt: when,
        updatedAt: when,
        approvers: ['UZED', 'UANN', 'UMID'].map((userId) => ({ approvalId: approval.id, teamId: A, userId, channelId: null, messageTs: null, escalated: false })),
      });
      expect(await repo().get(A, approval.id)).toEqual(approval);
      expect(await repo().getByExecution(A, 'Fx1')).toEqual(approval);
      expect(parsed(await e().audit())).toMatchObject([
        { teamId: A, actorId: 'UREQ', entity: 'approval', entityId: approval.id, action: 'requested', detail: { approvers: ['UZED', 'UANN', 'UMID'], origin: 'workflow' } },
      ]);
      const outbox = await e().outbox();
      expect(keys(outbox)).toEqual([`card:${approval.id}:UANN`, `card:${approval.id}:UMID`, `card:${approval.id}:UZED`]);
      expect(outbox.every((r) => r.state === 'pending' && r.createdAt === when && r.nextAttemptAt === when)).toBe(true);
    });

    it('a shortcut request (no execution id, no requester) has no step and never collides with another', async () => {
      const a = await repo().create(request({ origin: 'shortcut', functionExecutionId: undefined, workflowExecutionId: undefined, requesterId: null }));
      const b = await repo().create(request({ origin: 'shortcut', functionExecutionId: undefined, workflowExecutionId: undefined }));
      expect(a.created && b.created).toBe(true);
      expect(a.approval).toMatchObject({ stepState: 'none', functionExecutionId: null, workflowExecutionId: null, requesterId: null });
      expect(b.approval.id).toBeGreaterThan(a.approval.id);
      expect(await e().approvalCount()).toBe(2);
    });

    it('one approval per workflow execution: a second create returns the first and writes nothing', async () => {
      const first = await repo().create(request({ functionExecutionId: 'FxSAME' }), cards);
      tick();
      const again = await repo().create(request({ functionExecutionId: 'FxSAME', title: 'Other', approverIds: ['UCAT'] }), cards);
      expect(again).toEqual({ approval: first.approval, created: false });
      expect(await e().approverRows()).toHaveLength(2);
      expect((await e().audit()).map((r) => r.action)).toEqual(['requested']);
      expect(await e().outbox()).toHaveLength(2);
      expect(await repo().getByExecution(B, 'FxSAME')).toBeUndefined();
      // An execution id is unique across workspaces: another workspace's create fails and stores nothing.
      await expect(repo().create(request({ teamId: B, functionExecutionId: 'FxSAME' }), cards)).rejects.toThrow(ForeignExecutionError);
      expect(await e().approvalCount()).toBe(1);
      expect(await e().outbox()).toHaveLength(2);
    });

    it('an empty execution id is stored, with no step, and is one execution like any other', async () => {
      const first = await repo().create(request({ functionExecutionId: '' }));
      expect(first.approval).toMatchObject({ functionExecutionId: '', stepState: 'none' });
      expect(await repo().create(request({ functionExecutionId: '' }))).toEqual({ approval: first.approval, created: false });
      expect(await repo().getByExecution(A, '')).toEqual(first.approval);
    });

    it('of concurrent creates for one workflow execution, one creates and the others return it', async () => {
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) => repo().create(request({ functionExecutionId: 'FxRace', title: `try ${i}` }), cards)));
      expect(all.filter((r) => r.created)).toHaveLength(1);
      const winner = all.find((r) => r.created)!.approval;
      for (const r of all) expect(r.approval).toEqual(winner);
      expect(await e().approvalCount()).toBe(1);
      expect(keys(await e().outbox())).toEqual([`card:${winner.id}:UANN`, `card:${winner.id}:UBOB`]);
      expect((await e().audit()).map((r) => r.action)).toEqual(['requested']);
    });

    it('a create whose effects cannot be written, or whose approvers repeat, stores nothing', async () => {
      await expect(repo().create(request({ functionExecutionId: 'FxBoom' }), boom)).rejects.toThrow('cannot describe the effects');
      await expect(repo().create(request({ approverIds: ['UANN', 'UANN'] }), cards)).rejects.toThrow();
      expect(await e().approvalCount()).toBe(0);
      expect(await e().approverRows()).toEqual([]);
      expect(await e().audit()).toEqual([]);
      expect(await e().outbox()).toEqual([]);
      // The execution id was not used up.
      expect((await repo().create(request({ functionExecutionId: 'FxBoom' }))).created).toBe(true);
    });

    it('a request with no approvers is stored with none', async () => {
      const { approval } = await repo().create(request({ approverIds: [] }), cards);
      expect(approval.approvers).toEqual([]);
      expect(await repo().get(A, approval.id)).toEqual(approval);
      expect(await e().outbox()).toEqual([]);
    });
  });

  describe('decide', () => {
    it('the first decision wins, is audited and writes its effects; later ones change nothing and see the winner', async () => {
      const { approval } = await repo().create(request());
      const when = tick();
      const first = await decide(approval.id, 'approved', 'UANN', 'fine', A, outcome);
      expect(first).toEqual({
        decided: true,
        approval: { ...approval, status: 'approved', decidedBy: 'UANN', comment: 'fine', decidedAt: when, updatedAt: when },
      });
      tick();
      const second = await decide(approval.id, 'rejected', 'UBOB', 'no', A, outcome);
      expect(second).toEqual({ decided: false, approval: first.approval });
      expect(await repo().markFailed(A, approval.id, 'late', 'workflow', outcome)).toBe(false);
      expect(await repo().get(A, approval.id)).toEqual(first.approval);
      expect(parsed(await e().audit()).map(({ actorId, action, detail }) => ({ actorId, action, detail }))).toEqual([
        { actorId: 'UREQ', action: 'requested', detail: { approvers: ['UANN', 'UBOB'], origin: 'workflow' } },
        { actorId: 'UANN', action: 'approved', detail: { comment: 'fine' } },
      ]);
      const outbox = await e().outbox();
      expect(outbox.map((r) => [r.key, JSON.parse(r.payload)])).toEqual([[`outcome:${approval.id}`, { status: 'approved', by: 'UANN' }]]);
      expect(outbox[0]).toMatchObject({ createdAt: when, nextAttemptAt: when });
    });

    it('a rejection with no comment is audited without detail and stores an empty comment', async () => {
      const { approval } = await repo().create(request());
      const r = await decide(approval.id, 'rejected', 'UBOB');
      expect(r.approval).toMatchObject({ status: 'rejected', decidedBy: 'UBOB', comment: '' });
      expect((await e().audit())[1]).toMatchObject({ action: 'rejected', actorId: 'UBOB', detail: null });
    });

    it('of concurrent decisions exactly one is recorded, its effects written once', async () => {
      const { approval } = await repo().create(request({ approverIds: ['UANN', 'UBOB', 'UCAT', 'UDAN'] }));
      const all = await Promise.all(
        ['UANN', 'UBOB', 'UCAT', 'UDAN'].map((who, i) => decide(approval.id, i % 2 ? 'rejected' : 'approved', who, `by ${who}`, A, outcome)),
      );
      expect(all.filter((d) => d.decided)).toHaveLength(1);
      const winner = all.find((d) => d.decided)!.approval!;
      for (const d of all) expect(d.approval).toEqual(winner);
      expect((await e().audit()).filter((r) => r.action !== 'requested')).toHaveLength(1);
      expect(keys(await e().outbox())).toEqual([`outcome:${approval.id}`]);
    });

    it('a decision whose effects cannot be written is not recorded', async () => {
      const { approval } = await repo().create(request());
      await expect(decide(approval.id, 'approved', 'UANN', '', A, boom)).rejects.toThrow('cannot describe the effects');
      expect(await repo().get(A, approval.id)).toEqual(approval);
      expect((await e().audit()).map((r) => r.action)).toEqual(['requested']);
      expect((await decide(approval.id, 'rejected', 'UBOB', 'later')).decided).toBe(true);
    });
  });

  describe('markFailed', () => {
    it('pending → failed with the reason, audited, with its effects; only once, and no decision after it', async () => {
      const { approval } = await repo().create(request());
      const when = tick();
      expect(await repo().markFailed(A, approval.id, 'could not DM UBOB', 'workflow', outcome)).toBe(true);
      const failed = await repo().get(A, approval.id);
      expect(failed).toEqual({ ...approval, status: 'failed', failureReason: 'could not DM UBOB', updatedAt: when });
      expect(await repo().markFailed(A, approval.id, 'again', 'workflow', outcome)).toBe(false);
      expect(await decide(approval.id, 'approved', 'UANN', '', A, outcome)).toEqual({ decided: false, approval: failed });
      expect(parsed(await e().audit()).slice(1)).toMatchObject([{ actorId: 'workflow', action: 'failed', detail: { reason: 'could not DM UBOB' } }]);
      expect((await e().outbox()).map((r) => [r.key, JSON.parse(r.payload)])).toEqual([[`outcome:${approval.id}`, { status: 'failed', by: null }]]);
    });

    it('a failure whose effects cannot be written is not recorded', async () => {
      const { approval } = await repo().create(request());
      await expect(repo().markFailed(A, approval.id, 'x', 'workflow', boom)).rejects.toThrow('cannot describe the effects');
      expect((await repo().get(A, approval.id))?.status).toBe('pending');
      expect(await e().audit()).toHaveLength(1);
    });
  });

  describe('chasing: remind and expire', () => {
    const reminder = (n: number) => (a: Approval): Effect[] => [{ key: `remind:${a.id}:${n}`, teamId: a.teamId, kind: 'message', target: 'UANN', payload: { approvers: a.approvers.map((p) => p.userId) } }];

    it('create stores the chasing inputs', async () => {
      const { approval } = await repo().create(request({ remindAfterHours: 24, escalateTo: 'UBOSS', expireAfterHours: 72 }));
      expect(approval).toMatchObject({ remindAfterHours: 24, escalateTo: 'UBOSS', expireAfterHours: 72, remindersSent: 0 });
      expect(await repo().get(A, approval.id)).toEqual(approval);
    });

    it('reminder n counts once, in order, only while pending; the first adds escalate_to as an escalated approver, once', async () => {
      const { approval } = await repo().create(request({ remindAfterHours: 24, escalateTo: 'UBOSS' }));
      expect(await repo().remind(A, approval.id, 2, reminder(2))).toMatchObject({ reminded: false, approval: { remindersSent: 0 } });
      const when = tick();
      const first = await repo().remind(A, approval.id, 1, reminder(1));
      expect(first.reminded).toBe(true);
      expect(first.approval).toMatchObject({ remindersSent: 1, updatedAt: when });
      expect(first.approval?.approvers.map((p) => [p.userId, p.escalated])).toEqual([
        ['UANN', false],
        ['UBOB', false],
        ['UBOSS', true],
      ]);
      // The effects saw the approver just added.
      expect(JSON.parse((await e().outbox())[0]!.payload)).toEqual({ approvers: ['UANN', 'UBOB', 'UBOSS'] });
      // Again (a second run, another instance): nothing.
      expect(await repo().remind(A, approval.id, 1, reminder(1))).toEqual({ reminded: false, approval: first.approval });
      expect((await repo().remind(A, approval.id, 2, reminder(2))).approval?.approvers).toHaveLength(3);
      expect(parsed(await e().audit()).slice(1).map(({ actorId, action, detail }) => ({ actorId, action, detail }))).toEqual([
        { actorId: 'tasklane', action: 'reminded', detail: { reminder: 1, escalatedTo: 'UBOSS' } },
        { actorId: 'tasklane', action: 'reminded', detail: { reminder: 2 } },
      ]);
      expect(keys(await e().outbox())).toEqual([`remind:${approval.id}:1`, `remind:${approval.id}:2`]);
      await decide(approval.id, 'approved', 'UBOSS');
      expect((await repo().remind(A, approval.id, 3, reminder(3))).reminded).toBe(false);
      expect(await e().approverRows()).toHaveLength(3);
    });

    it('escalate_to already an approver: no second row, not marked escalated', async () => {
      const { approval } = await repo().create(request({ remindAfterHours: 1, escalateTo: 'UBOB' }));
      const r = await repo().remind(A, approval.id, 1);
      expect(r.reminded).toBe(true);
      expect(r.approval?.approvers.map((p) => [p.userId, p.escalated])).toEqual([
        ['UANN', false],
        ['UBOB', false],
      ]);
      expect(parsed(await e().audit())[1]).toMatchObject({ action: 'reminded', detail: { reminder: 1 } });
    });

    it('concurrent runs of one reminder count it once, its effects written once', async () => {
      const { approval } = await repo().create(request({ remindAfterHours: 1, escalateTo: 'UBOSS' }));
      const all = await Promise.all([1, 2, 3, 4].map(() => repo().remind(A, approval.id, 1, reminder(1))));
      expect(all.filter((r) => r.reminded)).toHaveLength(1);
      expect(keys(await e().outbox())).toEqual([`remind:${approval.id}:1`]);
      expect((await e().approverRows()).filter((p) => p.userId === 'UBOSS')).toHaveLength(1);
    });

    it('expire: pending → expired with the comment and no decider, audited, with its effects; once; a decision after it loses', async () => {
      const { approval } = await repo().create(request({ expireAfterHours: 48 }));
      const when = tick();
      const first = await repo().expire(A, approval.id, 'No decision within 48 hours', outcome);
      expect(first).toEqual({
        expired: true,
        approval: { ...approval, status: 'expired', decidedBy: null, comment: 'No decision within 48 hours', decidedAt: when, updatedAt: when },
      });
      tick();
      expect(await repo().expire(A, approval.id, 'again', outcome)).toEqual({ expired: false, approval: first.approval });
      expect(await decide(approval.id, 'approved', 'UANN', '', A, outcome)).toEqual({ decided: false, approval: first.approval });
      expect((await repo().remind(A, approval.id, 1)).reminded).toBe(false);
      expect(parsed(await e().audit()).slice(1).map(({ actorId, action, detail }) => ({ actorId, action, detail }))).toEqual([
        { actorId: 'tasklane', action: 'expired', detail: { comment: 'No decision within 48 hours' } },
      ]);
      expect((await e().outbox()).map((r) => [r.key, JSON.parse(r.payload)])).toEqual([[`outcome:${approval.id}`, { status: 'expired', by: null }]]);
    });

    it('a decision before the expiry wins: the expiry changes nothing', async () => {
      const { approval } = await repo().create(request({ expireAfterHours: 1 }));
      const decided = await decide(approval.id, 'rejected', 'UBOB', 'no', A, outcome);
      expect(await repo().expire(A, approval.id, 'No decision within 1 hour', outcome)).toEqual({ expired: false, approval: decided.approval });
      expect((await e().audit()).map((r) => r.action)).toEqual(['requested', 'rejected']);
    });

    it('an expiry and decisions at once (and two expiries): exactly one wins, its effects once', async () => {
      const { approval } = await repo().create(request({ expireAfterHours: 1 }));
      const [x1, x2, d] = await Promise.all([
        repo().expire(A, approval.id, 'No decision within 1 hour', outcome),
        repo().expire(A, approval.id, 'No decision within 1 hour', outcome),
        decide(approval.id, 'approved', 'UANN', '', A, outcome),
      ]);
      expect([x1!.expired, x2!.expired, d!.decided].filter(Boolean)).toHaveLength(1);
      expect(x1!.approval).toEqual(d!.approval);
      expect(x2!.approval).toEqual(d!.approval);
      expect((await e().audit()).filter((r) => r.action !== 'requested')).toHaveLength(1);
      expect(keys(await e().outbox())).toEqual([`outcome:${approval.id}`]);
    });

    it('another workspace, or an id no row has, cannot remind or expire', async () => {
      const { approval } = await repo().create(request({ remindAfterHours: 1, expireAfterHours: 2 }));
      expect(await repo().remind(B, approval.id, 1, reminder(1))).toEqual({ reminded: false, approval: undefined });
      expect(await repo().expire(B, approval.id, 'x', outcome)).toEqual({ expired: false, approval: undefined });
      expect(await repo().expire(A, 1.5, 'x', outcome)).toEqual({ expired: false, approval: undefined });
      expect(await repo().get(A, approval.id)).toEqual(approval);
      expect(await e().outbox()).toEqual([]);
    });
  });

  describe('approver cards', () => {
    it('recordMessage remembers one approver’s DM, again overwrites it, and keeps the approvers’ order', async () => {
      const { approval } = await repo().create(request({ approverIds: ['UZED', 'UANN', 'UMID'] }));
      await repo().recordMessage(A, approval.id, 'UZED', 'DZED', '1.1');
      await repo().recordMessage(A, approval.id, 'UMID', 'DMID', '1.2');
      await repo().recordMessage(A, approval.id, 'UZED', 'DZED', '1.3');
      await repo().recordMessage(A, approval.id, 'UNOBODY', 'DNO', '1.4');
      const got = await repo().get(A, approval.id);
      expect(got?.approvers.map((p) => [p.userId, p.channelId, p.messageTs])).toEqual([
        ['UZED', 'DZED', '1.3'],
        ['UANN', null, null],
        ['UMID', 'DMID', '1.2'],
      ]);
      // PostgreSQL moves a row it updates: the order is still the one given.
      await repo().recordMessage(A, approval.id, 'UANN', 'DANN', '1.5');
      await repo().recordMessage(A, approval.id, 'UZED', 'DZED', '1.6');
      expect((await repo().get(A, approval.id))?.approvers.map((p) => p.userId)).toEqual(['UZED', 'UANN', 'UMID']);
      const pair = (await repo().create(request({ approverIds: ['UBOB', 'UANN'] }))).approval;
      await repo().recordMessage(A, pair.id, 'UANN', 'DANN', '2.0');
      expect((await repo().get(A, pair.id))?.approvers.map((p) => p.userId)).toEqual(['UBOB', 'UANN']);
      // The request itself is not touched.
      expect({ ...got, approvers: [] }).toEqual({ ...approval, approvers: [] });
    });

    it('pendingWithUnsentCards: pending approvals created in [after, before) with a card not recorded, by id, at most `limit`', async () => {
      const t0 = tick();
      const sent = (await repo().create(request({ approverIds: ['UANN'] }))).approval;
      await repo().recordMessage(A, sent.id, 'UANN', 'DANN', '1.0');
      const partly = (await repo().create(request({ teamId: B }))).approval;
      await repo().recordMessage(B, partly.id, 'UANN', 'DANN', '2.0');
      const unsent = (await repo().create(request({ origin: 'shortcut', functionExecutionId: undefined }))).approval;
      const decided = (await repo().create(request())).approval;
      await decide(decided.id, 'approved', 'UANN');
      const failed = (await repo().create(request())).approval;
      await repo().markFailed(A, failed.id, 'x', 'workflow');
      const t1 = tick();
      const later = (await repo().create(request())).approval;
      const ids = async (after: number, before: number, limit?: number) => (await repo().pendingWithUnsentCards(after, before, limit)).map((a) => a.id);

      expect(await ids(t0, t1 + 1)).toEqual([partly.id, unsent.id, later.id]);
      expect(await ids(t0, t1)).toEqual([partly.id, unsent.id]);
      expect(await ids(t0 + 1, t1 + 1)).toEqual([later.id]);
      expect(await ids(t0 - 0.5, t0 + 0.5)).toEqual([partly.id, unsent.id]);
      expect(await ids(t0 + 0.5, t1 + 0.5)).toEqual([later.id]);
      expect(await ids(t0, t1 + 1, 2)).toEqual([partly.id, unsent.id]);
      expect(await ids(t0, t1 + 1, 0)).toEqual([]);
      expect(await ids(t0, t1 + 1, -1)).toEqual([partly.id, unsent.id, later.id]);
      expect(await ids(-Infinity, Infinity)).toEqual([partly.id, unsent.id, later.id]);
      expect(await ids(-(2 ** 70), 2 ** 70)).toEqual([partly.id, unsent.id, later.id]);
      expect(await ids(Number.NaN, t1 + 1)).toEqual([]);
      expect(await ids(t0, Number.NaN)).toEqual([]);
      const [full] = await repo().pendingWithUnsentCards(t0, t0 + 1);
      expect(full).toEqual(await repo().get(B, partly.id));
      expect(full?.approvers.map((p) => p.messageTs)).toEqual(['2.0', null]);
      await expect(repo().pendingWithUnsentCards(t0, t1, 1.5)).rejects.toThrow();
    });
  });

  describe('workflow steps', () => {
    it('stepsToComplete: decided or failed workflow approvals whose step is waiting or completing, across workspaces, by id', async () => {
      const pending = (await repo().create(request())).approval;
      const approved = (await repo().create(request())).approval;
      const rejectedB = (await repo().create(request({ teamId: B }))).approval;
      const failed = (await repo().create(request())).approval;
      const completing = (await repo().create(request())).approval;
      const completed = (await repo().create(request())).approval;
      const stepFailed = (await repo().create(request())).approval;
      const shortcut = (await repo().create(request({ origin: 'shortcut', functionExecutionId: undefined }))).approval;
      await decide(approved.id, 'approved', 'UANN');
      await decide(rejectedB.id, 'rejected', 'UBOB', 'no', B);
      await repo().markFailed(A, failed.id, 'could not DM', 'workflow');
      for (const a of [completing, completed, stepFailed, shortcut]) await decide(a.id, 'approved', 'UANN');
      await e().setStepState(completing.id, 'completing');
      await e().setStepState(completed.id, 'completed');
      await e().setStepState(stepFailed.id, 'failed');

      const steps = await repo().stepsToComplete();
      expect(steps.map((a) => a.id)).toEqual([approved.id, rejectedB.id, failed.id, completing.id]);
      expect(steps[1]).toEqual(await repo().get(B, rejectedB.id));
      expect(steps[2]).toMatchObject({ status: 'failed', stepState: 'waiting', approvers: [{ userId: 'UANN' }, { userId: 'UBOB' }] });
      expect((await repo().stepsToComplete(2)).map((a) => a.id)).toEqual([approved.id, rejectedB.id]);
      expect(await repo().stepsToComplete(0)).toEqual([]);
      expect(await repo().stepsToComplete(-1)).toHaveLength(4);
      expect(pending.stepState).toBe('waiting');
      expect(shortcut.stepState).toBe('none');
    });

    it('transitionStep: moves a step only from the states given, within its workspace', async () => {
      const { approval } = await repo().create(request());
      const open = ['waiting', 'completing'] as const;
      expect(await repo().transitionStep(B, approval.id, [...open], 'completed')).toBe(false);
      expect(await repo().transitionStep(A, approval.id, ['completing'], 'completed')).toBe(false);
      expect((await repo().get(A, approval.id))?.stepState).toBe('waiting');
      expect(await repo().transitionStep(A, approval.id, [...open], 'completed')).toBe(true);
      expect((await repo().get(A, approval.id))?.stepState).toBe('completed');
      // Done once: a second attempt (another sender, a retry) changes nothing.
      expect(await repo().transitionStep(A, approval.id, [...open], 'failed')).toBe(false);
      expect((await repo().get(A, approval.id))?.stepState).toBe('completed');
      expect(await repo().transitionStep(A, 2 ** 70, [...open], 'failed')).toBe(false);
    });
  });

  describe('workspace isolation and odd input', () => {
    it('another workspace cannot read, decide, fail or record a card of an approval, whatever ids it carries', async () => {
      const { approval } = await repo().create(request({ functionExecutionId: 'FxA' }));
      expect(await repo().get(B, approval.id)).toBeUndefined();
      expect(await repo().getByExecution(B, 'FxA')).toBeUndefined();
      expect(await decide(approval.id, 'approved', 'UANN', '', B, outcome)).toEqual({ decided: false, approval: undefined });
      expect(await repo().markFailed(B, approval.id, 'no', 'UANN', outcome)).toBe(false);
      await repo().recordMessage(B, approval.id, 'UANN', 'DX', '9.9');
      expect(await repo().get(A, approval.id)).toEqual(approval);
      expect(await e().audit()).toHaveLength(1);
      expect(await e().outbox()).toEqual([]);
    });

    it('an id no row can have (a fraction, NaN, out of range) finds nothing and changes nothing', async () => {
      const { approval } = await repo().create(request({ functionExecutionId: 'FxOdd' }));
      for (const odd of [approval.id + 0.5, Number.NaN, Infinity, -Infinity, 2 ** 70, -(2 ** 70), Number.MAX_SAFE_INTEGER, -1, 0]) {
        const what = String(odd);
        expect(await repo().get(A, odd), what).toBeUndefined();
        expect(await decide(odd, 'approved', 'UANN', '', A, outcome), what).toEqual({ decided: false, approval: undefined });
        expect(await repo().markFailed(A, odd, 'x', 'workflow', outcome), what).toBe(false);
        await repo().recordMessage(A, odd, 'UANN', 'DX', what);
      }
      expect(await repo().get(A, approval.id)).toEqual(approval);
      expect(await e().audit()).toHaveLength(1);
      expect(await e().outbox()).toEqual([]);
    });

    it('text with NUL characters is stored (on PostgreSQL, which cannot hold a NUL, without them); a NUL in an id finds nothing', async () => {
      const strip = (text: string | null | undefined) => text?.replaceAll('\u0000', '');
      const { approval } = await repo().create(request({ functionExecutionId: 'FxNul', title: 'Bud\u0000get', details: 'a\u0000b' }));
      expect(strip(approval.title)).toBe('Budget');
      expect(strip(approval.details)).toBe('ab');
      const { approval: decided } = await decide(approval.id, 'rejected', 'UANN', 'no\u0000pe');
      expect(strip(decided?.comment)).toBe('nope');
      expect(strip((await repo().get(A, approval.id))?.comment)).toBe('nope');
      const other = (await repo().create(request())).approval;
      expect(await repo().markFailed(A, other.id, 'bad\u0000input', 'workflow')).toBe(true);
      expect(strip((await repo().get(A, other.id))?.failureReason)).toBe('badinput');
      expect(await repo().getByExecution(A, 'FxNul\u0000')).toBeUndefined();
      await repo().recordMessage(A, other.id, 'UANN\u0000', 'DX', '1.0');
      expect((await repo().get(A, other.id))?.approvers.map((p) => p.messageTs)).toEqual([null, null]);
    });
  });
}

describe('approvals store on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: Engine;
  beforeEach(() => {
    engine = sqliteEngine(sqlite.store);
  });
  contract(() => engine);
});

describePostgres('approvals store on PostgreSQL', () => {
  const database = useMigratedPool(6);
  let engine: Engine;
  beforeAll(() => {
    engine = pgEngine(pgDatabase(database.pool), database.pool);
  });
  contract(() => engine);

  describe('several instances on one database', () => {
    /** Two instances: each its own pool and repository. */
    const twoInstances = () => {
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 4 }));
      return { repos: pools.map((p) => new PgApprovalsRepository(pgDatabase(p), now)), end: () => Promise.all(pools.map((p) => p.end())) };
    };

    it('two approvers deciding at once through two pools: exactly one decision, its effects once', async () => {
      const { repos, end } = twoInstances();
      try {
        const made = await Promise.all(Array.from({ length: 20 }, () => engine.repo.create(request())));
        for (const { approval } of made) {
          const [ann, bob] = await Promise.all([
            repos[0]!.decide({ teamId: A, id: approval.id, outcome: 'approved', deciderId: 'UANN', comment: '' }, outcome),
            repos[1]!.decide({ teamId: A, id: approval.id, outcome: 'rejected', deciderId: 'UBOB', comment: 'no' }, outcome),
          ]);
          expect([ann!.decided, bob!.decided].filter(Boolean)).toHaveLength(1);
          expect(ann!.approval).toEqual(bob!.approval);
          expect(await engine.repo.get(A, approval.id)).toEqual(ann!.approval);
        }
        const audit = await engine.audit();
        expect(audit.filter((r) => r.action === 'approved' || r.action === 'rejected')).toHaveLength(20);
        expect(keys(await engine.outbox())).toEqual(made.map(({ approval }) => `outcome:${approval.id}`).sort());
      } finally {
        await end();
      }
    });

    it('an expiry and a decision through two pools: exactly one wins, its effects once', async () => {
      const { repos, end } = twoInstances();
      try {
        const made = await Promise.all(Array.from({ length: 10 }, () => engine.repo.create(request({ expireAfterHours: 1 }))));
        for (const { approval } of made) {
          const [x, d] = await Promise.all([
            repos[0]!.expire(A, approval.id, 'No decision within 1 hour', outcome),
            repos[1]!.decide({ teamId: A, id: approval.id, outcome: 'approved', deciderId: 'UANN', comment: '' }, outcome),
          ]);
          expect([x.expired, d.decided].filter(Boolean)).toHaveLength(1);
          expect(x.approval).toEqual(d.approval);
        }
        expect(keys(await engine.outbox())).toEqual(made.map(({ approval }) => `outcome:${approval.id}`).sort());
      } finally {
        await end();
      }
    });

    it('a decision meeting another instance’s uncommitted one waits: it loses once that commits, wins if it rolls back', async () => {
      const other = new pg.Pool({ connectionString: database.url, max: 2 });
      const holder = await database.pool.connect();
      try {
        const repo = new PgApprovalsRepository(pgDatabase(other), now);
        const [first, second] = [(await engine.repo.create(request())).approval, (await engine.repo.create(request())).approval];
        for (const [approval, end] of [
          [first, 'COMMIT'],
          [second, 'ROLLBACK'],
        ] as const) {
          await holder.query('BEGIN');
          const { rowCount } = await holder.query("UPDATE approvals SET status = 'rejected', decided_by = 'UBOB', decided_at = 1 WHERE id = $1 AND status = 'pending'", [approval.id]);
          expect(rowCount).toBe(1);
          let settled = false;
          const waiting = repo.decide({ teamId: A, id: approval.id, outcome: 'approved', deciderId: 'UANN', comment: '' }, outcome).finally(() => (settled = true));
          await new Promise((r) => setTimeout(r, 200));
          expect(settled).toBe(false);
          await holder.query(end);
          const result = await waiting;
          expect(result.decided).toBe(end === 'ROLLBACK');
          expect(result.approval).toMatchObject(end === 'COMMIT' ? { status: 'rejected', decidedBy: 'UBOB' } : { status: 'approved', decidedBy: 'UANN' });
        }
        expect(keys(await engine.outbox())).toEqual([`outcome:${second.id}`]);
        expect((await engine.audit()).map((r) => r.action)).toEqual(['requested', 'requested', 'approved']);
      } finally {
        holder.release();
        await other.end();
      }
    });

    it('a create meeting another instance’s uncommitted create of the execution waits: returns it once committed, creates if it rolls back', async () => {
      const other = new pg.Pool({ connectionString: database.url, max: 2 });
      const holder = await database.pool.connect();
      try {
        const repo = new PgApprovalsRepository(pgDatabase(other), now);
        for (const end of ['COMMIT', 'ROLLBACK'] as const) {
          const execution = `FxHeld${end}`;
          await holder.query('BEGIN');
          const { rows } = await holder.query<{ id: string }>(
            "INSERT INTO approvals (team_id, title, origin, function_execution_id, step_state, created_at, updated_at) VALUES ($1, 'held', 'workflow', $2, 'waiting', 1, 1) RETURNING id",
            [A, execution],
          );
          let settled = false;
          const waiting = repo.create(request({ functionExecutionId: execution }), cards).finally(() => (settled = true));
          await new Promise((r) => setTimeout(r, 200));
          expect(settled).toBe(false);
          await holder.query(end);
          const result = await waiting;
          expect(result.created).toBe(end === 'ROLLBACK');
          if (end === 'COMMIT') expect(result.approval).toMatchObject({ id: Number(rows[0]!.id), title: 'held', approvers: [] });
          else expect(result.approval).toMatchObject({ title: 'Budget for the offsite', approvers: [{ userId: 'UANN' }, { userId: 'UBOB' }] });
        }
        expect(await engine.approvalCount()).toBe(2);
        expect(await engine.outbox()).toHaveLength(2);
      } finally {
        holder.release();
        await other.end();
      }
    });

    it('the same workflow execution created at once through two pools: one approval, one set of card effects', async () => {
      const { repos, end } = twoInstances();
      try {
        for (let i = 0; i < 10; i++) {
          const execution = `FxTwice${i}`;
          const both = await Promise.all(repos.map((r, n) => r.create(request({ functionExecutionId: execution, title: `from instance ${n}` }), cards)));
          expect(both.filter((r) => r.created)).toHaveLength(1);
          expect(both[0]!.approval).toEqual(both[1]!.approval);
        }
        expect(await engine.approvalCount()).toBe(10);
        expect(await engine.approverRows()).toHaveLength(20);
        expect((await engine.audit()).filter((r) => r.action === 'requested')).toHaveLength(10);
        const outbox = await engine.outbox();
        expect(outbox).toHaveLength(20);
        expect(new Set(outbox.map((r) => r.key)).size).toBe(20);
      } finally {
        await end();
      }
    });
  });
});
