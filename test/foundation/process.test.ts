import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SlackDriver } from '../../src/sandbox/driver.js';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { SIGNING_SECRET, TEAM } from '../support/harness.js';
import { freePort, startMain, waitForHealthy } from '../support/process.js';


describe('the real entry point (npm start)', () => {
  let dir: string;
  let fake: FakeSlack;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-proc-'));
    fake = await FakeSlack.start();
  });
  afterAll(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with some Slack credentials but not all, exits non-zero before listening and names each missing variable (no sandbox)', async () => {
    const p = startMain({ SLACK_SIGNING_SECRET: SIGNING_SECRET, DATABASE_URL: join(dir, 'none.db') });
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    expect(p.output()).toContain('SLACK_BOT_TOKEN is missing');
    expect(p.output()).not.toContain('sandbox');
    expect(p.output()).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace

    const appOnly = startMain({ SLACK_APP_TOKEN: 'xapp-1-A1-2-abc', DATABASE_URL: join(dir, 'none.db') });
    expect((await appOnly.exited).code).not.toBe(0);
    expect(appOnly.output()).toContain('SLACK_BOT_TOKEN is missing');
  });

  it('with no Slack credentials at all, serves the sandbox: the page and the Slack emulator on the same loopback port', async () => {
    const port = await freePort();
    const p = startMain({ PORT: String(port), DATABASE_URL: join(dir, 'sandbox.db') });
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`);
      // The line is printed once start-up has finished, which may come just after the first answer.
      await vi.waitFor(() => expect(p.output()).toContain(`Tasklane sandbox: open http://localhost:${port}/`), { timeout: 10_000 });
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(await page.text()).toContain('Tasklane sandbox');
      // The emulator answers like Slack: a Web API call without a token is refused.
      const api = await fetch(`http://127.0.0.1:${port}/api/auth.test`, { method: 'POST' });
      expect(await api.json()).toEqual({ ok: false, error: 'not_authed' });
      // Another site's page cannot drive it (the Host is checked).
      const foreign = await new Promise<number | undefined>((resolve) =>
        http.get({ host: '127.0.0.1', port, path: '/sandbox/state', headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }),
      );
      expect(foreign).toBe(403);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('with malformed configuration, names every invalid variable and what it should look like', async () => {
    const p = startMain({
      SLACK_BOT_TOKEN: 'xoxp-user-token',
      SLACK_SIGNING_SECRET: 'not hex!',
      PORT: '99999',
      LOG_LEVEL: 'loud',
      SLACK_API_URL: 'slack.com/api',
      DATABASE_URL: join(dir, 'none.db'),
    });
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'PORT', 'LOG_LEVEL', 'SLACK_API_URL']) {
      expect(p.output()).toContain(name);
    }
    expect(p.output()).toContain('xoxb-');
  });

  it('a token Slack refuses stops start-up with a clear message', async () => {
    const p = startMain({
      SLACK_BOT_TOKEN: 'xoxb-revoked-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: String(await freePort()),
      DATABASE_URL: join(dir, 'revoked.db'),
    });
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    expect(p.output()).toContain('invalid_auth');
  });

  it('SIGTERM while a request is in flight: the request completes, then the process exits 0', async () => {
    const port = await freePort();
    const p = startMain({
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: String(port),
      DATABASE_URL: join(dir, 'sigterm.db'),
      LOG_LEVEL: 'info',
    });
    await waitForHealthy(`http://127.0.0.1:${port}/healthz`);
    // Real credentials: no sandbox page.
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    fake.addUser({ id: 'U1', teamId: TEAM });
    const slack = new SlackDriver({ appUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET, fake });

    // The listener's Slack call takes 1.5 s: it is still running when SIGTERM arrives.
    fake.failNext('views.publish', { delayMs: 1500 });
    const res = await slack.appHomeOpened({ teamId: TEAM, userId: 'U1' });
    expect(res.status).toBe(200);
    const signalledAt = Date.now();
    p.child.kill('SIGTERM');

    const { code, at } = await p.exited;
    expect(code).toBe(0);
    const publish = fake.callsTo('views.publish');
    expect(publish).toHaveLength(1);
    expect(publish[0]?.response.ok).toBe(true);
    expect(at - signalledAt).toBeGreaterThanOrEqual(1000); // it waited for the handler
    expect(p.output()).toContain('Tasklane stopped');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow(); // no longer accepting
  });
});
