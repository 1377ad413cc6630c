import { WebClient } from '@slack/web-api';
import type { FakeSlack } from '../../src/sandbox/fakeSlack.js';

export function client(fake: FakeSlack, token: string = fake.botToken): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
}

/** Await a WebClient call that must fail; return Slack's response body. */
export async function platformError(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err: unknown) {
    if (typeof err === 'object' && err !== null && 'data' in err) {
      const data = (err as { data: unknown }).data;
      if (typeof data === 'object' && data !== null) return data as Record<string, unknown>;
    }
    throw err;
  }
  throw new Error('expected the call to fail');
}

export function section(text: string, blockId?: string): Record<string, unknown> {
  return { type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text } };
}

export function modal(blocks: unknown[] = [section('hi')], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'modal', title: { type: 'plain_text', text: 'Title' }, close: { type: 'plain_text', text: 'Close' }, blocks, ...extra };
}
