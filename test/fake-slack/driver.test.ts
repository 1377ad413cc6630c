import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, LogLevel } from '@slack/bolt';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { SlackDriver } from '../../src/sandbox/driver.js';

const SECRET = 'test-signing-secret';

interface Seen {
  contentType: string | undefined;
  valid: boolean;
  body: string;
  headers: http.IncomingHttpHeaders;
}

describe('driver signing', () => {
  let server: http.Server;
  let url: string;
  let fake: FakeSlack;
  const seen: Seen[] = [];

  beforeAll(async () => {
    fake = await FakeSlack.start();
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers['x-slack-request-timestamp'] ?? '');
        const sig = String(req.headers['x-slack-signature'] ?? '');
        const expected = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
        const valid = sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
        seen.push({ contentType: req.headers['content-type'], valid, body, headers: req.headers });
        res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ valid }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await fake.stop();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('signs like Slack; bad and missing signatures differ', async () => {
    const d = new SlackDriver({ appUrl: url, signingSecret: SECRET, fake });
    const ok = await d.send('a=1', 'application/x-www-form-urlencoded');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ valid: true });
    const bad = await d.send('a=1', 'application/x-www-form-urlencoded', {}, { signature: 'bad' });
    expect(bad.status).toBe(401);
    const none = await d.send('a=1', 'application/x-www-form-urlencoded', {}, { signature: 'none' });
    expect(none.status).toBe(401);
    expect(seen[2]?.headers['x-slack-signature']).toBeUndefined();
    expect(seen[0]?.headers['x-slack-signature']).not.toBe(seen[1]?.headers['x-slack-signature']);
    expect(SlackDriver.signature(SECRET, 1531420618, 'x')).toMatch(/^v0=[0-9a-f]{64}$/);
    const old = await d.send('a=1', 'application/x-www-form-urlencoded', {}, { timestamp: 1000 });
    expect(seen[3]?.headers['x-slack-request-timestamp']).toBe('1000');
    expect(old.status).toBe(200); // still a valid HMAC; Bolt rejects the age
  });

  it('uses exact content types and payload= for interactivity; retry headers on events', async () => {
    fake.addUser({ id: 'U1', teamId: 'T1', name: 'alice' });
    const d = new SlackDriver({ appUrl: url, signingSecret: SECRET, fake });
    await d.command({ teamId: 'T1', userId: 'U1', text: 'buy milk' });
    await d.globalShortcut({ teamId: 'T1', userId: 'U1', callbackId: 'new_task' });
    await d.event('T1', { type: 'app_mention', text: 'hi' }, { retryNum: 1, retryReason: 'http_timeout', eventId: 'Ev1' });
    expect(seen.map((s) => [s.contentType, s.valid])).toEqual([
      ['application/x-www-form-urlencoded', true],
      ['application/x-www-form-urlencoded', true],
      ['application/json', true],
    ]);
    const cmd = new URLSearchParams(seen[0]?.body);
    expect(Object.fromEntries(cmd)).toMatchObject({ command: '/task', text: 'buy milk', user_id: 'U1', team_id: 'T1', user_name: 'alice', is_enterprise_install: 'false' });
    expect(cmd.get('trigger_id')).toBeTruthy();
    expect(cmd.get('response_url')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\//);
    const shortcut = JSON.parse(new URLSearchParams(seen[1]?.body).get('payload') ?? '{}') as Record<string, unknown>;
    expect(shortcut).toMatchObject({ type: 'shortcut', callback_id: 'new_task', team: { id: 'T1' }, user: { id: 'U1', team_id: 'T1' }, is_enterprise_install: false, enterprise: null });
    expect(seen[2]?.headers['x-slack-retry-num']).toBe('1');
    expect(seen[2]?.headers['x-slack-retry-reason']).toBe('http_timeout');
    expect(JSON.parse(seen[2]?.body ?? '{}')).toMatchObject({ type: 'event_callback', team_id: 'T1', event_id: 'Ev1', event: { type: 'app_mention' } });
  });
});

