import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WebClient } from '@slack/web-api';
import { FakeSlack, formPairs } from '../../src/sandbox/fakeSlack.js';
import { client, modal, platformError, section } from './helpers.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await FakeSlack.start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.reset();
  fake.addUser({ id: 'U1', teamId: 'T1', name: 'alice', tz: 'America/New_York' });
  fake.addUser({ id: 'U2', teamId: 'T1', name: 'bob' });
  fake.addUser({ id: 'UBOT2', teamId: 'T1', isBot: true });
  fake.addUser({ id: 'UNODM', teamId: 'T1', canDm: false });
  fake.addChannel({ id: 'C1', teamId: 'T1' });
  fake.addChannel({ id: 'GPRIV', teamId: 'T1', isPrivate: true });
  fake.addChannel({ id: 'GMEMBER', teamId: 'T1', isPrivate: true, botIsMember: true });
});

describe('auth', () => {
  it('auth.test answers for the bot token', async () => {
    const r = await client(fake).auth.test();
    expect(r.ok).toBe(true);
    expect(r.user_id).toBe('UBOT');
    expect(r.is_enterprise_install).toBe(false);
    expect(fake.callsTo('auth.test')).toHaveLength(1);
  });

  it('rejects missing and unknown tokens', async () => {
    const noToken = await fetch(`${fake.apiUrl}auth.test`, { method: 'POST' });
    expect(await noToken.json()).toEqual({ ok: false, error: 'not_authed' });
    expect((await platformError(client(fake, 'xoxb-nope').auth.test()))['error']).toBe('invalid_auth');
    expect(fake.calls.map((c) => c.response['error'])).toEqual(['not_authed', 'invalid_auth']);
  });

  it('accepts a token form field and JSON bodies', async () => {
    const form = await fetch(`${fake.apiUrl}auth.test`, { method: 'POST', body: new URLSearchParams({ token: fake.botToken }) });
    expect(((await form.json()) as { ok: boolean }).ok).toBe(true);
    const json = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${fake.botToken}` },
      body: JSON.stringify({ channel: 'C1', text: 'hi', blocks: [section('x')] }),
    });
    expect(((await json.json()) as { ok: boolean }).ok).toBe(true);
    expect(fake.messages('C1')[0]?.blocks).toEqual([section('x')]);
  });

  it('unknown method', async () => {
    expect((await platformError(client(fake).apiCall('nope.nope')))['error']).toBe('unknown_method');
  });
});

describe('chat', () => {
  it('postMessage to a user id posts in the DM and returns a D channel; ts strictly increases', async () => {
    const c = client(fake);
    const r1 = await c.chat.postMessage({ channel: 'U1', text: 'hello' });
    const r2 = await c.chat.postMessage({ channel: 'U1', text: 'again' });
    expect(r1.channel).toMatch(/^D/);
    expect(r1.channel).toBe(fake.dmChannel('U1'));
    expect(r2.channel).toBe(r1.channel);
    expect(r1.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(r2.ts)).toBeGreaterThan(Number(r1.ts));
    expect(fake.messages(r1.channel ?? '').map((m) => m.text)).toEqual(['hello', 'again']);
    expect(fake.messages(fake.dmChannel('U1'))[0]?.postedWithToken).toBe(fake.botToken);
    const again = await c.chat.postMessage({ channel: fake.dmChannel('U1'), text: 'via D', thread_ts: r1.ts });
    expect(again.channel).toBe(r1.channel);
    expect(fake.message(r1.channel ?? '', again.ts ?? '')?.thread_ts).toBe(r1.ts);
  });

  it('postMessage channel errors', async () => {
    const c = client(fake);
    expect((await platformError(c.chat.postMessage({ channel: 'CNOPE', text: 'x' })))['error']).toBe('channel_not_found');
    expect((await platformError(c.chat.postMessage({ channel: 'GPRIV', text: 'x' })))['error']).toBe('not_in_channel');
    expect((await platformError(c.chat.postMessage({ channel: 'UNOBODY', text: 'x' })))['error']).toBe('user_not_found');
    expect((await platformError(c.chat.postMessage({ channel: 'UBOT2', text: 'x' })))['error']).toBe('cannot_dm_bot');
    expect((await platformError(c.chat.postMessage({ channel: 'UNODM', text: 'x' })))['error']).toBe('messages_tab_disabled');
    expect((await platformError(c.conversations.open({ users: 'UNODM' })))['error']).toBe('messages_tab_disabled');
    expect((await platformError(c.apiCall('chat.postMessage', { channel: 'C1' })))['error']).toBe('no_text');
    expect((await c.chat.postMessage({ channel: 'GMEMBER', text: 'x' })).ok).toBe(true);
    expect((await c.chat.postMessage({ channel: 'C1', text: 'public, not a member' })).ok).toBe(true);
  });

  it('message text over 40000 chars is msg_too_long', async () => {
    expect((await platformError(client(fake).chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) })))['error']).toBe('msg_too_long');
    expect((await client(fake).chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_000) })).ok).toBe(true);
  });

  it('invalid_blocks with a json-pointer for a 3001-char section', async () => {
    const data = await platformError(client(fake).chat.postMessage({ channel: 'C1', text: 'fallback', blocks: [section('x'.repeat(3001))] as never }));
    expect(data['error']).toBe('invalid_blocks');
    expect(data['errors']).toEqual(['must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);
    expect(fake.messages('C1')).toHaveLength(0);
    expect(fake.calls[0]?.response['error']).toBe('invalid_blocks');
    expect((await client(fake).chat.postMessage({ channel: 'C1', text: 'ok', blocks: [section('x'.repeat(3000))] as never })).ok).toBe(true);
  });

  it('51 blocks in a message are rejected, 50 are fine', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => section(`b${i}`));
    const data = await platformError(client(fake).apiCall('chat.postMessage', { channel: 'C1', text: 't', blocks: many(51) }));
    expect(data['error']).toBe('invalid_blocks');
    expect(data['errors']).toEqual(['must provide no more than 50 items [json-pointer:/blocks]']);
    expect((await client(fake).apiCall('chat.postMessage', { channel: 'C1', text: 't', blocks: many(50) })).ok).toBe(true);
  });

  it('chat.update, postEphemeral, getPermalink', async () => {
    const c = client(fake);
    const p = await c.chat.postMessage({ channel: 'C1', text: 'v1', blocks: [section('one')] as never });
    const ts = p.ts ?? '';
    const u = await c.chat.update({ channel: 'C1', ts, text: 'v2' });
    expect(u.ok).toBe(true);
    const m = fake.message('C1', ts);
    expect(m?.text).toBe('v2');
    expect(m?.blocks).toEqual([section('one')]); // blocks kept when not passed
    expect(m?.updates).toBe(1);
    expect((await platformError(c.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' })))['error']).toBe('message_not_found');
    const bad = await platformError(c.apiCall('chat.update', { channel: 'C1', ts, blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] }));
    expect(bad['error']).toBe('invalid_blocks');

    const e = await c.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'psst' });
    expect(e.message_ts).toBeTruthy();
    expect(fake.ephemerals('C1', 'U1').map((x) => x.text)).toEqual(['psst']);
    expect(fake.ephemerals('C1', 'U2')).toEqual([]);

    const link = await c.chat.getPermalink({ channel: 'C1', message_ts: ts });
    expect(link.permalink).toBe(`https://fake.slack.com/archives/C1/p${ts.replace('.', '')}`);
    expect((await platformError(c.chat.getPermalink({ channel: 'C1', message_ts: '1.000002' })))['error']).toBe('message_not_found');
  });

  it('conversations.open and users.info', async () => {
    const c = client(fake);
    const open = await c.conversations.open({ users: 'U1' });
    expect(open.channel?.id).toBe(fake.dmChannel('U1'));
    const info = await c.users.info({ user: 'U1' });
    expect(info.user?.id).toBe('U1');
    expect(info.user?.team_id).toBe('T1');
    expect(info.user?.tz).toBe('America/New_York');
    expect([-18000, -14400]).toContain(info.user?.tz_offset);
    expect(info.user?.profile?.display_name).toBe('alice');
    expect((await platformError(c.users.info({ user: 'UNOBODY' })))['error']).toBe('user_not_found');
  });

  it('users.info marks guests as Slack does: is_restricted, and is_ultra_restricted for single-channel guests', async () => {
    fake.addUser({ id: 'UGUEST1', teamId: 'T1', guest: 'multi' });
    fake.addUser({ id: 'UGUEST2', teamId: 'T1', guest: 'single' });
    const c = client(fake);
    const flags = async (user: string) => {
      const u = (await c.users.info({ user })).user;
      return [u?.is_restricted, u?.is_ultra_restricted];
    };
    expect(await flags('U1')).toEqual([false, false]);
    expect(await flags('UGUEST1')).toEqual([true, false]);
    expect(await flags('UGUEST2')).toEqual([true, true]);
  });

  it('conversations.info: public channels, private ones and group DMs the app is in, its own DMs; channel_not_found otherwise', async () => {
    fake.addChannel({ id: 'GMPIM', teamId: 'T1', isMpim: true, botIsMember: true });
    const c = client(fake);
    expect((await c.conversations.info({ channel: 'C1' })).channel).toMatchObject({ id: 'C1', is_private: false, is_channel: true, is_im: false, is_mpim: false });
    expect((await c.conversations.info({ channel: 'GMEMBER' })).channel).toMatchObject({ is_private: true, is_group: true, is_mpim: false });
    expect((await c.conversations.info({ channel: 'GMPIM' })).channel).toMatchObject({ is_private: true, is_mpim: true, is_group: false });
    const dm = (await c.conversations.open({ users: 'U1' })).channel?.id as string;
    expect((await c.conversations.info({ channel: dm })).channel).toMatchObject({ id: dm, is_im: true, user: 'U1' });
    for (const channel of ['GPRIV', 'CNOWHERE', 'D0SOMEONE']) {
      expect((await platformError(c.conversations.info({ channel })))['error'], channel).toBe('channel_not_found');
    }
  });
});

