import { and, asc, eq, gte, inArray, isNotNull, lt, ne, sql, type SQL } from 'drizzle-orm';
import type { ApprovalsStore } from './approvalsStore.js';
import { appendAudit } from './audit.js';
import type { Store, Tx } from './db.js';
import { writeEffects, type Effect } from './outbox.js';
import { approvalApprovers, approvals, type ApprovalRow, type ApproverRow, type StepState } from './schema.js';

/** An approval with the people who may decide it (and the DM that carries each one's buttons). */
export interface Approval extends ApprovalRow {
  approvers: ApproverRow[];
}

export interface NewApproval {
  teamId: string;
  title: string;
  details: string;
  requesterId: string | null;
  approverIds: string[];
  origin: 'workflow' | 'shortcut';
  functionExecutionId?: string;
  workflowExecutionId?: string;
  /** Who the audit row names: the requester, or `workflow` when a step has none. */
  actorId: string;
  /** Chasing (a step's optional inputs): re-ping undecided approvers every this many hours (≤ 3 times). */
  remindAfterHours?: number | null;
  /** Added as an approver with the first reminder. */
  escalateTo?: string | null;
  /** No decision within this many hours: `expired`. */
  expireAfterHours?: number | null;
}

/** A `function_execution_id` already recorded by another workspace: nothing of that row may be read or changed from here. */
export class ForeignExecutionError extends Error {
  constructor(functionExecutionId: string, teamId: string) {
    super(`function execution ${functionExecutionId} is recorded for another workspace than ${teamId}`);
    this.name = 'ForeignExecutionError';
  }
}

export type DecisionOutcome = 'approved' | 'rejected';

/** Who the audit rows of what the schedule does (reminders, expiry) name: nobody acted. */
export const SCHEDULE_ACTOR = 'tasklane';

export interface DecisionInput {
  teamId: string;
  id: number;
  outcome: DecisionOutcome;
  deciderId: string;
  comment: string;
}


/**
 * Approvals and their approvers. The only code that speaks SQL about approvals. Every
 * method is one whole transaction and filters on `team_id`, so a payload from workspace B can
 * never read or change workspace A's rows, whatever ids it carries.
 */
export class ApprovalsRepository implements ApprovalsStore {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** A consistent snapshot for reads (deferred: takes no write lock). */
  private read<T>(fn: (tx: Tx) => T): T {
    return this.store.db.transaction(fn, { behavior: 'deferred' });
  }

