import { and, asc, eq, gte, inArray, isNotNull, lt, ne, sql, type SQL } from 'drizzle-orm';
import { ForeignExecutionError, SCHEDULE_ACTOR, type Approval, type ApprovalsStore, type DecisionInput, type NewApproval } from '../approvalsStore.js';
import type { Effect } from '../outbox.js';
import type { ApprovalRow, ApproverRow, StepState } from '../schema.js';
import { appendAuditPg } from './audit.js';
import type { PgQueries } from './db.js';
import { writeEffectsPg } from './outbox.js';
import { approvalApprovers, approvals } from './schema.js';

/**
 * The approvals store on PostgreSQL: the same methods, results, audit rows and effects as the
 * SQLite `ApprovalsRepository` (../approvals.ts, which documents each method);
 * test/store/approvalsContract.test.ts runs one suite on both. Every change is one
 * `db.transaction` on one pooled connection, filtered on `team_id`.
 *
 * Transactions from any number of connections and instances run at once (READ COMMITTED), so:
 * - a decision and a failure are single conditional UPDATEs (`… WHERE status = 'pending'`):
 *   PostgreSQL evaluates the condition again on the row a concurrent change left, so of two
 *   approvers deciding at once exactly one changes the row, and only the winner audits and
 *   writes effects; the loser reads the row as the winner committed it;
 * - a create for a workflow execution another transaction is creating waits for it at the
 *   execution index (`ON CONFLICT … DO NOTHING`), then returns that approval with `created: false`.
 * SQLite lists approvers by `rowid`, the order they were given; PostgreSQL has no such order (an
 * UPDATE moves a row), so they are ordered by their place in the `requested` audit row, which
 * records that list in the same transaction and is never changed.
 * Where SQLite quietly takes a value PostgreSQL refuses: an id or time no column can hold finds
 * nothing, and a NUL, which PostgreSQL text cannot hold, is dropped from what people typed.
 */