describe('driver against a real Bolt app', () => {
  let fake: FakeSlack;
  let app: App;
  let driver: SlackDriver;
  const seen: { kind: string; body: unknown; retryNum?: number }[] = [];
  let nextSubmitResponse: Record<string, unknown> | undefined;

  beforeAll(async () => {
    fake = await FakeSlack.start();
    fake.addUser({ id: 'U1', teamId: 'T1', name: 'alice' });
    fake.addChannel({ id: 'C1', teamId: 'T1' });
    app = new App({
      token: fake.botToken,
      signingSecret: SECRET,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
    });
    const modal = (n: number) => ({
      type: 'modal' as const,
      callback_id: 'task_modal',
      private_metadata: `n=${n}`,
      title: { type: 'plain_text' as const, text: `Step ${n}` },
      submit: { type: 'plain_text' as const, text: 'Next' },
      blocks: [{ type: 'input' as const, block_id: 'title', label: { type: 'plain_text' as const, text: 'Title' }, element: { type: 'plain_text_input' as const, action_id: 'v' } }],
    });
    app.command('/task', async ({ ack, body, client }) => {
      await ack();
      seen.push({ kind: 'command', body });
      await client.views.open({ trigger_id: body.trigger_id, view: modal(1) });
    });
    app.view('task_modal', async ({ ack, body }) => {
      seen.push({ kind: 'view_submission', body });
      const r = nextSubmitResponse;
      nextSubmitResponse = undefined;
      if (r) await ack(r as never);
      else await ack();
    });
    app.function('approve_step', async ({ inputs, client, body }) => {
      seen.push({ kind: 'function', body });
      await client.chat.postMessage({
        channel: 'C1',
        text: `approve ${String(inputs['title'])}?`,
        blocks: [{ type: 'actions', block_id: 'decide', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'yes' }] }],
      });
    });
    app.action('approve', async ({ ack, body, complete, context }) => {
      await ack();
      seen.push({ kind: 'action', body, retryNum: context.retryNum });
      if (complete) await complete({ outputs: { decision: 'approved' } });
    });
    const server = (await app.start(0)) as unknown as http.Server;
    const port = (server.address() as AddressInfo).port;
    driver = new SlackDriver({ appUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret: SECRET, fake, teamId: 'T1' });
  });
  afterAll(async () => {
    await app.stop();
    await fake.stop();
  });

  it('Bolt accepts valid signatures and rejects bad ones', async () => {
    const ok = await driver.urlVerification('abc');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ challenge: 'abc' });
    const bad = await driver.urlVerification('abc', { signature: 'bad' });
    expect(bad.status).toBe(401);
    const stale = await driver.urlVerification('abc', { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(401);
  });

  it('command → views.open; submissions drive the modal stack like Slack', async () => {
    const { response } = await driver.command({ teamId: 'T1', userId: 'U1', text: 'x', channelId: 'C1' });
    expect(response.status).toBe(200);
    await fake.waitFor('views.open', (c) => c.response['ok'] === true);
    const [root] = fake.viewStack('U1');
    expect(root?.callback_id).toBe('task_modal');

    nextSubmitResponse = { response_action: 'errors', errors: { title: 'Too short' } };
    const e = await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: root?.id ?? '', values: { title: { v: { type: 'plain_text_input', value: 'a' } } } });
    expect(e.action).toBe('errors');
    expect(fake.viewStack('U1')).toHaveLength(1);
    const sub = seen.find((s) => s.kind === 'view_submission')?.body as { view: { private_metadata: string; state: { values: unknown } } };
    expect(sub.view.private_metadata).toBe('n=1');
    expect(sub.view.state.values).toEqual({ title: { v: { type: 'plain_text_input', value: 'a' } } });

    nextSubmitResponse = { response_action: 'errors', errors: { not_an_input: 'x' } };
    const badErrors = await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: root?.id ?? '', values: {} });
    expect(badErrors.stackError).toBe('invalid_errors');

    const stepView = (n: number) => ({ type: 'modal', callback_id: 'task_modal', title: { type: 'plain_text', text: `Step ${n}` }, submit: { type: 'plain_text', text: 'Next' }, blocks: [] });
    nextSubmitResponse = { response_action: 'push', view: stepView(2) };
    expect((await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: root?.id ?? '', values: {} })).action).toBe('push');
    const top = fake.viewStack('U1')[1];
    expect(top?.previous_view_id).toBe(root?.id);
    nextSubmitResponse = { response_action: 'update', view: { ...stepView(3), private_metadata: 'updated' } };
    expect((await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: top?.id ?? '', values: {} })).action).toBe('update');
    expect(fake.view(top?.id ?? '')?.private_metadata).toBe('updated');
    nextSubmitResponse = { response_action: 'update', view: { ...stepView(3), title: { type: 'plain_text', text: 'x'.repeat(25) } } };
    const invalid = await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: top?.id ?? '', values: {} });
    expect(invalid.stackError).toBe('invalid_arguments');
    await expect(driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: root?.id ?? '', values: {} })).rejects.toThrow(/not the top/);
    const popped = await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: top?.id ?? '', values: {} });
    expect(popped.action).toBe('pop');
    expect(fake.viewStack('U1').map((v) => v.id)).toEqual([root?.id]);
    nextSubmitResponse = { response_action: 'clear' };
    expect((await driver.viewSubmission({ teamId: 'T1', userId: 'U1', viewId: root?.id ?? '', values: {} })).action).toBe('clear');
    expect(fake.viewStack('U1')).toEqual([]);
  });

  it('function_executed → workflow-token message → button click carries function_data and completes', async () => {
    const run = await driver.functionExecuted({ teamId: 'T1', callbackId: 'approve_step', inputs: { title: 'Budget' } });
    expect(run.response.status).toBe(200);
    const post = await fake.waitFor('chat.postMessage', (c) => c.token === run.workflowToken);
    expect(post.response['ok']).toBe(true);
    const ts = String(post.response['ts']);
    expect(fake.message('C1', ts)?.postedWithToken).toBe(run.workflowToken);

    const click = await driver.blockAction({ teamId: 'T1', userId: 'U1', actionId: 'approve', container: 'message', channelId: 'C1', messageTs: ts });
    expect(click.response.status).toBe(200);
    expect(click.triggerId).toBeUndefined();
    expect(click.interactivityPointer).toBeTruthy();
    await fake.waitFor('functions.completeSuccess');
    expect(fake.execution(run.executionId)).toMatchObject({ state: 'completed', outputs: { decision: 'approved' } });
    const action = seen.find((s) => s.kind === 'action')?.body as Record<string, unknown>;
    expect(action['trigger_id']).toBeUndefined();
    expect(action).toMatchObject({
      type: 'block_actions',
      function_data: { execution_id: run.executionId, function: { callback_id: 'approve_step' }, inputs: { title: 'Budget' } },
      bot_access_token: run.workflowToken,
      actions: [{ type: 'button', action_id: 'approve', block_id: 'decide', value: 'yes' }],
      container: { type: 'message', message_ts: ts, channel_id: 'C1' },
    });

    await expect(driver.blockAction({ teamId: 'T1', userId: 'U1', actionId: 'nope', container: 'message', channelId: 'C1', messageTs: ts })).rejects.toThrow(/not found; present: decide\/approve/);
  });

  it('retried events carry the retry headers to Bolt', async () => {
    const run = await driver.functionExecuted({ teamId: 'T1', callbackId: 'approve_step', inputs: { title: 'R' } });
    const retry = await driver.functionExecuted({ teamId: 'T1', callbackId: 'approve_step', inputs: { title: 'R' }, executionId: run.executionId, eventId: run.eventId, retryNum: 1 });
    expect(retry.workflowToken).toBe(run.workflowToken);
    expect(retry.response.status).toBe(200);
    // Bolt does not de-duplicate: the listener runs again (the app must be idempotent).
    await expect.poll(() => fake.callsTo('chat.postMessage').filter((c) => c.token === run.workflowToken).length).toBe(2);
    const bodies = seen.filter((s) => s.kind === 'function').map((s) => s.body as { event: { function_execution_id: string } });
    expect(bodies.filter((b) => b.event.function_execution_id === run.executionId)).toHaveLength(2);
  });
});
