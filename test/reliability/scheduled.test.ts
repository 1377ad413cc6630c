// Scheduled work under SIGKILL: the real process (`npm start`) holds rows due over the next few
// seconds (what reminders, nudges, expiries and next occurrences are: outbox rows written for
// later) while Slack answers slowly, and is SIGKILLed at random points as they fall due, then
// restarted. The rows: scheduled messages, and approval requests whose expiry falls due (their
// creation set back by an hour, as if it had passed). Afterwards each due action happened exactly
// once: every scheduled message is in Slack once (found by the outbox key each post carries), none
// early; every request expired once and its workflow step completed once with outcome=expired;
// nothing is left pending.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/engine.js';
import { ApprovalEffects } from '../../src/features/approvals/effects.js';
import { messageEffect } from '../../src/outbox/kinds.js';
import { FUNCTION } from '../../src/slack/ids.js';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { effectKeyOf } from '../support/crashObligations.js';
import { SIGNING_SECRET, TEAM } from '../support/harness.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { freePort, killIfRunning, startHealthy, type RunningProcess } from '../support/process.js';

const USERS = ['USCHED001', 'USCHED002', 'USCHED003'];
const ROWS = 90;
const KILLS = 4;
const EXPIRING = 16;
const HOUR_MS = 60 * 60_000;

/** Sets an approval's creation time (as if it had been made then). */
async function setCreatedAt(stores: Stores, id: number, createdAt: number): Promise<void> {
  if (stores.sqlite) stores.sqlite.sqlite.prepare('UPDATE approvals SET created_at = ? WHERE id = ?').run(createdAt, id);
  else await stores.postgres!.pool.query('UPDATE approvals SET created_at = $1 WHERE id = $2', [createdAt, id]);
}

/** The suite on one engine: `databaseUrl()` is the SQLite file or the PostgreSQL database the process runs on. */
function scheduledUnderKills(databaseUrl: (dir: string) => string): void {
  let dir: string;
  let fake: FakeSlack;
  let port: number;
  let env: Record<string, string>;
  let proc: RunningProcess | undefined;
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  let state = seed >>> 0;
  const rand = () => {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    return state / 4_294_967_296;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-sched-'));
    fake = await FakeSlack.start();
    for (const id of USERS) fake.addUser({ id, teamId: TEAM });
    // Slack answers every post slowly, so that kills land while sends are under way.
    fake.failWhen('chat.postMessage', () => true, { delayMs: 60 });
    port = await freePort();
    env = {
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: String(port),
      DATABASE_URL: databaseUrl(dir),
      // A sender that died lets go of its rows after a second (the default is 30 s).
      OUTBOX_LEASE_MS: '1000',
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await killIfRunning(proc);
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (): Promise<RunningProcess> => startHealthy(env, port);

  it(`each due action happens exactly once across ${KILLS} SIGKILLs`, async () => {
    console.log(`scheduled work under SIGKILL: seed ${seed} (CRASH_SEED=${seed} replays this run)`);
    // Written as a change writes them: rows due from 2 to 7 s from now, in the store file.
    const open = (): Promise<Stores> => openStores({ databaseUrl: env['DATABASE_URL']! }, () => {});
    const stores = await open();
    const t0 = Date.now();
    const due = new Map<string, number>();
    const effects = Array.from({ length: ROWS }, (_, i) => {
      const key = `sched:${seed}:${i}`;
      const at = t0 + 2_000 + Math.floor(rand() * 5_000);
      due.set(key, at);
      return { ...messageEffect({ key, teamId: TEAM, channel: USERS[i % USERS.length]!, text: `scheduled ${i}` }), notBefore: at };
    });
    await stores.outbox.add(effects, t0);
    // Requests made an hour ago with expire_after_hours 1: each expires 2–7 s from now.
    const executions: string[] = [];
    for (let i = 0; i < EXPIRING; i += 1) {
      const executionId = `FxSCHED${seed}N${i}`;
      const inputs = { approver: USERS[0], title: `expiring ${i}` };
      fake.startFunctionExecution({ executionId, teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs });
      executions.push(executionId);
      const createdAt = t0 + 2_000 + Math.floor(rand() * 5_000) - HOUR_MS;
      const { approval } = await stores.approvals.create(
        { teamId: TEAM, title: inputs.title, details: '', requesterId: null, approverIds: [USERS[0]!], origin: 'workflow', functionExecutionId: executionId, workflowExecutionId: `Wx${executionId}`, actorId: 'workflow', expireAfterHours: 1 },
        (a) => new ApprovalEffects({ everyWorkspace: false }).scheduled({ ...a, createdAt }),
      );
      await setCreatedAt(stores, approval.id, createdAt);
    }
    await stores.close();

    for (let k = 0; k < KILLS; k += 1) {
      proc = await start();
      await new Promise((r) => setTimeout(r, 300 + Math.floor(rand() * 1_200)));
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    proc = await start();
    const byKey = () => {
      const posted = new Map<string, number[]>();
      for (const m of fake.allMessages()) {
        const key = effectKeyOf(m);
        if (key?.startsWith(`sched:${seed}:`)) posted.set(key, [...(posted.get(key) ?? []), Number(m.ts) * 1000]);
      }
      return posted;
    };
    const deadline = Date.now() + 40_000;
    const completedOnce = () => executions.filter((id) => fake.execution(id)?.state === 'completed').length;
    while ((byKey().size < ROWS || completedOnce() < EXPIRING) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Let leases of the last killed process run out and anything doubled show up.
    await new Promise((r) => setTimeout(r, 1_500));
    const posted = byKey();
    const doubled = [...posted].filter(([, at]) => at.length > 1).map(([key]) => key);
    const missing = [...due.keys()].filter((key) => !posted.has(key));
    const early = [...posted].filter(([key, at]) => at.some((t) => t < (due.get(key) ?? 0) - 5)).map(([key]) => key);
    expect({ doubled, missing, early }).toEqual({ doubled: [], missing: [], early: [] });
    for (const id of executions) {
      const done = fake.callsTo('functions.completeSuccess').filter((c) => c.args['function_execution_id'] === id && c.status === 200 && (c.response as { ok?: boolean }).ok === true);
      expect(done, id).toHaveLength(1);
      expect(fake.execution(id)?.outputs).toMatchObject({ approved: false, outcome: 'expired' });
    }
    const check = await open();
    expect(await check.outbox.counts()).toMatchObject({ pending: 0, failed: 0 });
    for (const id of executions) expect((await check.approvals.getByExecution(TEAM, id))?.status).toBe('expired');
    await check.close();
  }, 120_000);
}

describe('scheduled work survives SIGKILL (SQLite)', () => {
  scheduledUnderKills((dir) => join(dir, 'tasklane.db'));
});

describePostgres('scheduled work survives SIGKILL (PostgreSQL)', () => {
  const database = useTestDatabase();
  scheduledUnderKills(() => database.url);
});
