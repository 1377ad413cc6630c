// patches/@slack+web-api+*.patch (applied by `npm install`'s postinstall): @slack/web-api
// serialises every request body, header set and response for its debug log, even when nothing
// logs at debug. The patch only does that work at debug level. This proves the patch is applied
// (an `npm ci` that skipped it fails here) and that debug logging still carries the bodies.
import { LogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { CapturingLogger } from '../support/harness.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await FakeSlack.start();
  fake.addUser({ id: 'UPATCH001', teamId: 'TPATCH001' });
});
afterAll(async () => fake?.stop());

async function callAt(level: LogLevel): Promise<CapturingLogger> {
  const logger = new CapturingLogger();
  logger.setLevel(level);
  const client = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, logger });
  await client.chat.postMessage({ channel: fake.dmChannel('UPATCH001'), text: 'patched body' });
  return logger;
}

describe('@slack/web-api request logging (patched)', () => {
  it('builds no request body, header or result log line below debug level', async () => {
    const logger = await callAt(LogLevel.INFO);
    expect(fake.callsTo('chat.postMessage').at(-1)?.args.text).toBe('patched body');
    const text = logger.text();
    expect(text).toContain('http request url'); // the cheap lines are untouched
    expect(text).not.toContain('http request body');
    expect(text).not.toContain('http request headers');
    expect(text).not.toContain('http request result');
  });

  it('still logs them, redacted, at debug level', async () => {
    const text = (await callAt(LogLevel.DEBUG)).text();
    expect(text).toMatch(/http request body: .*patched body/);
    expect(text).toMatch(/http request headers: .*\[\[REDACTED\]\]/);
    expect(text).toMatch(/http request result: .*"ok":true/);
    expect(text).not.toContain(fake.botToken);
  });
});
