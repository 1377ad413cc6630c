import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { openStore } from '../../src/store/db.js';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { CapturingLogger } from '../support/harness.js';

describe('Socket Mode (SLACK_APP_TOKEN set)', () => {
  it('connects through SLACK_API_URL with the app token, and needs no signing secret', async () => {
    const fake = await FakeSlack.start();
    const store = openStore(':memory:');
    const tasklane = createApp({
      config: {
        botToken: fake.botToken,
        signingSecret: undefined,
        appToken: 'xapp-1-A111-222-abc',
        slackApiUrl: fake.apiUrl,
        port: 0,
        databaseUrl: ':memory:',
        logLevel: 'error',
      },
      store,
      logger: new CapturingLogger(),
    });
    const started = tasklane.start(0).catch((e: unknown) => e);
    const call = await fake.waitFor('apps.connections.open');
    expect(call.token).toBe('xapp-1-A111-222-abc');
    await Promise.race([started, new Promise((r) => setTimeout(r, 200))]);
    await tasklane.stop(1000).catch(() => {});
    store.close();
    await fake.stop();
  });
});
