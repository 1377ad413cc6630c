// Shared tools for the security tests: hostile strings, a checker for what Slack received,
// and store snapshots that prove a request changed nothing.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { RecordedCall } from '../../src/sandbox/fakeSlack.js';
import type { TestApp } from '../support/harness.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One seed for every property in this folder: a failure is replayed by running the file again. */
export const SEED = Number(process.env.FC_SEED ?? 20_250_914);

/**
 * fast-check parameters: seeded, and a failure report that names the seed and path (to replay it
 * with FC_SEED) and shows the counterexample cut to a readable size (a 50k-character input would
 * otherwise bury the reason).
 */
export function fcParams<T = unknown>(numRuns: number): fc.Parameters<T> {
  return {
    seed: SEED,
    numRuns,
    endOnFailure: true,
    reporter(details) {
      if (!details.failed) return;
      const example = short(details.counterexample);
      const err = details.errorInstance as { message?: unknown; actual?: unknown } | undefined;
      const actual = err && 'actual' in err ? `\nActual: ${short(err.actual)}` : '';
      const cause = `${typeof err?.message === 'string' ? err.message : String(err)}${actual}`;
      throw new Error(
        `Property failed after ${details.numRuns} run(s) (seed ${details.seed}, path "${details.counterexamplePath ?? ''}"; replay with FC_SEED=${details.seed})\n` +
          `Counterexample: ${example}\nCaused by: ${cause.slice(0, 4000)}`,
      );
    },
  };
}

function short(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…(${v.length} chars)` : v));
  return (json ?? String(value)).slice(0, 3000);
}

// ------------------------------------------------------------------ hostile strings

/** Ids that belong to nobody: seeing them mentioned in anything Slack received is a forged mention. */
export const HOSTILE_IDS = { user: 'UHOSTILE1', grid: 'W0HOSTILE', channel: 'CHOSTILE1', group: 'S0EVIL01' } as const;

/** Mrkdwn control sequences and look-alikes, as Slack would send them and as a user could type them. */
export const CONTROL_PIECES = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!here|here>',
  `<!subteam^${HOSTILE_IDS.group}>`,
  `<!subteam^${HOSTILE_IDS.group}|@evil-team>`,
  `<@${HOSTILE_IDS.user}>`,
  `<@${HOSTILE_IDS.user}|boss>`,
  `<@${HOSTILE_IDS.grid}>`,
  `<#${HOSTILE_IDS.channel}>`,
  `<#${HOSTILE_IDS.channel}|general>`,
  '<https://evil.example/login|Reset your password>',
  '<http://evil.example>',
  '<mailto:ceo@evil.example|the CEO>',
  '<!date^1700000000^{date}|forged date>',
  '&',
  '&amp;',
  '&lt;',
  '&gt;',
  '&lt;!channel&gt;',
  '&amp;lt;!here&amp;gt;',
  '<',
  '>',
  '<<!channel>>',
  '*',
  '_',
  '~',
  '`',
  '```',
  '> ',
  '\n',
  '|',
  '!',
  '^',
  '"',
  '“',
  '”',
  '#1',
  ' due ',
  'tomorrow',
  '@',
  ' ',
  '\t',
] as const;

/** Unicode that breaks naive code: RTL overrides, zero-width characters, surrogate pairs, combining marks. */
export const UNICODE_PIECES = [
  '\u202E', // right-to-left override
  '\u202D',
  '\u200F', // right-to-left mark
  '\u200B', // zero-width space
  '\u200D', // zero-width joiner
  '\u2060',
  '\uFEFF', // byte order mark
  '\u00A0',
  '\u3000',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '👍🏽',
  '𝕳𝖊𝖑𝖑𝖔',
  '😀',
  'e\u0301',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  'שלום',
  'مرحبا بالعالم',
  '中文字符',
  '\u0000',
  '\u0007',
] as const;

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CONTROL_PIECES) },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE_PIECES) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }) },
);

/** A short hostile text: control sequences mixed with odd unicode and plain words. */
export const hostileShort = fc.array(piece, { minLength: 1, maxLength: 24 }).map((parts) => parts.join(''));

/** 10k–50k characters: one hostile piece (or a short hostile text) repeated. */
export const hostileHuge = fc
  .tuple(fc.oneof(fc.constantFrom('a', '&', '<!channel> ', '&amp;', '😀', 'a\n', '\u200B', '<@UHOSTILE1>'), hostileShort), fc.integer({ min: 10_000, max: 50_000 }))
  .map(([unit, length]) => {
    const u = unit === '' ? 'x' : unit;
    return u.repeat(Math.ceil(length / u.length)).slice(0, length);
  });