  /**
   * Records a new approval with its approvers and an audit row. A workflow approval is keyed by
   * its `function_execution_id` (unique): when that execution was already recorded (Slack retried
   * `function_executed`), nothing is written and the existing approval comes back with
   * `created: false`.
   */
  async create(input: NewApproval, effects?: (a: Approval) => Effect[]): Promise<{ approval: Approval; created: boolean }> {
    return this.store.write((tx) => {
      const at = this.now();
      const inserted = this.store
        .prepared('approvals.insert', (db) =>
          db
            .insert(approvals)
            .values({
              teamId: sql.placeholder('teamId'),
              title: sql.placeholder('title'),
              details: sql.placeholder('details'),
              requesterId: sql.placeholder('requesterId'),
              origin: sql.placeholder('origin'),
              functionExecutionId: sql.placeholder('functionExecutionId'),
              workflowExecutionId: sql.placeholder('workflowExecutionId'),
              stepState: sql.placeholder('stepState'),
              remindAfterHours: sql.placeholder('remindAfterHours'),
              escalateTo: sql.placeholder('escalateTo'),
              expireAfterHours: sql.placeholder('expireAfterHours'),
              createdAt: sql.placeholder('at'),
              updatedAt: sql.placeholder('at'),
            })
            .onConflictDoNothing({ target: approvals.functionExecutionId })
            .returning()
            .prepare(),
        )
        .get({
          teamId: input.teamId,
          title: input.title,
          details: input.details,
          requesterId: input.requesterId,
          origin: input.origin,
          functionExecutionId: input.functionExecutionId ?? null,
          workflowExecutionId: input.workflowExecutionId ?? null,
          stepState: input.functionExecutionId ? 'waiting' : 'none',
          remindAfterHours: input.remindAfterHours ?? null,
          escalateTo: input.escalateTo ?? null,
          expireAfterHours: input.expireAfterHours ?? null,
          at,
        }) as ApprovalRow | undefined;
      if (!inserted) {
        const existing = tx
          .select()
          .from(approvals)
          .where(eq(approvals.functionExecutionId, input.functionExecutionId ?? ''))
          .get();
        if (!existing) throw new Error('approval insert conflicted but no row holds that execution id');
        // Slack's execution ids are unique across workspaces: another workspace's row is never this one's.
        if (existing.teamId !== input.teamId) throw new ForeignExecutionError(input.functionExecutionId ?? '', input.teamId);
        return { approval: withApprovers(this.store, existing), created: false };
      }
      const addApprover = this.store.prepared('approvals.addApprover', (db) =>
        db
          .insert(approvalApprovers)
          .values({ approvalId: sql.placeholder('approvalId'), teamId: sql.placeholder('teamId'), userId: sql.placeholder('userId') })
          .prepare(),
      );
      for (const userId of input.approverIds) addApprover.run({ approvalId: inserted.id, teamId: input.teamId, userId });
      appendAudit(this.store, {
        teamId: input.teamId,
        actorId: input.actorId,
        entity: 'approval',
        entityId: inserted.id,
        action: 'requested',
        detail: { approvers: input.approverIds, origin: input.origin },
      });
      const approval = withApprovers(this.store, inserted);
      if (effects) writeEffects(this.store, effects(approval), at);
      return { approval, created: true };
    });
  }

  async get(teamId: string, id: number): Promise<Approval | undefined> {
    return this.read(() => {
      const row = approvalById(this.store, teamId, id);
      return row ? withApprovers(this.store, row) : undefined;
    });
  }

  async getByExecution(teamId: string, functionExecutionId: string): Promise<Approval | undefined> {
    return this.findOne(and(eq(approvals.functionExecutionId, functionExecutionId), eq(approvals.teamId, teamId)));
  }

  private async findOne(where: SQL | undefined): Promise<Approval | undefined> {
    return this.read((tx) => {
      const row = tx.select().from(approvals).where(where).get();
      return row ? withApprovers(this.store, row) : undefined;
    });
  }

  /** Remembers the DM that carries an approver's buttons, so the decision can update it. */
  async recordMessage(teamId: string, approvalId: number, userId: string, channelId: string, ts: string): Promise<void> {
    this.store.write(() => {
      this.store
        .prepared('approvals.recordMessage', (db) =>
          db
            .update(approvalApprovers)
            .set({ channelId: sql`${sql.placeholder('channelId')}`, messageTs: sql`${sql.placeholder('ts')}` })
            .where(
              and(
                eq(approvalApprovers.approvalId, sql.placeholder('approvalId')),
                eq(approvalApprovers.teamId, sql.placeholder('teamId')),
                eq(approvalApprovers.userId, sql.placeholder('userId')),
              ),
            )
            .prepare(),
        )
        .run({ channelId, ts, approvalId, teamId, userId });
    });
  }

