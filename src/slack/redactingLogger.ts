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

  /** Strings are redacted; an object (an Error, a payload) is passed on as is unless it holds a secret. */
  private clean(msg: unknown[]): unknown[] {
    return msg.map((m) => {
      if (typeof m === 'string') return redactSecrets(m, this.secrets);
      if (m instanceof Error) {
        const text = `${m.name}: ${m.message}\n${m.stack ?? ''}`;
        const redacted = redactSecrets(text, this.secrets);
        return redacted === text ? m : redacted;
      }
      if (typeof m === 'object' && m !== null) {
        let json: string | undefined;
        try {
          json = JSON.stringify(m);
        } catch {
          return m;
        }
        if (json === undefined) return m;
        const redacted = redactSecrets(json, this.secrets);
        return redacted === json ? m : redacted;
      }
      return m;
    });
  }
}
