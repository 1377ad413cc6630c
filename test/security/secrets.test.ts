// Logs never carry tokens: with LOG_LEVEL=debug (Bolt's and @slack/web-api's
// request logging on), a representative set of flows, including failing and rate-limited Slack
// calls, writes no bot token, workflow token, signing secret or Authorization header to the log.
// And a replayed interaction (valid signature, 6 minutes old) is refused like the event and
// command cases in test/foundation/http.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT } from '../../src/features/approvals/views.js';
import { NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ACTION, FUNCTION, SHORTCUT } from '../../src/slack/ids.js';
import { RedactingLogger, redactSecrets } from '../../src/slack/redactingLogger.js';
import { FORM_CONTENT_TYPE, findElement } from '../../src/sandbox/driver.js';
import { CapturingLogger, SIGNING_SECRET, TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { snapshot } from './support.js';

const ANN = 'UANN00001';
const BOB = 'UBOB00002';
const CAT = 'UCAT00003';
const CHANNEL = 'CGENERAL1';

/** Token shapes Slack issues: bot/user/app-level/config tokens and workflow tokens. */
const TOKEN_SHAPES = /xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|xwfp-[A-Za-z0-9-]+/;

let t: TestApp;
const workflowTokens: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  t.fake.addUser({ id: ANN, teamId: TEAM, name: 'ann' });
  t.fake.addUser({ id: BOB, teamId: TEAM, name: 'bob' });
  t.fake.addUser({ id: CAT, teamId: TEAM, name: 'cat' });
  t.fake.addChannel({ id: CHANNEL, teamId: TEAM, name: 'general', botIsMember: true });
});
afterAll(async () => t?.dispose());

describe('logs at debug level carry no secrets', () => {
  it('across commands, steps (workflow tokens), buttons, modals, the Home, and failing Slack calls', async () => {
    expect(t.services.config.logLevel).toBe('debug');

    // /task, a task card and its buttons
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "Secrets check" <@${BOB}|bob> due tomorrow` });
    await t.settle();
    const card = t.fake.messages(t.fake.dmChannel(BOB)).find((m) => findElement(m.blocks, ACTION.taskComplete));
    expect(card).toBeDefined();
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskOpen, container: 'message', channelId: card!.channel, messageTs: card!.ts });
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskComplete, container: 'message', channelId: card!.channel, messageTs: card!.ts });
    await t.settle();

    // Workflow steps: each function_executed carries a workflow token, and so does every click on
    // a message posted with it (bot_access_token + function_data).
    const create = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'From a workflow', assignee: BOB, channel: CHANNEL, wait_for_completion: true } });
    const complete = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.completeTask, inputs: { task: '#999', completed_by_user: ANN } });
    const request = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs: { approver: CAT, title: 'Budget', requester: ANN } });
    workflowTokens.push(create.workflowToken, complete.workflowToken, request.workflowToken);
    await t.settle();
    const approvalCard = t.fake.messages(t.fake.dmChannel(CAT)).find((m) => findElement(m.blocks, ACTION.reject));
    expect(approvalCard?.postedWithToken).toMatch(/^xwfp-/);
    await t.slack.blockAction({ teamId: TEAM, userId: CAT, actionId: ACTION.reject, container: 'message', channelId: approvalCard!.channel, messageTs: approvalCard!.ts });
    await t.settle();
    const reasonModal = t.fake.topView(CAT);
    expect(reasonModal).toBeDefined();
    await t.slack.viewSubmission({ teamId: TEAM, userId: CAT, viewId: reasonModal!.id, values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: 'Over budget' } } } });
    await t.settle();

    // Modals and the Home.
    await t.slack.command({ teamId: TEAM, userId: ANN, text: '' });
    await t.settle();
    await t.slack.viewSubmission({
      teamId: TEAM,
      userId: ANN,
      viewId: t.fake.topView(ANN)!.id,
      values: {
        [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: 'Made in the modal' } },
        [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } },
      },
    });
    await t.slack.messageShortcut({ teamId: TEAM, userId: ANN, callbackId: SHORTCUT.taskFromMessage, channelId: CHANNEL, message: { ts: '1700000000.000100', text: 'Please review', user: BOB } });
    await t.slack.appHomeOpened({ teamId: TEAM, userId: BOB });
    await t.settle();

    // Slack refusing, failing and rate-limiting: error paths log what went wrong.
    t.fake.failNext('chat.postMessage', { error: 'invalid_auth' });
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "Errors on the way" <@${CAT}|cat>` });
    await t.settle();
    t.fake.failNext('views.publish', { status: 500 }, 3);
    t.fake.failNext('chat.update', { status: 429, retryAfter: 1 });
    await t.slack.command({ teamId: TEAM, userId: BOB, text: 'reopen #1' });
    await t.settle();
    expect(t.fake.calls.some((c) => c.response['error'] === 'invalid_auth')).toBe(true);
    expect(t.fake.calls.some((c) => c.method === 'views.publish' && c.status === 500)).toBe(true);
    expect(t.fake.calls.some((c) => c.method === 'chat.update' && c.status === 429)).toBe(true);
    // Requests that are refused at the door.
    await t.slack.send('{"type":"event_callback"', 'application/json');
    await t.slack.sendPayload({ type: 'block_actions', user: { id: ANN } }, { signature: 'bad' });
    await t.settle();

    const lines = t.logger.lines.map((l) => `${l.level}: ${l.message}`);
    // The debug logging this test is about is really on: @slack/web-api logs each call's request.
    expect(lines.some((l) => l.startsWith('debug:') && /apiCall\('chat\.postMessage'\)/.test(l))).toBe(true);
    expect(lines.some((l) => /http request (?:body|headers)/.test(l))).toBe(true);

    const secrets = [t.fake.botToken, SIGNING_SECRET, ...workflowTokens];
    const leaks = lines.filter((l) => secrets.some((s) => l.includes(s)) || TOKEN_SHAPES.test(l) || /Bearer\s+\S/i.test(l) || /authorization"?\s*[:=]\s*"?(?!\[\[REDACTED\]\])[^\s"]/i.test(l));
    expect(leaks.map((l) => l.slice(0, 300))).toEqual([]);
  }, 60_000);
});

