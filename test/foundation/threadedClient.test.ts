import { ErrorCode } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { HomeThread } from '../../src/features/home/thread.js';
import { ThreadedWebClient } from '../../src/slack/threadedClient.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';

const ALICE = 'UALICE';

describe('the bot client’s Web API calls on the helper thread', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.dispose();
  });

  async function ready(): Promise<{ thread: HomeThread; client: ThreadedWebClient; channel: string }> {
    t = await startTestApp();
    t.fake.addUser({ id: ALICE, teamId: TEAM });
    const thread = t.services.homes as HomeThread;
    const client = t.services.client as ThreadedWebClient;
    expect(thread).toBeInstanceOf(HomeThread);
    expect(client).toBeInstanceOf(ThreadedWebClient);
    await client.auth.test(); // starts the thread; made here while it boots
    await expect.poll(() => thread.isReady, { timeout: 10_000 }).toBe(true);
    return { thread, client, channel: t.fake.dmChannel(ALICE) };
  }

  it('go through the thread once it is ready, with Slack’s answers and errors intact', async () => {
    const { client, channel } = await ready();
    const before = client.offloadedCalls;
    const res = await client.chat.postMessage({ channel, text: 'From the thread' });
    expect(res.ok).toBe(true);
    expect(typeof res.ts).toBe('string');
    expect(t.fake.message(channel, res.ts as string)?.text).toBe('From the thread');

    t.fake.failNext('chat.update', { error: 'message_not_found' });
    const err = (await client.chat.update({ channel, ts: res.ts as string, text: 'x' }).catch((e: unknown) => e)) as { code?: string; data?: { error?: string }; message?: string };
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data?.error).toBe('message_not_found');
    expect(err.message).toContain('message_not_found');
    expect(client.offloadedCalls).toBe(before + 2);
  });

  it('are made on the main thread past 64 waiting on the thread, so nobody waits behind a long queue', async () => {
    const { client, channel } = await ready();
    const before = client.offloadedCalls;
    t.fake.failNext('chat.postMessage', { delayMs: 300 }, 70);
    const results = await Promise.all(Array.from({ length: 70 }, (_, i) => client.chat.postMessage({ channel, text: `burst ${i}` })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(client.offloadedCalls - before).toBe(64);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => String(c.args['text']).startsWith('burst '))).toHaveLength(70);
  });

  it('a call the dying thread never answered fails like one Slack did not answer (not sent twice); later calls are made here', async () => {
    const { thread, client, channel } = await ready();
    t.fake.failNext('chat.postMessage', { delayMs: 1_000 });
    const pending = client.chat.postMessage({ channel, text: 'cut short' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200)); // the call is at the fake, which holds it for a second
    await thread['worker']?.terminate();
    const err = (await pending) as { code?: string };
    expect(err.code).toBe(ErrorCode.RequestError);
    expect(t.logger.lines.some((l) => l.level === 'error' && l.message.includes('Slack called on the main thread from now on'))).toBe(true);
    const offloaded = client.offloadedCalls;
    const after = await client.chat.postMessage({ channel, text: 'after the thread' });
    expect(after.ok).toBe(true);
    expect(client.offloadedCalls).toBe(offloaded);
    // Slack (the fake) still finishes the call it was given; nobody sent it a second time.
    await expect.poll(() => t.fake.callsTo('chat.postMessage').filter((c) => c.args['text'] === 'cut short').length, { timeout: 3_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.args['text'] === 'cut short')).toHaveLength(1);
  });
});
