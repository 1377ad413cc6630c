// What the store says Slack must show, checked against the fake Slack: every effect of every
// stored change exactly once, found by the outbox key each post carries in its message metadata
// (`{event_type: 'tasklane_effect', event_payload: {key}}`), and every workflow step completed
// once. Used by the crash test (test/reliability/crash.test.ts) on a store it reads read-only.
import type Database from 'better-sqlite3';
import { EFFECT_EVENT_TYPE } from '../../src/outbox/sender.js';
import type { FakeMessage, FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { ACTION } from '../../src/slack/ids.js';

/** The outbox key a post carries, if the app posted it through the outbox. */
export function effectKeyOf(m: FakeMessage): string | undefined {
  if (m.metadata?.event_type !== EFFECT_EVENT_TYPE) return undefined;
  const key = m.metadata.event_payload['key'];
  return typeof key === 'string' ? key : undefined;
}

/** Whether a message shows a button with this action id (a live button). */
export function liveButton(m: FakeMessage, actionId: string): boolean {
  for (const b of (m.blocks ?? []) as { accessory?: { action_id?: string }; elements?: { action_id?: string }[] }[]) {
    if (b.accessory?.action_id === actionId) return true;
    for (const e of b.elements ?? []) if (e.action_id === actionId) return true;
  }
  return false;
}

/** A functions.completeSuccess / completeError call the fake answered. */
export interface StepCall {
  executionId: string;
  ok: boolean;
  kind: 'success' | 'error';
}

export interface SentWork {
  stepCalls: StepCall[];
  createSteps: { executionId: string; wait: boolean }[];
  completeSteps: { executionId: string; taskId: number }[];
  /** Tasks an acknowledged ✅ reaction was on. */
  ackedReactions: number[];
}

export interface Obligations {
  /** Effects the store owes Slack. */
  expected: number;
  /** Of those, the ones Slack shows exactly once. */
  delivered: number;
  byKind: Record<string, { expected: number; delivered: number }>;
  /** Each effect missing, doubled or wrong, and anything else out of line (empty when all is well). */
  problems: string[];
  /**
   * Approvers of a decided approval who never got a card, by design: decided before their card
   * went out, the card is skipped (a decided approval needs no more request cards). Not owed.
   */
  skippedCards: number;
}

interface TaskRow {
  id: number;
  number: number;
  status: string;
  assignee: string;
  creator: string;
  origin: string;
  completedBy: string | null;
  completedAt: number | null;
  fx: string | null;
  stepState: string;
}
interface ApprovalRow {
  id: number;
  status: string;
  requester: string | null;
  decidedBy: string | null;
  fx: string | null;
  stepState: string;
}

export const KINDS = {
  taskCard: 'task card in the assignee’s DM (recorded, same ts)',
  taskDone: 'done task: its cards show no Complete button',
  completedNotice: 'completion notice to the creator',
  approvalCard: 'approval card per approver (recorded, same ts)',
  approvalOutcome: 'decided approval: its cards show no Approve/Reject',
  requesterNotice: 'requester notice of the decision',
  step: 'workflow step completed once',
} as const;

/**
 * The obligations the store `db` implies, each checked against `fake`; `sent` is what the test
 * sent that the store alone does not say (wait flags, which steps and reactions were sent).
 */
export function obligations(db: Database.Database, fake: FakeSlack, sent: SentWork): Obligations {
  const byKind: Obligations['byKind'] = Object.fromEntries(Object.values(KINDS).map((k) => [k, { expected: 0, delivered: 0 }]));
  const problems: string[] = [];
  const owe = (kind: string, problem: string | undefined) => {
    const k = (byKind[kind] ??= { expected: 0, delivered: 0 });
    k.expected += 1;
    if (problem === undefined) k.delivered += 1;
    else problems.push(problem);
  };

  const posts = new Map<string, FakeMessage[]>();
  for (const m of fake.allMessages()) {
    const key = effectKeyOf(m);
    if (key !== undefined) posts.set(key, [...(posts.get(key) ?? []), m]);
  }
  const expectedKeys = new Set<string>();
  /** The one post of `key` in `channel`, or why not. */
  const once = (key: string, channel: string): { message?: FakeMessage; problem?: string } => {
    expectedKeys.add(key);
    const found = posts.get(key) ?? [];
    if (found.length === 0) return { problem: `${key}: never posted` };
    if (found.length > 1) return { problem: `${key}: posted ${found.length} times (${found.map((m) => `${m.channel}/${m.ts}`).join(', ')})` };
    const m = found[0] as FakeMessage;
    if (m.channel !== channel) return { problem: `${key}: posted in ${m.channel}, not ${channel}` };
    return { message: m };
  };
  const withPrefix = (prefix: string) => [...posts.entries()].filter(([k]) => k.startsWith(prefix)).flatMap(([, ms]) => ms);

  const stepOk = new Map<string, StepCall[]>();
  for (const c of sent.stepCalls) if (c.ok) stepOk.set(c.executionId, [...(stepOk.get(c.executionId) ?? []), c]);
  /** The step's one completion (of `kind`, when given) and its outputs, or why not. */
  const stepOnce = (fx: string, kind: 'success' | 'error' | undefined, outputs?: (o: Record<string, unknown>) => string | undefined): string | undefined => {
    const calls = stepOk.get(fx) ?? [];
    const exec = fake.execution(fx);
    if (calls.length !== 1) return `step ${fx}: completed ${calls.length} times in Slack (state ${exec?.state ?? 'unknown'})`;
    const call = calls[0] as StepCall;
    if (kind !== undefined && call.kind !== kind) return `step ${fx}: completed with ${call.kind}, expected ${kind}${exec?.error ? ` (${exec.error})` : ''}`;
    if (call.kind === 'success' && outputs) return outputs(exec?.outputs ?? {});
    return undefined;
  };

  // Tasks: the assignee's card, the refresh once done, the creator's notice, a create_task step.
  const tasks = db
    .prepare(
      `SELECT id, number, status, assignee_id AS assignee, creator_id AS creator, origin, completed_by AS completedBy, completed_at AS completedAt,
              function_execution_id AS fx, step_state AS stepState FROM tasks ORDER BY id`,
    )
    .all() as TaskRow[];
  const taskMessages = db.prepare(`SELECT channel_id AS channel, ts, kind FROM task_messages WHERE task_id = ?`);
  const createSteps = new Map(sent.createSteps.map((s) => [s.executionId, s]));
  for (const t of tasks) {
    const dm = fake.dmChannel(t.assignee);
    const card = once(`task:${t.id}:card:assignee`, dm);
    const recorded = (taskMessages.all(t.id) as { channel: string; ts: string; kind: string }[]).filter((m) => m.kind === 'assignee_dm');
    owe(
      KINDS.taskCard,
      card.problem ??
        (recorded.length !== 1
          ? `task ${t.id}: ${recorded.length} assignee cards recorded in task_messages`
          : recorded[0]?.channel !== dm || recorded[0]?.ts !== card.message?.ts
            ? `task ${t.id}: task_messages has ${recorded[0]?.channel}/${recorded[0]?.ts}, Slack has the card at ${card.message?.channel}/${card.message?.ts}`
            : undefined),
    );
    if (t.status === 'done') {
      const live = withPrefix(`task:${t.id}:card:`).filter((m) => liveButton(m, ACTION.taskComplete));
      owe(KINDS.taskDone, live.length > 0 ? `task ${t.id} is done, but ${live.map((m) => `${m.channel}/${m.ts}`).join(', ')} still shows Complete` : undefined);
      if (t.origin !== 'workflow' && t.completedBy !== t.creator) {
        const notice = once(`task:${t.id}:completed:${t.completedAt}`, fake.dmChannel(t.creator));
        owe(KINDS.completedNotice, notice.problem);
      }
    }
    if (t.fx) {
      const step = createSteps.get(t.fx);
      if (!step) {
        problems.push(`task ${t.id}: made by execution ${t.fx}, which the test never sent`);
        continue;
      }
      if (t.status === 'done' || !step.wait) {
        owe(
          KINDS.step,
          stepOnce(t.fx, 'success', (o) => {
            if (o['task_id'] !== `task-${t.id}` || o['task_number'] !== t.number) return `create_task ${t.fx}: outputs ${JSON.stringify(o)} for task ${t.id} #${t.number}`;
            if (step.wait && o['completed_by'] !== t.completedBy) return `create_task ${t.fx}: completed_by ${String(o['completed_by'])}, the task says ${t.completedBy}`;
            return undefined;
          }) ?? (t.stepState !== 'completed' ? `task ${t.id}: step_state ${t.stepState} after its step completed` : undefined),
        );
      } else {
        // Waiting for a task still open: the step stays running, nothing completed it.
        const calls = stepOk.get(t.fx) ?? [];
        const state = fake.execution(t.fx)?.state;
        if (calls.length > 0 || state !== 'running') problems.push(`create_task ${t.fx}: task ${t.id} is open, yet the step is ${state} (${calls.length} completion(s))`);
        if (t.stepState !== 'waiting') problems.push(`task ${t.id}: step_state ${t.stepState} while it waits`);
      }
    }
  }
  const madeBy = new Set(tasks.map((t) => t.fx).filter((x) => x !== null));
  for (const s of sent.createSteps) if (!madeBy.has(s.executionId)) problems.push(`create_task ${s.executionId}: no task`);

  // complete_task: completed (or failed) once, never left running.
  const taskById = new Map(tasks.map((t) => [t.id, t]));
  for (const s of sent.completeSteps) {
    owe(KINDS.step, stepOnce(s.executionId, undefined));
    if (taskById.get(s.taskId)?.status !== 'done') problems.push(`complete_task ${s.executionId}: task ${s.taskId} is ${taskById.get(s.taskId)?.status ?? 'missing'}`);
  }
  // ✅ acknowledged: the task is done (a reaction cut short by a kill is handled again).
  for (const id of new Set(sent.ackedReactions)) {
    if (taskById.get(id)?.status !== 'done') problems.push(`task ${id}: an acknowledged ✅ reaction, yet it is ${taskById.get(id)?.status ?? 'missing'}`);
  }

  // Approvals: a card per approver, the outcome on every card, the requester's notice, the step.
  const approvals = db
    .prepare(`SELECT id, status, requester_id AS requester, decided_by AS decidedBy, function_execution_id AS fx, step_state AS stepState FROM approvals ORDER BY id`)
    .all() as ApprovalRow[];
  const approvers = db.prepare('SELECT user_id AS userId, channel_id AS channel, message_ts AS ts FROM approval_approvers WHERE approval_id = ?');
  let skippedCards = 0;
  for (const a of approvals) {
    if (a.status !== 'failed') {
      for (const p of approvers.all(a.id) as { userId: string; channel: string | null; ts: string | null }[]) {
        if (a.status !== 'pending' && p.ts === null && !posts.has(`approval:${a.id}:card:${p.userId}`)) {
          skippedCards += 1;
          continue;
        }
        const card = once(`approval:${a.id}:card:${p.userId}`, fake.dmChannel(p.userId));
        owe(
          KINDS.approvalCard,
          card.problem ??
            (p.ts !== card.message?.ts || p.channel !== card.message?.channel
              ? `approval ${a.id}: ${p.userId}'s card recorded as ${p.channel}/${p.ts}, Slack has ${card.message?.channel}/${card.message?.ts}`
              : undefined),
        );
      }
    } else {
      for (const k of [...posts.keys()].filter((x) => x.startsWith(`approval:${a.id}:card:`))) expectedKeys.add(k);
    }
    if (a.status !== 'pending') {
      const live = withPrefix(`approval:${a.id}:card:`).filter((m) => liveButton(m, ACTION.approve) || liveButton(m, ACTION.reject));
      owe(KINDS.approvalOutcome, live.length > 0 ? `approval ${a.id} is ${a.status}, but ${live.map((m) => `${m.channel}/${m.ts}`).join(', ')} still shows the buttons` : undefined);
    }
    if ((a.status === 'approved' || a.status === 'rejected') && a.requester && a.requester !== a.decidedBy) {
      owe(KINDS.requesterNotice, once(`approval:${a.id}:outcome`, fake.dmChannel(a.requester)).problem);
    }
    if (a.fx && a.status !== 'pending') {
      owe(
        KINDS.step,
        stepOnce(a.fx, a.status === 'failed' ? 'error' : 'success', (o) =>
          o['approved'] !== (a.status === 'approved') || o['decided_by'] !== a.decidedBy || o['approval_id'] !== String(a.id)
            ? `request_approval ${a.fx}: outputs ${JSON.stringify(o)} for approval ${a.id} ${a.status} by ${a.decidedBy}`
            : undefined,
        ) ?? (a.stepState !== 'completed' ? `approval ${a.id}: step_state ${a.stepState} after its step completed` : undefined),
      );
    }
  }

  // Nothing posted that the store does not owe, nothing posted twice.
  for (const [key, ms] of posts) {
    if (!expectedKeys.has(key)) problems.push(`${key}: posted ${ms.length} time(s), owed by nothing in the store`);
    else if (ms.length > 1 && !problems.some((p) => p.startsWith(`${key}:`))) problems.push(`${key}: posted ${ms.length} times`);
  }
  // The outbox has sent everything, given up nothing.
  const open = db.prepare(`SELECT key, state, attempts, last_error AS lastError FROM outbox WHERE state <> 'done' ORDER BY id`).all() as { key: string; state: string; attempts: number; lastError: string | null }[];
  for (const r of open) problems.push(`outbox ${r.key}: ${r.state} after ${r.attempts} attempt(s)${r.lastError ? ` (${r.lastError})` : ''}`);

  const expected = Object.values(byKind).reduce((n, k) => n + k.expected, 0);
  const delivered = Object.values(byKind).reduce((n, k) => n + k.delivered, 0);
  return { expected, delivered, byKind, problems, skippedCards };
}
