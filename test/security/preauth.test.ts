import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, SlackDriver } from '../../src/sandbox/driver.js';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { SIGNING_SECRET, startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { freePort, startMain, waitForHealthy, type RunningProcess } from '../support/process.js';

/**
 * What an unauthenticated client can do to /slack/events: nothing it sends is decoded before the
 * signature checks out, bodies are bounded, slow clients are cut off, and connections are capped
 * per address. The abuse runs against the real entry point under `npm start`'s heap caps.
 */

const MB = 1024 * 1024;
const LIMIT = 4 * MB; // the guard's body limit (Bolt's default)

interface Answer {
  status: number | undefined;
  error?: string;
}

/** POSTs `body` with exactly `headers`; the status, or the socket error when there was none. */
function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve) => {
    let status: number | undefined;
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      status = res.statusCode;
      res.resume();
      res.on('end', () => resolve({ status }));
      res.on('error', () => resolve({ status }));
    });
    req.on('error', (err) => resolve({ status, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
}

function sign(body: Buffer | string, ts = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET): Record<string, string> {
  const hmac = createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${hmac}` };
}

/** Hostile bodies just under the limit, of every content type and shape. */
function hostileBodies(): { name: string; type: string | undefined; body: Buffer }[] {
  const size = LIMIT - 64;
  const fill = (prefix: string, unit: string) => Buffer.from(prefix + unit.repeat(Math.floor((size - prefix.length) / unit.length)));
  return [
    { name: "form of '+' (each decodes to a space)", type: FORM_CONTENT_TYPE, body: fill('a=', '+') },
    { name: "form of '&' (empty fields)", type: FORM_CONTENT_TYPE, body: fill('', '&') },
    { name: 'form of %xx escapes', type: FORM_CONTENT_TYPE, body: fill('a=', '%41') },
    { name: 'form of many fields', type: `${FORM_CONTENT_TYPE}; charset=utf-8`, body: fill('', 'a=b&') },
    { name: 'form with a deep JSON payload', type: FORM_CONTENT_TYPE, body: fill('payload=', '%5B') },
    { name: 'deep JSON', type: JSON_CONTENT_TYPE, body: fill('', '[') },
    { name: 'a 4 MB JSON string', type: JSON_CONTENT_TYPE, body: Buffer.from(`"${'x'.repeat(size - 2)}"`) },
    { name: 'text/plain', type: 'text/plain', body: fill('', 'z') },
    { name: 'no content type', type: undefined, body: fill('', '{') },
  ];
}

function headersFor(type: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(type ? { 'content-type': type } : {}), ...extra };
}

/** The process's resident memory and CPU time so far (Linux /proc). */
function processStats(pid: number): { rssMb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
  return { rssMb: rssKb / 1024, cpuMs: ticks * 10 };
}


describe('unsigned abuse against the real entry point (npm start heap caps)', () => {
  let dir: string;
  let fake: FakeSlack;
  let proc: RunningProcess;
  let url: string;
  let slack: SlackDriver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-preauth-'));
    fake = await FakeSlack.start();
    fake.addUser({ id: 'U1', teamId: TEAM });
    const port = await freePort();
    proc = startMain(
      { SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: fake.apiUrl, PORT: String(port), DATABASE_URL: join(dir, 'abuse.db'), LOG_LEVEL: 'info' },
      ['--max-old-space-size=128', '--max-semi-space-size=4'],
    );
    await waitForHealthy(`http://127.0.0.1:${port}/healthz`);
    url = `http://127.0.0.1:${port}/slack/events`;
    slack = new SlackDriver({ appUrl: url, signingSecret: SIGNING_SECRET, fake });
  }, 30_000);
  afterAll(async () => {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('unsigned and wrongly signed 4 MB bodies of every shape get 401, one by one and many at once; the process stays up, bounded, and serves the next signed request', async () => {
    const bodies = hostileBodies();
    const before = processStats(proc.child.pid as number);

    // One by one: unsigned, then signed with another secret (this one is read and hashed, never decoded).
    const cpuBefore = processStats(proc.child.pid as number).cpuMs;
    for (const b of bodies) {
      expect(await post(url, b.body, headersFor(b.type)), `unsigned ${b.name}`).toMatchObject({ status: 401 });
    }
    const unsignedCpuMs = processStats(proc.child.pid as number).cpuMs - cpuBefore;
    for (const b of bodies) {
      expect(await post(url, b.body, headersFor(b.type, sign(b.body, undefined, 'another-secret'))), `wrongly signed ${b.name}`).toMatchObject({ status: 401 });
    }

    // Many at once, all in parallel: every unsigned one is refused unread (401); a wrongly signed
    // one is read and refused (401), or turned away (503) while the bytes held at once are at their cap.
    const [unsigned, wronglySigned] = await Promise.all([
      Promise.all(bodies.map((b) => post(url, b.body, headersFor(b.type)))),
      Promise.all(bodies.map((b) => post(url, b.body, headersFor(b.type, sign(b.body, undefined, 'another-secret'))))),
    ]);
    expect(unsigned.map((a) => a.status)).toEqual(bodies.map(() => 401));
    for (const a of wronglySigned) expect([401, 503]).toContain(a.status);

    const after = processStats(proc.child.pid as number);
    console.log(
      `pre-auth abuse: ${bodies.length} unsigned ~4 MB bodies cost ${unsignedCpuMs} ms CPU in all (${(unsignedCpuMs / bodies.length).toFixed(1)} ms each, /proc tick 10 ms); ` +
        `RSS ${before.rssMb.toFixed(0)} MB before, ${after.rssMb.toFixed(0)} MB after ${bodies.length * 4} bodies`,
    );
    expect(proc.child.exitCode).toBeNull();
    expect(after.rssMb).toBeLessThan(before.rssMb + 150);

    // Still serving Slack.
    const res = await slack.appHomeOpened({ teamId: TEAM, userId: 'U1' });
    expect(res.status).toBe(200);
    await expect.poll(() => fake.callsTo('views.publish').length).toBeGreaterThan(0);
    expect(proc.output()).not.toMatch(/heap out of memory|FATAL/);
  }, 120_000);

  it('a body over the limit gets 413, whether its length is declared or it is streamed (chunked)', async () => {
    // The client sends part of the body and waits for the answer, as a well-behaved one would.
    const answer = (headers: Record<string, string>, data: Buffer) =>
      new Promise<Answer>((resolve) => {
        const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
          res.resume();
          resolve({ status: res.statusCode });
        });
        req.on('error', (err) => resolve({ status: undefined, error: (err as NodeJS.ErrnoException).code }));
        req.write(data);
      });
    const big = Buffer.alloc(LIMIT + MB, 'a');
    const declared = { 'content-length': String(big.length) };
    expect(await answer(headersFor(FORM_CONTENT_TYPE, declared), big.subarray(0, 1024))).toMatchObject({ status: 413 });
    expect(await answer(headersFor(JSON_CONTENT_TYPE, { ...declared, ...sign(big) }), big.subarray(0, 1024))).toMatchObject({ status: 413 });
    // No content-length: the guard counts what arrives and stops at the limit.
    expect(await answer(headersFor(JSON_CONTENT_TYPE, { 'transfer-encoding': 'chunked', ...sign(big) }), big)).toMatchObject({ status: 413 });
    expect(proc.child.exitCode).toBeNull();
  }, 60_000);
});

