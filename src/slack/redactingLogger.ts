import type { LogLevel, Logger } from '@slack/bolt';

/**
 * Slack credentials by shape: bot, user, config and refresh tokens (`xox?-`), app-level tokens
 * (`xapp-`), workflow tokens (`xwfp-`), and the ticket in a Socket Mode WebSocket URL.
 */
const TOKEN = /\b(xox[abposre]|xapp|xwfp)-[A-Za-z0-9-]+/g;
const TICKET = /([?&]ticket=)[^&"'\s]+/g;

const RANK: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** `text` with every Slack credential (and each of `secrets`) replaced by a marker that still says what it was. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[REDACTED]');
  return out.replace(TOKEN, '$1-[REDACTED]').replace(TICKET, '$1[REDACTED]');
}

/**
 * A Logger that redacts credentials from everything written through it, installed by createApp
 * around the configured logger so Bolt, its receivers, every WebClient and our own code share it.
 * @slack/web-api already masks `token`/`Authorization` fields, but at debug level
 * @slack/socket-mode logs each incoming message whole ("Received a message on the WebSocket: …"),
 * and a `function_executed` event or a click on a workflow-posted message carries its workflow
 * token (`bot_access_token: "xwfp-…"`) — as would any error message that quotes a request.
 */
export class RedactingLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly secrets: readonly string[] = [],
  ) {
    this.rank = RANK[inner.getLevel()] ?? 1;
  }

  // A line below the level is dropped before it is cleaned: @slack/web-api writes a debug line for
  // every request, and redacting it (JSON, regular expressions) was measurable under load.
  debug(...msg: unknown[]): void {
    if (this.rank <= 0) this.inner.debug(...this.clean(msg));
  }
  info(...msg: unknown[]): void {
    if (this.rank <= 1) this.inner.info(...this.clean(msg));
  }
  warn(...msg: unknown[]): void {
    if (this.rank <= 2) this.inner.warn(...this.clean(msg));
  }
  error(...msg: unknown[]): void {
    this.inner.error(...this.clean(msg));
  }
  private rank: number;
  setLevel(level: LogLevel): void {
    this.rank = RANK[level] ?? 1;
    this.inner.setLevel(level);
  }
  getLevel(): LogLevel {
    return this.inner.getLevel();
  }
  setName(name: string): void {
    this.inner.setName(name);
  }

  /**
   * Strings are redacted; an Error or any other object is written out whole (every field, nested,
   * `cause` included) and redacted as text, so a token in a library error's `data`, `headers` or
   * `config` cannot reach the log. The text is what is passed on, never the object: the inner
   * logger could print fields the redactor did not see.
   */
  private clean(msg: unknown[]): unknown[] {
    return msg.map((m) => {
      if (typeof m === 'string') return redactSecrets(m, this.secrets);
      if (typeof m === 'object' && m !== null) return bounded(redactSecrets(textForLog(m), this.secrets));
      return m;
    });
  }
}

/** How far into an object, how many fields of each, objects in all and text in all a log line shows. */
const MAX_DEPTH = 8;
const MAX_ENTRIES = 100;
const MAX_OBJECTS = 2_000;
const MAX_TEXT = 20_000;

/** Fields that hold a credential whatever its shape (an `Authorization: Basic …`, a client secret). */
const SECRET_FIELD = /^(authorization|proxy-authorization|cookie|set-cookie|password|(?:\w+_)?token|(?:\w+_)?secret)$/i;

/** Cut after redaction, so that no part of a secret is left to be seen by a cut. */
function bounded(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… [${text.length - MAX_TEXT} more characters]` : text;
}

/**
 * `value` as text: an Error as its stack, then every other own field as JSON (enumerable or not:
 * `cause`, `errors`, `data`, …); anything else as JSON. Circular references and what lies past the
 * bounds are marked, never followed; a getter that throws is shown as such.
 */
export function textForLog(value: unknown): string {
  const seen = new WeakSet<object>();
  let objects = 0;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return String(v);
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[Circular]';
    if (depth >= MAX_DEPTH || ++objects > MAX_OBJECTS) return '[…]';
    seen.add(v);
    try {
      if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, Math.min(v.byteLength, MAX_TEXT)).toString('utf8');
      if (Array.isArray(v) || v instanceof Set) return [...v].slice(0, MAX_ENTRIES).map((x) => walk(x, depth + 1));
      if (v instanceof Map) return walk(Object.fromEntries([...v].slice(0, MAX_ENTRIES)), depth);
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
      const out: Record<string, unknown> = {};
      const keys = v instanceof Error ? ['name', 'message', 'stack', ...Reflect.ownKeys(v)] : Reflect.ownKeys(v);
      for (const key of [...new Set(keys)].slice(0, MAX_ENTRIES)) {
        const name = String(key);
        try {
          const field = (v as Record<PropertyKey, unknown>)[key];
          if (typeof field === 'string' && SECRET_FIELD.test(name)) out[name] = '[[REDACTED]]';
          // A failed query's values are what people typed (titles, comments), in its message and stack too.
          else if (isQueryError(v) && (name === 'params' || name === 'message')) out[name] = '[omitted]';
          else if (isQueryError(v) && name === 'stack' && typeof field === 'string') out[name] = field.split('\n').filter((l) => /^\s+at /.test(l)).join('\n');
          else out[name] = walk(field, depth + 1);
        } catch {
          out[name] = '[unreadable]';
        }
      }
      return out;
    } finally {
      seen.delete(v); // shared (not circular) references are shown each time
    }
  };
  if (value instanceof Error) {
    const { name, message, stack, ...rest } = walk(value, 0) as Record<string, unknown>;
    const head = typeof stack === 'string' && stack.includes(String(message)) ? stack : `${String(name)}: ${String(message)}\n${String(stack ?? '')}`;
    return Object.keys(rest).length > 0 ? `${head} ${JSON.stringify(rest)}` : head;
  }
  return JSON.stringify(walk(value, 0)) ?? String(value);
}

/** drizzle's DrizzleQueryError, by shape: its `params` (and so its message) hold the query's values. */
function isQueryError(v: object): boolean {
  return v instanceof Error && typeof (v as { query?: unknown }).query === 'string' && Array.isArray((v as { params?: unknown }).params);
}