  /**
   * Moves `pending → approved|rejected` with a conditional UPDATE and writes the audit row, in one
   * transaction. Exactly one caller wins a race: the others get `decided: false` and the row as
   * the winner left it.
   */
  async decide(input: DecisionInput, effects?: (a: Approval) => Effect[]): Promise<{ decided: boolean; approval: Approval | undefined }> {
    return this.store.write(() => {
      const at = this.now();
      const result = this.store
        .prepared('approvals.decide', (db) =>
          db
            .update(approvals)
            .set({
              status: sql`${sql.placeholder('outcome')}`,
              decidedBy: sql`${sql.placeholder('deciderId')}`,
              comment: sql`${sql.placeholder('comment')}`,
              decidedAt: sql`${sql.placeholder('at')}`,
              updatedAt: sql`${sql.placeholder('at')}`,
            })
            .where(and(eq(approvals.id, sql.placeholder('id')), eq(approvals.teamId, sql.placeholder('teamId')), eq(approvals.status, 'pending')))
            .prepare(),
        )
        .run({ outcome: input.outcome, deciderId: input.deciderId, comment: input.comment, at, id: input.id, teamId: input.teamId });
      const decided = result.changes === 1;
      if (decided) {
        appendAudit(this.store, {
          teamId: input.teamId,
          actorId: input.deciderId,
          entity: 'approval',
          entityId: input.id,
          action: input.outcome,
          detail: input.comment ? { comment: input.comment } : undefined,
        });
      }
      const row = approvalById(this.store, input.teamId, input.id);
      const approval = row ? withApprovers(this.store, row) : undefined;
      if (decided && approval && effects) writeEffects(this.store, effects(approval), at);
      return { decided, approval };
    });
  }