describe('replayed requests', () => {
  it('an interaction replayed 6 minutes later (valid signature for its old timestamp) gets 401 and changes nothing', async () => {
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "Replay target" <@${BOB}|bob>` });
    await t.settle();
    const card = t.fake.messages(t.fake.dmChannel(BOB)).filter((m) => findElement(m.blocks, ACTION.taskComplete)).pop();
    expect(card).toBeDefined();
    const taskId = Number((findElement(card!.blocks, ACTION.taskComplete)!.element as { value: string }).value);
    const payload = {
      type: 'block_actions',
      token: 'fake-verification-token',
      api_app_id: t.fake.appId,
      team: { id: TEAM, domain: 'x' },
      user: { id: BOB, name: 'bob', team_id: TEAM },
      container: { type: 'message', message_ts: card!.ts, channel_id: card!.channel },
      channel: { id: card!.channel, name: 'directmessage' },
      trigger_id: t.fake.issueTriggerId(BOB, TEAM),
      actions: [{ type: 'button', action_id: ACTION.taskComplete, block_id: 'b', value: String(taskId), action_ts: '1.1' }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const before = await snapshot(t);
    const calls = t.fake.calls.length;
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60 - 1;
    const replay = await t.slack.send(body, FORM_CONTENT_TYPE, {}, { timestamp: sixMinutesAgo });
    await t.settle();
    expect(replay.status).toBe(401);
    expect(await snapshot(t)).toEqual(before);
    expect(t.fake.calls.slice(calls)).toEqual([]);

    // The same body signed now is accepted: the 401 above was the age alone.
    const fresh = await t.slack.send(body, FORM_CONTENT_TYPE);
    await t.settle();
    expect(fresh.status).toBe(200);
    expect(t.store.sqlite.prepare('SELECT status FROM tasks WHERE id = ?').get(taskId)).toEqual({ status: 'done' });
  });
});

describe('the redacting logger createApp installs', () => {
  it('masks every Slack token shape, Socket Mode tickets and the configured secrets, and keeps the rest', () => {
    expect(redactSecrets('Bearer xoxb-123-456-abcDEF and xoxp-1-2 and xapp-1-A111-222-abc')).toBe('Bearer xoxb-[REDACTED] and xoxp-[REDACTED] and xapp-[REDACTED]');
    expect(redactSecrets('{"bot_access_token":"xwfp-9f8e7d-0a1b"}')).toBe('{"bot_access_token":"xwfp-[REDACTED]"}');
    expect(redactSecrets('wss://wss-primary.slack.com/link/?ticket=8c0d-aa11&app_id=A1')).toBe('wss://wss-primary.slack.com/link/?ticket=[REDACTED]&app_id=A1');
    expect(redactSecrets(`secret ${SIGNING_SECRET} here`, [SIGNING_SECRET])).toBe('secret [REDACTED] here');
    expect(redactSecrets('task #12 for <@U123> (xoxo - hugs)')).toBe('task #12 for <@U123> (xoxo - hugs)');
  });

  it('redacts strings, and errors or objects that hold a secret; keeps what is not a secret', () => {
    const inner = new CapturingLogger();
    const log = new RedactingLogger(inner, ['s3cr3t-signing']);
    const plainError = new Error('not_in_channel');
    log.error('failed:', plainError);
    log.warn(new Error('An API error occurred: invalid_auth for xoxb-1-2-3'));
    log.debug({ payload: { bot_access_token: 'xwfp-abc' } });
    log.info('s3cr3t-signing');
    const text = inner.text();
    expect(text).not.toMatch(/xoxb-1|xwfp-abc|s3cr3t-signing/);
    expect(text).toContain('not_in_channel');
    expect(text).toContain('xoxb-[REDACTED]');
    expect(text).toContain('"bot_access_token":"[[REDACTED]]"');
  });

  it('an Error is written out whole and redacted: tokens in nested data, headers, arrays and its cause, circular references included', () => {
    const before = t.logger.lines.length;
    const cause = Object.assign(new Error('request failed'), {
      config: { headers: { Authorization: 'Basic dXNlcjpwYXNz' }, data: `token=${t.fake.botToken}&channel=C1` },
    });
    const err = Object.assign(new Error('An API error occurred: missing_scope', { cause }), {
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'missing_scope', response_metadata: { scopes: ['chat:write'], acceptedScopes: ['xoxp-1111-2222-abcdef'] } },
      headers: { authorization: `Bearer ${t.fake.botToken}`, 'x-slack-req-id': 'req-1' },
      attempts: [{ body: { bot_access_token: 'xwfp-77-88-abcdef' } }, ['xapp-1-A1-99-abc']],
      signing: { secret: SIGNING_SECRET },
    });
    (err as unknown as { self: unknown }).self = err;
    (cause as unknown as { parent: unknown }).parent = { err };

    // Through the logger the app itself logs with (createApp's redactor around the test's capture).
    t.services.logger.error('a library error:', err);
    t.services.logger.warn({ failed: [err], note: 'object holding the error' });

    const logged = t.logger.lines.slice(before).map((l) => l.message).join('\n');
    expect(logged).not.toMatch(TOKEN_SHAPES);
    expect(logged).not.toContain(t.fake.botToken);
    expect(logged).not.toContain(SIGNING_SECRET);
    expect(logged).not.toContain('dXNlcjpwYXNz');
    expect(logged).not.toMatch(/Bearer\s+\S/i);
    // What is not a secret is still there to debug with.
    expect(logged).toContain('missing_scope');
    expect(logged).toContain('request failed');
    expect(logged).toContain('x-slack-req-id');
    expect(logged).toContain('[Circular]');
  });

  it('a huge or deeply nested object is cut to a bound, and a token beyond the cut is not shown either', () => {
    const inner = new CapturingLogger();
    const log = new RedactingLogger(inner);
    let deep: Record<string, unknown> = { token: 'xoxb-9-9-deep' };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    log.info({ big: 'x'.repeat(100_000), then: 'xoxb-1-2-after-the-cut' }, deep);
    expect(inner.text()).not.toMatch(TOKEN_SHAPES);
    expect(inner.text().length).toBeLessThan(25_000);
  });

  it('is what Bolt and the Socket Mode client log through: a raw WebSocket message with a workflow token comes out masked', async () => {
    // @slack/socket-mode at debug level logs every message it receives, whole, through this logger.
    t.tasklane.app.logger.debug('Received a message on the WebSocket: {"envelope_id":"e1","payload":{"event":{"type":"function_executed","bot_access_token":"xwfp-1-2-abcdef"}}}');
    const last = t.logger.lines[t.logger.lines.length - 1];
    expect(last?.message).toContain('"bot_access_token":"xwfp-[REDACTED]"');
    expect(t.services.logger).toBe(t.tasklane.app.logger);
  });
});
