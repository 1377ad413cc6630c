// Under crashes: the real process (`npm start`) takes a stream of writes — `/task add`, New task
// modal submissions, request_approval / create_task / complete_task executions, Approve clicks,
// ✅ reactions on task cards — and is SIGKILLed at random points, restarted, and driven again,
// many times. Afterwards: nothing acknowledged is lost or doubled, no approval is half-decided,
// SQLite is intact, every workflow step decided before a kill completes, and every effect the
// store owes Slack (cards, card refreshes, notices, step completions) is in Slack exactly once,
// counted by the outbox key each post carries in its message metadata.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { SlackDriver } from '../../src/sandbox/driver.js';
import { FakeSlack, type FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { SIGNING_SECRET, TEAM } from '../support/harness.js';
import { freePort, killIfRunning, startHealthy, type RunningProcess } from '../support/process.js';
import { taskFormValues } from '../modals/helpers.js';
import { effectKeyOf, obligations, type StepCall } from '../support/crashObligations.js';

const CYCLES = 16;
const WORKERS = 4;
const KILL_AFTER_MS: [number, number] = [50, 600];

const ANN = 'UCRASHANN'; // runs /task add
const ALICE = 'UCRASHALI'; // approver
const BOB = 'UCRASHBOB'; // approver
const CAROL = 'UCRASHCAR'; // requester
const DAN = 'UCRASHDAN'; // assignee of modal and workflow tasks
const EVE = 'UCRASHEVE'; // assignee of modal and workflow tasks
const ASSIGNEES = [DAN, EVE];
/** Who submits New task modals: one per worker, since views.open replaces a person's modal stack. */
const MODAL_USERS = Array.from({ length: WORKERS }, (_, i) => `UCRASHMK${i}`);

/**
 * Each worker's mix of requests (cumulative thresholds). A kind with nothing to act on (no open
 * approval card, no task made by a step, no open task card) sends its fallback instead.
 */
const MIX = { addTask: 0.22, requestApproval: 0.36, approve: 0.48, modal: 0.62, createTask: 0.76, completeTask: 0.88 /* else: ✅ reaction */ };

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
  callbackId: string;
  executionId: string;
  eventId: string;
  title: string;
  inputs: Record<string, unknown>;
  deliveries: number;
  acked: boolean;
  /** create_task: the wait_for_completion flag and the assignee. */
  wait?: boolean;
  assignee?: string;
  /** complete_task: the task it names (a task a create_task step made). */
  target?: { createFx: string; taskId: number; ref: string };
}
/** A New task modal: `/task` (empty text) → views.open → view_submission. */
interface SentModal {
  title: string;
  userId: string;
  assignee: string;
  /** The app opened the modal (views.open ok) before the process died. */
  opened: boolean;
  /** The submission's HTTP status, and whether the answer was `response_action: errors`. */
  status?: number;
  errors?: boolean;
  acked: boolean;
}
/** A ✅ reaction_added event on a task card, redelivered (same event id) until acknowledged. */
interface SentReaction {
  taskId: number;
  userId: string;
  channel: string;
  ts: string;
  eventId: string;
  eventTs: string;
  deliveries: number;
  acked: boolean;
  /** Which start of the process acknowledged it (1-based). */
  ackedIn?: number;
}
interface SentClick {
  approvalId: number;
  userId: string;
  status?: number;
  /** Which start of the process answered it (1-based), for the report of a problem. */
  proc?: number;
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
    for (const id of [ANN, ALICE, BOB, CAROL, ...ASSIGNEES, ...MODAL_USERS]) fake.addUser({ id, teamId: TEAM });
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
    await killIfRunning(proc);
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (): Promise<RunningProcess> => startHealthy(env, port);

