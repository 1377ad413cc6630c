// Under crashes: the real process (`npm start`) takes a stream of writes — `/task add`,
// request_approval executions, Approve clicks — and is SIGKILLed at random points, restarted,
// and driven again, many times. Afterwards: nothing acknowledged is lost or doubled, no approval
// is half-decided, SQLite is intact, and every workflow step decided before a kill completes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { SlackDriver } from '../../src/sandbox/driver.js';
import { FakeSlack, type FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { SIGNING_SECRET, TEAM } from '../support/harness.js';
import { freePort, startMain, waitForHealthy, type RunningProcess } from '../support/process.js';

const CYCLES = 16;
const WORKERS = 4;
const KILL_AFTER_MS: [number, number] = [50, 600];

const ANN = 'UCRASHANN'; // runs /task add
const ALICE = 'UCRASHALI'; // approver
const BOB = 'UCRASHBOB'; // approver
const CAROL = 'UCRASHCAR'; // requester

/** Deterministic randomness for a run; the seed is printed, CRASH_SEED replays it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}


interface SentCommand {
  title: string;
  responseUrl: string;
  status?: number;
  /** The ack's body: the reply, when the app could answer in the ack. */
  body?: string;
}
interface SentExecution {
  executionId: string;
  eventId: string;
  title: string;
  deliveries: number;
  acked: boolean;
}
interface SentClick {
  approvalId: number;
  userId: string;
  status?: number;
}

function buttonValue(m: FakeMessage, actionId: string): string | undefined {
  for (const b of (m.blocks ?? []) as { elements?: { action_id?: string; value?: string }[] }[]) {
    for (const e of b.elements ?? []) if (e.action_id === actionId) return e.value;
  }
  return undefined;
}