/** 1,000–3,000 characters, around Block Kit's limits (2000 per comment, 3000 per section): repeated short lines, entities. */
export const hostileMedium = fc
  .tuple(fc.oneof(fc.constantFrom('a\n', '&\n', '<!here>\n', '&amp;', '> x\n', '😀\n', '\n\n'), hostileShort), fc.integer({ min: 1000, max: 3000 }))
  .map(([unit, length]) => {
    const u = unit === '' ? 'x' : unit;
    return u.repeat(Math.ceil(length / u.length)).slice(0, length);
  });

/** What every text entry point is fed: mostly short hostile text, some around the limits, some huge, some empty. */
export const hostileText = fc.oneof(
  { weight: 12, arbitrary: hostileShort },
  { weight: 3, arbitrary: hostileMedium },
  { weight: 2, arbitrary: hostileHuge },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n\t ', '\u200B') },
);

// ------------------------------------------------------------------ what Slack received

export interface Mark {
  calls: number;
  responses: number;
  rejections: number;
  logs: number;
}

export function mark(t: TestApp): Mark {
  return { calls: t.fake.calls.length, responses: t.fake.allResponses().length, rejections: t.fake.responseUrlRejections.length, logs: t.logger.lines.length };
}

/** A mrkdwn string Slack received, and where. */
export interface Received {
  where: string;
  text: string;
}

/**
 * Every string Slack will render as mrkdwn inside `value`: text objects of type `mrkdwn`, and the
 * top-level `text` of a message (chat.* and response_url bodies). plain_text objects render
 * literally (a `<!channel>` there is only characters), so they are skipped.
 */
export function mrkdwnIn(value: unknown, where: string, topLevelText = false): Received[] {
  const out: Received[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}/${i}`));
      return;
    }
    if (!isObj(v)) return;
    if (v['type'] === 'mrkdwn' && typeof v['text'] === 'string') {
      out.push({ where: `${path}/text`, text: v['text'] });
      return;
    }
    if (v['type'] === 'plain_text') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'private_metadata' || k === 'value' || k === 'initial_value') continue;
      walk(x, `${path}/${k}`);
    }
  };
  if (topLevelText && isObj(value) && typeof value['text'] === 'string' && value['mrkdwn'] !== false) {
    out.push({ where: `${where}/text`, text: value['text'] });
  }
  walk(value, where);
  return out;
}

const MESSAGE_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral']);

/** Everything Slack received since `m`: Web API calls, response_url bodies, and extra payloads (ack bodies). */
export function receivedSince(t: TestApp, m: Mark, extra: { where: string; body: unknown }[] = []): Received[] {
  const out: Received[] = [];
  for (const [i, c] of t.fake.calls.slice(m.calls).entries()) {
    out.push(...mrkdwnIn(c.args, `${c.method}#${m.calls + i}`, MESSAGE_METHODS.has(c.method)));
  }
  for (const [i, r] of t.fake.allResponses().slice(m.responses).entries()) out.push(...mrkdwnIn(r.body, `response_url#${m.responses + i}`, true));
  for (const e of extra) out.push(...mrkdwnIn(e.body, e.where, true));
  return out;
}

/** The `<…>` sequences the app itself may send: mentions of real people and channels, dates, Slack permalinks. */
export interface Allowed {
  users: ReadonlySet<string>;
  channels?: ReadonlySet<string>;
}

const DATE_SEQUENCE = /^!date\^\d{1,12}\^\{[a-z_]+\}(?: at \{time\})?\|\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/;
const PERMALINK_SEQUENCE = /^https:\/\/fake\.slack\.com\/archives\/[A-Z0-9]+\/p\d+\|[Ss]ource message$/;

/** Why a `<…>` sequence found in mrkdwn is not one the app may send, or undefined when it is fine. */
function judgeSequence(inner: string, allowed: Allowed): string | undefined {
  if (inner.startsWith('@')) return allowed.users.has(inner.slice(1)) ? undefined : 'mention of someone not in the test';
  if (inner.startsWith('#')) return allowed.channels?.has(inner.slice(1)) ? undefined : 'channel link not made by the app';
  if (inner.startsWith('!')) return DATE_SEQUENCE.test(inner) ? undefined : 'broadcast or special mention';
  if (PERMALINK_SEQUENCE.test(inner)) return undefined;
  return 'link or unknown control sequence';
}

/**
 * The forged control sequences in what Slack received: every `<…>` must be a mention of a real
 * person (or channel) of the test, a date or a Slack permalink the app made, and no `<` or `>` may
 * stand outside such a sequence (except `>` opening a quote line, which the app uses).
 */
