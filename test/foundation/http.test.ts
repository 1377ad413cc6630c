import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, SlackDriver } from '../../src/sandbox/driver.js';
import { verifySignature } from '../../src/slack/requestGuard.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { rowCounts } from '../support/storeRows.js';


describe('HTTP receiver: signatures, url_verification, healthz', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    t.fake.addUser({ id: 'U1', teamId: TEAM });
  });
  afterAll(async () => t.dispose());

  const homeEvent = () =>
    JSON.stringify(t.slack.eventEnvelope(TEAM, { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.1' }));
  const commandBody = () =>
    new URLSearchParams({ command: '/task', text: 'add Sneaky', team_id: TEAM, user_id: 'U1', channel_id: 'C1', trigger_id: '1.2.3', response_url: `${t.fake.baseUrl}/response/x` }).toString();

  it.each([
    ['unsigned', { signature: 'none' as const }],
    ['wrongly signed', { signature: 'bad' as const }],
    ['stale (6 minutes old)', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }],
  ])('%s requests get 401, store nothing and call no Slack method', async (_name, opts) => {
    const before = await rowCounts(t);
    const callsBefore = t.fake.calls.length;

    const event = await t.slack.send(homeEvent(), JSON_CONTENT_TYPE, {}, opts);
    const command = await t.slack.send(commandBody(), FORM_CONTENT_TYPE, {}, opts);
    await t.settle();

    expect(event.status).toBe(401);
    expect(command.status).toBe(401);
    expect(await rowCounts(t)).toEqual(before);
    expect(t.fake.calls.slice(callsBefore)).toEqual([]);
  });

  it('a correctly signed request is accepted (the 401s above are not a broken signer)', async () => {
    const res = await t.slack.send(homeEvent(), JSON_CONTENT_TYPE);
    await t.settle();
    expect(res.status).toBe(200);
    expect(t.fake.callsTo('views.publish').length).toBeGreaterThan(0);
  });

  it('an unsigned ssl_check is answered 200, and a payload smuggled beside it is not processed', async () => {
    const before = await rowCounts(t);
    const callsBefore = t.fake.calls.length;
    // Any payload Bolt dispatched would reach the router, which logs action ids it has no listener for.
    const smuggled = { type: 'block_actions', team: { id: TEAM }, user: { id: 'U1' }, actions: [{ action_id: 'smuggled_action_v0', value: '1' }] };
    const res = await t.slack.send(new URLSearchParams({ ssl_check: '1', payload: JSON.stringify(smuggled) }).toString(), FORM_CONTENT_TYPE, {}, { signature: 'none' });
    await t.settle();
    expect(res.status).toBe(200);
    expect(t.logger.text()).not.toContain('smuggled_action_v0');
    expect(await rowCounts(t)).toEqual(before);
    expect(t.fake.calls.slice(callsBefore)).toEqual([]);
  });

  it('answers url_verification with the challenge', async () => {
    const res = await t.slack.urlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('GET /healthz is 200 while the store answers (naming its engine), 503 once it is closed', async () => {
    const base = t.url.replace('/slack/events', '');
    const ok = await fetch(`${base}/healthz`);
    expect(ok.status).toBe(200);
    // The suite's PostgreSQL project really runs the app on PostgreSQL.
    expect(t.stores.engine).toBe(process.env.TASKLANE_TEST_ENGINE === 'postgresql' ? 'postgresql' : 'sqlite');
    expect(await ok.json()).toEqual({ status: 'ok', store: 'ok', database: t.stores.engine });

    await t.stores.close();
    const down = await fetch(`${base}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'unavailable' });
  });
});

describe('payloads no listener handles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.dispose());

  it('an unknown action id is acknowledged at once with 200, logged, and changes nothing', async () => {
    const payload = {
      type: 'block_actions',
      team: { id: TEAM, domain: 'x' },
      user: { id: 'U1', username: 'u', name: 'u', team_id: TEAM },
      api_app_id: 'A1',
      token: 't',
      container: { type: 'message', message_ts: '1.2', channel_id: 'C1' },
      trigger_id: '1.2.3',
      actions: [{ type: 'button', action_id: 'no_such_action_v0', block_id: 'b', value: 'x', action_ts: '1.1' }],
    };
    const started = Date.now();
    const res = await t.slack.sendPayload(payload);
    await t.settle();
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(t.logger.text()).toContain('ignored a request no listener handles: block_actions no_such_action_v0');
    expect(t.fake.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
  });
});

describe('verifySignature (the one check every request to /slack/events passes)', () => {
  const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const now = 1_790_000_000_000;
  const ts = Math.floor(now / 1000) - 10;
  const body = 'command=%2Ftask&text=add+x';
  const signed = (overrides: Record<string, string | string[] | undefined> = {}) => ({
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': SlackDriver.signature(secret, ts, body),
    ...overrides,
  });

  it('accepts what Slack signs', () => {
    expect(() => verifySignature(secret, body, signed(), now)).not.toThrow();
  });

  it.each([
    ['another secret', { 'x-slack-signature': SlackDriver.signature(`${secret}x`, ts, body) }, 'signature mismatch'],
    ['another timestamp than signed', { 'x-slack-request-timestamp': String(ts + 1) }, 'signature mismatch'],
    ['the hash in upper case', { 'x-slack-signature': SlackDriver.signature(secret, ts, body).replace(/[a-f]/g, (c) => c.toUpperCase()).replace('V0', 'v0') }, 'signature mismatch'],
    ['a truncated hash', { 'x-slack-signature': SlackDriver.signature(secret, ts, body).slice(0, 40) }, 'signature mismatch'],
    ['no hash', { 'x-slack-signature': 'v0=' }, 'signature mismatch'],
    ['an unknown version', { 'x-slack-signature': SlackDriver.signature(secret, ts, body).replace('v0=', 'v1=') }, 'unknown signature version'],
    ['no signature header', { 'x-slack-signature': undefined }, 'no x-slack-signature header'],
    ['two signature headers', { 'x-slack-signature': ['a', 'b'] }, 'no x-slack-signature header'],
    ['no timestamp header', { 'x-slack-request-timestamp': undefined }, 'no x-slack-request-timestamp header'],
    ['a timestamp that is not a number', { 'x-slack-request-timestamp': 'soon' }, 'x-slack-request-timestamp header is not a unix time'],
    ['a timestamp over 5 minutes old', { 'x-slack-request-timestamp': String(Math.floor(now / 1000) - 301) }, 'no more than 5 minutes'],
    ['a timestamp over 5 minutes ahead', { 'x-slack-request-timestamp': String(Math.floor(now / 1000) + 301) }, 'no more than 5 minutes'],
    ['a timestamp ten years ahead', { 'x-slack-request-timestamp': String(Math.floor(now / 1000) + 10 * 365 * 86_400) }, 'no more than 5 minutes'],
  ])('refuses %s', (_name, overrides, message) => {
    expect(() => verifySignature(secret, body, signed(overrides), now)).toThrow(message);
  });

  it('refuses a changed body', () => {
    expect(() => verifySignature(secret, `${body}&user_id=U2`, signed(), now)).toThrow('signature mismatch');
  });
});