describe('crash safety: SIGKILL at random points while writing', () => {
  let dir: string;
  let fake: FakeSlack;
  let port: number;
  let env: Record<string, string>;
  let slack: SlackDriver;
  let proc: RunningProcess | undefined;
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  const rand = prng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-crash-'));
    fake = await FakeSlack.start();
    for (const id of [ANN, ALICE, BOB, CAROL]) fake.addUser({ id, teamId: TEAM });
    port = await freePort();
    env = {
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: String(port),
      DATABASE_URL: join(dir, 'tasklane.db'),
      LOG_LEVEL: 'info',
    };
    slack = new SlackDriver({ appUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET, fake, teamId: TEAM });
  });
  afterAll(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<RunningProcess> {
    const p = startMain(env);
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 30_000);
    } catch (err) {
      p.child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${p.output()}`);
    }
    return p;
  }

  it(`survives ${CYCLES} SIGKILLs without losing, doubling or half-applying a write`, async () => {
    const commands: SentCommand[] = [];
    const executions: SentExecution[] = [];
    const clicks: SentClick[] = [];
    let seq = 0;
    let kills = 0;

    const deliver = async (e: SentExecution) => {
      e.deliveries += 1;
      const r = await slack.functionExecuted({
        teamId: TEAM,
        callbackId: FUNCTION.requestApproval,
        executionId: e.executionId,
        // Slack retries a delivery it got no 200 for with the same event id and x-slack-retry-num.
        eventId: e.eventId,
        ...(e.deliveries > 1 ? { retryNum: e.deliveries - 1, retryReason: 'http_error' } : {}),
        inputs: { approver: ALICE, other_approvers: [BOB], title: e.title, requester: CAROL },
      });
      if (r.response.status === 200) e.acked = true;
    };

    // `/task add` signed like Slack (driver.command's fields), with the response_url made and
    // remembered before sending: the request may die with the process.
    const addTask = async () => {
      const title = `crash task ${seed}-${(seq += 1)}`;
      const responseUrl = fake.newResponseUrl({ channel: fake.dmChannel(ANN), userId: ANN });
      const c: SentCommand = { title, responseUrl };
      commands.push(c);
      const body = new URLSearchParams({
        token: slack.verificationToken,
        team_id: TEAM,
        team_domain: 'crash',
        channel_id: fake.dmChannel(ANN),
        channel_name: 'directmessage',
        user_id: ANN,
        user_name: 'ann',
        command: '/task',
        text: `add "${title}"`,
        api_app_id: slack.appId,
        is_enterprise_install: 'false',
        response_url: responseUrl,
        trigger_id: fake.issueTriggerId(ANN, TEAM),
      }).toString();
      const r = await slack.send(body, 'application/x-www-form-urlencoded');
      c.status = r.status;
      c.body = r.body;
    };

    const requestApproval = async () => {
      const n = (seq += 1);
      const e: SentExecution = { executionId: `FxCRASH${seed}N${n}`, eventId: `EvCRASH${seed}N${n}`, title: `crash approval ${seed}-${n}`, deliveries: 0, acked: false };
      executions.push(e);
      await deliver(e);
    };

    const approveSomething = async (): Promise<boolean> => {
      const who = rand() < 0.5 ? ALICE : BOB;
      const open = fake.messages(fake.dmChannel(who)).filter((m) => buttonValue(m, ACTION.approve) !== undefined);
      if (open.length === 0) return false;
      const m = open[Math.floor(rand() * open.length)] as FakeMessage;
      const value = buttonValue(m, ACTION.approve) as string;
      const click: SentClick = { approvalId: Number(value), userId: who };
      clicks.push(click);
      const r = await slack.blockAction({ teamId: TEAM, userId: who, actionId: ACTION.approve, container: 'message', channelId: m.channel, messageTs: m.ts, value, unchecked: true });
      click.status = r.response.status;
      return true;
    };

    const worker = async (state: { alive: boolean }) => {
      while (state.alive) {
        const r = rand();
        try {
          if (r < 0.5) await addTask();
          else if (r < 0.75) await requestApproval();
          else if (!(await approveSomething())) await addTask();
        } catch (err) {
          // The process died under this request (fetch failed: reset, refused): no answer, as
          // Slack would see it. Anything else is a bug in this test.
          if (!(err instanceof TypeError)) throw err;
        }
      }
    };

    // After each kill, with the process dead: every Approve click Slack got a 200 for is a stored
    // decision, and the cards recorded so far are remembered (a later process must never send
    // those approvers another).
    const storedCards = new Map<string, string>();
    const afterKill = () => {
      const db = new Database(env.DATABASE_URL as string, { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT approval_id AS id, user_id AS userId, message_ts AS ts FROM approval_approvers WHERE message_ts IS NOT NULL').all() as { id: number; userId: string; ts: string }[];
        for (const r of rows) storedCards.set(`${r.id}:${r.userId}`, r.ts);
        const status = db.prepare('SELECT status FROM approvals WHERE id = ?');
        for (const c of clicks.filter((x) => x.status === 200)) {
          expect((status.get(c.approvalId) as { status: string } | undefined)?.status, `acknowledged click on approval ${c.approvalId}`).toBe('approved');
        }
      } finally {
        db.close();
      }
    };
    const outputs: string[] = [];

    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      proc = await start();
      // Slack redelivers the step executions that got no 200.
      for (const e of executions.filter((x) => !x.acked)) await deliver(e).catch(() => undefined);
      const state = { alive: true };
      const killAfter = between(...KILL_AFTER_MS);
      const running = Array.from({ length: WORKERS }, () => worker(state));
      await new Promise((r) => setTimeout(r, killAfter));
      state.alive = false;
      proc.child.kill('SIGKILL');
      const { signal } = await proc.exited;
      expect(signal).toBe('SIGKILL');
      kills += 1;
      await Promise.all(running);
      outputs.push(proc.output());
      afterKill();
    }

    // The last start: redeliveries, then the start-up recovery must finish what the kills cut short.
    proc = await start();
    for (const e of executions.filter((x) => !x.acked)) await deliver(e);
    expect(executions.every((e) => e.acked)).toBe(true);

    const dbPath = env.DATABASE_URL as string;
    const read = <T>(fn: (db: Database.Database) => T): T => {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    interface ApprovalRow {
      id: number;
      fx: string;
      status: string;
      decidedBy: string | null;
      decidedAt: number | null;
      stepState: string;
      failureReason: string | null;
    }
    const approvals = () =>
      read((db) =>
        db
          .prepare(`SELECT id, function_execution_id AS fx, status, decided_by AS decidedBy, decided_at AS decidedAt, step_state AS stepState, failure_reason AS failureReason FROM approvals ORDER BY id`)
          .all() as ApprovalRow[],
      );
    /** Approvers of pending approvals who have no card (a decided approval needs no more request cards). */
    const unsentCards = () =>
      read(
        (db) =>
          (db.prepare(`SELECT count(*) AS n FROM approval_approvers p JOIN approvals a ON a.id = p.approval_id WHERE a.status = 'pending' AND p.message_ts IS NULL`).get() as { n: number }).n,
      );
    /** An approver's cards for one approval, whatever they show now (request, outcome): found by the bold title. */
    const cardsFor = (fx: string, who: string) => {
      const title = executions.find((e) => e.executionId === fx)?.title ?? '?';
      return fake.messages(fake.dmChannel(who)).filter((m) => JSON.stringify(m.blocks ?? []).includes(`*${title}*`));
    };
    const stepsOwed = () =>
      approvals().filter((a) => (a.status === 'approved' || a.status === 'rejected' ? fake.execution(a.fx)?.state !== 'completed' : a.status === 'failed' ? fake.execution(a.fx)?.state !== 'failed' : false));

    const converge = async (what: string, done: () => boolean, timeoutMs = 60_000) => {
      const until = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > until) throw new Error(`the last process did not ${what} within ${timeoutMs} ms\n${proc?.output() ?? ''}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await converge('complete every decided step', () => stepsOwed().length === 0);
    await converge('send every card left unsent', () => unsentCards() === 0);

    // Every approval still pending can be decided from its (possibly recovered) card; its step completes.
    const pendingBefore = approvals().filter((a) => a.status === 'pending');
    for (const a of pendingBefore) {
      const m = fake.messages(fake.dmChannel(ALICE)).find((x) => buttonValue(x, ACTION.approve) === String(a.id));
      expect(m, `a card for pending approval ${a.id}`).toBeDefined();
      const r = await slack.blockAction({ teamId: TEAM, userId: ALICE, actionId: ACTION.approve, container: 'message', channelId: (m as FakeMessage).channel, messageTs: (m as FakeMessage).ts });
      expect(r.response.status).toBe(200);
    }
    await converge('complete the steps decided after the last start', () => approvals().every((a) => a.status !== 'pending') && stepsOwed().length === 0);

    // A clean stop, then the store is checked with the process gone.
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const lastOutput = proc.output();

    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);

      // /task add: every acknowledged (HTTP 200) command exists exactly once — it is stored before
      // the ack — and so does every one confirmed to the user; nothing doubled, nothing invented.
      const titles = new Map<string, number>();
      for (const r of db.prepare('SELECT title, count(*) AS n FROM tasks GROUP BY title').all() as { title: string; n: number }[]) titles.set(r.title, r.n);
      // Confirmed: the user saw "Created #n", in the ack's body or through the response_url.
      const confirmed = commands.filter(
        (c) => (c.status === 200 && (c.body ?? '').includes('Created #')) || fake.responses(c.responseUrl).some((b) => String(b['text'] ?? '').includes('Created #')),
      );
      for (const c of confirmed) expect(titles.get(c.title), c.title).toBe(1);
      for (const c of commands.filter((x) => x.status === 200)) expect(titles.get(c.title), `acknowledged: ${c.title}`).toBe(1);
      expect([...titles.values()].every((n) => n === 1)).toBe(true);
      const sentTitles = new Set(commands.map((c) => c.title));
      expect([...titles.keys()].filter((t) => !sentTitles.has(t))).toEqual([]);
      const acked200 = commands.filter((c) => c.status === 200);
      const ackedNotStored = acked200.filter((c) => !titles.has(c.title)).length;
      const storedNotConfirmed = [...titles.keys()].filter((t) => !confirmed.some((c) => c.title === t)).length;
      const numbers = db.prepare('SELECT number FROM tasks ORDER BY number').all() as { number: number }[];
      expect(new Set(numbers.map((r) => r.number)).size).toBe(numbers.length);

      // Approvals: one per execution, every acknowledged execution recorded, none half-decided.
      const rows = db
        .prepare(`SELECT id, function_execution_id AS fx, status, decided_by AS decidedBy, decided_at AS decidedAt, step_state AS stepState, failure_reason AS failureReason FROM approvals ORDER BY id`)
        .all() as ApprovalRow[];
      const byFx = new Map(rows.map((r) => [r.fx, r]));
      expect(byFx.size).toBe(rows.length);
      for (const e of executions) expect(byFx.get(e.executionId), e.executionId).toBeDefined();
      const audit = db.prepare(`SELECT action, count(*) AS n FROM audit_log WHERE entity = 'approval' AND entity_id = ? GROUP BY action`);
      const approvers = db.prepare('SELECT user_id AS userId, channel_id AS channelId, message_ts AS ts FROM approval_approvers WHERE approval_id = ?');
      let decisions = 0;
      let duplicateCards = 0;
      for (const a of rows) {
        const actions = Object.fromEntries((audit.all(a.id) as { action: string; n: number }[]).map((r) => [r.action, r.n]));
        expect(actions['requested'], `approval ${a.id} requested once`).toBe(1);
        if (a.status === 'approved' || a.status === 'rejected') {
          decisions += 1;
          expect(a.decidedBy, `approval ${a.id}`).not.toBeNull();
          expect(a.decidedAt, `approval ${a.id}`).not.toBeNull();
          expect(actions[a.status], `approval ${a.id} decided once`).toBe(1);
          expect(actions[a.status === 'approved' ? 'rejected' : 'approved']).toBeUndefined();
          expect(a.stepState).toBe('completed');
          expect(fake.execution(a.fx)).toMatchObject({ state: 'completed', outputs: { approved: a.status === 'approved', decided_by: a.decidedBy, approval_id: String(a.id) } });
        } else {
          expect(a.status, `approval ${a.id}`).toBe('failed');
          expect(a.failureReason).not.toBeNull();
          expect(a.decidedBy).toBeNull();
          expect(a.decidedAt).toBeNull();
          expect(actions['approved'] ?? actions['rejected']).toBeUndefined();
        }
        // Every card the store recorded exists in Slack; an approval that was pending at the end had all its cards.
        for (const p of approvers.all(a.id) as { userId: string; channelId: string | null; ts: string | null }[]) {
          if (p.ts) expect(fake.message(p.channelId ?? '', p.ts), `approval ${a.id}: ${p.userId}'s card`).toBeDefined();
          else expect(pendingBefore.some((x) => x.id === a.id), `approval ${a.id}: ${p.userId} has no card`).toBe(false);
          duplicateCards += Math.max(0, cardsFor(a.fx, p.userId).length - 1);
          const before = storedCards.get(`${a.id}:${p.userId}`);
          if (before) expect(p.ts, `approval ${a.id}: ${p.userId} already had a card`).toBe(before);
        }
        // The requester hears of the outcome at most once.
        const title = executions.find((e) => e.executionId === a.fx)?.title;
        const notices = fake.messages(fake.dmChannel(CAROL)).filter((m) => (m.text ?? '').startsWith(`Your request "${title}" was`));
        expect(notices.length, `approval ${a.id}: requester notices`).toBeLessThanOrEqual(1);
      }

      const all = [...outputs, lastOutput].join('\n');
      const recovered = (all.match(/sending the cards a previous attempt did not send/g) ?? []).length;
      const redelivered = (all.match(/redelivered; approval \d+ still owes cards/g) ?? []).length;
      const stepsRecovered = [...all.matchAll(/approvals: retried (\d+) workflow step/g)].reduce((n, m) => n + Number(m[1]), 0);
      console.log(
        [
          `crash safety (seed ${seed}): ${kills} SIGKILLs survived, ${CYCLES + 1} starts`,
          `  /task add: ${commands.length} sent, ${acked200.length} acknowledged (HTTP 200), all stored exactly once (${ackedNotStored} lost); ${confirmed.length} confirmed to the user ("Created #n"); ${storedNotConfirmed} stored but killed before the reply`,
          `  request_approval: ${executions.length} executions, ${executions.reduce((n, e) => n + e.deliveries, 0)} deliveries (redelivered until acknowledged): ${rows.length} approvals, one each`,
          `  Approve clicks: ${clicks.length} sent, ${clicks.filter((c) => c.status === 200).length} acknowledged; decisions: ${decisions - pendingBefore.length} during the kills + ${pendingBefore.length} after the last start = ${decisions}, every step completed once (${stepsRecovered} by a start-up recovery)`,
          `  cards left unsent by a kill, sent by a redelivery: ${redelivered} approvals, by a start-up recovery: ${recovered}; ${storedCards.size} cards recorded before a kill, none sent again; posted twice (kill between Slack's answer and the record): ${duplicateCards}; ${unsentCards()} unsent at the end`,
          `  integrity_check ok, foreign_key_check empty`,
        ].join('\n'),
      );
    } finally {
      db.close();
    }
  }, 240_000);
});
