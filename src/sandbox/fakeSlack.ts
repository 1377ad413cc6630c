// A loopback Slack Web API ("fake Slack") that behaves like Slack for the methods Tasklane uses.
// Answers like Slack's Web API (errors, limits, rate limits). Node built-ins only.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  chatBlocksError,
  isObj,
  messageTextTooLong,
  validateMessage,
  validateView,
  viewsArgumentsError,
  type BlockIssue,
} from './blockKit.js';

type Obj = Record<string, unknown>;

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  at: number;
  response: Record<string, unknown>;
  status: number;
}

export type Fault =
  | { error: string; extra?: Record<string, unknown> }
  | { status: 429; retryAfter: number }
  | { status: 500 }
  /** The call waits this long, then is carried out. */
  | { delayMs: number }
  /**
   * The call is carried out at once (the message is posted, the view opened) and recorded, but
   * its answer is held back this long: Slack did the work, and a client with a shorter timeout
   * never hears so.
   */
  | { answerAfterMs: number }
  /**
   * The call is lost on the way: never carried out and never answered. It is recorded (status 0,
   * error `no_answer`) and its connection held this long, or until the client hangs up (a client
   * that died), then closed without an answer.
   */
  | { noAnswerMs: number };

interface TargetedFault {
  method: string;
  match: (args: Record<string, unknown>) => boolean;
  fault: Fault;
  remaining: number;
}

/** Message metadata as Slack stores and returns it. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** One message posted to an incoming webhook. */
export interface FakeWebhookPost {
  url: string;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeUserInput {
  id: string;
  teamId: string;
  name?: string;
  tz?: string;
  isBot?: boolean;
  deleted?: boolean;
  canDm?: boolean;
  /** A guest: `multi` is a multi-channel guest (`is_restricted`), `single` a single-channel one (`is_ultra_restricted`). */
  guest?: 'multi' | 'single';
  /** A workspace admin (`is_admin`), or its owner (`is_owner`, also an admin). */
  admin?: 'admin' | 'owner';
}
export interface FakeUser {
  id: string;
  teamId: string;
  name: string;
  tz: string;
  isBot: boolean;
  deleted: boolean;
  canDm: boolean;
  guest: 'multi' | 'single' | undefined;
  admin: 'admin' | 'owner' | undefined;
}

export interface FakeChannelInput {
  id: string;
  teamId: string;
  botIsMember?: boolean;
  isPrivate?: boolean;
  /** A group DM (mpim): private, and what Slack calls `is_mpim`. */
  isMpim?: boolean;
  name?: string;
}
export interface FakeChannel {
  id: string;
  teamId: string;
  botIsMember: boolean;
  isPrivate: boolean;
  isMpim: boolean;
  name: string;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  metadata?: MessageMetadata;
  /** bot user id */
  user: string;
  bot_id: string;
  /** the token the message was posted with (bot token, "xwfp-…" workflow token, or "response_url") */
  postedWithToken: string;
  /** number of chat.update / replace_original applied */
  updates: number;
  ephemeral?: false;
  /** reactions people added (the sandbox's client) */
  reactions?: { name: string; users: string[] }[];
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text?: string;
  blocks?: unknown[];
  message_ts: string;
}

export interface FakeView {
  id: string;
  hash: string;
  type: 'modal' | 'home';
  callback_id: string;
  private_metadata: string;
  root_view_id: string | null;
  previous_view_id: string | null;
  external_id?: string;
  title?: unknown;
  blocks: unknown[];
  submit?: unknown;
  close?: unknown;
  notify_on_close: boolean;
  clear_on_close: boolean;
  team_id: string;
  /** the user whose stack / home this view belongs to */
  user: string;
  app_id: string;
  bot_id: string;
  state: { values: Record<string, Record<string, unknown>> };
}

export interface FakeExecution {
  executionId: string;
  workflowExecutionId: string;
  workflowToken: string;
  callbackId: string;
  teamId: string;
  inputs: Record<string, unknown>;
  state: 'running' | 'completed' | 'failed';
  outputs?: Record<string, unknown>;
  error?: string;
  tokenIssuedAt: number;
  tokenExpired: boolean;
}

export type ViewChangeResult = { ok: true; view?: FakeView } | { ok: false; error: string; messages?: string[] };

interface TriggerRecord {
  userId: string;
  teamId: string;
  issuedAt: number;
  used: boolean;
}

interface ResponseUrlRecord {
  url: string;
  issuedAt: number;
  uses: number;
  bodies: Record<string, unknown>[];
  channel?: string;
  messageTs?: string;
  userId?: string;
}

interface Waiter {
  method: string;
  predicate: (c: RecordedCall) => boolean;
  resolve: (c: RecordedCall) => void;
}

interface AuthInfo {
  token: string;
  kind: 'bot' | 'workflow';
  execution?: FakeExecution;
}

type HandlerResult = Obj;
type Handler = (args: Obj, auth: AuthInfo) => HandlerResult;

export const TRIGGER_TTL_MS = 3000;
export const WORKFLOW_TOKEN_TTL_MS = 15 * 60 * 1000;
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
export const RESPONSE_URL_MAX_USES = 5;
export const MAX_VIEW_STACK = 3;
export const HISTORY_DEFAULT_LIMIT = 100;
export const HISTORY_MAX_LIMIT = 999;

/** Form-encoded args that the web-api client JSON-encodes. */
const JSON_ARG_KEYS = new Set(['view', 'blocks', 'attachments', 'outputs', 'metadata', 'inputs', 'unfurls', 'options', 'option_groups']);

function randomId(prefix: string, len = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(len);
  let s = prefix;
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function fail(error: string, extra?: Obj): Obj {
  return { ok: false, error, ...extra };
}

/** A warning on a successful answer, in both places Slack puts one. */
function warning(w: string | undefined): Obj {
  return w ? { warning: w, response_metadata: { warnings: [w] } } : {};
}

/** A boolean argument as the Web API reads it: `true`, or "true" / "1" in a form body. */
function flag(v: unknown): boolean {
  return v === true || v === 1 || v === 'true' || v === '1';
}

/** Orders message timestamps ("<seconds>.<micros>") by time. */
function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af) - Number(bf);
}

/**
 * The `metadata` argument of chat.postMessage / chat.update: an object, or that object as a JSON
 * string. `event_type` (a string) and `event_payload` (an object) are required, else
 * `invalid_metadata_format`; an `event_type` with characters other than letters, digits, `_` and
 * `-` is ignored with an `invalid_metadata_schema` warning, as Slack's docs say.
 */
function readMetadata(raw: unknown): { metadata?: MessageMetadata; warning?: string } | { error: string } {
  if (raw === undefined || raw === '') return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      return { error: 'invalid_metadata_format' };
    }
  }
  if (!isObj(value) || typeof value['event_type'] !== 'string' || !isObj(value['event_payload'])) return { error: 'invalid_metadata_format' };
  if (!/^[A-Za-z0-9_-]+$/.test(value['event_type'])) return { warning: 'invalid_metadata_schema' };
  return { metadata: { event_type: value['event_type'], event_payload: value['event_payload'] } };
}