  it(`survives ${CYCLES} SIGKILLs without losing, doubling or half-applying a write`, async () => {
    console.log(`crash safety: seed ${seed} (CRASH_SEED=${seed} replays this run)`);
    const t0 = Date.now();
    const commands: SentCommand[] = [];
    /** request_approval executions. */
    const executions: SentExecution[] = [];
    const createSteps: SentExecution[] = [];
    const completeSteps: SentExecution[] = [];
    const allExecutions = () => [...executions, ...createSteps, ...completeSteps];
    const clicks: SentClick[] = [];
    const modals: SentModal[] = [];
    const reactions: SentReaction[] = [];
    let seq = 0;
    let kills = 0;
    /** Processes started so far: the one running is process `starts` (1-based, as in the logs below). */
    let starts = 0;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

    const deliver = async (e: SentExecution) => {
      e.deliveries += 1;
      const r = await slack.functionExecuted({
        teamId: TEAM,
        callbackId: e.callbackId,
        executionId: e.executionId,
        // Slack retries a delivery it got no 200 for with the same event id and x-slack-retry-num.
        eventId: e.eventId,
        ...(e.deliveries > 1 ? { retryNum: e.deliveries - 1, retryReason: 'http_error' } : {}),
        inputs: e.inputs,
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
      const title = `crash approval ${seed}-${n}`;
      const e: SentExecution = {
        callbackId: FUNCTION.requestApproval,
        executionId: `FxCRASH${seed}N${n}`,
        eventId: `EvCRASH${seed}N${n}`,
        title,
        inputs: { approver: ALICE, other_approvers: [BOB], title, requester: CAROL },
        deliveries: 0,
        acked: false,
      };
      executions.push(e);
      await deliver(e);
    };

    // The New task modal, as a person uses it: `/task` with no text, the app opens the modal
    // (views.open, seen in the fake), the person submits it. `exited` ends the wait for the
    // modal when the process dies first.
    const submitModal = async (worker: number, exited: Promise<unknown>) => {
      const userId = MODAL_USERS[worker] as string;
      const m: SentModal = { title: `crash modal ${seed}-${(seq += 1)}`, userId, assignee: pick(ASSIGNEES), opened: false, acked: false };
      modals.push(m);
      const { response, triggerId } = await slack.command({ teamId: TEAM, userId, text: '' });
      if (response.status !== 200) return;
      const opened = await Promise.race([
        fake.waitFor('views.open', (c) => c.args['trigger_id'] === triggerId, 3000).catch(() => undefined),
        exited.then(() => undefined),
      ]);
      const viewId = opened?.response['ok'] === true ? (opened.response['view'] as { id?: string } | undefined)?.id : undefined;
      if (!viewId || fake.topView(userId)?.id !== viewId) return;
      m.opened = true;
      const r = await slack.viewSubmission({ teamId: TEAM, userId, viewId, values: taskFormValues({ title: m.title, assignee: m.assignee }) });
      m.status = r.response.status;
      m.errors = r.action === 'errors' || (r.json as { response_action?: unknown } | undefined)?.response_action === 'errors';
      m.acked = m.status === 200 && !m.errors;
    };

    const createTask = async () => {
      const n = (seq += 1);
      const title = `crash step task ${seed}-${n}`;
      const assignee = pick(ASSIGNEES);
      const wait = rand() < 0.5;
      const e: SentExecution = {
        callbackId: FUNCTION.createTask,
        executionId: `FxCRASH${seed}C${n}`,
        eventId: `EvCRASH${seed}C${n}`,
        title,
        inputs: { title, assignee, wait_for_completion: wait },
        deliveries: 0,
        acked: false,
        wait,
        assignee,
      };
      createSteps.push(e);
      await deliver(e);
    };

    // Tasks made by create_task steps, by execution id: read from the store after each kill, and
    // from the outputs of steps completed at once (wait_for_completion false).
    const stepTasks = new Map<string, { id: number; number: number; assignee: string }>();
    const learnStepTasks = () => {
      for (const e of createSteps) {
        if (stepTasks.has(e.executionId)) continue;
        const out = fake.execution(e.executionId)?.outputs;
        const id = /^task-(\d+)$/.exec(String(out?.['task_id'] ?? ''))?.[1];
        if (id && out) stepTasks.set(e.executionId, { id: Number(id), number: Number(out['task_number']), assignee: e.assignee as string });
      }
    };
    const completeTask = async (): Promise<boolean> => {
      learnStepTasks();
      const known = [...stepTasks.entries()];
      if (known.length === 0) return false;
      const untargeted = known.filter(([fx]) => !completeSteps.some((c) => c.target?.createFx === fx));
      const [createFx, t] = pick(untargeted.length > 0 ? untargeted : known);
      const n = (seq += 1);
      const ref = rand() < 0.5 ? `task-${t.id}` : `#${t.number}`;
      const e: SentExecution = {
        callbackId: FUNCTION.completeTask,
        executionId: `FxCRASH${seed}D${n}`,
        eventId: `EvCRASH${seed}D${n}`,
        title: ref,
        inputs: { task: ref, completed_by_user: t.assignee },
        deliveries: 0,
        acked: false,
        target: { createFx, taskId: t.id, ref },
      };
      completeSteps.push(e);
      await deliver(e);
      return true;
    };

    const sendReaction = async (r: SentReaction) => {
      r.deliveries += 1;
      const res = await slack.event(
        TEAM,
        { type: 'reaction_added', user: r.userId, reaction: 'white_check_mark', item_user: fake.botUserId, item: { type: 'message', channel: r.channel, ts: r.ts }, event_ts: r.eventTs },
        { eventId: r.eventId, ...(r.deliveries > 1 ? { retryNum: r.deliveries - 1, retryReason: 'http_error' } : {}) },
      );
      if (res.status === 200) {
        r.acked = true;
        r.ackedIn = starts;
      }
    };
    // ✅ by the assignee on an open task card in their DM (the assignee may complete).
    const react = async (): Promise<boolean> => {
      const who = pick([ANN, ...ASSIGNEES]);
      const open = fake
        .messages(fake.dmChannel(who))
        .filter((m) => /^task:\d+:card:assignee$/.test(effectKeyOf(m) ?? '') && buttonValue(m, ACTION.taskComplete) !== undefined);
      if (open.length === 0) return false;
      const m = pick(open);
      const n = (seq += 1);
      const r: SentReaction = {
        taskId: Number(buttonValue(m, ACTION.taskComplete)),
        userId: who,
        channel: m.channel,
        ts: m.ts,
        eventId: `EvCRASH${seed}R${n}`,
        eventTs: (Date.now() / 1000).toFixed(6),
        deliveries: 0,
        acked: false,
      };
      reactions.push(r);
      await sendReaction(r);
      return true;
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
      click.proc = starts;
      return true;
    };

    const worker = async (index: number, state: { alive: boolean }, exited: Promise<unknown>) => {
      while (state.alive) {
        const r = rand();
        try {
          if (r < MIX.addTask) await addTask();
          else if (r < MIX.requestApproval) await requestApproval();
          else if (r < MIX.approve) {
            if (!(await approveSomething())) await addTask();
          } else if (r < MIX.modal) await submitModal(index, exited);
          else if (r < MIX.createTask) await createTask();
          else if (r < MIX.completeTask) {
            if (!(await completeTask())) await createTask();
          } else if (!(await react())) await addTask();
        } catch (err) {
          // The process died under this request (fetch failed: reset, refused): no answer, as
          // Slack would see it. Anything else is a bug in this test.
          if (!(err instanceof TypeError)) throw err;
        }
      }
    };

    // After each kill, with the process dead: every Approve click Slack got a 200 for is a stored
    // decision, and the cards recorded so far are remembered (a later process must never send
    // those approvers another). Likewise every acknowledged modal submission, create_task and
    // complete_task execution is stored (each is stored before its ack), the task cards recorded
    // so far are remembered, and the tasks create_task steps made are learnt (complete_task's targets).
    const storedCards = new Map<string, string>();
    const storedTaskCards = new Map<number, string>();
    const afterKill = () => {
      const db = new Database(env.DATABASE_URL as string, { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT approval_id AS id, user_id AS userId, message_ts AS ts FROM approval_approvers WHERE message_ts IS NOT NULL').all() as { id: number; userId: string; ts: string }[];
        for (const r of rows) storedCards.set(`${r.id}:${r.userId}`, r.ts);
        const status = db.prepare('SELECT status FROM approvals WHERE id = ?');
        for (const c of clicks.filter((x) => x.status === 200)) {
          expect((status.get(c.approvalId) as { status: string } | undefined)?.status, `acknowledged click on approval ${c.approvalId}`).toBe('approved');
        }
        const cards = db.prepare(`SELECT task_id AS taskId, ts FROM task_messages WHERE kind = 'assignee_dm'`).all() as { taskId: number; ts: string }[];
        for (const c of cards) storedTaskCards.set(c.taskId, c.ts);
        const byTitle = db.prepare('SELECT count(*) AS n FROM tasks WHERE title = ?');
        for (const m of modals.filter((x) => x.acked)) expect((byTitle.get(m.title) as { n: number }).n, `acknowledged modal submission "${m.title}"`).toBe(1);
        const made = db.prepare(`SELECT id, number, function_execution_id AS fx, assignee_id AS assignee FROM tasks WHERE function_execution_id IS NOT NULL`).all() as { id: number; number: number; fx: string; assignee: string }[];
        const madeBy = new Map(made.map((t) => [t.fx, t]));
        for (const e of createSteps.filter((x) => x.acked)) expect(madeBy.get(e.executionId), `acknowledged create_task ${e.executionId}`).toBeDefined();
        for (const t of made) stepTasks.set(t.fx, { id: t.id, number: t.number, assignee: t.assignee });
        const taskStatus = db.prepare('SELECT status FROM tasks WHERE id = ?');
        for (const e of completeSteps.filter((x) => x.acked)) {
          expect((taskStatus.get(e.target?.taskId) as { status: string } | undefined)?.status, `acknowledged complete_task ${e.executionId} (${e.target?.ref})`).toBe('done');
        }
      } finally {
        db.close();
      }
    };
    const outputs: string[] = [];

    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      proc = await start();
      starts += 1;
      // Slack redelivers the step executions and events that got no 200.
      for (const e of allExecutions().filter((x) => !x.acked)) await deliver(e).catch(() => undefined);
      for (const r of reactions.filter((x) => !x.acked)) await sendReaction(r).catch(() => undefined);
      const state = { alive: true };
      const killAfter = between(...KILL_AFTER_MS);
      const exited = proc.exited;
      const running = Array.from({ length: WORKERS }, (_, i) => worker(i, state, exited));
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
    const tKills = Date.now();
    proc = await start();
    starts += 1;
    for (const e of allExecutions().filter((x) => !x.acked)) await deliver(e);
    for (const r of reactions.filter((x) => !x.acked)) await sendReaction(r);
    expect(executions.every((e) => e.acked)).toBe(true);
    expect(allExecutions().filter((e) => !e.acked).map((e) => e.executionId)).toEqual([]);
    expect(reactions.filter((r) => !r.acked).map((r) => r.eventId)).toEqual([]);

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

    // Every effect the store owes Slack, derived from the store, against what the fake holds.
    const stepCalls = (): StepCall[] =>
      fake.calls
        .filter((c) => c.method === 'functions.completeSuccess' || c.method === 'functions.completeError')
        .map((c) => ({ executionId: String(c.args['function_execution_id']), ok: c.response['ok'] === true, kind: c.method === 'functions.completeSuccess' ? 'success' : 'error' }));
    const check = () =>
      read((db) =>
        obligations(db, fake, {
          stepCalls: stepCalls(),
          createSteps: createSteps.map((e) => ({ executionId: e.executionId, wait: e.wait === true })),
          completeSteps: completeSteps.map((e) => ({ executionId: e.executionId, taskId: e.target?.taskId ?? 0 })),
          ackedReactions: reactions.filter((r) => r.acked).map((r) => r.taskId),
        }),
      );
    // Not met: the summary is printed with the problems, then the assertions fail. The wait ends
    // early once the last process has been idle for 3 s (no effect pending in the outbox, no event
    // being handled): what it owes then, it will not deliver.
    const tDrain = Date.now();
    const busy = () =>
      read(
        (db) =>
          (db.prepare(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`).get() as { n: number }).n +
          (db.prepare(`SELECT count(*) AS n FROM processed_deliveries WHERE state = 'handling'`).get() as { n: number }).n,
      );
    let idleSince: number | undefined;
    await converge('deliver every effect the store owes, exactly once', () => {
      if (check().problems.length === 0) return true;
      if (busy() > 0) idleSince = undefined;
      else idleSince ??= Date.now();
      return idleSince !== undefined && Date.now() - idleSince > 3000;
    }).catch(() => undefined);
    const drainMs = Date.now() - tDrain;

    // A clean stop, then the store is checked with the process gone.
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const lastOutput = proc.output();
    // Checked with the process gone. A problem is shown with what the processes logged about it.
    const final = check();
    if (final.problems.length > 0) {
      const logs = [...outputs, lastOutput].flatMap((o, i) => o.split('\n').map((line) => `[process ${i + 1}] ${line}`));
      const outboxRows = (prefix: string) =>
        read((db) => db.prepare(`SELECT key, state, attempts, result, last_error AS lastError FROM outbox WHERE key LIKE ? ORDER BY id`).all(`${prefix}%`)) as {
          key: string;
          state: string;
          attempts: number;
          result: string | null;
          lastError: string | null;
        }[];
      const about = (problem: string) => {
        const id = /^(task|approval)[ :](\d+)/.exec(problem);
        if (!id) return [];
        const [kind, n] = [id[1] as string, Number(id[2])];
        const needles = [`${kind}:${n}:`, `${kind} ${n} `, `${kind} ${n}:`];
        return [
          ...logs.filter((l) => needles.some((x) => l.includes(x))).slice(0, 6),
          ...outboxRows(`${kind}:${n}:`).map((r) => `outbox ${r.key}: ${r.state}, ${r.attempts} attempt(s), result ${r.result ?? '-'}${r.lastError ? `, last error ${r.lastError}` : ''}`),
          ...(kind === 'task' ? reactions.filter((r) => r.taskId === n).map((r) => `✅ ${r.eventId} by ${r.userId} on ${r.channel}/${r.ts}: ${r.deliveries} delivery(ies), acknowledged by process ${r.ackedIn ?? '-'}`) : []),
          ...(kind === 'approval' ? clicks.filter((c) => c.approvalId === n).map((c) => `Approve click by ${c.userId}: HTTP ${c.status ?? 'none'} from process ${c.proc ?? '-'}`) : []),
        ];
      };
      console.log(
        [`crash safety (seed ${seed}): ${final.problems.length} problem(s) after the last process drained:`, ...final.problems.flatMap((p) => [`  ${p}`, ...about(p).map((l) => `      ${l}`)])].join('\n'),
      );
    }

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
      const sentTitles = new Set([...commands.map((c) => c.title), ...modals.map((m) => m.title), ...createSteps.map((e) => e.title)]);
      expect([...titles.keys()].filter((t) => !sentTitles.has(t))).toEqual([]);
      const acked200 = commands.filter((c) => c.status === 200);
      const ackedNotStored = acked200.filter((c) => !titles.has(c.title)).length;
      const storedNotConfirmed = commands.filter((c) => titles.has(c.title) && !confirmed.includes(c)).length;
      const numbers = db.prepare('SELECT number FROM tasks ORDER BY number').all() as { number: number }[];
      expect(new Set(numbers.map((r) => r.number)).size).toBe(numbers.length);

      const modalsStored = modals.filter((m) => titles.has(m.title)).length;
      const doneStmt = db.prepare('SELECT status FROM tasks WHERE id = ?');
      const taskDone = (id: number | undefined) => (doneStmt.get(id ?? 0) as { status: string } | undefined)?.status === 'done';
      const outboxStates = Object.fromEntries((db.prepare('SELECT state, count(*) AS n FROM outbox GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));

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
          `  New task modal: ${modals.length} /task (empty), the modal opened ${modals.filter((m) => m.opened).length} times, ${modals.filter((m) => m.status !== undefined).length} submitted, ${modals.filter((m) => m.acked).length} acknowledged (${modals.filter((m) => m.errors).length} answered with errors), ${modalsStored} stored, each once`,
          `  create_task: ${createSteps.length} executions (${createSteps.filter((e) => e.wait).length} waiting for completion), ${createSteps.reduce((n, e) => n + e.deliveries, 0)} deliveries, all acknowledged: one task each`,
          `  complete_task: ${completeSteps.length} executions, ${completeSteps.reduce((n, e) => n + e.deliveries, 0)} deliveries, all acknowledged; named tasks done: ${completeSteps.filter((e) => taskDone(e.target?.taskId)).length} of ${completeSteps.length}`,
          `  ✅ reactions: ${reactions.length} events, ${reactions.reduce((n, r) => n + r.deliveries, 0)} deliveries, ${reactions.filter((r) => r.acked).length} acknowledged; their tasks done: ${reactions.filter((r) => r.acked && taskDone(r.taskId)).length} of ${reactions.filter((r) => r.acked).length}`,
          `  tasks stored: ${numbers.length}; outbox rows: ${JSON.stringify(outboxStates)}`,
          `  effects expected / delivered (exactly once, by metadata key): ${final.expected} / ${final.delivered}; ${final.problems.length} problem(s); approver cards skipped by design (decided before they went out): ${final.skippedCards}`,
          ...Object.entries(final.byKind).map(([k, v]) => `    ${k}: ${v.expected} / ${v.delivered}`),
          `  time: ${Math.round((tKills - t0) / 1000)} s of kills, ${Math.round(drainMs / 1000)} s for the last process to owe nothing, ${Math.round((Date.now() - t0) / 1000)} s in all`,
          `  integrity_check ok, foreign_key_check empty`,
        ].join('\n'),
      );

      // Every effect of every stored change in Slack exactly once, nothing else.
      expect(final.problems).toEqual([]);
      expect(final.delivered).toBe(final.expected);

      // New task modal: every acknowledged submission (200, no `errors`) stored exactly once; one
      // answered with errors stored nowhere ("nothing was saved"); the others at most once.
      for (const m of modals.filter((x) => x.acked)) expect(titles.get(m.title), `acknowledged modal: ${m.title}`).toBe(1);
      for (const m of modals.filter((x) => x.status === 200 && x.errors)) expect(titles.get(m.title), `modal answered with errors: ${m.title}`).toBeUndefined();
      // create_task: one task per execution, made by that execution.
      const byFxTask = db.prepare('SELECT id, title, status, assignee_id AS assignee FROM tasks WHERE function_execution_id = ?');
      for (const e of createSteps) {
        const made = byFxTask.all(e.executionId) as { title: string; assignee: string }[];
        expect(made, `create_task ${e.executionId}`).toHaveLength(1);
        expect(made[0]).toMatchObject({ title: e.title, assignee: e.assignee });
      }
      // complete_task: the task it named is done; ✅: every acknowledged reaction's task is done.
      const taskStatus = db.prepare('SELECT status FROM tasks WHERE id = ?');
      for (const e of completeSteps) expect((taskStatus.get(e.target?.taskId) as { status: string }).status, `complete_task ${e.executionId} (${e.target?.ref})`).toBe('done');
      for (const r of reactions.filter((x) => x.acked)) expect((taskStatus.get(r.taskId) as { status: string }).status, `✅ ${r.eventId} on task ${r.taskId}`).toBe('done');
      // A task card recorded before a kill is the card the task has now (never posted again).
      const cardTs = db.prepare(`SELECT ts FROM task_messages WHERE task_id = ? AND kind = 'assignee_dm'`);
      for (const [taskId, ts] of storedTaskCards) expect((cardTs.get(taskId) as { ts: string } | undefined)?.ts, `task ${taskId}: its card recorded before a kill`).toBe(ts);
    } finally {
      db.close();
    }
  }, 240_000);
});