  /**
   * `pending → failed` with the reason (the request could not reach its approvers, or the step's
   * inputs were unusable). False when someone decided first.
   */
  async markFailed(teamId: string, id: number, reason: string, actorId: string, effects?: (a: Approval) => Effect[]): Promise<boolean> {
    return this.store.write((tx) => {
      const at = this.now();
      const result = tx
        .update(approvals)
        .set({ status: 'failed', failureReason: reason, updatedAt: at })
        .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), eq(approvals.status, 'pending')))
        .run();
      if (result.changes !== 1) return false;
      appendAudit(this.store, { teamId, actorId, entity: 'approval', entityId: id, action: 'failed', detail: { reason } });
      const row = approvalById(this.store, teamId, id);
      if (row && effects) writeEffects(this.store, effects(withApprovers(this.store, row)), at);
      return true;
    });
  }

  /**
   * Reminder `n` (1-based): counted only while the approval is pending and exactly `n - 1`
   * reminders were counted before (conditional UPDATE), so reminder `n` is recorded once however
   * many times, and on however many instances, it is attempted. The first one also adds the
   * request's `escalate_to` as an approver (`escalated`; nothing when they already are one). The
   * audit row and `effects` (the reminders, the escalated approver's card, the next reminder) are
   * written only by the call that counted it.
   */
  async remind(teamId: string, id: number, n: number, effects?: (a: Approval) => Effect[]): Promise<{ reminded: boolean; approval: Approval | undefined }> {
    return this.store.write((tx) => {
      const at = this.now();
      const result = tx
        .update(approvals)
        .set({ remindersSent: n, updatedAt: at })
        .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), eq(approvals.status, 'pending'), eq(approvals.remindersSent, n - 1)))
        .run();
      const reminded = result.changes === 1;
      let row = approvalById(this.store, teamId, id);
      if (reminded && row) {
        let escalatedTo: string | undefined;
        if (n === 1 && row.escalateTo) {
          const added = tx.insert(approvalApprovers).values({ approvalId: id, teamId, userId: row.escalateTo, escalated: true }).onConflictDoNothing().run();
          if (added.changes === 1) escalatedTo = row.escalateTo;
        }
        appendAudit(this.store, { teamId, actorId: SCHEDULE_ACTOR, entity: 'approval', entityId: id, action: 'reminded', detail: { reminder: n, ...(escalatedTo ? { escalatedTo } : {}) } });
        row = approvalById(this.store, teamId, id);
      }
      const approval = row ? withApprovers(this.store, row) : undefined;
      if (reminded && approval && effects) writeEffects(this.store, effects(approval), at);
      return { reminded, approval };
    });
  }

  /**
   * `pending → expired` (no decision in time), with `comment` saying so, exactly like a decision:
   * one conditional UPDATE, so of an expiry and a decision racing exactly one wins. Only the winner
   * audits (`expired`) and writes `effects`.
   */
  async expire(teamId: string, id: number, comment: string, effects?: (a: Approval) => Effect[]): Promise<{ expired: boolean; approval: Approval | undefined }> {
    return this.store.write((tx) => {
      const at = this.now();
      const result = tx
        .update(approvals)
        .set({ status: 'expired', comment, decidedAt: at, updatedAt: at })
        .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), eq(approvals.status, 'pending')))
        .run();
      const expired = result.changes === 1;
      if (expired) appendAudit(this.store, { teamId, actorId: SCHEDULE_ACTOR, entity: 'approval', entityId: id, action: 'expired', detail: { comment } });
      const row = approvalById(this.store, teamId, id);
      const approval = row ? withApprovers(this.store, row) : undefined;
      if (expired && approval && effects) writeEffects(this.store, effects(approval), at);
      return { expired, approval };
    });
  }

  /** Moves the approval's workflow step from one of `from` to `to`; false when it was elsewhere. */
  async transitionStep(teamId: string, id: number, from: StepState[], to: StepState): Promise<boolean> {
    return this.store.write(
      (tx) =>
        tx.update(approvals).set({ stepState: to }).where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), inArray(approvals.stepState, from))).run().changes === 1,
    );
  }

  /** Workflow approvals whose outcome is stored but whose step Slack has not been told about. */
  async stepsToComplete(limit = 500): Promise<Approval[]> {
    return this.read((tx) =>
      tx
        .select()
        .from(approvals)
        .where(
          and(
            ne(approvals.status, 'pending'),
            inArray(approvals.stepState, ['waiting', 'completing']),
            isNotNull(approvals.functionExecutionId),
          ),
        )
        .orderBy(asc(approvals.id))
        .limit(limit)
        .all()
        .map((row) => withApprovers(this.store, row)),
    );
  }

  /**
   * Pending approvals created between `createdAfter` and `createdBefore` with an approver whose
   * card was never recorded: the process sending the cards died part-way (a failed DM fails the
   * approval instead).
   */
  async pendingWithUnsentCards(createdAfter: number, createdBefore: number, limit = 200): Promise<Approval[]> {
    return this.read((tx) =>
      tx
        .select()
        .from(approvals)
        .where(
          and(
            eq(approvals.status, 'pending'),
            lt(approvals.createdAt, createdBefore),
            gte(approvals.createdAt, createdAfter),
            sql`EXISTS (SELECT 1 FROM ${approvalApprovers} WHERE ${approvalApprovers.approvalId} = ${approvals.id} AND ${approvalApprovers.messageTs} IS NULL)`,
          ),
        )
        .orderBy(asc(approvals.id))
        .limit(limit)
        .all()
        .map((row) => withApprovers(this.store, row)),
    );
  }

}

function withApprovers(store: Store, row: ApprovalRow): Approval {
  const approvers = store
    .prepared('approvals.approvers', (db) =>
      db
        .select()
        .from(approvalApprovers)
        .where(and(eq(approvalApprovers.approvalId, sql.placeholder('id')), eq(approvalApprovers.teamId, sql.placeholder('teamId'))))
        .orderBy(sql`rowid`)
        .prepare(),
    )
    .all({ id: row.id, teamId: row.teamId });
  return { ...row, approvers };
}

/** One approval of the workspace, by id (inside `write`/`read`, part of that transaction). */
function approvalById(store: Store, teamId: string, id: number): ApprovalRow | undefined {
  return store
    .prepared('approvals.byId', (db) =>
      db
        .select()
        .from(approvals)
        .where(and(eq(approvals.id, sql.placeholder('id')), eq(approvals.teamId, sql.placeholder('teamId'))))
        .prepare(),
    )
    .get({ id, teamId });
}