/** A history cursor: opaque to callers, the ts of the first message of the next page inside. */
function historyCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString('base64');
}

/** The ts a cursor starts at; undefined for no cursor, null for one Slack would call invalid. */
function cursorTs(cursor: unknown): string | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  if (typeof cursor !== 'string') return null;
  const m = /^next_ts:(\d+\.\d{6})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return m ? m[1] : null;
}

/** `limit` for conversations.history: 100 when absent or not a positive number, at most 999. */
function historyLimit(raw: unknown): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n) || n < 1) return HISTORY_DEFAULT_LIMIT;
  return Math.min(Math.floor(n), HISTORY_MAX_LIMIT);
}

/** Resolves after `ms`, or as soon as the client hangs up (nobody is left to answer). */
function holdAnswer(res: http.ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function tzOffsetSeconds(tz: string, at: number): number {
  try {
    // Building a DateTimeFormat costs far more than using one; users.info asks for it per call.
    let format = offsetFormats.get(tz);
    if (!format) offsetFormats.set(tz, (format = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })));
    const parts = format.formatToParts(new Date(at));
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    if (!m) return 0;
    const sign = m[1] === '-' ? -1 : 1;
    return sign * (Number(m[2]) * 3600 + Number(m[3]) * 60);
  } catch {
    return 0;
  }
}

