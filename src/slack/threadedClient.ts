import { WebClient, type WebAPICallResult } from '@slack/web-api';

/** Somewhere else to make a Web API call (the helper thread, features/home/thread.ts). */
export interface CallThread {
  /** The call's outcome from the thread, or undefined when the thread cannot take it now. */
  call(method: string, options: Record<string, unknown>): Promise<WebAPICallResult> | undefined;
}

/**
 * The bot's WebClient, whose calls run on a helper thread when one is ready and not too far
 * behind: serialising a card or a modal, the HTTP exchange and parsing Slack's answer cost more
 * of the main thread's time than most listeners do, and every ack queued behind that work.
 * Everything else (the methods, retries, 429 handling, errors with Slack's `data`) is the
 * WebClient's, on the thread. Without a thread, or when it is busy, calls are made here.
 */
export class ThreadedWebClient extends WebClient {
  private thread: CallThread | undefined;
  /** Calls the thread took (the rest were made here). */
  offloadedCalls = 0;

  offloadTo(thread: CallThread): void {
    this.thread = thread;
  }

  override async apiCall(method: string, options: Record<string, unknown> = {}): Promise<WebAPICallResult> {
    const offloaded = this.thread?.call(method, { ...options, token: options['token'] ?? this.token });
    if (!offloaded) return super.apiCall(method, options);
    this.offloadedCalls += 1;
    return offloaded;
  }
}

/** A Web API error as data, to cross a thread: its message and the fields callers read. */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

const ERROR_FIELDS = ['code', 'data', 'retryAfter', 'statusCode', 'statusMessage', 'body'] as const;

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const e = err as Error & Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const k of ERROR_FIELDS) if (e[k] !== undefined) fields[k] = e[k];
  const original = e['original'] as { message?: unknown; code?: unknown } | undefined;
  if (original) fields['original'] = { message: String(original.message ?? ''), code: original.code };
  return { name: e.name, message: e.message, fields: structuredCloneable(fields) ? fields : { code: fields['code'] } };
}

export function deserializeError(e: SerializedError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}

function structuredCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
