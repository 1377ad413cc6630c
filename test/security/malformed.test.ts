// Against malformed requests: properly signed, but broken or lying. Each one gets a 4xx or
// a 2xx that changes nothing (logged as ignored or refused), never a 5xx or a crash; the store is
// the same after it; and the app goes on serving (a normal /task right after it works).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT } from '../../src/features/approvals/views.js';
import { COMMENT_FIELD, NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { REASSIGN_INPUT } from '../../src/features/home/views.js';
import { ACTION, FUNCTION, SHORTCUT, VIEW } from '../../src/slack/ids.js';
import { FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, type SendResult } from '../../src/sandbox/driver.js';
import type { FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { OTHER_TEAM, TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { crashesSince, mark, sentSince, snapshot } from './support.js';

const ANN = 'UANN00001'; // workspace A: creator, requester
const BOB = 'UBOB00002'; // workspace A: assignee, approver
const BEA = 'UBEA00007'; // workspace B: creator, assignee, approver
const B_SECRET = 'Bravo secret merger Q9Z';

type Obj = Record<string, unknown>;

let t: TestApp;
/** Ids of the fixtures: one task and one pending approval in each workspace, all numbered #1. */
const A = { taskId: 0, approvalId: 0, card: undefined as FakeMessage | undefined, approvalCard: undefined as FakeMessage | undefined };
const B = { taskId: 0, approvalId: 0, card: undefined as FakeMessage | undefined };

beforeAll(async () => {
  t = await startTestApp();
  t.fake.addUser({ id: ANN, teamId: TEAM, name: 'ann' });
  t.fake.addUser({ id: BOB, teamId: TEAM, name: 'bob' });
  t.fake.addUser({ id: BEA, teamId: OTHER_TEAM, name: 'bea' });
  await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "Alpha task" <@${BOB}|bob>` });
  await t.slack.command({ teamId: OTHER_TEAM, userId: BEA, text: `add "${B_SECRET}"` });
  await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: { approver: BOB, title: 'Alpha request', requester: ANN } });
  await t.slack.functionExecuted({ teamId: OTHER_TEAM, callbackId: FUNCTION.requestApproval, inputs: { approver: BEA, title: B_SECRET } });
  await t.settle();
  const ids = (table: string, teamId: string) => (t.store.sqlite.prepare(`SELECT id FROM ${table} WHERE team_id = ?`).all(teamId) as { id: number }[]).map((r) => r.id);
  [A.taskId] = ids('tasks', TEAM) as [number];
  [B.taskId] = ids('tasks', OTHER_TEAM) as [number];
  [A.approvalId] = ids('approvals', TEAM) as [number];
  [B.approvalId] = ids('approvals', OTHER_TEAM) as [number];
  const dm = (userId: string) => t.fake.messages(t.fake.dmChannel(userId));
  A.card = dm(BOB).find((m) => m.text?.includes('Alpha task'));
  A.approvalCard = dm(BOB).find((m) => m.text?.includes('Alpha request'));
  B.card = dm(BEA).find((m) => m.text?.includes(B_SECRET));
  expect([A.taskId, B.taskId, A.approvalId, B.approvalId].every((id) => id > 0)).toBe(true);
  expect(A.card && A.approvalCard && B.card).toBeTruthy();
});
afterAll(async () => t?.dispose());

/**
 * What must not change: every table but the delivery log (a signed event's id is recorded even
 * when nothing handles it) and the outbox, which `effectsSince` checks.
 */
async function state(): Promise<Record<string, unknown[]>> {
  const { processed_deliveries: _ignored, outbox: _effects, ...rest } = await snapshot(t);
  return rest;
}

type EffectRow = { key: string; kind: string; target: string; teamId: string; generation: number; payload: string; state: string; result: string | null };
async function outboxRows(): Promise<Map<string, EffectRow>> {
  return new Map(
    (await t.outboxRows()).map((r) => [r.key, { key: r.key, kind: r.kind, target: r.target, teamId: r.teamId, generation: r.generation, payload: r.payload, state: r.state, result: r.result }]),
  );
}

/** The effects a malformed request may still write (see Case.effects), each as narrow as it can be. */
const ALLOWED_EFFECTS = {
  /** A workflow step failed, with an error and never outputs. */
  step: (e: EffectRow, p: Obj) => e.kind === 'step' && typeof p['error'] === 'string' && p['outputs'] === undefined,
  /** The clicker's own App Home redrawn. */
  home: (e: EffectRow) => e.kind === 'home' && e.key === `home:${TEAM}:${BOB}`,
  /** The cards of the cancelled request turned into "cancelled": it has none, so nothing is updated. */
  cancelledCards: (e: EffectRow, p: Obj) => e.kind === 'approval.cards' && p['notify'] === undefined && e.result === '0 card(s)',
};

/** Effects written (new keys, or coalesced rows written again) between two outbox reads. */
function effectsSince(before: Map<string, EffectRow>, after: Map<string, EffectRow>): EffectRow[] {
  return [...after.values()].filter((r) => {
    const was = before.get(r.key);
    return !was || was.generation !== r.generation || was.payload !== r.payload;
  });
}

// ------------------------------------------------------------------ payload shapes

const user = (userId = ANN, teamId = TEAM): Obj => ({ id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: teamId });
const common = (teamId = TEAM, userId = ANN): Obj => ({
  token: 'fake-verification-token',
  api_app_id: 'A0TASKLANE',
  is_enterprise_install: false,
  enterprise: null,
  team: { id: teamId, domain: 'x' },
  user: user(userId, teamId),
});

/** A block_actions click on A's task card (message container) carrying `value`. */
function cardClick(actionId: string, value: unknown, over: Obj = {}): Obj {
  const card = A.card as FakeMessage;
  return {
    type: 'block_actions',
    ...common(TEAM, BOB),
    container: { type: 'message', message_ts: card.ts, channel_id: card.channel, is_ephemeral: false },
    channel: { id: card.channel, name: 'directmessage' },
    message: { type: 'message', ts: card.ts, text: card.text ?? '' },
    trigger_id: t.fake.issueTriggerId(BOB, TEAM),
    response_url: t.fake.newResponseUrl({ channel: card.channel, messageTs: card.ts, userId: BOB }),
    actions: [{ type: 'button', action_id: actionId, block_id: 'b1', value, action_ts: '1700000000.000100' }],
    state: { values: {} },
    ...over,
  };
}

/** A block_actions click in a view (App Home, a modal) carrying `action`. */
function viewClick(action: Obj, view: Obj = {}): Obj {
  return {
    type: 'block_actions',
    ...common(TEAM, BOB),
    container: { type: 'view', view_id: 'VFAKE00001' },
    view: { id: 'VFAKE00001', team_id: TEAM, type: 'home', callback_id: 'home', private_metadata: '', hash: '1.x', state: { values: {} }, ...view },
    trigger_id: t.fake.issueTriggerId(BOB, TEAM),
    actions: [{ block_id: 'b1', action_ts: '1700000000.000100', ...action }],
  };
}

function submission(callbackId: string, privateMetadata: unknown, values: Obj = {}, over: Obj = {}): Obj {
  return {
    type: 'view_submission',
    ...common(TEAM, BOB),
    view: {
      id: 'VFAKE00002',
      team_id: TEAM,
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      hash: '1.y',
      root_view_id: 'VFAKE00002',
      previous_view_id: null,
      state: { values },
      app_id: 'A0TASKLANE',
      bot_id: 'BBOT',
    },
    trigger_id: t.fake.issueTriggerId(BOB, TEAM),
    response_urls: [],
    ...over,
  };
}

const withoutState = (p: Obj): Obj => ({ ...p, view: omit(p['view'] as Obj, 'state') });
const text = (value: unknown) => ({ type: 'plain_text_input', value });
const reason = (v: unknown) => ({ [INPUT.reason.block]: { [INPUT.reason.action]: text(v) } });
const comment = (v: unknown) => ({ [INPUT.comment.block]: { [INPUT.comment.action]: text(v) } });

const form = (fields: Obj) => new URLSearchParams(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]))).toString();
const commandFields = (over: Obj = {}): Obj => ({
  token: 'fake-verification-token',
  team_id: TEAM,
  team_domain: 'x',
  channel_id: t.fake.dmChannel(ANN),
  channel_name: 'directmessage',
  user_id: ANN,
  user_name: 'ann',
  command: '/task',
  text: 'list',
  api_app_id: 'A0TASKLANE',
  is_enterprise_install: 'false',
  response_url: t.fake.newResponseUrl({ channel: t.fake.dmChannel(ANN), userId: ANN }),
  trigger_id: t.fake.issueTriggerId(ANN, TEAM),
  ...over,
});
const omit = (o: Obj, ...keys: string[]): Obj => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

const event = (ev: Obj, over: Obj = {}) => JSON.stringify({ ...t.slack.eventEnvelope(TEAM, ev), ...over });

/** Ids that are not ids: huge, negative, not numbers, another workspace's. */
const BAD_IDS = (): [string, unknown][] => [
  ['a huge number', '9'.repeat(400)],
  ['2^53 + 1', '9007199254740993'],
  ['negative', '-1'],
  ['zero', '0'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['a float', '1.5'],
  ['exponent', '1e3'],
  ['hex', '0x1'],
  ['padded', ` ${A.taskId} `],
  ['empty', ''],
  ['a number, not a string', 42],
  ['an object', { id: A.taskId }],
  ['null', null],
  ['SQL', `${A.taskId} OR 1=1`],
  ["workspace B's task", String(B.taskId)],
  ["workspace B's approval", String(B.approvalId)],
];

interface Case {
  name: string;
  send: () => Promise<SendResult>;
  /** Tables this request may change because it is, after all, a valid request (see each case). */
  mayChange?: string[];
  /**
   * The outbox effects this request may write (ALLOWED_EFFECTS): a workflow step failed with an
   * error, the clicker's own Home redrawn. Nothing else may be owed to Slack after a malformed request.
   */
  effects?: (keyof typeof ALLOWED_EFFECTS)[];
}

const raw = (body: string, type = JSON_CONTENT_TYPE) => () => t.slack.send(body, type);
const payload = (p: Obj | unknown) => () => t.slack.send(form({ payload: JSON.stringify(p) }), FORM_CONTENT_TYPE);

function cases(): Case[] {
  const list: Case[] = [
    // Bodies that are not what their content type says.
    { name: 'event: body is not JSON', send: raw('{"type":"event_callback","event":') },
    { name: 'event: body is a JSON array', send: raw('[]') },
    { name: 'event: body is JSON null', send: raw('null') },
    { name: 'event: body is a JSON string', send: raw('"event_callback"') },
    { name: 'event: empty body', send: raw('') },
    { name: 'event: 1 MB of JSON', send: raw(JSON.stringify({ type: 'event_callback', team_id: TEAM, event: { type: 'app_mention', text: 'x'.repeat(1_000_000) } })) },
    { name: 'form: payload is not JSON', send: raw(form({ payload: '{"type":"block_actions",' }), FORM_CONTENT_TYPE) },
    { name: 'form: payload is empty', send: raw(form({ payload: '' }), FORM_CONTENT_TYPE) },
    { name: 'form: payload is a JSON array', send: payload([]) },
    { name: 'form: payload is JSON null', send: payload(null) },
    { name: 'form: payload is a number', send: payload(7) },
    { name: 'form: payload of unknown type', send: payload({ type: 'no_such_type', ...common() }) },
    { name: 'form: no payload, no command', send: raw(form({ hello: 'world' }), FORM_CONTENT_TYPE) },
    { name: 'content type: text/plain', send: raw('payload=%7B%7D', 'text/plain') },

    // Events with parts missing.
    { name: 'event_callback without event', send: raw(JSON.stringify(omit(t.slack.eventEnvelope(TEAM, {}), 'event'))) },
    { name: 'event without a type', send: raw(event({ user: ANN })) },
    { name: 'event of an unknown type', send: raw(event({ type: 'no_such_event', user: ANN })) },
    { name: 'event without any team id', send: raw(JSON.stringify(omit(t.slack.eventEnvelope(TEAM, { type: 'app_home_opened', user: ANN, tab: 'home', channel: 'D1' }), 'team_id', 'context_team_id', 'authorizations'))) },
    { name: 'app_home_opened without user', send: raw(event({ type: 'app_home_opened', tab: 'home', channel: 'D1' })) },
    { name: 'app_home_opened with a user object', send: raw(event({ type: 'app_home_opened', user: { id: ANN }, tab: 'home', channel: 'D1' })) },
    { name: 'reaction_added without item', send: raw(event({ type: 'reaction_added', user: BOB, reaction: 'white_check_mark' })) },
    { name: 'reaction_added on a file', send: raw(event({ type: 'reaction_added', user: BOB, reaction: 'white_check_mark', item: { type: 'file', file: 'F1' } })) },
    { name: 'reaction_added without user', send: raw(event({ type: 'reaction_added', reaction: 'white_check_mark', item: { type: 'message', channel: A.card?.channel, ts: A.card?.ts } })) },
    { name: 'app_mention without channel or user', send: raw(event({ type: 'app_mention', text: 'hi', ts: '1.2' })) },
    { name: 'function_executed without function', send: raw(event({ type: 'function_executed', inputs: {}, function_execution_id: 'Fx1', bot_access_token: 'xwfp-x' })) },
    { name: 'function_executed of an unknown function', send: raw(event({ type: 'function_executed', function: { callback_id: 'no_such_step' }, inputs: {}, function_execution_id: 'FxUNKNOWN1', bot_access_token: 'xwfp-x' })) },
    { name: 'complete_task without inputs', send: raw(event({ type: 'function_executed', function: { callback_id: FUNCTION.completeTask }, function_execution_id: 'FxNOINPUT1', bot_access_token: 'xwfp-x' })) },
    // A step with invalid inputs is failed (a `step` effect with an error): that is all it does.
    { name: 'create_task with inputs of the wrong types', effects: ['step'], send: raw(event({ type: 'function_executed', function: { callback_id: FUNCTION.createTask }, inputs: { title: { x: 1 }, assignee: [BOB], due_date: 20250101, channel: 7, wait_for_completion: 'maybe' }, function_execution_id: 'FxBADTYPES1', bot_access_token: 'xwfp-x' })) },
    // Invalid step inputs are recorded as a failed approval: that row is the only change.
    { name: 'request_approval with inputs of the wrong types', mayChange: ['approvals', 'audit_log'], effects: ['step', 'cancelledCards'], send: raw(event({ type: 'function_executed', function: { callback_id: FUNCTION.requestApproval }, inputs: { approver: { id: BOB }, other_approvers: 'U1,U2', title: ['x'], details: 5 }, function_execution_id: 'FxBADTYPES2', bot_access_token: 'xwfp-x' })) },
    { name: 'complete_task naming workspace B’s task', effects: ['step'], send: raw(event({ type: 'function_executed', function: { callback_id: FUNCTION.completeTask }, inputs: { task: `task-${B.taskId}`, completed_by_user: BOB }, function_execution_id: 'FxOTHERTEAM1', bot_access_token: 'xwfp-x' })) },

    // Slash commands with parts missing.
    { name: 'command without text', send: raw(form(omit(commandFields(), 'text')), FORM_CONTENT_TYPE) },
    { name: 'command without user_id', send: raw(form(omit(commandFields({ text: 'done #1' }), 'user_id')), FORM_CONTENT_TYPE) },
    { name: 'command without team_id', send: raw(form(omit(commandFields({ text: 'done #1' }), 'team_id')), FORM_CONTENT_TYPE) },
    { name: 'command without response_url', send: raw(form(omit(commandFields({ text: 'list' }), 'response_url')), FORM_CONTENT_TYPE) },
    { name: 'command without trigger_id (New task form)', send: raw(form(omit(commandFields({ text: '' }), 'trigger_id')), FORM_CONTENT_TYPE) },
    { name: 'unknown command', send: raw(form(commandFields({ command: '/nope' })), FORM_CONTENT_TYPE) },

    // Interactivity with parts missing.
    { name: 'block_actions without user', send: payload(omit(cardClick(ACTION.taskComplete, String(A.taskId)), 'user')) },
    // With `team` gone but `user.team_id` there, a click is a valid org-wide one; with neither, no workspace's row may change.
    { name: 'block_actions without any team id', send: payload(omit(cardClick(ACTION.taskComplete, String(A.taskId), { user: { id: BOB, name: 'bob' } }), 'team')) },
    { name: 'block_actions without actions', send: payload(omit(cardClick(ACTION.taskComplete, String(A.taskId)), 'actions')) },
    { name: 'block_actions with no action in actions', send: payload(cardClick(ACTION.taskComplete, String(A.taskId), { actions: [] })) },
    { name: 'block_actions with an action that is not an object', send: payload(cardClick(ACTION.taskComplete, String(A.taskId), { actions: ['task_complete'] })) },
    { name: 'block_actions without container or channel', send: payload(omit(cardClick(ACTION.approve, String(A.approvalId)), 'container', 'channel', 'message', 'response_url')) },
    { name: 'block_actions without trigger_id (Open)', send: payload(omit(cardClick(ACTION.taskOpen, String(A.taskId)), 'trigger_id')) },
    { name: 'unknown action id', send: payload(cardClick('no_such_action', '1')) },
    { name: 'an action id 5,000 characters long', send: payload(cardClick('a'.repeat(5000), '1')) },
    { name: 'shortcut of an unknown callback id', send: payload({ type: 'shortcut', ...common(), callback_id: 'no_such_shortcut', trigger_id: t.fake.issueTriggerId(ANN, TEAM) }) },
    { name: 'shortcut without trigger_id', send: payload({ type: 'shortcut', ...common(), callback_id: SHORTCUT.newTask }) },
    { name: 'message shortcut without message', send: payload({ type: 'message_action', ...common(), callback_id: SHORTCUT.taskFromMessage, trigger_id: t.fake.issueTriggerId(ANN, TEAM), channel: { id: 'C1', name: 'x' } }) },
    { name: 'message shortcut without channel', send: payload({ type: 'message_action', ...common(), callback_id: SHORTCUT.taskFromMessage, trigger_id: t.fake.issueTriggerId(ANN, TEAM), message: { ts: '1.2', text: 'x' } }) },
    { name: 'view_submission without view', send: payload(omit(submission(VIEW.rejectReason, '{}'), 'view')) },
    { name: 'view_submission without state', send: payload(withoutState(submission(VIEW.rejectReason, JSON.stringify({ approvalId: A.approvalId }), reason('No.')))) },
    { name: 'view_submission of an unknown callback id', send: payload(submission('no_such_view', '{}')) },
    { name: 'view_closed of our modal', send: payload({ type: 'view_closed', ...common(), view: (submission(VIEW.newTask, '{}')['view'] as Obj), is_cleared: false }) },
    { name: 'block_suggestion without value', send: payload({ type: 'block_suggestion', ...common(), action_id: ACTION.homeSearch, block_id: 'b' }) },
    { name: 'block_suggestion with a value that is not text', send: payload({ type: 'block_suggestion', ...common(), action_id: ACTION.homeSearch, block_id: 'b', value: { q: 1 } }) },
    { name: 'block_suggestion for an unknown action', send: payload({ type: 'block_suggestion', ...common(), action_id: 'no_such_select', block_id: 'b', value: 'x' }) },
  ];

  // Every button that names a task or an approval, with every kind of bad id.
  for (const [what, value] of BAD_IDS()) {
    list.push(
      { name: `task card Complete: ${what}`, send: payload(cardClick(ACTION.taskComplete, value)) },
      { name: `task card Open: ${what}`, send: payload(cardClick(ACTION.taskOpen, value)) },
      { name: `Approve: ${what}`, send: payload(cardClick(ACTION.approve, value)) },
      { name: `Reject: ${what}`, send: payload(cardClick(ACTION.reject, value)) },
      { name: `Approve with comment: ${what}`, send: payload(cardClick(ACTION.approveWithComment, value)) },
      { name: `Home Complete: ${what}`, send: payload(viewClick({ type: 'button', action_id: ACTION.homeTaskComplete, value })) },
      { name: `Home overflow delete: ${what}`, send: payload(viewClick({ type: 'overflow', action_id: ACTION.homeTaskOverflow, selected_option: { text: { type: 'plain_text', text: 'Delete' }, value: `delete:${String(value)}` } })) },
      { name: `Home overflow reopen: ${what}`, send: payload(viewClick({ type: 'overflow', action_id: ACTION.homeTaskOverflow, selected_option: { text: { type: 'plain_text', text: 'Reopen' }, value: `reopen:${String(value)}` } })) },
      { name: `Home search pick: ${what}`, send: payload(viewClick({ type: 'external_select', action_id: ACTION.homeSearch, selected_option: { text: { type: 'plain_text', text: 'x' }, value } })) },
      // A page number is not an id: a valid one is the clicker's own preference (clamped when drawn).
      { name: `Home Next page: ${what}`, mayChange: ['home_state'], effects: ['home'], send: payload(viewClick({ type: 'button', action_id: ACTION.homeNext, value: `assigned:${String(value)}` })) },
      { name: `details Complete: ${what}`, send: payload(viewClick({ type: 'button', action_id: ACTION.detailsComplete, value }, { type: 'modal', callback_id: VIEW.taskDetails, private_metadata: JSON.stringify({ taskId: value, depth: 1 }) })) },
      { name: `details Delete: ${what}`, send: payload(viewClick({ type: 'button', action_id: ACTION.detailsDelete, value }, { type: 'modal', callback_id: VIEW.taskDetails, private_metadata: JSON.stringify({ taskId: value, depth: 1 }) })) },
    );
  }

  // Every modal submission, with private_metadata that is not ours or names another workspace's row.
  const metadatas: [string, unknown][] = [
    ['not JSON', '{"approvalId":'],
    ['empty', ''],
    ['JSON null', 'null'],
    ['a JSON array', '[1]'],
    ['not a string', { approvalId: A.approvalId }],
    ["3,000 characters naming workspace B's rows", JSON.stringify({ taskId: B.taskId, approvalId: B.approvalId, depth: 1, pad: 'x'.repeat(2940) })],
    ['a huge id', JSON.stringify({ approvalId: 1e308, taskId: 1e308, depth: 1 })],
    ['a negative id', JSON.stringify({ approvalId: -1, taskId: -1, depth: 1 })],
    ["workspace B's approval", JSON.stringify({ approvalId: B.approvalId })],
    ["workspace B's task", JSON.stringify({ taskId: B.taskId, depth: 1 })],
    ["workspace B's task, pushed on a view", JSON.stringify({ taskId: B.taskId, depth: 2, parentId: 'VFAKE00001', parentHash: '1.x' })],
  ];
  for (const [what, meta] of metadatas) {
    list.push(
      { name: `Reject reason submit: ${what}`, send: payload(submission(VIEW.rejectReason, meta, reason('No.'))) },
      { name: `Approve comment submit: ${what}`, send: payload(submission(VIEW.approveComment, meta, comment('Fine.'))) },
      { name: `Reassign submit: ${what}`, send: payload(submission(VIEW.reassignTask, meta, { [REASSIGN_INPUT.block]: { [REASSIGN_INPUT.action]: { type: 'users_select', selected_user: ANN } } })) },
      { name: `Home delete submit: ${what}`, send: payload(submission(VIEW.detailsDeleteTask, meta)) },
      { name: `details delete submit: ${what}`, send: payload(submission(VIEW.detailsDeleteTask, meta)) },
      { name: `Comment submit: ${what}`, send: payload(submission(VIEW.commentTask, meta, { [COMMENT_FIELD]: { [COMMENT_FIELD]: text('hello') } })) },
      {
        name: `Edit submit: ${what}`,
        send: payload(submission(VIEW.editTask, meta, { [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text('Renamed') }, [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } } })),
      },
      { name: `New task submit: ${what}`, send: payload(submission(VIEW.newTask, meta, { [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text(null) } })) },
    );
  }

  // Input values of the wrong shape.
  list.push(
    { name: 'Reject reason: value is a number', send: payload(submission(VIEW.rejectReason, JSON.stringify({ approvalId: A.approvalId }), reason(12))) },
    { name: 'Reject reason: value is an object', send: payload(submission(VIEW.rejectReason, JSON.stringify({ approvalId: A.approvalId }), reason({ text: 'x' }))) },
    { name: 'Reject reason: block holds a string', send: payload(submission(VIEW.rejectReason, JSON.stringify({ approvalId: A.approvalId }), { [INPUT.reason.block]: 'no' })) },
    { name: 'Reject reason: state.values is a list', send: payload(submission(VIEW.rejectReason, JSON.stringify({ approvalId: A.approvalId }), [] as unknown as Obj)) },
    { name: 'New task: assignee is a list', send: payload(submission(VIEW.newTask, '{}', { [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text('x') }, [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: [BOB] } } })) },
    { name: 'New task: due date is not a date', send: payload(submission(VIEW.newTask, '{}', { [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text('x') }, [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } }, [NEW_TASK_FIELD.dueDate]: { [NEW_TASK_FIELD.dueDate]: { type: 'datepicker', selected_date: '2099-02-31' } } })) },
  );
  return list;
}

/** After each malformed request: a normal /task still answers. */
async function stillServing(): Promise<void> {
  const r = await t.slack.command({ teamId: TEAM, userId: ANN, text: 'help' });
  expect(r.response.status).toBe(200);
  await t.settle();
  // The answer comes in the ack's body or through response_url, whichever the command chose.
  const answers = [r.response.json, ...t.fake.responses(r.responseUrl)].map((b) => String((b as { text?: unknown } | undefined)?.text ?? ''));
  expect(answers.filter((a) => a.includes('/task'))).toHaveLength(1);
}

describe('malformed, properly signed requests', () => {
  it('every one gets a 4xx or a 2xx, changes nothing, crashes nothing, leaks nothing of workspace B; the app keeps serving', async () => {
    const all = cases();
    const problems: string[] = [];
    const statuses: Record<string, number> = {};
    const refusedWith: string[] = [];
    for (const c of all) {
      const before = await state();
      const effectsBefore = await outboxRows();
      const m = mark(t);
      let res: SendResult;
      try {
        // A request the app never answers (a crashed handler) must fail this case, not hang the file.
        res = await Promise.race([c.send(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref())]);
      } catch (err) {
        problems.push(`${c.name}: the request failed: ${String(err)}`);
        continue;
      }
      await t.settle();
      statuses[String(res.status)] = (statuses[String(res.status)] ?? 0) + 1;
      if (res.status !== 200) refusedWith.push(`${res.status} ${c.name}`);
      if (res.status >= 500 || res.status < 200) problems.push(`${c.name}: HTTP ${res.status}`);
      const crashes = crashesSince(t, m);
      if (crashes.length > 0) problems.push(`${c.name}: ${crashes.join(' | ')}`);
      const after = await state();
      for (const table of Object.keys(after)) {
        if (c.mayChange?.includes(table)) continue;
        if (JSON.stringify(before[table]) !== JSON.stringify(after[table])) problems.push(`${c.name}: table ${table} changed`);
      }
      for (const e of effectsSince(effectsBefore, await outboxRows())) {
        const payload = JSON.parse(e.payload) as Obj;
        const allowed = e.teamId === TEAM && (c.effects ?? []).some((kind) => ALLOWED_EFFECTS[kind](e, payload));
        if (!allowed) problems.push(`${c.name}: wrote the effect ${e.key} (${e.kind}, ${e.payload.slice(0, 200)})`);
        // Sent, or given up (the fake knows no execution behind these raw events): never left owed.
        if (e.state === 'pending') problems.push(`${c.name}: its effect ${e.key} is still pending`);
        if (e.payload.includes(B_SECRET)) problems.push(`${c.name}: the effect ${e.key} carries workspace B's data`);
      }
      if (sentSince(t, m, [res.body]).includes(B_SECRET)) problems.push(`${c.name}: workspace B's data was sent`);
      await stillServing();
    }
    console.log(`malformed requests: ${all.length}, HTTP statuses: ${JSON.stringify(statuses)}\n${refusedWith.join('\n')}`);
    expect(problems).toEqual([]);
  }, 120_000);
});