function parseBody(raw: string, contentType: string | undefined): Obj {
  if (raw.length === 0) return {};
  if (contentType?.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return isObj(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  const out: Obj = {};
  for (const [k, v] of formPairs(raw)) {
    if (JSON_ARG_KEYS.has(k) && (v.startsWith('{') || v.startsWith('['))) {
      try {
        out[k] = JSON.parse(v) as unknown;
        continue;
      } catch {
        // leave as string; validation will reject it
      }
    }
    out[k] = v;
  }
  return out;
}

/**
 * The pairs of a form body, as `URLSearchParams` reads them. Node's URLSearchParams decodes in
 * JavaScript, character by character, slow on a Home's `views.publish` (tens of KB of escaped
 * JSON); decodeURIComponent is native. A body
 * it cannot decode (a stray `%`, invalid UTF-8) goes to URLSearchParams, whose lenient rules apply.
 */
export function formPairs(raw: string): Iterable<[string, string]> {
  const pairs: [string, string][] = [];
  try {
    for (const part of raw.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const [k, v] = eq === -1 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
      pairs.push([decodeFormComponent(k), decodeFormComponent(v)]);
    }
    return pairs;
  } catch {
    return new URLSearchParams(raw);
  }
}

function decodeFormComponent(s: string): string {
  return decodeURIComponent(s.includes('+') ? s.replace(/\+/g, ' ') : s);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class FakeSlack {
  readonly apiUrl: string;
  readonly baseUrl: string;
  readonly botToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly appId: string;

  calls: RecordedCall[] = [];
  /** Every Web API call answered since start (not reset, not trimmed by `keepCalls`). */
  callCount = 0;
  /** Bodies posted to a response_url that Slack refused (too long, invalid blocks, bad payload), in order. */
  responseUrlRejections: { url: string; status: number; error: string; body: Record<string, unknown> }[] = [];

  private readonly server: http.Server | undefined;
  private readonly changeListeners = new Set<() => void>();
  private readonly users = new Map<string, FakeUser>();
  private readonly channels = new Map<string, FakeChannel>();
  private readonly dmByUser = new Map<string, string>();
  private readonly userByDm = new Map<string, string>();
  private msgs = new Map<string, FakeMessage[]>();
  private ephems: FakeEphemeral[] = [];
  private triggers = new Map<string, TriggerRecord>();
  private executions = new Map<string, FakeExecution>();
  private executionByToken = new Map<string, FakeExecution>();
  private views = new Map<string, FakeView>();
  private closedViews = new Map<string, FakeView>();
  private stacks = new Map<string, string[]>();
  private homes = new Map<string, string>();
  private responseUrls = new Map<string, ResponseUrlRecord>();
  private faults = new Map<string, Fault[]>();
  private webhooks: FakeWebhookPost[] = [];
  private webhookFaults: { status: number; body: string }[] = [];
  private revokedWebhooks = new Set<string>();
  private targetedFaults: TargetedFault[] = [];
  private waiters: Waiter[] = [];
  private lastTsMicros = 0;
  private clockOffset = 0;
  private counter = 0;
  private readonly clock: () => number;
  private readonly keepCalls: number;
  private readonly handlers: Record<string, Handler>;

  private constructor(server: http.Server | undefined, baseUrl: string, opts: FakeSlackOptions) {
    this.server = server;
    this.baseUrl = baseUrl;
    this.apiUrl = `${this.baseUrl}/api/`;
    this.botToken = opts.botToken ?? 'xoxb-test-token';
    this.botUserId = opts.botUserId ?? 'UBOT';
    this.botId = opts.botId ?? 'BBOT';
    this.teamId = opts.teamId ?? 'T0001';
    this.appId = opts.appId ?? 'A0TASKLANE';
    this.clock = opts.clock ?? (() => Date.now());
    this.keepCalls = opts.keepCalls ?? Number.POSITIVE_INFINITY;
    this.handlers = {
      'api.test': (args) => ({ ok: true, args }),
      'auth.test': (_a, auth) => this.authTest(auth),
      'chat.postMessage': (a, auth) => this.chatPostMessage(a, auth),
      'chat.update': (a) => this.chatUpdate(a),
      'chat.postEphemeral': (a) => this.chatPostEphemeral(a),
      'chat.getPermalink': (a) => this.chatGetPermalink(a),
      'conversations.open': (a) => this.conversationsOpen(a),
      'conversations.info': (a) => this.conversationsInfo(a),
      'conversations.history': (a) => this.conversationsHistory(a),
      'conversations.replies': (a) => this.conversationsReplies(a),
      'users.info': (a) => this.usersInfo(a),
      'views.open': (a) => this.viewsOpen(a),
      'views.push': (a) => this.viewsPush(a),
      'views.update': (a) => this.viewsUpdate(a),
      'views.publish': (a) => this.viewsPublish(a),
      'functions.completeSuccess': (a, auth) => this.functionsComplete(a, auth, 'success'),
      'functions.completeError': (a, auth) => this.functionsComplete(a, auth, 'error'),
    };
  }

  static async start(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = http.createServer((req, res) => {
      if (!fake) {
        res.writeHead(503).end();
        return;
      }
      fake.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'fatal_error', detail: String(err) }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    fake = new FakeSlack(server, `http://127.0.0.1:${port}`, opts);
    return fake;
  }

  /**
   * A fake without a server of its own, for another server to mount: it answers `handle` for
   * `/api/…` and `/response/…` under `baseUrl` (the sandbox serves it beside the app).
   */
  static mounted(baseUrl: string, opts: FakeSlackOptions = {}): FakeSlack {
    return new FakeSlack(undefined, baseUrl.replace(/\/$/, ''), opts);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Calls `listener` after every request the fake answered and every change made through it. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  // ---------------------------------------------------------------- clock

  /** Current fake time in ms (real clock or `clock` option, plus `advanceClock` offsets). */
  now(): number {
    return this.clock() + this.clockOffset;
  }

  /** Move the fake's clock forward (trigger ids, workflow tokens, response_urls expire on it). */
  advanceClock(ms: number): void {
    this.clockOffset += ms;
  }

  // ---------------------------------------------------------------- setup

  addUser(u: FakeUserInput): void {
    this.users.set(u.id, {
      id: u.id,
      teamId: u.teamId,
      name: u.name ?? u.id.toLowerCase(),
      tz: u.tz ?? 'UTC',
      isBot: u.isBot ?? false,
      deleted: u.deleted ?? false,
      canDm: u.canDm ?? true,
      guest: u.guest,
      admin: u.admin,
    });
  }

  user(id: string): FakeUser | undefined {
    return this.users.get(id);
  }

  addChannel(c: FakeChannelInput): void {
    this.channels.set(c.id, {
      id: c.id,
      teamId: c.teamId,
      botIsMember: c.botIsMember ?? false,
      isPrivate: (c.isPrivate ?? false) || (c.isMpim ?? false),
      isMpim: c.isMpim ?? false,
      name: c.name ?? c.id.toLowerCase(),
    });
  }

  channel(id: string): FakeChannel | undefined {
    return this.channels.get(id);
  }

  dmChannel(userId: string): string {
    let d = this.dmByUser.get(userId);
    if (!d) {
      d = `D${userId.replace(/^[UW]/, '')}${this.dmByUser.size.toString(36).toUpperCase()}`;
      this.dmByUser.set(userId, d);
      this.userByDm.set(d, userId);
    }
    return d;
  }

  /** The user a DM channel belongs to. */
  dmUser(channel: string): string | undefined {
    return this.userByDm.get(channel);
  }

  teamOf(userId: string): string {
    return this.users.get(userId)?.teamId ?? this.teamId;
  }

  // ---------------------------------------------------------------- triggers & executions

  issueTriggerId(userId: string, teamId?: string): string {
    this.counter += 1;
    const id = `${this.counter}${Math.floor(this.now() / 1000)}.${1000 + this.counter}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { userId, teamId: teamId ?? this.teamOf(userId), issuedAt: this.now(), used: false });
    return id;
  }

  /** Same rules as trigger ids (3 s, single use); used by workflow-token interactions. */
  issueInteractivityPointer(userId: string, teamId?: string): string {
    return this.issueTriggerId(userId, teamId);
  }

  startFunctionExecution(e: { executionId?: string; teamId: string; callbackId: string; inputs: Record<string, unknown> }): {
    executionId: string;
    workflowExecutionId: string;
    workflowToken: string;
  } {
    const executionId = e.executionId ?? randomId('Fx');
    const existing = this.executions.get(executionId);
    if (existing) {
      // A retried function_executed delivery carries the same execution and token.
      return { executionId, workflowExecutionId: existing.workflowExecutionId, workflowToken: existing.workflowToken };
    }
    const exec: FakeExecution = {
      executionId,
      workflowExecutionId: randomId('Wx'),
      workflowToken: `xwfp-${randomBytes(24).toString('hex')}`,
      callbackId: e.callbackId,
      teamId: e.teamId,
      inputs: e.inputs,
      state: 'running',
      tokenIssuedAt: this.now(),
      tokenExpired: false,
    };
    this.executions.set(executionId, exec);
    this.executionByToken.set(exec.workflowToken, exec);
    return { executionId, workflowExecutionId: exec.workflowExecutionId, workflowToken: exec.workflowToken };
  }

  expireWorkflowToken(token: string): void {
    const exec = this.executionByToken.get(token);
    if (exec) exec.tokenExpired = true;
  }

  execution(id: string):
    | { state: 'running' | 'completed' | 'failed'; outputs?: Record<string, unknown>; error?: string; callbackId: string; teamId: string; inputs: Record<string, unknown>; workflowToken: string }
    | undefined {
    const e = this.executions.get(id);
    if (!e) return undefined;
    return { state: e.state, outputs: e.outputs, error: e.error, callbackId: e.callbackId, teamId: e.teamId, inputs: e.inputs, workflowToken: e.workflowToken };
  }

  /** The execution a workflow token ("xwfp-…") belongs to. */
  executionForToken(token: string): FakeExecution | undefined {
    return this.executionByToken.get(token);
  }

  // ---------------------------------------------------------------- inspection

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  waitFor(method: string, predicate: (c: RecordedCall) => boolean = () => true, timeoutMs = 3000): Promise<RecordedCall> {
    const found = this.calls.find((c) => c.method === method && predicate(c));
    if (found) return Promise.resolve(found);
    return new Promise<RecordedCall>((resolve, reject) => {
      const waiter: Waiter = {
        method,
        predicate,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.calls
          .map((c) => `  ${c.method} ${c.status} ${c.response['ok'] === true ? 'ok' : String(c.response['error'])} ${JSON.stringify(c.args).slice(0, 160)}`)
          .join('\n');
        reject(new Error(`FakeSlack.waitFor('${method}') timed out after ${timeoutMs} ms. Calls seen (${this.calls.length}):\n${seen || '  (none)'}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  messages(channel: string): FakeMessage[] {
    return this.msgs.get(channel) ?? [];
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages(channel).find((m) => m.ts === ts);
  }

  /** Every message, all channels, in posting order. */
  allMessages(): FakeMessage[] {
    return [...this.msgs.values()].flat().sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }

  ephemerals(channel: string, user?: string): FakeEphemeral[] {
    return this.ephems.filter((e) => e.channel === channel && (user === undefined || e.user === user));
  }

  viewStack(userId: string): FakeView[] {
    return (this.stacks.get(userId) ?? []).map((id) => this.views.get(id)).filter((v): v is FakeView => v !== undefined);
  }

  topView(userId: string): FakeView | undefined {
    const s = this.viewStack(userId);
    return s[s.length - 1];
  }

  view(viewId: string): FakeView | undefined {
    return this.views.get(viewId);
  }

  /** A view that was closed (popped/cleared); Slack answers not_found for it. */
  closedView(viewId: string): FakeView | undefined {
    return this.closedViews.get(viewId);
  }

  homeView(userId: string): FakeView | undefined {
    const id = this.homes.get(userId);
    return id ? this.views.get(id) : undefined;
  }

  newResponseUrl(ctx: { channel?: string; messageTs?: string; userId?: string } = {}): string {
    const url = `${this.baseUrl}/response/${randomBytes(12).toString('hex')}`;
    this.responseUrls.set(url, { url, issuedAt: this.now(), uses: 0, bodies: [], ...ctx });
    return url;
  }

  responses(url: string): Record<string, unknown>[] {
    return this.responseUrls.get(url)?.bodies ?? [];
  }

  /** Every body posted to any response_url, in order. */
  allResponses(): { url: string; body: Record<string, unknown> }[] {
    return [...this.responseUrls.values()].flatMap((r) => r.bodies.map((body) => ({ url: r.url, body })));
  }

  /** The next `times` calls of `method` meet `fault` (after any `failWhen` fault that matches them). */
  failNext(method: string, fault: Fault, times = 1): void {
    const q = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i += 1) q.push(fault);
    this.faults.set(method, q);
  }

  /**
   * Calls of `method` whose args `match` meet `fault`, up to `times` of them (e.g. `views.publish`
   * for one `user_id`). Other calls are served normally and do not use it up. Checked before
   * `failNext`; among several that match, the earliest set wins.
   */
  failWhen(method: string, match: (args: Record<string, unknown>) => boolean, fault: Fault, times = Number.POSITIVE_INFINITY): void {
    if (times > 0) this.targetedFaults.push({ method, match, fault, remaining: times });
  }

  /**
   * An incoming webhook URL on this fake (`/services/T…/B…/<name>`), as Slack hands out when a
   * workspace adds an incoming webhook to a channel. Posts to it are kept (`webhookPosts`).
   */
  webhookUrl(name = 'audit'): string {
    return `${this.baseUrl}/services/${this.teamId}/B0HOOK/${name}`;
  }

  /** What was posted to incoming webhooks (to `url` only, when given), oldest first. */
  webhookPosts(url?: string): FakeWebhookPost[] {
    return url === undefined ? [...this.webhooks] : this.webhooks.filter((p) => p.url === url);
  }

  /** The next `times` webhook posts are answered `status` with `body` (Slack's: 500 `rollup_error`, 404 `no_service`…). */
  failWebhook(status: number, body: string, times = 1): void {
    for (let i = 0; i < times; i += 1) this.webhookFaults.push({ status, body });
  }

  /** The webhook was removed from its channel (or its app uninstalled): Slack answers 404 `no_service` from now on. */
  revokeWebhook(url: string): void {
    this.revokedWebhooks.add(new URL(url).pathname);
  }

  reset(): void {
    this.webhooks = [];
    this.webhookFaults = [];
    this.revokedWebhooks = new Set();
    this.calls = [];
    this.responseUrlRejections = [];
    this.msgs = new Map();
    this.ephems = [];
    this.views = new Map();
    this.closedViews = new Map();
    this.stacks = new Map();
    this.homes = new Map();
    this.faults = new Map();
    this.targetedFaults = [];
    this.triggers = new Map();
    this.responseUrls = new Map();
    this.executions = new Map();
    this.executionByToken = new Map();
    this.clockOffset = 0;
  }

  // ---------------------------------------------------------------- view lifecycle (used by the driver)

  /** Close the top modal (plain view_submission ack, or the Close button). Returns the closed view. */
  closeTopView(userId: string): FakeView | undefined {
    return this.popView(userId);
  }

  popView(userId: string): FakeView | undefined {
    const stack = this.stacks.get(userId);
    const id = stack?.pop();
    if (!id) return undefined;
    const v = this.views.get(id);
    this.views.delete(id);
    if (v) this.closedViews.set(id, v);
    return v;
  }

  /** response_action "clear" / closing with X: the whole stack goes. */
  clearViews(userId: string): FakeView[] {
    const closed: FakeView[] = [];
    while ((this.stacks.get(userId)?.length ?? 0) > 0) {
      const v = this.popView(userId);
      if (v) closed.push(v);
    }
    return closed;
  }

  /** response_action "update": replace the top view's content (same id, new hash). */
  replaceTopView(userId: string, view: unknown): ViewChangeResult {
    const top = this.topView(userId);
    if (!top) return { ok: false, error: 'not_found' };
    const check = this.checkView(view, 'modal');
    if (check) return check;
    const next = this.buildView(view as Obj, userId, top.team_id, top.root_view_id, top.previous_view_id, top.id);
    this.views.set(top.id, next);
    return { ok: true, view: next };
  }

  /** response_action "push": push a new view on top. */
  pushView(userId: string, view: unknown): ViewChangeResult {
    const stack = this.stacks.get(userId) ?? [];
    const top = this.topView(userId);
    if (!top) return { ok: false, error: 'not_found' };
    if (stack.length >= MAX_VIEW_STACK) return { ok: false, error: 'push_limit_reached' };
    const check = this.checkView(view, 'modal');
    if (check) return check;
    const v = this.buildView(view as Obj, userId, top.team_id, stack[0] ?? null, top.id);
    this.views.set(v.id, v);
    stack.push(v.id);
    this.stacks.set(userId, stack);
    return { ok: true, view: v };
  }

  /** Validate a view as the Web API would; undefined when fine. */
  checkView(view: unknown, expectType?: 'modal' | 'home'): { ok: false; error: string; messages?: string[] } | undefined {
    const r = validateView(view, expectType);
    if (r.ok) return undefined;
    if (r.tooLarge) return { ok: false, error: 'view_too_large' };
    return { ok: false, error: 'invalid_arguments', messages: viewsArgumentsError(r.issues).response_metadata.messages };
  }

  // ---------------------------------------------------------------- HTTP

  /** Answers one HTTP request to the Web API (`/api/<method>`) or a response_url (`/response/…`). */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      await this.answer(req, res);
    } finally {
      this.changed();
    }
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    if (url.pathname.startsWith('/response/')) {
      const { status, body } = this.handleResponseUrl(`${this.baseUrl}${url.pathname}`, raw, req.headers['content-type']);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    if (url.pathname.startsWith('/services/') && req.method === 'POST') {
      const { status, body } = this.handleWebhook(`${this.baseUrl}${url.pathname}`, url.pathname, raw, req.headers['content-type']);
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(body);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const args = { ...Object.fromEntries(url.searchParams), ...parseBody(raw, req.headers['content-type']) };
    const authHeader = req.headers['authorization'];
    let token: string | undefined;
    if (typeof authHeader === 'string' && authHeader.startsWith('Bearer ')) token = authHeader.slice('Bearer '.length).trim();
    if (!token && typeof args['token'] === 'string') token = args['token'];
    delete args['token'];

    const at = this.now();
    const fault = this.takeFault(method, args);
    if (fault && 'noAnswerMs' in fault) {
      this.record({ method, args, token, at, response: fail('no_answer'), status: 0 });
      this.changed();
      await holdAnswer(res, fault.noAnswerMs);
      res.destroy();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    const failed = fault ? this.faultAnswer(fault, headers) : undefined;
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    const status = failed?.status ?? 200;
    const response = failed?.response ?? this.dispatch(method, args, token);
    this.record({ method, args, token, at, response, status });
    if (fault && 'answerAfterMs' in fault) {
      this.changed();
      await holdAnswer(res, fault.answerAfterMs);
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify(response));
  }

  /**
   * An incoming webhook post, answered as Slack does: `ok` (200, text), or a status with an error
   * word: 400 `invalid_payload` (not JSON) / `no_text` (neither text nor blocks), 404
   * `no_service` (revoked or unknown), or a fault set by `failWebhook`.
   */
  private handleWebhook(url: string, path: string, raw: string, contentType: string | undefined): { status: number; body: string } {
    const fault = this.webhookFaults.shift();
    if (fault) return fault;
    if (this.revokedWebhooks.has(path) || !/^\/services\/[A-Z0-9]+\/[A-Z0-9]+\/[A-Za-z0-9_-]+$/.test(path)) return { status: 404, body: 'no_service' };
    let body: unknown;
    try {
      body = contentType?.includes('application/json') ? JSON.parse(raw) : JSON.parse(new URLSearchParams(raw).get('payload') ?? '');
    } catch {
      return { status: 400, body: 'invalid_payload' };
    }
    const b = body as { text?: unknown; blocks?: unknown };
    if (typeof body !== 'object' || body === null || (typeof b.text !== 'string' && !Array.isArray(b.blocks))) return { status: 400, body: 'no_text' };
    this.webhooks.push({ url, body: body as Record<string, unknown>, at: this.now() });
    return { status: 200, body: 'ok' };
  }

  /** The fault this call meets, if any: a matching `failWhen` one first, then `failNext`'s queue. */
  private takeFault(method: string, args: Obj): Fault | undefined {
    const targeted = this.targetedFaults.find((t) => t.method === method && t.remaining > 0 && t.match(args));
    if (!targeted) return this.faults.get(method)?.shift();
    targeted.remaining -= 1;
    if (targeted.remaining <= 0) this.targetedFaults = this.targetedFaults.filter((t) => t !== targeted);
    return targeted.fault;
  }

  /** The answer a failing fault gives in place of the call (setting its headers); undefined when the call goes ahead. */
  private faultAnswer(fault: Fault, headers: Record<string, string>): { status: number; response: Obj } | undefined {
    if ('status' in fault && fault.status === 429) {
      headers['retry-after'] = String(fault.retryAfter);
      return { status: 429, response: fail('ratelimited') };
    }
    if ('status' in fault && fault.status === 500) return { status: 500, response: fail('internal_error') };
    if ('error' in fault) return { status: 200, response: fail(fault.error, fault.extra) };
    return undefined;
  }

  private record(call: RecordedCall): void {
    this.callCount += 1;
    this.calls.push(call);
    if (this.calls.length > 2 * this.keepCalls) this.calls.splice(0, this.calls.length - this.keepCalls);
    const ready = this.waiters.filter((w) => w.method === call.method && w.predicate(call));
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(call);
  }

  private dispatch(method: string, args: Obj, token: string | undefined): Obj {
    const handler = this.handlers[method];
    if (!handler) return fail('unknown_method');
    if (!token) return fail('not_authed');
    let auth: AuthInfo;
    if (token === this.botToken) {
      auth = { token, kind: 'bot' };
    } else if (token.startsWith('xwfp-')) {
      const exec = this.executionByToken.get(token);
      if (!exec) return fail('invalid_auth');
      if (exec.tokenExpired || exec.state !== 'running' || this.now() - exec.tokenIssuedAt > WORKFLOW_TOKEN_TTL_MS) return fail('token_expired');
      auth = { token, kind: 'workflow', execution: exec };
    } else {
      return fail('invalid_auth');
    }
    return handler(args, auth);
  }

  // ---------------------------------------------------------------- ts

  private nextTs(): string {
    const micros = Math.max(this.now() * 1000, this.lastTsMicros + 100);
    this.lastTsMicros = micros;
    const sec = Math.floor(micros / 1_000_000);
    const frac = Math.floor(micros % 1_000_000);
    return `${sec}.${String(frac).padStart(6, '0')}`;
  }

  private newHash(): string {
    return `${Math.floor(this.now() / 1000)}.${randomBytes(6).toString('hex')}`;
  }

  // ---------------------------------------------------------------- methods

  private authTest(auth: AuthInfo): Obj {
    const team = auth.execution?.teamId ?? this.teamId;
    return {
      ok: true,
      url: `https://${team.toLowerCase()}.fake.slack.com/`,
      team: `Team ${team}`,
      user: 'tasklane',
      team_id: team,
      user_id: this.botUserId,
      bot_id: this.botId,
      app_id: this.appId,
      is_enterprise_install: false,
    };
  }

  /** Resolve a chat.* channel argument to a channel id, or an error. */
  private resolveChannel(channel: unknown, opts: { post: boolean }): { id: string } | { error: string } {
    const ch = str(channel);
    if (!ch) return { error: 'channel_not_found' };
    if (/^[UW]/.test(ch)) {
      const u = this.users.get(ch);
      if (!u) return { error: 'user_not_found' };
      if (u.isBot) return { error: 'cannot_dm_bot' };
      if (u.deleted) return { error: 'user_disabled' };
      if (!u.canDm) return { error: 'messages_tab_disabled' };
      return { id: this.dmChannel(ch) };
    }
    if (ch.startsWith('D')) {
      const uid = this.userByDm.get(ch);
      if (!uid) return { error: 'channel_not_found' };
      const u = this.users.get(uid);
      if (opts.post && u && !u.canDm) return { error: 'messages_tab_disabled' };
      return { id: ch };
    }
    const c = this.channels.get(ch);
    if (!c) return { error: 'channel_not_found' };
    if (c.isPrivate && !c.botIsMember) return opts.post ? { error: 'not_in_channel' } : { error: 'channel_not_found' };
    return { id: ch };
  }

  /** The message object as the Web API (and interaction payloads) show it. */
  messageObject(m: FakeMessage): Obj {
    return {
      type: 'message',
      user: m.user,
      bot_id: m.bot_id,
      app_id: this.appId,
      text: m.text ?? '',
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ts: m.ts,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(m.metadata ? { metadata: m.metadata } : {}),
      team: this.teamId,
      bot_profile: { id: this.botId, app_id: this.appId, name: 'Tasklane', deleted: false },
      ...(m.updates > 0 ? { edited: { user: m.user, ts: m.ts } } : {}),
    };
  }

  private validateChatContent(a: Obj, requireContent: boolean): Obj | undefined {
    if (requireContent && a['text'] === undefined && a['blocks'] === undefined && a['attachments'] === undefined) return fail('no_text');
    if (messageTextTooLong(a['text'])) return fail('msg_too_long');
    if (a['blocks'] !== undefined) {
      if (typeof a['blocks'] === 'string') return fail('invalid_blocks_format');
      const issues: BlockIssue[] = validateMessage({ blocks: a['blocks'] });
      if (issues.length > 0) return chatBlocksError(issues);
    }
    return undefined;
  }

  private chatPostMessage(a: Obj, auth: AuthInfo): Obj {
    const r = this.resolveChannel(a['channel'], { post: true });
    if ('error' in r) return fail(r.error);
    const bad = this.validateChatContent(a, true);
    if (bad) return bad;
    const meta = readMetadata(a['metadata']);
    if ('error' in meta) return fail(meta.error);
    const m: FakeMessage = {
      channel: r.id,
      ts: this.nextTs(),
      text: str(a['text']),
      blocks: Array.isArray(a['blocks']) ? (a['blocks'] as unknown[]) : undefined,
      thread_ts: str(a['thread_ts']),
      metadata: meta.metadata,
      user: this.botUserId,
      bot_id: this.botId,
      postedWithToken: auth.token,
      updates: 0,
    };
    this.pushMessage(m);
    return { ok: true, channel: r.id, ts: m.ts, message: this.messageObject(m), ...warning(meta.warning) };
  }

  private pushMessage(m: FakeMessage): void {
    const list = this.msgs.get(m.channel) ?? [];
    list.push(m);
    this.msgs.set(m.channel, list);
  }

  private chatUpdate(a: Obj): Obj {
    const r = this.resolveChannel(a['channel'], { post: false });
    if ('error' in r) return fail(r.error);
    const ts = str(a['ts']);
    if (!ts) return fail('message_not_found');
    const m = this.message(r.id, ts);
    if (!m) return fail('message_not_found');
    if (a['text'] === undefined && a['blocks'] === undefined && a['attachments'] === undefined) return fail('no_text');
    const bad = this.validateChatContent(a, false);
    if (bad) return bad;
    const meta = readMetadata(a['metadata']);
    if ('error' in meta) return fail(meta.error);
    if (a['text'] !== undefined) m.text = str(a['text']);
    if (Array.isArray(a['blocks'])) m.blocks = a['blocks'].length > 0 ? (a['blocks'] as unknown[]) : undefined;
    if (meta.metadata) m.metadata = meta.metadata;
    m.updates += 1;
    return { ok: true, channel: r.id, ts, text: m.text ?? '', message: this.messageObject(m), ...warning(meta.warning) };
  }

  private chatPostEphemeral(a: Obj): Obj {
    const user = str(a['user']);
    if (!user) return fail('user_not_found');
    const u = this.users.get(user);
    if (!u) return fail('user_not_found');
    const r = this.resolveChannel(a['channel'], { post: true });
    if ('error' in r) return fail(r.error);
    const bad = this.validateChatContent(a, true);
    if (bad) return bad;
    const message_ts = this.nextTs();
    this.ephems.push({ channel: r.id, user, text: str(a['text']), blocks: Array.isArray(a['blocks']) ? (a['blocks'] as unknown[]) : undefined, message_ts });
    return { ok: true, message_ts };
  }

  private chatGetPermalink(a: Obj): Obj {
    const r = this.resolveChannel(a['channel'], { post: false });
    if ('error' in r) return fail(r.error);
    const ts = str(a['message_ts']);
    if (!ts || !this.message(r.id, ts)) return fail('message_not_found');
    return { ok: true, channel: r.id, permalink: `https://fake.slack.com/archives/${r.id}/p${ts.replace('.', '')}` };
  }

  private conversationsOpen(a: Obj): Obj {
    const channel = str(a['channel']);
    if (channel) {
      const r = this.resolveChannel(channel, { post: false });
      if ('error' in r) return fail(r.error);
      return { ok: true, channel: { id: r.id } };
    }
    const users = (str(a['users']) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (users.length === 0) return fail('users_list_not_supplied');
    if (users.length > 1) return fail('not_supported', { detail: 'fake Slack: multi-person DMs are not implemented' });
    const r = this.resolveChannel(users[0], { post: true });
    if ('error' in r) return fail(r.error);
    return { ok: true, no_op: false, already_open: false, channel: { id: r.id } };
  }

  /**
   * As Slack answers a bot: a public channel whether or not the app is in it; a private channel
   * or group DM only when the app is a member (else `channel_not_found`, as for an unknown id);
   * the app's own DMs with users.
   */
  private conversationsInfo(a: Obj): Obj {
    const id = str(a['channel']);
    if (!id) return fail('channel_not_found');
    const dmUser = this.userByDm.get(id);
    if (dmUser) {
      return { ok: true, channel: { id, created: 0, is_im: true, is_private: true, is_mpim: false, is_channel: false, is_group: false, user: dmUser } };
    }
    const c = this.channels.get(id);
    if (!c || (c.isPrivate && !c.botIsMember)) return fail('channel_not_found');
    return {
      ok: true,
      channel: {
        id,
        name: c.name,
        created: 0,
        is_channel: !c.isPrivate,
        is_group: c.isPrivate && !c.isMpim,
        is_im: false,
        is_mpim: c.isMpim,
        is_private: c.isPrivate,
        is_member: c.botIsMember,
        context_team_id: c.teamId,
      },
    };
  }

  /**
   * A conversation's top-level messages (thread replies are left out), newest first, `limit` at a
   * time (100 by default, at most 999) from an opaque `cursor`. Messages carry their metadata only
   * with `include_all_metadata`. A bot reads the channels it is in and its own DMs:
   * `not_in_channel` for a public channel it is not in, `channel_not_found` otherwise.
   */
  private conversationsHistory(a: Obj): Obj {
    const r = this.historyChannel(a['channel']);
    if ('error' in r) return fail(r.error);
    const from = cursorTs(a['cursor']);
    if (from === null) return fail('invalid_cursor');
    const all = this.messages(r.id)
      .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts)
      .sort((x, y) => compareTs(y.ts, x.ts));
    const start = from === undefined ? 0 : all.filter((m) => compareTs(m.ts, from) > 0).length;
    return { ...this.historyPage(all, start, a), pin_count: 0 };
  }

  /** One page of messages from `start` (limit, next cursor, metadata only with include_all_metadata). */
  private historyPage(all: FakeMessage[], start: number, a: Obj): Obj {
    const end = start + historyLimit(a['limit']);
    const withMetadata = flag(a['include_all_metadata']);
    const next = all[end];
    return {
      ok: true,
      messages: all.slice(start, end).map((m) => this.historyMessage(m, withMetadata)),
      has_more: next !== undefined,
      response_metadata: { next_cursor: next ? historyCursor(next.ts) : '' },
    };
  }

  /** A thread: its parent first, then the replies, oldest first (as Slack lists them), paged by cursor. */
  private conversationsReplies(a: Obj): Obj {
    const r = this.historyChannel(a['channel']);
    if ('error' in r) return fail(r.error);
    const ts = str(a['ts']);
    if (!ts || !this.message(r.id, ts)) return fail('thread_not_found');
    const from = cursorTs(a['cursor']);
    if (from === null) return fail('invalid_cursor');
    const all = this.messages(r.id)
      .filter((m) => m.ts === ts || m.thread_ts === ts)
      .sort((x, y) => compareTs(x.ts, y.ts));
    const start = from === undefined ? 0 : Math.max(0, all.findIndex((m) => compareTs(m.ts, from) >= 0));
    return this.historyPage(all, start, a);
  }

  private historyChannel(channel: unknown): { id: string } | { error: string } {
    const ch = str(channel);
    if (!ch || /^[UW]/.test(ch)) return { error: 'channel_not_found' };
    const r = this.resolveChannel(ch, { post: false });
    if ('error' in r) return r;
    if (this.channels.get(r.id)?.botIsMember === false) return { error: 'not_in_channel' };
    return r;
  }

  private historyMessage(m: FakeMessage, withMetadata: boolean): Obj {
    const o = this.messageObject(m);
    if (!withMetadata) delete o['metadata'];
    return o;
  }

  private usersInfo(a: Obj): Obj {
    const id = str(a['user']);
    const u = id ? this.users.get(id) : undefined;
    if (!u) return fail('user_not_found');
    return {
      ok: true,
      user: {
        id: u.id,
        team_id: u.teamId,
        name: u.name,
        real_name: u.name,
        deleted: u.deleted,
        is_bot: u.isBot,
        is_app_user: false,
        is_restricted: u.guest !== undefined,
        is_ultra_restricted: u.guest === 'single',
        is_admin: u.admin !== undefined,
        is_owner: u.admin === 'owner',
        tz: u.tz,
        tz_label: u.tz,
        tz_offset: tzOffsetSeconds(u.tz, this.now()),
        profile: { display_name: u.name, real_name: u.name, team: u.teamId },
      },
    };
  }

  private buildView(input: Obj, userId: string, teamId: string, root: string | null, prev: string | null, id?: string): FakeView {
    const viewId = id ?? randomId('V');
    const type = input['type'] === 'home' ? 'home' : 'modal';
    const v: FakeView = {
      id: viewId,
      hash: this.newHash(),
      type,
      callback_id: str(input['callback_id']) ?? '',
      private_metadata: str(input['private_metadata']) ?? '',
      root_view_id: type === 'home' ? null : root ?? viewId,
      previous_view_id: prev,
      title: input['title'],
      blocks: Array.isArray(input['blocks']) ? (input['blocks'] as unknown[]) : [],
      submit: input['submit'],
      close: input['close'],
      notify_on_close: input['notify_on_close'] === true || input['notify_on_close'] === 'true',
      clear_on_close: input['clear_on_close'] === true || input['clear_on_close'] === 'true',
      team_id: teamId,
      user: userId,
      app_id: this.appId,
      bot_id: this.botId,
      state: { values: {} },
    };
    const ext = str(input['external_id']);
    if (ext) v.external_id = ext;
    return v;
  }

  /** The view object as the Web API returns it. */
  viewObject(v: FakeView): Obj {
    const { user: _user, ...rest } = v;
    void _user;
    return { ...rest, external_id: v.external_id ?? '', app_installed_team_id: v.team_id, submit_disabled: false };
  }

  private viewError(view: unknown, expectType?: 'modal' | 'home'): Obj | undefined {
    const r = this.checkView(view, expectType);
    if (!r) return undefined;
    return r.messages ? { ok: false, error: r.error, response_metadata: { messages: r.messages } } : fail(r.error);
  }

  private externalIdTaken(ext: unknown, teamId: string, exceptId?: string): boolean {
    if (typeof ext !== 'string' || ext === '') return false;
    for (const v of this.views.values()) if (v.external_id === ext && v.team_id === teamId && v.id !== exceptId) return true;
    return false;
  }

  private useTrigger(a: Obj): { record: TriggerRecord } | { error: string } {
    const id = str(a['trigger_id']) ?? str(a['interactivity_pointer']);
    if (!id) return { error: 'invalid_arguments' };
    const t = this.triggers.get(id);
    if (!t) return { error: 'invalid_trigger_id' };
    if (t.used) return { error: 'exchanged_trigger_id' };
    if (this.now() - t.issuedAt > TRIGGER_TTL_MS) return { error: 'expired_trigger_id' };
    return { record: t };
  }

  private viewsOpen(a: Obj): Obj {
    const t = this.useTrigger(a);
    if ('error' in t) return fail(t.error);
    const bad = this.viewError(a['view'], 'modal');
    if (bad) return bad;
    const input = a['view'] as Obj;
    if (this.externalIdTaken(input['external_id'], t.record.teamId)) return fail('duplicate_external_id');
    t.record.used = true;
    this.clearViews(t.record.userId);
    const v = this.buildView(input, t.record.userId, t.record.teamId, null, null);
    this.views.set(v.id, v);
    this.stacks.set(t.record.userId, [v.id]);
    return { ok: true, view: this.viewObject(v) };
  }

  private viewsPush(a: Obj): Obj {
    const t = this.useTrigger(a);
    if ('error' in t) return fail(t.error);
    const bad = this.viewError(a['view'], 'modal');
    if (bad) return bad;
    const input = a['view'] as Obj;
    if (this.externalIdTaken(input['external_id'], t.record.teamId)) return fail('duplicate_external_id');
    const stack = this.stacks.get(t.record.userId) ?? [];
    if (stack.length >= MAX_VIEW_STACK) return fail('push_limit_reached');
    t.record.used = true;
    const prev = stack[stack.length - 1] ?? null;
    const v = this.buildView(input, t.record.userId, t.record.teamId, stack[0] ?? null, prev);
    this.views.set(v.id, v);
    stack.push(v.id);
    this.stacks.set(t.record.userId, stack);
    return { ok: true, view: this.viewObject(v) };
  }

  private viewsUpdate(a: Obj): Obj {
    const viewId = str(a['view_id']);
    const ext = str(a['external_id']);
    if (!viewId && !ext) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: view_id or external_id'] } });
    let target: FakeView | undefined;
    if (viewId) target = this.views.get(viewId);
    else for (const v of this.views.values()) if (v.external_id === ext) target = v;
    if (!target) return fail('not_found');
    const hash = str(a['hash']);
    if (hash !== undefined && hash !== '' && hash !== target.hash) return fail('hash_conflict');
    const bad = this.viewError(a['view'], target.type);
    if (bad) return bad;
    const input = a['view'] as Obj;
    if (this.externalIdTaken(input['external_id'], target.team_id, target.id)) return fail('duplicate_external_id');
    const next = this.buildView(input, target.user, target.team_id, target.root_view_id, target.previous_view_id, target.id);
    if (!next.external_id && target.external_id) next.external_id = target.external_id;
    this.views.set(target.id, next);
    return { ok: true, view: this.viewObject(next) };
  }

  private viewsPublish(a: Obj): Obj {
    const userId = str(a['user_id']);
    if (!userId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: user_id'] } });
    const u = this.users.get(userId);
    if (u && (u.deleted || u.isBot)) return fail('not_enabled');
    const bad = this.viewError(a['view'], 'home');
    if (bad) return bad;
    const existingId = this.homes.get(userId);
    const existing = existingId ? this.views.get(existingId) : undefined;
    const hash = str(a['hash']);
    if (hash !== undefined && hash !== '' && existing && hash !== existing.hash) return fail('hash_conflict');
    const v = this.buildView(a['view'] as Obj, userId, this.teamOf(userId), null, null, existing?.id);
    this.views.set(v.id, v);
    this.homes.set(userId, v.id);
    return { ok: true, view: this.viewObject(v) };
  }

  private functionsComplete(a: Obj, auth: AuthInfo, kind: 'success' | 'error'): Obj {
    const id = str(a['function_execution_id']);
    if (!id) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: function_execution_id'] } });
    const exec = this.executions.get(id);
    if (!exec) return fail('function_execution_not_found');
    if (auth.kind === 'workflow' && auth.execution !== exec) return fail('function_execution_not_found');
    if (exec.state !== 'running') return fail('execution_not_in_running_state');
    if (kind === 'success') {
      const outputs = a['outputs'];
      if (!isObj(outputs)) return fail('parameter_validation_failed', { errors: ['outputs must be an object'] });
      exec.state = 'completed';
      exec.outputs = outputs;
    } else {
      const error = str(a['error']);
      if (!error) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: error'] } });
      exec.state = 'failed';
      exec.error = error;
    }
    exec.tokenExpired = true;
    return { ok: true };
  }

  // ---------------------------------------------------------------- people (the sandbox's client)

  /** A message a person posts (not the app); returns its ts. */
  postAsUser(a: { channel: string; user: string; text: string; threadTs?: string }): FakeMessage {
    const m: FakeMessage = { channel: a.channel, ts: this.nextTs(), text: a.text, user: a.user, bot_id: '', postedWithToken: 'user', updates: 0, ...(a.threadTs ? { thread_ts: a.threadTs } : {}) };
    this.pushMessage(m);
    this.changed();
    return m;
  }

  /**
   * What a slash command's HTTP answer shows (Slack displays a body it gets with the ack): to the
   * person alone, or in the channel with `response_type: in_channel`.
   */
  showCommandAnswer(a: { channel: string; user: string; body: Obj }): void {
    const text = str(a.body['text']);
    const blocks = Array.isArray(a.body['blocks']) ? (a.body['blocks'] as unknown[]) : undefined;
    if (text === undefined && blocks === undefined) return;
    if (a.body['response_type'] === 'in_channel') {
      this.pushMessage({ channel: a.channel, ts: this.nextTs(), text, blocks, user: this.botUserId, bot_id: this.botId, postedWithToken: 'response_url', updates: 0 });
    } else this.ephems.push({ channel: a.channel, user: a.user, text, blocks, message_ts: this.nextTs() });
    this.changed();
  }

  /** A reaction a person adds to a message; false when it was already there. */
  addReaction(channel: string, ts: string, name: string, user: string): boolean {
    const m = this.message(channel, ts);
    if (!m) return false;
    const reactions = (m.reactions ??= []);
    let r = reactions.find((x) => x.name === name);
    if (!r) reactions.push((r = { name, users: [] }));
    if (r.users.includes(user)) return false;
    r.users.push(user);
    this.changed();
    return true;
  }

  // ---------------------------------------------------------------- response_url

  private handleResponseUrl(url: string, raw: string, contentType: string | undefined): { status: number; body: Obj } {
    const result = this.answerResponseUrl(url, raw, contentType);
    if (result.status !== 200) {
      let posted: Obj = {};
      try {
        const parsed: unknown = JSON.parse(raw);
        if (isObj(parsed)) posted = parsed;
      } catch {
        posted = { raw: raw.slice(0, 200) };
      }
      this.responseUrlRejections.push({ url, status: result.status, error: String(result.body['error']), body: posted });
    }
    return result;
  }

  private answerResponseUrl(url: string, raw: string, contentType: string | undefined): { status: number; body: Obj } {
    const rec = this.responseUrls.get(url);
    if (!rec) return { status: 404, body: fail('invalid_url') };
    if (this.now() - rec.issuedAt > RESPONSE_URL_TTL_MS) return { status: 404, body: fail('expired_url') };
    if (rec.uses >= RESPONSE_URL_MAX_USES) return { status: 404, body: fail('used_url') };
    let body = parseBody(raw, contentType?.includes('json') ? 'application/json' : contentType);
    if (typeof body['payload'] === 'string') {
      try {
        const p: unknown = JSON.parse(body['payload']);
        if (isObj(p)) body = p;
      } catch {
        return { status: 400, body: fail('invalid_payload') };
      }
    }
    if (messageTextTooLong(body['text'])) return { status: 400, body: fail('msg_too_long') };
    if (body['blocks'] !== undefined) {
      const issues = validateMessage({ blocks: body['blocks'] });
      if (issues.length > 0) return { status: 400, body: chatBlocksError(issues) };
    }
    rec.uses += 1;
    rec.bodies.push(body);
    const blocks = Array.isArray(body['blocks']) ? (body['blocks'] as unknown[]) : undefined;
    const original = rec.channel && rec.messageTs ? this.message(rec.channel, rec.messageTs) : undefined;
    if (body['delete_original'] === true || body['delete_original'] === 'true') {
      if (original && rec.channel) this.msgs.set(rec.channel, this.messages(rec.channel).filter((m) => m !== original));
    } else if (body['replace_original'] === true || body['replace_original'] === 'true') {
      if (original) {
        if (body['text'] !== undefined) original.text = str(body['text']);
        original.blocks = blocks;
        original.updates += 1;
      }
    } else if (rec.channel) {
      if (body['response_type'] === 'in_channel') {
        this.pushMessage({
          channel: rec.channel,
          ts: this.nextTs(),
          text: str(body['text']),
          blocks,
          thread_ts: str(body['thread_ts']),
          user: this.botUserId,
          bot_id: this.botId,
          postedWithToken: 'response_url',
          updates: 0,
        });
      } else if (rec.userId) {
        this.ephems.push({ channel: rec.channel, user: rec.userId, text: str(body['text']), blocks, message_ts: this.nextTs() });
      }
    }
    return { status: 200, body: { ok: true } };
  }
}

export interface FakeSlackOptions {
  botToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  appId?: string;
  /** ms clock; defaults to Date.now */
  clock?: () => number;
  /**
   * Keep only about this many recent calls in `calls` (the benchmark's long runs); every call is
   * kept by default. `callCount` counts them all either way.
   */
  keepCalls?: number;
}