describe('signature, timestamps and media types (in-process app)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    t.fake.addUser({ id: 'U1', teamId: TEAM });
  });
  afterAll(async () => t.dispose());

  // Each invocation has its own trigger id, as Slack's do (a /task add delivered again with the same one makes no second task).
  let invocation = 0;
  const command = (text: string) =>
    new URLSearchParams({ command: '/task', text, team_id: TEAM, user_id: 'U1', channel_id: 'C1', trigger_id: `1.2.${(invocation += 1)}`, response_url: `${t.fake.baseUrl}/response/x` }).toString();
  const taskCount = () => (t.store.sqlite.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;

  it.each([
    ['one hour in the future', 3600],
    ['ten years in the future', 10 * 365 * 86_400],
    ['six minutes in the past', -360],
  ])('a correctly signed request with a timestamp %s gets 401 and changes nothing', async (_name, offset) => {
    const before = taskCount();
    const calls = t.fake.calls.length;
    const res = await t.slack.send(command('add From another time'), FORM_CONTENT_TYPE, {}, { timestamp: Math.floor(Date.now() / 1000) + offset });
    await t.settle();
    expect(res.status).toBe(401);
    expect(taskCount()).toBe(before);
    expect(t.fake.calls.slice(calls)).toEqual([]);
  });

  it('a timestamp 4 minutes ahead (clock skew within 5 minutes) is accepted', async () => {
    const before = taskCount();
    const res = await t.slack.send(command('add Slightly early'), FORM_CONTENT_TYPE, {}, { timestamp: Math.floor(Date.now() / 1000) + 240 });
    await t.settle();
    expect(res.status).toBe(200);
    expect(taskCount()).toBe(before + 1);
  });

  it('the media type is compared without its parameters: a command with charset=utf-8 is served', async () => {
    const before = taskCount();
    const res = await t.slack.send(command('add Charset café'), 'application/x-www-form-urlencoded; charset=utf-8');
    await t.settle();
    expect(res.status).toBe(200);
    expect(taskCount()).toBe(before + 1);
    const row = t.store.sqlite.prepare('SELECT title FROM tasks ORDER BY id DESC LIMIT 1').get() as { title: string };
    expect(row.title).toBe('Charset café');

    const event = JSON.stringify(t.slack.eventEnvelope(TEAM, { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.1' }));
    const publishes = t.fake.callsTo('views.publish').length;
    expect((await t.slack.send(event, 'Application/JSON; charset=UTF-8')).status).toBe(200);
    await t.settle();
    expect(t.fake.callsTo('views.publish').length).toBeGreaterThan(publishes);
  });

  it('url_verification is answered only when signed', async () => {
    expect((await t.slack.urlVerification('abc', { signature: 'none' })).status).toBe(401);
    expect((await t.slack.urlVerification('abc', { signature: 'bad' })).status).toBe(401);
    expect((await t.slack.urlVerification('abc')).json).toEqual({ challenge: 'abc' });
  });

  it('the signature covers the raw bytes: a body whose bytes differ but decode alike is refused', async () => {
    const body = Buffer.from(command('add Bytes'));
    const headers = { 'content-type': FORM_CONTENT_TYPE, ...sign(body) };
    // The same text with an invalid UTF-8 byte appended decodes to nearly the same string.
    const tampered = Buffer.concat([body, Buffer.from([0xff])]);
    expect((await post(t.url, tampered, headers)).status).toBe(401);
    expect((await post(t.url, body, headers)).status).toBe(200);
    await t.settle();
  });

  it('app_rate_limited is answered 200 at once and logged as a warning', async () => {
    const body = JSON.stringify({ token: 'x', type: 'app_rate_limited', team_id: TEAM, minute_rate_limited: 1518467820, api_app_id: 'A1' });
    const res = await t.slack.send(body, JSON_CONTENT_TYPE);
    expect(res.status).toBe(200);
    expect(t.logger.lines.some((l) => l.level === 'warn' && l.message.includes(`rate-limited event delivery for team ${TEAM}`))).toBe(true);
  });
});

describe('refusals in the log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.dispose());

  it('twenty wrongly signed requests in a row make one warning, not twenty', async () => {
    const body = new URLSearchParams({ command: '/task', text: 'add Nope', team_id: TEAM, user_id: 'U1' }).toString();
    for (let i = 0; i < 20; i++) expect((await t.slack.send(body, FORM_CONTENT_TYPE, {}, { signature: 'bad' })).status).toBe(401);
    const refusals = t.logger.lines.filter((l) => l.message.startsWith('Refused a request'));
    expect(refusals.map((l) => `${l.level}: ${l.message}`)).toEqual(['warn: Refused a request to /slack/events (401): signature mismatch']);
  });
});

describe('slow clients and connection caps', () => {
  let t: TestApp;
  const limits = { headersTimeoutMs: 1_000, requestTimeoutMs: 1_500, checkEveryMs: 200, maxConnectionsPerAddress: 10 };
  beforeAll(async () => {
    t = await startTestApp({ http: limits });
  });
  afterAll(async () => t.dispose());

  /** A socket from `localAddress` that sends `head`, then one byte every `everyMs`; resolves when the server closes it. */
  function trickle(head: string, opts: { localAddress?: string; everyMs?: number } = {}): { closed: Promise<number>; socket: net.Socket } {
    const started = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port: t.port, localAddress: opts.localAddress });
    socket.on('error', () => {});
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => socket.write('a'), opts.everyMs ?? 300);
    });
    const closed = new Promise<number>((resolve) =>
      socket.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      }),
    );
    return { closed, socket };
  }

  const bodyHead = `POST /slack/events HTTP/1.1\r\nHost: x\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: 1000\r\nx-slack-request-timestamp: ${Math.floor(Date.now() / 1000)}\r\nx-slack-signature: v0=${'0'.repeat(64)}\r\n\r\n`;

  it('a body trickled a byte at a time is cut off at the request timeout', async () => {
    // Signed-looking headers, so the guard waits for the body (an unsigned one is refused at once).
    const { closed } = trickle(bodyHead);
    const ms = await closed;
    expect(ms).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 100);
    expect(ms).toBeLessThan(limits.requestTimeoutMs + 3_000);
  });

  it('headers trickled a byte at a time are cut off at the headers timeout', async () => {
    const { closed } = trickle('POST /slack/events HTTP/1.1\r\nHost: x\r\nx-a: ');
    const ms = await closed;
    expect(ms).toBeLessThan(limits.headersTimeoutMs + 3_000);
  });

  it('one address cannot hold more than its share of connections; /healthz from elsewhere still answers', async () => {
    const held = Array.from({ length: 30 }, () => trickle(bodyHead, { localAddress: '127.0.0.2', everyMs: 100 }));
    // Those past the cap are closed at once.
    const early = await Promise.all(held.map((h) => Promise.race([h.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 500))])));
    expect(early.filter((s) => s === 'open').length).toBe(limits.maxConnectionsPerAddress);

    const health = await fetch(`http://127.0.0.1:${t.port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    expect(health.status).toBe(200);
    // The held ones are cut off by the request timeout too.
    await Promise.all(held.map((h) => h.closed));
  });
});

describe('memory held by bodies arriving at once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ http: { bufferedBytesLimit: MB } });
  });
  afterAll(async () => t.dispose());

  it('past the cap a request gets 503; once the first is done, the next is served', async () => {
    // A signed-looking body of 900 KB, all but its last byte sent: held while it arrives.
    const slow = Buffer.alloc(900 * 1024, 'a');
    const first = http.request(t.url, { method: 'POST', headers: { 'content-type': JSON_CONTENT_TYPE, 'content-length': String(slow.length), ...sign(slow) } });
    const firstAnswer = new Promise<number | undefined>((resolve) => {
      first.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      first.on('error', () => resolve(undefined));
    });
    first.write(slow.subarray(0, slow.length - 1));
    await new Promise((r) => setTimeout(r, 300));

    const second = Buffer.alloc(200 * 1024, 'b');
    expect(await post(t.url, second, { 'content-type': JSON_CONTENT_TYPE, ...sign(second) })).toMatchObject({ status: 503 });

    first.end(slow.subarray(slow.length - 1));
    expect(await firstAnswer).toBe(400); // verified, then refused as not JSON: it was read in full
    const third = Buffer.from(JSON.stringify(t.slack.eventEnvelope(TEAM, { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.1' })));
    expect(await post(t.url, third, { 'content-type': JSON_CONTENT_TYPE, ...sign(third) })).toMatchObject({ status: 200 });
  });
});

describe('a listener that throws still answers Slack', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    t.tasklane.registry.view('test_throws', async () => {
      throw new Error('listener blew up');
    });
    t.tasklane.registry.action('test_throws_action', async () => {
      throw new Error('action blew up');
    });
  });
  afterAll(async () => t.dispose());

  it('a modal submission keeps its form, with a message under its first input', async () => {
    const res = await t.slack.sendPayload({
      type: 'view_submission',
      team: { id: TEAM, domain: 'x' },
      user: { id: 'U1', username: 'u', name: 'u', team_id: TEAM },
      api_app_id: 'A1',
      token: 't',
      trigger_id: '1.2.3',
      view: {
        id: 'V1',
        type: 'modal',
        callback_id: 'test_throws',
        hash: 'h',
        private_metadata: '',
        blocks: [
          { type: 'section', block_id: 'intro', text: { type: 'mrkdwn', text: 'x' } },
          { type: 'input', block_id: 'title_block', label: { type: 'plain_text', text: 'Title' }, element: { type: 'plain_text_input', action_id: 'title' } },
        ],
        state: { values: { title_block: { title: { type: 'plain_text_input', value: 'x' } } } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_action: 'errors', errors: { title_block: expect.stringContaining('nothing was saved') } });
    expect(t.logger.text()).toContain('a listener failed (view_submission test_throws');
  });

  it('a button click is acknowledged with 200', async () => {
    const res = await t.slack.sendPayload({
      type: 'block_actions',
      team: { id: TEAM, domain: 'x' },
      user: { id: 'U1', username: 'u', name: 'u', team_id: TEAM },
      api_app_id: 'A1',
      token: 't',
      container: { type: 'message', message_ts: '1.2', channel_id: 'C1' },
      trigger_id: '1.2.3',
      actions: [{ type: 'button', action_id: 'test_throws_action', block_id: 'b', value: 'x', action_ts: '1.1' }],
    });
    expect(res.status).toBe(200);
    expect(t.logger.text()).toContain('action blew up');
  });
});