export function forgedSequences(received: Received[], allowed: Allowed): string[] {
  const problems: string[] = [];
  for (const { where, text } of received) {
    const rest = text.replace(/<([^<>]*)>/g, (all, inner: string) => {
      const why = judgeSequence(inner, allowed);
      if (why) problems.push(`${where}: ${why}: ${JSON.stringify(all.slice(0, 80))}`);
      return '';
    });
    if (rest.includes('<')) problems.push(`${where}: raw "<" outside a control sequence near ${JSON.stringify(around(rest, rest.indexOf('<')))}`);
    const gt = rest.split('\n').findIndex((line) => line.slice(1).includes('>'));
    if (gt !== -1) problems.push(`${where}: raw ">" in mrkdwn: ${JSON.stringify(rest.split('\n')[gt]?.slice(0, 80))}`);
  }
  return problems;
}

function around(text: string, at: number): string {
  return text.slice(Math.max(0, at - 30), at + 30);
}

/** Slack's answers that mean the app sent something Slack refuses (over a limit, malformed blocks). */
export const REFUSALS = new Set(['invalid_blocks', 'invalid_blocks_format', 'invalid_arguments', 'msg_too_long', 'view_too_large', 'invalid_payload']);

export function refusedSince(t: TestApp, m: Mark): string[] {
  const calls = t.fake.calls
    .slice(m.calls)
    .filter((c: RecordedCall) => REFUSALS.has(String(c.response['error'])))
    .map((c) => `${c.method}: ${String(c.response['error'])} ${JSON.stringify(c.response['errors'] ?? (c.response['response_metadata'] as Obj | undefined)?.['messages'] ?? '')}`);
  const urls = t.fake.responseUrlRejections.slice(m.rejections).map((r) => `response_url: ${r.status} ${r.error}`);
  return [...calls, ...urls];
}

/** Log lines that mean a request blew up instead of being handled. */
export const CRASH_LINES = /unhandled listener error|An unhandled error|unhandled error occurred|UnhandledPromiseRejection|TypeError|ReferenceError|RangeError/;

export function crashesSince(t: TestApp, m: Mark): string[] {
  return t.logger.lines.slice(m.logs).filter((l) => CRASH_LINES.test(l.message)).map((l) => `${l.level}: ${l.message.slice(0, 300)}`);
}

/**
 * The four safety checks after one hostile input: Slack got nothing it refuses, nothing it would turn
 * into a ping or a forged link, the app logged no crash; `status` (when given) was 2xx.
 */
export function expectClean(t: TestApp, m: Mark, allowed: Allowed, opts: { status?: number[]; extra?: { where: string; body: unknown }[]; input?: unknown } = {}): void {
  const label = opts.input === undefined ? '' : ` for input ${JSON.stringify(opts.input).slice(0, 300)}`;
  for (const s of opts.status ?? []) expect(s >= 200 && s < 300, `HTTP status ${s}${label}`).toBe(true);
  expect(refusedSince(t, m), `calls Slack refused${label}`).toEqual([]);
  expect(crashesSince(t, m), `crash lines in the log${label}`).toEqual([]);
  expect(forgedSequences(receivedSince(t, m, opts.extra), allowed), `forged mrkdwn${label}`).toEqual([]);
}

// ------------------------------------------------------------------ the store

export { rowCounts, snapshot } from '../support/storeRows.js';

/** Every string anything sent to Slack since `m` contains (calls, response_url bodies, extra bodies), as one text to search. */
export function sentSince(t: TestApp, m: Mark, extra: unknown[] = []): string {
  return JSON.stringify({
    calls: t.fake.calls.slice(m.calls).map((c) => ({ method: c.method, args: c.args })),
    responses: t.fake.allResponses().slice(m.responses),
    extra,
  });
}

/**
 * A view_submission as Slack sends it for a modal with this callback id and private_metadata,
 * without the modal having to be open in the fake: what a client holding a stale or forged view
 * would submit. `values` is state.values.
 */
export function submissionPayload(
  t: TestApp,
  a: { teamId: string; userId: string; callbackId: string; privateMetadata: unknown; values?: Record<string, unknown>; viewId?: string },
): Record<string, unknown> {
  const viewId = a.viewId ?? 'VFORGED001';
  return {
    type: 'view_submission',
    token: 'fake-verification-token',
    api_app_id: t.fake.appId,
    is_enterprise_install: false,
    enterprise: null,
    team: { id: a.teamId, domain: 'x' },
    user: { id: a.userId, username: a.userId.toLowerCase(), name: a.userId.toLowerCase(), team_id: a.teamId },
    view: {
      id: viewId,
      team_id: a.teamId,
      type: 'modal',
      callback_id: a.callbackId,
      private_metadata: a.privateMetadata,
      hash: '1.forged',
      root_view_id: viewId,
      previous_view_id: null,
      state: { values: a.values ?? {} },
      app_id: t.fake.appId,
      bot_id: t.fake.botId,
    },
    trigger_id: t.fake.issueTriggerId(a.userId, a.teamId),
    response_urls: [],
  };
}
