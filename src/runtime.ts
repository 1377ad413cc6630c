import type { Logger } from '@slack/bolt';

/**
 * Tracks work still running after Slack got its ack (Bolt lets listeners go on after `ack()`),
 * and background jobs. Shutdown waits for it (bounded); tests wait for it to assert on effects.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = () => {
      this.running.delete(work);
      if (this.running.size === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
      }
    };
    work.then(done, done);
    return work;
  }

  /** Resolves once nothing is running (true), or after `timeoutMs` (false). */
  idle(timeoutMs = 10_000): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        // Work may have scheduled more work as it finished: wait for that too.
        void this.idle(timeoutMs).then(resolve);
      });
    });
  }
}

/** Runs work that need not hold up the ack (a user look-up, waiting on the sender thread) in the background, tracked and logged. */
export class Background {
  constructor(
    private readonly inFlight: InFlight,
    private readonly logger: Logger,
  ) {}

  run(what: string, job: () => Promise<unknown>): void {
    void this.inFlight.track(
      job().catch((err: unknown) => {
        this.logger.error(`background job failed: ${what}: ${describeError(err)}`);
      }),
    );
  }
}

/**
 * One line for logs: error code and message, never tokens, payloads or what people typed. A failed
 * drizzle query's message lists the query's parameters (titles, comments): it is described by its
 * SQL and the driver's error instead.
 */
export function describeError(err: unknown): string {
  if (isQueryError(err)) return `database query failed: ${err.cause === undefined ? '?' : describeError(err.cause)} (${err.query})`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const slackError = (err as { data?: { error?: unknown } }).data?.error;
    return [code, slackError, err.message].filter((p) => typeof p === 'string' && p !== '').join(': ');
  }
  return String(err);
}

/** drizzle's DrizzleQueryError, recognised by shape (its message carries the query parameters). */
function isQueryError(err: unknown): err is Error & { query: string; params: unknown[]; cause?: unknown } {
  return err instanceof Error && typeof (err as { query?: unknown }).query === 'string' && Array.isArray((err as { params?: unknown }).params);
}