describe('conversations.history', () => {
  type History = { messages: { text: string; ts: string; metadata?: unknown }[]; has_more: boolean; pin_count: number; response_metadata: { next_cursor: string } };
  const history = async (args: Record<string, unknown>): Promise<History> => (await client(fake).apiCall('conversations.history', args)) as unknown as History;
  const texts = (h: History): string[] => h.messages.map((m) => m.text);

  beforeEach(() => {
    fake.addChannel({ id: 'CHIST', teamId: 'T1', botIsMember: true });
  });

  it('lists newest first, limit at a time, paging with response_metadata.next_cursor until it is empty', async () => {
    const c = client(fake);
    for (const text of ['m0', 'm1', 'm2', 'm3', 'm4']) await c.chat.postMessage({ channel: 'CHIST', text });
    const p1 = await history({ channel: 'CHIST', limit: 2 });
    expect(texts(p1)).toEqual(['m4', 'm3']);
    expect(p1).toMatchObject({ ok: true, has_more: true, pin_count: 0 });
    expect(p1.response_metadata.next_cursor).not.toBe('');
    const p2 = await history({ channel: 'CHIST', limit: 2, cursor: p1.response_metadata.next_cursor });
    expect(texts(p2)).toEqual(['m2', 'm1']);
    const p3 = await history({ channel: 'CHIST', limit: 2, cursor: p2.response_metadata.next_cursor });
    expect(texts(p3)).toEqual(['m0']);
    expect(p3.has_more).toBe(false);
    expect(p3.response_metadata.next_cursor).toBe('');
    const all = await history({ channel: 'CHIST' });
    expect(texts(all)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(all.messages.map((m) => Number(m.ts))).toEqual([...all.messages.map((m) => Number(m.ts))].sort((a, b) => b - a));
    expect((await platformError(c.apiCall('conversations.history', { channel: 'CHIST', cursor: 'not-a-cursor' })))['error']).toBe('invalid_cursor');
  });

  it('limit defaults to 100 and is clamped to 999', async () => {
    for (let i = 0; i < 1001; i += 1) fake.postAsUser({ channel: 'CHIST', user: 'U1', text: `n${i}` });
    const byDefault = await history({ channel: 'CHIST' });
    expect(byDefault.messages).toHaveLength(100);
    expect(byDefault.messages[0]?.text).toBe('n1000');
    const clamped = await history({ channel: 'CHIST', limit: 5000 });
    expect(clamped.messages).toHaveLength(999);
    expect(clamped.has_more).toBe(true);
    const rest = await history({ channel: 'CHIST', limit: 5000, cursor: clamped.response_metadata.next_cursor });
    expect(texts(rest)).toEqual(['n1', 'n0']);
  });

  it('leaves thread replies out', async () => {
    const c = client(fake);
    const parent = await c.chat.postMessage({ channel: 'CHIST', text: 'parent' });
    await c.chat.postMessage({ channel: 'CHIST', text: 'reply', thread_ts: parent.ts });
    fake.postAsUser({ channel: 'CHIST', user: 'U1', text: 'person reply', threadTs: parent.ts });
    await c.chat.postMessage({ channel: 'CHIST', text: 'after' });
    expect(texts(await history({ channel: 'CHIST' }))).toEqual(['after', 'parent']);
    expect(fake.messages('CHIST')).toHaveLength(4);
  });

  it('conversations.replies: the parent then its replies, oldest first, paged; metadata with include_all_metadata', async () => {
    const c = client(fake);
    const parent = await c.chat.postMessage({ channel: 'CHIST', text: 'parent' });
    await c.chat.postMessage({ channel: 'CHIST', text: 'r1', thread_ts: parent.ts, metadata: { event_type: 'tasklane_effect', event_payload: { key: 'k' } } });
    fake.postAsUser({ channel: 'CHIST', user: 'U1', text: 'r2', threadTs: parent.ts });
    await c.chat.postMessage({ channel: 'CHIST', text: 'elsewhere' });
    type Replies = History;
    const p1 = (await c.apiCall('conversations.replies', { channel: 'CHIST', ts: parent.ts, limit: 2, include_all_metadata: true })) as unknown as Replies;
    expect(texts(p1)).toEqual(['parent', 'r1']);
    expect(p1.messages[1]?.metadata).toEqual({ event_type: 'tasklane_effect', event_payload: { key: 'k' } });
    const p2 = (await c.apiCall('conversations.replies', { channel: 'CHIST', ts: parent.ts, cursor: p1.response_metadata.next_cursor })) as unknown as Replies;
    expect(texts(p2)).toEqual(['r2']);
    expect(p2.response_metadata.next_cursor).toBe('');
    expect((await platformError(c.apiCall('conversations.replies', { channel: 'CHIST', ts: '1.000000' })))['error']).toBe('thread_not_found');
  });

  it('returns metadata as an object, and only with include_all_metadata', async () => {
    const metadata = { event_type: 'task_posted', event_payload: { task_id: 42, key: 'k-1' } };
    // The WebClient form-encodes the object as a JSON string; a JSON body may carry it as a string too.
    await client(fake).chat.postMessage({ channel: 'CHIST', text: 'form', metadata });
    const json = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${fake.botToken}` },
      body: JSON.stringify({ channel: 'CHIST', text: 'json string', metadata: JSON.stringify(metadata) }),
    });
    expect(((await json.json()) as { ok: boolean }).ok).toBe(true);
    await client(fake).chat.postMessage({ channel: 'CHIST', text: 'plain' });

    const withMeta = await history({ channel: 'CHIST', include_all_metadata: true });
    expect(withMeta.messages.map((m) => m.metadata)).toEqual([undefined, metadata, metadata]);
    expect((await history({ channel: 'CHIST', include_all_metadata: 'true' })).messages[1]?.metadata).toEqual(metadata);
    const without = await history({ channel: 'CHIST' });
    expect(without.messages.every((m) => !('metadata' in m))).toBe(true);
    expect((await history({ channel: 'CHIST', include_all_metadata: false })).messages.every((m) => !('metadata' in m))).toBe(true);
  });

  it('chat.postMessage checks the metadata shape', async () => {
    const c = client(fake);
    const post = (metadata: unknown) => platformError(c.apiCall('chat.postMessage', { channel: 'CHIST', text: 'x', metadata }));
    expect((await post({ event_type: 'task_posted' }))['error']).toBe('invalid_metadata_format');
    expect((await post({ event_payload: { a: 1 } }))['error']).toBe('invalid_metadata_format');
    expect((await post({ event_type: 7, event_payload: {} }))['error']).toBe('invalid_metadata_format');
    expect((await post({ event_type: 'task_posted', event_payload: 'nope' }))['error']).toBe('invalid_metadata_format');
    expect((await post('{not json'))['error']).toBe('invalid_metadata_format');
    expect(fake.messages('CHIST')).toHaveLength(0);
    // An event_type with punctuation other than _ and - is dropped with a warning; the message is posted.
    const dotted = (await c.apiCall('chat.postMessage', { channel: 'CHIST', text: 'dotted', metadata: { event_type: 'task.posted', event_payload: {} } })) as unknown as Record<string, unknown>;
    expect(dotted).toMatchObject({ ok: true, warning: 'invalid_metadata_schema', response_metadata: { warnings: ['invalid_metadata_schema'] } });
    expect(fake.messages('CHIST')[0]?.metadata).toBeUndefined();
  });

  it('channel_not_found for unknown, missing, user and hidden ids; not_in_channel for a public channel the app is not in', async () => {
    const c = client(fake);
    for (const channel of ['CNOPE', 'U1', 'D0SOMEONE', 'GPRIV']) {
      expect((await platformError(c.apiCall('conversations.history', { channel })))['error'], channel).toBe('channel_not_found');
    }
    expect((await platformError(c.apiCall('conversations.history', {})))['error']).toBe('channel_not_found');
    expect((await platformError(c.apiCall('conversations.history', { channel: 'C1' })))['error']).toBe('not_in_channel');
    const dm = (await c.chat.postMessage({ channel: 'U1', text: 'in the DM' })).channel as string;
    expect(texts(await history({ channel: dm }))).toEqual(['in the DM']);
    expect((await history({ channel: 'GMEMBER' })).messages).toEqual([]);
  });
});

describe('faults', () => {
  it('429 with Retry-After via failNext', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    const raw = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=C1&text=x',
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('7');
    expect(await raw.json()).toEqual({ ok: false, error: 'ratelimited' });
    // next call is fine again
    expect((await client(fake).chat.postMessage({ channel: 'C1', text: 'x' })).ok).toBe(true);

    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const err = await client(fake).chat.postMessage({ channel: 'C1', text: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 1 });
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200, 429]);
  });

  it('error, 500, and delay faults; times', async () => {
    fake.failNext('users.info', { error: 'fatal_error', extra: { detail: 'boom' } }, 2);
    expect(await platformError(client(fake).users.info({ user: 'U1' }))).toMatchObject({ ok: false, error: 'fatal_error', detail: 'boom' });
    expect((await platformError(client(fake).users.info({ user: 'U1' })))['error']).toBe('fatal_error');
    expect((await client(fake).users.info({ user: 'U1' })).ok).toBe(true);

    fake.failNext('auth.test', { status: 500 });
    const e500 = await client(fake).auth.test().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(e500).toMatchObject({ code: 'slack_webapi_http_error', statusCode: 500 });

    fake.failNext('auth.test', { delayMs: 150 });
    const t0 = Date.now();
    expect((await client(fake).auth.test()).ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('answerAfterMs: the call is carried out and recorded at once, its answer held back', async () => {
    fake.failNext('chat.postMessage', { answerAfterMs: 400 });
    let answered = false;
    const t0 = Date.now();
    const posted = client(fake)
      .chat.postMessage({ channel: 'C1', text: 'held' })
      .then((r) => {
        answered = true;
        return r;
      });
    const call = await fake.waitFor('chat.postMessage');
    await new Promise((r) => setTimeout(r, 150));
    expect(answered).toBe(false);
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['held']);
    const r = await posted;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(r.ts).toBe(call.response['ts']);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('answerAfterMs: a client that times out first gets an error while the message is posted', async () => {
    fake.failNext('chat.postMessage', { answerAfterMs: 5000 });
    const impatient = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 100 });
    const t0 = Date.now();
    const err = await impatient.chat.postMessage({ channel: 'C1', text: 'answer lost' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err).toMatchObject({ code: 'slack_webapi_request_error', original: { name: 'TimeoutError' } });
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['answer lost']);
    expect(fake.callsTo('chat.postMessage').map((c) => [c.status, c.response['ok']])).toEqual([[200, true]]);
    // The next call is answered at once.
    expect((await impatient.chat.postMessage({ channel: 'C1', text: 'next' })).ok).toBe(true);
  });

  it('noAnswerMs: the call is recorded but not carried out, and never answered', async () => {
    fake.failNext('chat.postMessage', { noAnswerMs: 300 });
    const impatient = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 5000 });
    const t0 = Date.now();
    const err = await impatient.chat.postMessage({ channel: 'C1', text: 'lost' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(err).toMatchObject({ code: 'slack_webapi_request_error' });
    expect(fake.messages('C1')).toEqual([]);
    expect(fake.callsTo('chat.postMessage').map((c) => [c.status, c.response['error']])).toEqual([[0, 'no_answer']]);
    // A client that hangs up ends the wait at once; the next call is served.
    fake.failNext('chat.postMessage', { noAnswerMs: 60_000 });
    const gone = new AbortController();
    const pending = fetch(`${fake.apiUrl}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${fake.botToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C1', text: 'x' }), signal: gone.signal }).catch((e: unknown) => e);
    await fake.waitFor('chat.postMessage', (c) => c.args['text'] === 'x');
    gone.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    expect((await impatient.chat.postMessage({ channel: 'C1', text: 'next' })).ok).toBe(true);
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['next']);
  });

  it('failWhen: rate-limits views.publish for one user only, without using up on other calls', async () => {
    const c = client(fake);
    const home = { type: 'home', blocks: [section('home')] };
    const publish = (user_id: string) => c.apiCall('views.publish', { user_id, view: home });
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    fake.failWhen('views.publish', (a) => a['user_id'] === 'U1', { status: 429, retryAfter: 3 });
    expect((await publish('U2')).ok).toBe(true);
    expect(await failure(publish('U1'))).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 3 });
    const raw = await fetch(`${fake.apiUrl}views.publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_id: 'U1', view: JSON.stringify(home) }).toString(),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('3');
    expect(await raw.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect((await publish('U2')).ok).toBe(true);
    expect(fake.homeView('U1')).toBeUndefined();
    expect(fake.homeView('U2')).toBeDefined();
    expect(fake.callsTo('views.publish').map((x) => [x.args['user_id'], x.status])).toEqual([
      ['U2', 200],
      ['U1', 429],
      ['U1', 429],
      ['U2', 200],
    ]);

    // failNext still works beside it: a call that meets a failWhen fault does not take failNext's.
    fake.failNext('views.publish', { error: 'fatal_error' });
    expect(await failure(publish('U1'))).toMatchObject({ code: 'slack_webapi_rate_limited_error' });
    expect((await platformError(publish('U2')))['error']).toBe('fatal_error');
    expect((await publish('U2')).ok).toBe(true);

    // times: used up only by matching calls.
    fake.failWhen('views.publish', (a) => a['user_id'] === 'U2', { error: 'not_enabled' }, 1);
    expect(await failure(publish('U1'))).toMatchObject({ code: 'slack_webapi_rate_limited_error' });
    expect((await platformError(publish('U2')))['error']).toBe('not_enabled');
    expect((await publish('U2')).ok).toBe(true);

    fake.reset();
    expect((await publish('U1')).ok).toBe(true);
  });
});

describe('waitFor', () => {
  it('resolves for past and future calls, rejects with a listing on timeout', async () => {
    await client(fake).auth.test();
    await expect(fake.waitFor('auth.test')).resolves.toMatchObject({ method: 'auth.test' });
    const later = fake.waitFor('chat.postMessage', (c) => c.args['text'] === 'second');
    await client(fake).chat.postMessage({ channel: 'C1', text: 'first' });
    await client(fake).chat.postMessage({ channel: 'C1', text: 'second' });
    expect((await later).args['channel']).toBe('C1');
    await expect(fake.waitFor('views.open', undefined, 50)).rejects.toThrow(/views\.open.*timed out[\s\S]*chat\.postMessage/);
  });
});

describe('views', () => {
  it('trigger ids: valid 3 s, single use, unknown', async () => {
    const c = client(fake);
    const t1 = fake.issueTriggerId('U1');
    const r = await c.apiCall('views.open', { trigger_id: t1, view: modal() });
    expect(r.ok).toBe(true);
    expect((await platformError(c.apiCall('views.open', { trigger_id: t1, view: modal() })))['error']).toBe('exchanged_trigger_id');
    const t2 = fake.issueTriggerId('U1');
    fake.advanceClock(3001);
    expect((await platformError(c.apiCall('views.open', { trigger_id: t2, view: modal() })))['error']).toBe('expired_trigger_id');
    expect((await platformError(c.apiCall('views.open', { trigger_id: '123.456.abc', view: modal() })))['error']).toBe('invalid_trigger_id');
    const p = fake.issueInteractivityPointer('U1');
    expect((await c.apiCall('views.open', { interactivity_pointer: p, view: modal() })).ok).toBe(true);
    expect((await platformError(c.apiCall('views.open', { interactivity_pointer: p, view: modal() })))['error']).toBe('exchanged_trigger_id');
  });

  it('an invalid view does not consume the trigger', async () => {
    const c = client(fake);
    const t = fake.issueTriggerId('U1');
    const bad = await platformError(c.apiCall('views.open', { trigger_id: t, view: modal([section('x'.repeat(3001))]) }));
    expect(bad['error']).toBe('invalid_arguments');
    expect(bad['response_metadata']).toEqual({ messages: ['[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]'] });
    expect((await c.apiCall('views.open', { trigger_id: t, view: modal() })).ok).toBe(true);
  });

  it('open returns a full view; push builds the stack up to 3 then push_limit_reached', async () => {
    const c = client(fake);
    const opened = await c.views.open({ trigger_id: fake.issueTriggerId('U1'), view: modal([section('root')], { callback_id: 'cb', private_metadata: 'pm' }) as never });
    const root = opened.view;
    expect(root?.id).toMatch(/^V/);
    expect(root?.hash).toBeTruthy();
    expect(root?.root_view_id).toBe(root?.id);
    expect(root?.previous_view_id).toBeNull();
    expect(root?.callback_id).toBe('cb');
    expect(root?.private_metadata).toBe('pm');
    expect(root?.state).toEqual({ values: {} });
    const p2 = await c.views.push({ trigger_id: fake.issueTriggerId('U1'), view: modal() as never });
    expect(p2.view?.previous_view_id).toBe(root?.id);
    expect(p2.view?.root_view_id).toBe(root?.id);
    const p3 = await c.views.push({ trigger_id: fake.issueTriggerId('U1'), view: modal() as never });
    expect(p3.view?.previous_view_id).toBe(p2.view?.id);
    expect(fake.viewStack('U1').map((v) => v.id)).toEqual([root?.id, p2.view?.id, p3.view?.id]);
    const err = await platformError(c.views.push({ trigger_id: fake.issueTriggerId('U1'), view: modal() as never }));
    expect(err['error']).toBe('push_limit_reached');
    expect(fake.viewStack('U1')).toHaveLength(3);
  });

  it('views.update: hash_conflict, not_found, external_id, new hash', async () => {
    const c = client(fake);
    const opened = await c.apiCall('views.open', { trigger_id: fake.issueTriggerId('U1'), view: modal([section('a')], { external_id: 'ext-1' }) });
    const v = (opened as unknown as { view: { id: string; hash: string } }).view;
    const u1 = (await c.apiCall('views.update', { view_id: v.id, hash: v.hash, view: modal([section('b')]) })) as unknown as { view: { id: string; hash: string } };
    expect(u1.view.id).toBe(v.id);
    expect(u1.view.hash).not.toBe(v.hash);
    expect((await platformError(c.apiCall('views.update', { view_id: v.id, hash: v.hash, view: modal() })))['error']).toBe('hash_conflict');
    expect((await platformError(c.apiCall('views.update', { view_id: 'VNOPE', view: modal() })))['error']).toBe('not_found');
    const byExt = (await c.apiCall('views.update', { external_id: 'ext-1', view: modal([section('c')]) })) as unknown as { view: { id: string } };
    expect(byExt.view.id).toBe(v.id);
    expect(fake.view(v.id)?.blocks).toEqual([section('c')]);
    expect(fake.view(v.id)?.external_id).toBe('ext-1');
    // closed views are gone
    fake.closeTopView('U1');
    expect((await platformError(c.apiCall('views.update', { view_id: v.id, view: modal() })))['error']).toBe('not_found');
  });

  it('views.publish: home views, stable id, hash_conflict', async () => {
    const c = client(fake);
    const home = { type: 'home', blocks: [section('home')] };
    const r1 = (await c.apiCall('views.publish', { user_id: 'U1', view: home })) as unknown as { view: { id: string; hash: string; type: string } };
    expect(r1.view.type).toBe('home');
    const r2 = (await c.apiCall('views.publish', { user_id: 'U1', view: home, hash: r1.view.hash })) as unknown as { view: { id: string; hash: string } };
    expect(r2.view.id).toBe(r1.view.id);
    expect((await platformError(c.apiCall('views.publish', { user_id: 'U1', view: home, hash: r1.view.hash })))['error']).toBe('hash_conflict');
    expect(fake.homeView('U1')?.hash).toBe(r2.view.hash);
    expect((await platformError(c.apiCall('views.publish', { user_id: 'U1', view: modal() })))['error']).toBe('invalid_arguments');
  });

  it('view > 100 blocks and view_too_large', async () => {
    const c = client(fake);
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => section(`b${i}`));
    const tooMany = await platformError(c.apiCall('views.publish', { user_id: 'U1', view: { type: 'home', blocks: blocks(101) } }));
    expect(tooMany['error']).toBe('invalid_arguments');
    expect(tooMany['response_metadata']).toEqual({ messages: ['[ERROR] must provide no more than 100 items [json-pointer:/view/blocks]'] });
    expect((await c.apiCall('views.publish', { user_id: 'U1', view: { type: 'home', blocks: blocks(100) } })).ok).toBe(true);
    const big = Array.from({ length: 90 }, () => section('x'.repeat(2900)));
    const tooLarge = await platformError(c.apiCall('views.publish', { user_id: 'U1', view: { type: 'home', blocks: big } }));
    expect(tooLarge['error']).toBe('view_too_large');
  });
});

describe('functions', () => {
  it('completeSuccess once; twice → execution_not_in_running_state; workflow token expires on completion', async () => {
    const exec = fake.startFunctionExecution({ teamId: 'T1', callbackId: 'create_task', inputs: { title: 'x' } });
    expect(exec.workflowToken).toMatch(/^xwfp-/);
    const wf = client(fake, exec.workflowToken);
    const posted = await wf.chat.postMessage({ channel: 'C1', text: 'from the step' });
    expect(fake.message('C1', posted.ts ?? '')?.postedWithToken).toBe(exec.workflowToken);
    const ok = await wf.functions.completeSuccess({ function_execution_id: exec.executionId, outputs: { task_id: '42' } });
    expect(ok.ok).toBe(true);
    expect(fake.execution(exec.executionId)).toMatchObject({ state: 'completed', outputs: { task_id: '42' } });
    expect((await platformError(wf.auth.test()))['error']).toBe('token_expired');
    const again = await platformError(client(fake).functions.completeSuccess({ function_execution_id: exec.executionId, outputs: {} }));
    expect(again['error']).toBe('execution_not_in_running_state');
    const err = await platformError(client(fake).functions.completeError({ function_execution_id: exec.executionId, error: 'nope' }));
    expect(err['error']).toBe('execution_not_in_running_state');
  });

  it('bot token completes; unknown execution; bad outputs; completeError', async () => {
    const c = client(fake);
    expect((await platformError(c.functions.completeSuccess({ function_execution_id: 'FxNOPE', outputs: {} })))['error']).toBe('function_execution_not_found');
    const e1 = fake.startFunctionExecution({ teamId: 'T1', callbackId: 'cb', inputs: {} });
    expect((await platformError(c.apiCall('functions.completeSuccess', { function_execution_id: e1.executionId, outputs: 'not-an-object' })))['error']).toBe(
      'parameter_validation_failed',
    );
    expect((await c.functions.completeError({ function_execution_id: e1.executionId, error: 'declined' })).ok).toBe(true);
    expect(fake.execution(e1.executionId)).toMatchObject({ state: 'failed', error: 'declined' });
  });

  it('expired workflow token → token_expired (manual and after 15 minutes); bot token still completes', async () => {
    const e1 = fake.startFunctionExecution({ teamId: 'T1', callbackId: 'cb', inputs: {} });
    fake.expireWorkflowToken(e1.workflowToken);
    const data = await platformError(client(fake, e1.workflowToken).functions.completeSuccess({ function_execution_id: e1.executionId, outputs: {} }));
    expect(data['error']).toBe('token_expired');
    const e2 = fake.startFunctionExecution({ teamId: 'T1', callbackId: 'cb', inputs: {} });
    fake.advanceClock(15 * 60 * 1000 + 1);
    expect((await platformError(client(fake, e2.workflowToken).chat.postMessage({ channel: 'C1', text: 'late' })))['error']).toBe('token_expired');
    expect((await client(fake).functions.completeSuccess({ function_execution_id: e1.executionId, outputs: {} })).ok).toBe(true);
    expect((await platformError(client(fake, 'xwfp-unknown').auth.test()))['error']).toBe('invalid_auth');
  });

  it("a workflow token cannot complete another execution", async () => {
    const e1 = fake.startFunctionExecution({ teamId: 'T1', callbackId: 'cb', inputs: {} });
    const e2 = fake.startFunctionExecution({ teamId: 'T1', callbackId: 'cb', inputs: {} });
    expect((await platformError(client(fake, e1.workflowToken).functions.completeSuccess({ function_execution_id: e2.executionId, outputs: {} })))['error']).toBe(
      'function_execution_not_found',
    );
  });
});

describe('response_url', () => {
  it('accepts 5 posts, then used_url; expires after 30 minutes', async () => {
    const url = fake.newResponseUrl();
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < 5; i += 1) expect((await post({ text: `r${i}` })).status).toBe(200);
    const sixth = await post({ text: 'r5' });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toMatchObject({ error: 'used_url' });
    expect(fake.responses(url).map((b) => b['text'])).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);

    const url2 = fake.newResponseUrl();
    fake.advanceClock(30 * 60 * 1000 + 1);
    const late = await fetch(url2, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    expect(late.status).toBe(404);
    expect(await late.json()).toMatchObject({ error: 'expired_url' });
  });

  it('validates blocks and applies replace_original / in_channel / ephemeral', async () => {
    const posted = await client(fake).chat.postMessage({ channel: 'C1', text: 'orig' });
    const url = fake.newResponseUrl({ channel: 'C1', messageTs: posted.ts, userId: 'U1' });
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ blocks: [section('x'.repeat(3001))] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_blocks' });
    expect((await post({ replace_original: true, text: 'replaced' })).status).toBe(200);
    expect(fake.message('C1', posted.ts ?? '')?.text).toBe('replaced');
    await post({ response_type: 'in_channel', text: 'for all' });
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['replaced', 'for all']);
    await post({ text: 'just you' });
    expect(fake.ephemerals('C1', 'U1').map((e) => e.text)).toEqual(['just you']);
    expect(fake.responses(url)).toHaveLength(3);
  });
});

describe('form bodies', () => {
  it('are read exactly as URLSearchParams reads them, malformed escapes included', () => {
    const piece = fc.constantFrom('a', 'B', '=', '&', '+', '%', '2', '0', 'F', 'é', '%C3%A9', '%E2', '%zz', ' ', '%2B', '%26', '{"x":1}');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const raw = parts.join('');
        expect([...formPairs(raw)]).toEqual([...new URLSearchParams(raw)]);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string({ unit: 'binary' })), (o) => {
        const raw = new URLSearchParams(o).toString();
        expect([...formPairs(raw)]).toEqual([...new URLSearchParams(raw)]);
      }),
      { numRuns: 2000 },
    );
  });
});