export class PgApprovalsRepository implements ApprovalsStore {
  constructor(
    private readonly db: PgQueries,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: NewApproval, effects?: (a: Approval) => Effect[]): Promise<{ approval: Approval; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const [inserted] = await tx
        .insert(approvals)
        .values({
          teamId: input.teamId,
          title: storable(input.title),
          details: storable(input.details),
          requesterId: input.requesterId,
          origin: input.origin,
          functionExecutionId: input.functionExecutionId ?? null,
          workflowExecutionId: input.workflowExecutionId ?? null,
          stepState: input.functionExecutionId ? 'waiting' : 'none',
          remindAfterHours: input.remindAfterHours ?? null,
          escalateTo: input.escalateTo ?? null,
          expireAfterHours: input.expireAfterHours ?? null,
          createdAt: at,
          updatedAt: at,
        })
        .onConflictDoNothing({ target: approvals.functionExecutionId })
        .returning();
      if (!inserted) {
        // READ COMMITTED: this statement sees the row a concurrent create just committed.
        const [existing] = await tx
          .select()
          .from(approvals)
          .where(eq(approvals.functionExecutionId, input.functionExecutionId ?? ''));
        if (!existing) throw new Error('approval insert conflicted but no row holds that execution id');
        if (existing.teamId !== input.teamId) throw new ForeignExecutionError(input.functionExecutionId ?? '', input.teamId);
        return { approval: await withApprovers(tx, existing), created: false };
      }
      if (input.approverIds.length > 0) {
        await tx.insert(approvalApprovers).values(input.approverIds.map((userId) => ({ approvalId: inserted.id, teamId: input.teamId, userId })));
      }
      await appendAuditPg(tx, {
        teamId: input.teamId,
        actorId: input.actorId,
        entity: 'approval',
        entityId: inserted.id,
        action: 'requested',
        detail: { approvers: input.approverIds, origin: input.origin },
      });
      const approval = await withApprovers(tx, inserted);
      if (effects) await writeEffectsPg(tx, effects(approval), at);
      return { approval, created: true };
    });
  }

  async get(teamId: string, id: number): Promise<Approval | undefined> {
    if (!isRowId(id)) return undefined;
    return this.findOne(and(eq(approvals.id, id), eq(approvals.teamId, teamId)));
  }

  async getByExecution(teamId: string, functionExecutionId: string): Promise<Approval | undefined> {
    if (functionExecutionId.includes('\u0000')) return undefined;
    return this.findOne(and(eq(approvals.functionExecutionId, functionExecutionId), eq(approvals.teamId, teamId)));
  }

  /**
   * The approval and its approvers in one statement (one snapshot: they agree), the approvers as
   * JSON in the order `withApproversOfAll` gives them.
   */
  private async findOne(where: SQL | undefined): Promise<Approval | undefined> {
    const [found] = await this.db
      .select({
        approval: approvals,
        approvers: sql<Record<string, unknown>[]>`(SELECT coalesce(json_agg(p ORDER BY ${givenOrder(sql`p`)} NULLS LAST, p.user_id), '[]'::json)
          FROM approval_approvers p WHERE p.approval_id = ${approvals.id} AND p.team_id = ${approvals.teamId})`,
      })
      .from(approvals)
      .where(where);
    if (!found) return undefined;
    return { ...found.approval, approvers: found.approvers.map(approverFromJson) };
  }

  async recordMessage(teamId: string, approvalId: number, userId: string, channelId: string, ts: string): Promise<void> {
    // A NUL matches no approver (and PostgreSQL refuses it); Slack's channel ids and ts have none.
    if (!isRowId(approvalId) || `${userId}${channelId}${ts}`.includes('\u0000')) return;
    await this.db
      .update(approvalApprovers)
      .set({ channelId, messageTs: ts })
      .where(and(eq(approvalApprovers.approvalId, approvalId), eq(approvalApprovers.teamId, teamId), eq(approvalApprovers.userId, userId)));
  }

  async decide(input: DecisionInput, effects?: (a: Approval) => Effect[]): Promise<{ decided: boolean; approval: Approval | undefined }> {
    if (!isRowId(input.id)) return { decided: false, approval: undefined };
    const comment = storable(input.comment);
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const [won] = await tx
        .update(approvals)
        .set({ status: input.outcome, decidedBy: input.deciderId, comment, decidedAt: at, updatedAt: at })
        .where(and(eq(approvals.id, input.id), eq(approvals.teamId, input.teamId), eq(approvals.status, 'pending')))
        .returning();
      if (!won) {
        const row = await approvalById(tx, input.teamId, input.id);
        return { decided: false, approval: row ? await withApprovers(tx, row) : undefined };
      }
      await appendAuditPg(tx, {
        teamId: input.teamId,
        actorId: input.deciderId,
        entity: 'approval',
        entityId: input.id,
        action: input.outcome,
        detail: comment ? { comment } : undefined,
      });
      const approval = await withApprovers(tx, won);
      if (effects) await writeEffectsPg(tx, effects(approval), at);
      return { decided: true, approval };
    });
  }

  async markFailed(teamId: string, id: number, reason: string, actorId: string, effects?: (a: Approval) => Effect[]): Promise<boolean> {
    if (!isRowId(id)) return false;
    const failureReason = storable(reason);
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const [row] = await tx
        .update(approvals)
        .set({ status: 'failed', failureReason, updatedAt: at })
        .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), eq(approvals.status, 'pending')))
        .returning();
      if (!row) return false;
      await appendAuditPg(tx, { teamId, actorId, entity: 'approval', entityId: id, action: 'failed', detail: { reason: failureReason } });
      if (effects) await writeEffectsPg(tx, effects(await withApprovers(tx, row)), at);
      return true;
    });
  }

  async remind(teamId: string, id: number, n: number, effects?: (a: Approval) => Effect[]): Promise<{ reminded: boolean; approval: Approval | undefined }> {
    if (!isRowId(id) || !Number.isSafeInteger(n)) return { reminded: false, approval: undefined };
    return this.db.transaction(async (tx) => {
      const at = this.now();
      // Re-checked by PostgreSQL on the row a concurrent reminder, decision or expiry left: one counts it.
      const [won] = await tx
        .update(approvals)
        .set({ remindersSent: n, updatedAt: at })
        .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), eq(approvals.status, 'pending'), eq(approvals.remindersSent, n - 1)))
        .returning();
      if (!won) {
        const row = await approvalById(tx, teamId, id);
        return { reminded: false, approval: row ? await withApprovers(tx, row) : undefined };
      }
      let escalatedTo: string | undefined;
      if (n === 1 && won.escalateTo) {
        const added = await tx
          .insert(approvalApprovers)
          .values({ approvalId: id, teamId, userId: won.escalateTo, escalated: true })
          .onConflictDoNothing()
          .returning({ userId: approvalApprovers.userId });
        if (added.length === 1) escalatedTo = won.escalateTo;
      }
      await appendAuditPg(tx, { teamId, actorId: SCHEDULE_ACTOR, entity: 'approval', entityId: id, action: 'reminded', detail: { reminder: n, ...(escalatedTo ? { escalatedTo } : {}) } });
      const approval = await withApprovers(tx, won);
      if (effects) await writeEffectsPg(tx, effects(approval), at);
      return { reminded: true, approval };
    });
  }

  async expire(teamId: string, id: number, comment: string, effects?: (a: Approval) => Effect[]): Promise<{ expired: boolean; approval: Approval | undefined }> {
    if (!isRowId(id)) return { expired: false, approval: undefined };
    const text = storable(comment);
    return this.db.transaction(async (tx) => {
      const at = this.now();
      const [won] = await tx
        .update(approvals)
        .set({ status: 'expired', comment: text, decidedAt: at, updatedAt: at })
        .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), eq(approvals.status, 'pending')))
        .returning();
      if (!won) {
        const row = await approvalById(tx, teamId, id);
        return { expired: false, approval: row ? await withApprovers(tx, row) : undefined };
      }
      await appendAuditPg(tx, { teamId, actorId: SCHEDULE_ACTOR, entity: 'approval', entityId: id, action: 'expired', detail: { comment: text } });
      const approval = await withApprovers(tx, won);
      if (effects) await writeEffectsPg(tx, effects(approval), at);
      return { expired: true, approval };
    });
  }

  async transitionStep(teamId: string, id: number, from: StepState[], to: StepState): Promise<boolean> {
    if (!isRowId(id) || from.length === 0) return false;
    const moved = await this.db
      .update(approvals)
      .set({ stepState: to })
      .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId), inArray(approvals.stepState, from)))
      .returning({ id: approvals.id });
    return moved.length === 1;
  }

  async stepsToComplete(limit = 500): Promise<Approval[]> {
    return this.list(
      and(ne(approvals.status, 'pending'), inArray(approvals.stepState, ['waiting', 'completing']), isNotNull(approvals.functionExecutionId)),
      limit,
    );
  }

  async pendingWithUnsentCards(createdAfter: number, createdBefore: number, limit = 200): Promise<Approval[]> {
    // A NaN bound compares as NULL on SQLite: nothing matches.
    if (Number.isNaN(createdAfter) || Number.isNaN(createdBefore)) return [];
    return this.list(
      and(
        eq(approvals.status, 'pending'),
        lt(approvals.createdAt, msBound(createdBefore)),
        gte(approvals.createdAt, msBound(createdAfter)),
        sql`EXISTS (SELECT 1 FROM ${approvalApprovers} WHERE ${approvalApprovers.approvalId} = ${approvals.id} AND ${approvalApprovers.messageTs} IS NULL)`,
      ),
      limit,
    );
  }

  /** Approvals by id, at most `limit` (SQLite: a negative limit is none, a fraction fails). */
  private async list(where: SQL | undefined, limit: number): Promise<Approval[]> {
    if (!Number.isSafeInteger(limit)) throw new TypeError(`limit must be an integer, not ${limit}`);
    return this.db.transaction(
      async (tx) => {
        const query = tx.select().from(approvals).where(where).orderBy(asc(approvals.id));
        const rows = limit < 0 ? await query : await query.limit(limit);
        return withApproversOfAll(tx, rows);
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }
}

async function withApprovers(q: PgQueries, row: ApprovalRow): Promise<Approval> {
  const [approval] = await withApproversOfAll(q, [row]);
  return approval!;
}

/**
 * The approvers of each approval in one query, in the order they were given: their place in the
 * approval's `requested` audit row (SQLite's `rowid` order); any not named there last, by user id.
 */
async function withApproversOfAll(q: PgQueries, rows: ApprovalRow[]): Promise<Approval[]> {
  if (rows.length === 0) return [];
  const given = givenOrder(sql`${approvalApprovers}`);
  const approvers: ApproverRow[] = await q
    .select()
    .from(approvalApprovers)
    .where(inArray(approvalApprovers.approvalId, rows.map((r) => r.id)))
    .orderBy(asc(approvalApprovers.approvalId), sql`${given} NULLS LAST`, asc(approvalApprovers.userId));
  return rows.map((row) => ({ ...row, approvers: approvers.filter((a) => a.approvalId === row.id && a.teamId === row.teamId) }));
}

/** An approver's place in the approval's `requested` audit row (`p`: the approver row, by name). */
function givenOrder(p: SQL): SQL {
  return sql`(SELECT e.ord FROM audit_log a, jsonb_array_elements_text(a.detail::jsonb -> 'approvers') WITH ORDINALITY AS e(user_id, ord)
    WHERE a.entity = 'approval' AND a.action = 'requested' AND a.entity_id = ${p}.approval_id AND a.team_id = ${p}.team_id AND e.user_id = ${p}.user_id
    ORDER BY a.id LIMIT 1)`;
}

/** An approver row from `json_agg` (column names as keys; ids are JSON numbers). */
function approverFromJson(j: Record<string, unknown>): ApproverRow {
  return {
    approvalId: Number(j['approval_id']),
    teamId: String(j['team_id']),
    userId: String(j['user_id']),
    channelId: (j['channel_id'] as string | null) ?? null,
    escalated: j['escalated'] === true,
    messageTs: (j['message_ts'] as string | null) ?? null,
  };
}

async function approvalById(q: PgQueries, teamId: string, id: number): Promise<ApprovalRow | undefined> {
  const [row] = await q
    .select()
    .from(approvals)
    .where(and(eq(approvals.id, id), eq(approvals.teamId, teamId)));
  return row;
}

/** Ids are `bigint`: any other number names no row (on SQLite too; PostgreSQL would fail the query). */
const isRowId = (id: number) => Number.isSafeInteger(id);
/** A ms time bound for a `bigint` column: `created_at >= 1.5` is `>= 2`, `< 1.5` is `< 2`; past ±2^53 nothing is stored. */
const msBound = (t: number) => Math.min(Math.max(Math.ceil(t), -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
/** PostgreSQL text cannot hold NUL (SQLite keeps it); it shows as nothing in Slack anyway. */
const storable = (text: string) => text.replaceAll('\u0000', '');
