// Workspace isolation and permissions, as a matrix: every surface that names a task or an
// approval (one row each) × who acts. Two workspaces, A and B, both with a task #1, and a Grid user
// (W…) who is a member of both. Adding a surface is adding one row to SURFACES.
//
// Isolation: an actor in workspace A, handed workspace B's ids (or a B button replayed in A),
// never changes a B row and never receives B's data.
// Permissions, in A: only the assignee or the creator completes, reopens, reassigns or edits; only
// the creator deletes; only approvers decide; any member may open, search or comment on a public
// task (private tasks and guests: visibility.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalService } from '../../src/features/approvals/service.js';
import { INPUT } from '../../src/features/approvals/views.js';
import { REASSIGN_INPUT } from '../../src/features/home/views.js';
import { TaskService } from '../../src/features/tasks/service.js';
import { COMMENT_FIELD, NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ACTION, FUNCTION, VIEW } from '../../src/slack/ids.js';
import type { FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { OTHER_TEAM, TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { crashesSince, mark, sentSince, snapshot, submissionPayload, type Mark } from './support.js';

// Workspace A
const ANN = 'UANN00001'; // creator, requester
const BOB = 'UBOB00002'; // assignee
const CAT = 'UCAT00003'; // approver; the person tasks get reassigned to
const EVE = 'UEVE00004'; // in A, nothing to do with anything
// Workspace B
const BEA = 'UBEA00007'; // B's creator and requester
const GRID = 'W0GRID0001'; // Enterprise Grid user in both A and B: B's assignee and approver
const B_MARK = 'Bravo-Q9Z'; // in every title of B's rows; must never reach anyone acting in A

type Obj = Record<string, unknown>;

interface TaskTarget {
  teamId: string;
  id: number;
  number: number;
  title: string;
  card: FakeMessage;
}
interface ApprovalTarget {
  teamId: string;
  id: number;
  title: string;
  card: FakeMessage;
}
interface Actor {
  teamId: string;
  userId: string;
}

type Verb = 'complete' | 'reopen' | 'assign' | 'edit' | 'delete' | 'comment' | 'read' | 'decide' | 'openDecision';

interface Surface {
  name: string;
  verb: Verb;
  /** The rows it names. */
  on: 'task' | 'approval';
  /** false: not a person's action (a workflow step), so only isolation applies. */
  permissions?: false;
  act(t: TestApp, actor: Actor, target: TaskTarget & ApprovalTarget): Promise<unknown>;
}

let t: TestApp;
let taskSvc: TaskService;
let approvalSvc: ApprovalService;

// ------------------------------------------------------------------ how each surface is driven

const click = (actor: Actor, actionId: string, on: FakeMessage, value: string) =>
  t.slack.blockAction({ teamId: actor.teamId, userId: actor.userId, actionId, container: 'message', channelId: on.channel, messageTs: on.ts, unchecked: true, value });

/** A click in a view: the actor's App Home, or a task details modal naming the task. */
const viewClick = (actor: Actor, action: Obj, view: Obj = {}) =>
  t.slack.sendPayload({
    type: 'block_actions',
    token: 'fake-verification-token',
    api_app_id: t.fake.appId,
    team: { id: actor.teamId, domain: 'x' },
    user: { id: actor.userId, name: actor.userId.toLowerCase(), team_id: actor.teamId },
    container: { type: 'view', view_id: 'VMATRIX01' },
    view: { id: 'VMATRIX01', team_id: actor.teamId, type: 'home', callback_id: 'home', private_metadata: '', hash: '1.x', state: { values: {} }, ...view },
    trigger_id: t.fake.issueTriggerId(actor.userId, actor.teamId),
    actions: [{ block_id: 'b1', action_ts: '1700000000.000100', ...action }],
  });

const submit = (actor: Actor, callbackId: string, meta: Obj, values: Obj = {}) =>
  t.slack.sendPayload(submissionPayload(t, { teamId: actor.teamId, userId: actor.userId, callbackId, privateMetadata: JSON.stringify(meta), values }));

const slash = (actor: Actor, text: string) => t.slack.command({ teamId: actor.teamId, userId: actor.userId, text });
const input = (value: string) => ({ type: 'plain_text_input', value });
const details = (taskId: number): Obj => ({ type: 'modal', callback_id: VIEW.taskDetails, private_metadata: JSON.stringify({ taskId, depth: 1 }) });

const SURFACES: Surface[] = [
  // Tasks
  { name: 'task card Complete', on: 'task', verb: 'complete', act: (_t, a, x) => click(a, ACTION.taskComplete, x.card, String(x.id)) },
  { name: 'task card Open', on: 'task', verb: 'read', act: (_t, a, x) => click(a, ACTION.taskOpen, x.card, String(x.id)) },
  { name: '/task done #n', on: 'task', verb: 'complete', act: (_t, a, x) => slash(a, `done #${x.number}`) },
  { name: '/task reopen #n', on: 'task', verb: 'reopen', act: (_t, a, x) => slash(a, `reopen #${x.number}`) },
  { name: '/task assign #n', on: 'task', verb: 'assign', act: (_t, a, x) => slash(a, `assign #${x.number} <@${CAT}|cat>`) },
  {
    name: '✅ reaction on the card',
    on: 'task',
    verb: 'complete',
    act: (_t, a, x) => t.slack.event(a.teamId, { type: 'reaction_added', user: a.userId, reaction: 'white_check_mark', item: { type: 'message', channel: x.card.channel, ts: x.card.ts }, item_user: t.fake.botUserId, event_ts: '1700000000.000200' }),
  },
  {
    name: 'complete_task step for the person',
    on: 'task',
    verb: 'complete',
    act: (_t, a, x) => t.slack.functionExecuted({ teamId: a.teamId, callbackId: FUNCTION.completeTask, inputs: { task: `task-${x.id}`, completed_by_user: a.userId } }),
  },
  { name: 'Home Complete', on: 'task', verb: 'complete', act: (_t, a, x) => viewClick(a, { type: 'button', action_id: ACTION.homeTaskComplete, value: String(x.id) }) },
  ...(['open', 'reopen'] as const).map(
    (v): Surface => ({
      name: `Home menu ${v}`,
      on: 'task',
      verb: v === 'open' ? 'read' : 'reopen',
      act: (_t, a, x) => viewClick(a, { type: 'overflow', action_id: ACTION.homeTaskOverflow, selected_option: { text: { type: 'plain_text', text: v }, value: `${v}:${x.id}` } }),
    }),
  ),
  { name: 'Home search (options)', on: 'task', verb: 'read', act: (_t, a, x) => t.slack.blockSuggestion({ teamId: a.teamId, userId: a.userId, actionId: ACTION.homeSearch, value: x.title.slice(0, 12) }) },
  {
    name: 'Home search (pick)',
    on: 'task',
    verb: 'read',
    act: (_t, a, x) => viewClick(a, { type: 'external_select', action_id: ACTION.homeSearch, selected_option: { text: { type: 'plain_text', text: 'x' }, value: String(x.id) } }),
  },
  {
    name: 'Home Reassign (submit)',
    on: 'task',
    verb: 'assign',
    act: (_t, a, x) => submit(a, VIEW.reassignTask, { taskId: x.id }, { [REASSIGN_INPUT.block]: { [REASSIGN_INPUT.action]: { type: 'users_select', selected_user: CAT } } }),
  },
  { name: 'Home Delete (submit)', on: 'task', verb: 'delete', act: (_t, a, x) => submit(a, VIEW.detailsDeleteTask, { taskId: x.id }) },
  { name: 'details Complete', on: 'task', verb: 'complete', act: (_t, a, x) => viewClick(a, { type: 'button', action_id: ACTION.detailsComplete, value: String(x.id) }, details(x.id)) },
  {
    name: 'details Edit (submit)',
    on: 'task',
    verb: 'edit',
    act: (_t, a, x) =>
      submit(a, VIEW.editTask, { taskId: x.id, depth: 1 }, {
        [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: input(`${x.title} (edited)`) },
        [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } },
      }),
  },
  { name: 'details Comment (submit)', on: 'task', verb: 'comment', act: (_t, a, x) => submit(a, VIEW.commentTask, { taskId: x.id, depth: 1 }, { [COMMENT_FIELD]: { [COMMENT_FIELD]: input('A comment') } }) },
  { name: 'details Delete (submit)', on: 'task', verb: 'delete', act: (_t, a, x) => submit(a, VIEW.detailsDeleteTask, { taskId: x.id, depth: 1 }) },
  // Approvals
  { name: 'Approve button', on: 'approval', verb: 'decide', act: (_t, a, x) => click(a, ACTION.approve, x.card, String(x.id)) },
  { name: 'Approve button on the Home', on: 'approval', verb: 'decide', act: (_t, a, x) => viewClick(a, { type: 'button', action_id: ACTION.approve, value: String(x.id) }) },
  { name: 'Reject button (opens the reason form)', on: 'approval', verb: 'openDecision', act: (_t, a, x) => click(a, ACTION.reject, x.card, String(x.id)) },
  { name: 'Approve with comment button (opens the form)', on: 'approval', verb: 'openDecision', act: (_t, a, x) => click(a, ACTION.approveWithComment, x.card, String(x.id)) },
  { name: 'Reject reason (submit)', on: 'approval', verb: 'decide', act: (_t, a, x) => submit(a, VIEW.rejectReason, { approvalId: x.id }, { [INPUT.reason.block]: { [INPUT.reason.action]: input('No.') } }) },
  { name: 'Approve comment (submit)', on: 'approval', verb: 'decide', act: (_t, a, x) => submit(a, VIEW.approveComment, { approvalId: x.id }, { [INPUT.comment.block]: { [INPUT.comment.action]: input('Yes.') } }) },
];

// ------------------------------------------------------------------ fixtures

let cellNo = 0;

async function taskIn(teamId: string, by: string, assignee: string, opts: { done?: boolean; mark?: string } = {}): Promise<TaskTarget> {
  cellNo += 1;
  const title = `${opts.mark ?? 'Alpha'} task ${cellNo}`;
  const { task } = await taskSvc.create({ teamId, userId: by }, { title, assigneeId: assignee, origin: 'command' });
  await t.settle();
  if (opts.done) {
    await taskSvc.complete({ teamId, userId: assignee }, { id: task.id });
    await t.settle();
  }
  const row = t.store.sqlite.prepare('SELECT channel_id AS channel, ts FROM task_messages WHERE team_id = ? AND task_id = ?').get(teamId, task.id) as { channel: string; ts: string };
  const card = t.fake.message(row.channel, row.ts);
  if (!card) throw new Error(`no card for task ${task.id}`);
  return { teamId, id: task.id, number: task.number, title, card };
}

async function approvalIn(teamId: string, by: string, approvers: string[], mark = 'Alpha'): Promise<ApprovalTarget> {
  cellNo += 1;
  const title = `${mark} request ${cellNo}`;
  const approval = await approvalSvc.requestApproval({ teamId, requesterId: by, approverIds: approvers, title });
  await t.settle();
  const row = t.store.sqlite.prepare('SELECT channel_id AS channel, message_ts AS ts FROM approval_approvers WHERE approval_id = ? AND user_id = ?').get(approval.id, approvers[0]) as {
    channel: string;
    ts: string;
  };
  const card = t.fake.message(row.channel, row.ts);
  if (!card) throw new Error(`no card for approval ${approval.id}`);
  return { teamId, id: approval.id, title, card };
}

const taskRow = (id: number) => t.store.sqlite.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Obj | undefined;
const approvalRow = (id: number) => t.store.sqlite.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as Obj | undefined;
const commentCount = (id: number) => (t.store.sqlite.prepare('SELECT count(*) AS n FROM task_comments WHERE task_id = ?').get(id) as { n: number }).n;

/** What the cell's action did to its target: the verb's effect, read from the store (or from what Slack received, for reads). */
function happened(verb: Verb, target: TaskTarget & ApprovalTarget, before: { row: Obj | undefined; comments: number }, m: Mark, actor: Actor, answer: unknown): boolean {
  const after = verb === 'decide' || verb === 'openDecision' ? approvalRow(target.id) : taskRow(target.id);
  switch (verb) {
    case 'complete':
      return before.row?.['status'] === 'open' && after?.['status'] === 'done';
    case 'reopen':
      return before.row?.['status'] === 'done' && after?.['status'] === 'open';
    case 'assign':
      return after !== undefined && after['assignee_id'] !== before.row?.['assignee_id'];
    case 'edit':
      return after !== undefined && after['title'] !== before.row?.['title'];
    case 'delete':
      return before.row !== undefined && after === undefined;
    case 'comment':
      return commentCount(target.id) > before.comments;
    case 'decide':
      return before.row?.['status'] === 'pending' && after?.['status'] !== 'pending';
    case 'openDecision': {
      const top = t.fake.topView(actor.userId);
      return (top?.callback_id === VIEW.rejectReason || top?.callback_id === VIEW.approveComment) && JSON.stringify(top.blocks).includes(target.title);
    }
    case 'read':
      // Views, messages and response_url bodies, and what the request itself was answered (options).
      return sentSince(t, m, [answer]).includes(target.title);
  }
}

const ALLOWED: Record<Verb, Record<'assignee' | 'creator' | 'stranger' | 'approver' | 'requester', boolean>> = {
  complete: { assignee: true, creator: true, stranger: false, approver: false, requester: false },
  reopen: { assignee: true, creator: true, stranger: false, approver: false, requester: false },
  assign: { assignee: true, creator: true, stranger: false, approver: false, requester: false },
  edit: { assignee: true, creator: true, stranger: false, approver: false, requester: false },
  delete: { assignee: false, creator: true, stranger: false, approver: false, requester: false },
  comment: { assignee: true, creator: true, stranger: true, approver: false, requester: false },
  read: { assignee: true, creator: true, stranger: true, approver: false, requester: false },
  decide: { assignee: false, creator: false, stranger: false, approver: true, requester: false },
  openDecision: { assignee: false, creator: false, stranger: false, approver: true, requester: false },
};

// ------------------------------------------------------------------ the matrix

beforeAll(async () => {
  t = await startTestApp();
  for (const id of [ANN, BOB, CAT, EVE]) t.fake.addUser({ id, teamId: TEAM, name: id.slice(1, 4).toLowerCase() });
  t.fake.addUser({ id: BEA, teamId: OTHER_TEAM, name: 'bea' });
  t.fake.addUser({ id: GRID, teamId: OTHER_TEAM, name: 'grid' });
  taskSvc = new TaskService(t.services);
  approvalSvc = new ApprovalService(t.services);
});
afterAll(async () => t?.dispose());

const cells: { surface: string; who: string; expected: boolean; got: boolean; problems: string[] }[] = [];
afterAll(() => {
  const isolation = cells.filter((c) => c.who.startsWith('A→B'));
  console.log(`matrix: ${SURFACES.length} surfaces, ${cells.length} cells (${isolation.length} isolation, ${cells.length - isolation.length} permission)`);
});

describe('isolation: acting in workspace A with workspace B’s ids', () => {
  let bOpen: TaskTarget;
  let bDone: TaskTarget;
  let bApproval: ApprovalTarget;
  beforeAll(async () => {
    // Both workspaces have a #1 (and #2): numbers overlap, ids do not.
    await taskIn(TEAM, ANN, BOB);
    await taskIn(TEAM, ANN, BOB, { done: true });
    bOpen = await taskIn(OTHER_TEAM, BEA, GRID, { mark: B_MARK });
    bDone = await taskIn(OTHER_TEAM, BEA, GRID, { mark: B_MARK, done: true });
    bApproval = await approvalIn(OTHER_TEAM, BEA, [GRID, BEA], B_MARK);
    expect(bOpen.number).toBe(1);
  });

  // Slack's execution ids are unique across workspaces; one of B's delivered for A must still
  // reach nothing of B's (no B card re-sent, no B row touched), whatever the step.
  it.each([FUNCTION.requestApproval, FUNCTION.createTask])('A→B: a %s execution carrying workspace B’s function_execution_id', async (callbackId) => {
    const bExec = await t.slack.functionExecuted({ teamId: OTHER_TEAM, callbackId, inputs: { approver: GRID, assignee: GRID, title: `${B_MARK} step`, wait_for_completion: true } });
    await t.settle();
    // One of B's approvers never got the card (as after a crash), so a redelivery would owe it.
    t.store.sqlite.prepare('UPDATE approval_approvers SET message_ts = NULL, channel_id = NULL WHERE team_id = ?').run(OTHER_TEAM);
    const beforeB = await snapshot(t, OTHER_TEAM);
    const m = mark(t);
    const answer = await t.slack.functionExecuted({ teamId: TEAM, callbackId, executionId: bExec.executionId, inputs: { approver: CAT, assignee: BOB, title: 'Alpha step' } });
    await t.settle();
    const problems: string[] = [];
    const afterB = await snapshot(t, OTHER_TEAM);
    for (const table of Object.keys(afterB)) {
      if (JSON.stringify(beforeB[table]) !== JSON.stringify(afterB[table])) problems.push(`B's ${table} changed`);
    }
    if (sentSince(t, m, [answer.response]).includes(B_MARK)) problems.push("B's data was sent");
    problems.push(...crashesSince(t, m));
    cells.push({ surface: `${callbackId} step with B's execution id`, who: 'A→B workflow', expected: false, got: problems.length > 0, problems });
    expect(problems).toEqual([]);
  });

  // EVE: a stranger in A. GRID: B's own assignee and approver, acting through workspace A.
  for (const userId of [EVE, GRID]) {
    it.each(SURFACES.map((s) => [s.name, s] as const))(`A→B as ${userId === EVE ? 'a stranger' : 'the Grid user who owns them in B'}: %s`, async (_name, surface) => {
      const actor = { teamId: TEAM, userId };
      const target = (surface.on === 'approval' ? bApproval : surface.verb === 'reopen' ? bDone : bOpen) as TaskTarget & ApprovalTarget;
      const beforeB = await snapshot(t, OTHER_TEAM);
      const m = mark(t);
      t.fake.clearViews(userId);
      const answer = await surface.act(t, actor, target);
      await t.settle();
      const problems: string[] = [];
      const afterB = await snapshot(t, OTHER_TEAM);
      for (const table of Object.keys(afterB)) {
        if (JSON.stringify(beforeB[table]) !== JSON.stringify(afterB[table])) problems.push(`B's ${table} changed`);
      }
      const sent = sentSince(t, m, [answer]);
      if (sent.includes(B_MARK)) problems.push(`B's data was sent: …${sent.slice(Math.max(0, sent.indexOf(B_MARK) - 150), sent.indexOf(B_MARK) + 50)}…`);
      if (sent.includes(BEA)) problems.push('a B-only person was named or messaged');
      problems.push(...crashesSince(t, m));
      cells.push({ surface: surface.name, who: `A→B ${userId}`, expected: false, got: problems.length > 0, problems });
      expect(problems).toEqual([]);
    });
  }
});

describe('permissions inside workspace A', () => {
  const taskRoles = [
    ['assignee', BOB],
    ['creator', ANN],
    ['stranger', EVE],
  ] as const;
  const approvalRoles = [
    ['approver', CAT],
    ['requester', ANN],
    ['stranger', EVE],
  ] as const;

  const rows = SURFACES.filter((s) => s.permissions !== false).flatMap((s) =>
    (s.on === 'task' ? taskRoles : approvalRoles).map(([role, userId]) => [s.name, role, s, userId] as const),
  );

  it.each(rows)('%s by the %s', async (_name, role, surface, userId) => {
    const target = (
      surface.on === 'approval' ? await approvalIn(TEAM, ANN, [CAT]) : await taskIn(TEAM, ANN, BOB, { done: surface.verb === 'reopen' })
    ) as TaskTarget & ApprovalTarget;
    const before = { row: surface.on === 'approval' ? approvalRow(target.id) : taskRow(target.id), comments: commentCount(target.id) };
    const actor = { teamId: TEAM, userId };
    t.fake.clearViews(userId);
    const m = mark(t);
    const answer = await surface.act(t, actor, target);
    await t.settle();
    const expected = ALLOWED[surface.verb][role];
    const got = happened(surface.verb, target, before, m, actor, answer);
    const problems = crashesSince(t, m);
    cells.push({ surface: surface.name, who: role, expected, got, problems });
    expect({ [`${surface.verb} by the ${role}`]: got, crashes: problems }).toEqual({ [`${surface.verb} by the ${role}`]: expected, crashes: [] });
  });
});
