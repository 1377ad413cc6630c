import type { Approval, DecisionInput, NewApproval } from './approvals.js';
import type { Effect } from './outbox.js';
import type { StepState } from './schema.js';

export type { Approval, DecisionInput, DecisionOutcome, NewApproval } from './approvals.js';
export { ForeignExecutionError, SCHEDULE_ACTOR } from './approvals.js';

/**
 * The approvals store, whichever engine holds it: `ApprovalsRepository` (SQLite, ./approvals.ts,
 * which documents each method) and `PgApprovalsRepository` (PostgreSQL, ./pg/approvals.ts). Every
 * method is one whole transaction and filters on `team_id`; every change appends its audit row and
 * writes the effects it owes (outbox rows) in that transaction.
 * test/store/approvalsContract.test.ts runs one suite on both.
 */
export interface ApprovalsStore {
  create(input: NewApproval, effects?: (a: Approval) => Effect[]): Promise<{ approval: Approval; created: boolean }>;
  get(teamId: string, id: number): Promise<Approval | undefined>;
  getByExecution(teamId: string, functionExecutionId: string): Promise<Approval | undefined>;
  recordMessage(teamId: string, approvalId: number, userId: string, channelId: string, ts: string): Promise<void>;
  decide(input: DecisionInput, effects?: (a: Approval) => Effect[]): Promise<{ decided: boolean; approval: Approval | undefined }>;
  markFailed(teamId: string, id: number, reason: string, actorId: string, effects?: (a: Approval) => Effect[]): Promise<boolean>;
  /** Counts reminder `n` once (pending, `n - 1` counted before); the first adds `escalate_to` as an approver. */
  remind(teamId: string, id: number, n: number, effects?: (a: Approval) => Effect[]): Promise<{ reminded: boolean; approval: Approval | undefined }>;
  /** `pending → expired` with `comment`, conditional like a decision: one of the two wins. */
  expire(teamId: string, id: number, comment: string, effects?: (a: Approval) => Effect[]): Promise<{ expired: boolean; approval: Approval | undefined }>;
  stepsToComplete(limit?: number): Promise<Approval[]>;
  pendingWithUnsentCards(createdAfter: number, createdBefore: number, limit?: number): Promise<Approval[]>;
  /** Moves the approval's workflow step from one of `from` to `to`; false when it was elsewhere. */
  transitionStep(teamId: string, id: number, from: StepState[], to: StepState): Promise<boolean>;
}
