// Two instances, one PostgreSQL database: two real app processes (`npm start`'s src/main.ts)
// share the database and one (fake) Slack, with requests split between them, as behind a load
// balancer. What one process alone guarantees must hold for the pair: a workflow step delivered
// to both makes one approval; two approvers deciding at once on different instances make one
// decision; task numbers stay 1..n without gaps or doubles; an outbox row a killed instance had
// claimed is sent by the other, once, when its lease runs out; a Home changed through both ends
// up published with the newest state. And both, started at the same moment on an empty
// database, migrate it once and become healthy.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { messageEffect } from '../../src/outbox/kinds.js';
import { pgDatabase } from '../../src/store/pg/db.js';
import { PG_MIGRATIONS_FOLDER } from '../../src/store/pg/migrate.js';
import { PgOutboxRepository } from '../../src/store/pg/outbox.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { SlackDriver } from '../../src/sandbox/driver.js';
import { FakeSlack, type FakeMessage, type RecordedCall } from '../../src/sandbox/fakeSlack.js';
import { SIGNING_SECRET, TEAM } from '../support/harness.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { freePort, startMain, waitForHealthy, type RunningProcess } from '../support/process.js';
import { effectKeyOf } from '../support/crashObligations.js';

/** Short, so that case 4 waits seconds, not the default 30 s, for a dead instance's rows. */
const LEASE_MS = 3_000;
/** Per case: generous, for a loaded machine (50 serialized creates, a lease to wait out). */
const CASE_TIMEOUT_MS = 45_000;
/** The sender's own poll (outbox/sender.ts DEFAULT_OUTBOX_OPTIONS.pollMs): the most a survivor may take to notice. */
const POLL_MS = 5_000;

interface Instance {
  name: 'A' | 'B';
  proc: RunningProcess;
  port: number;
  slack: SlackDriver;
}

// Approvals (case 1: one request delivered twice; case 2: two approvers at once).
const ALICE = 'UTWOALICE';
const BOB = 'UTWOBOB01';
const CAROL = 'UTWOCAROL'; // requester
const DEC = ['UTWODEC01', 'UTWODEC02'] as const; // case 2's approvers
const DAN = 'UTWODAN01'; // case 2's requester
const ANN = 'UTWOANN01'; // case 3: /task add
const HANK = 'UTWOHANK1'; // case 5: their Home
const LEE = 'UTWOLEE01'; // case 4: tasks whose cards are under lease

/** The messages Tasklane's outbox posted (each carries its effect key), by key. */
function postsByKey(fake: FakeSlack): Map<string, FakeMessage[]> {
  const posts = new Map<string, FakeMessage[]>();
  for (const m of fake.allMessages()) {
    const key = effectKeyOf(m);
    if (key !== undefined) posts.set(key, [...(posts.get(key) ?? []), m]);
  }
  return posts;
}

function liveActions(m: FakeMessage): string[] {
  const out: string[] = [];
  for (const b of (m.blocks ?? []) as { elements?: { action_id?: string }[]; accessory?: { action_id?: string } }[]) {
    for (const e of b.elements ?? []) if (e.action_id) out.push(e.action_id);
    if (b.accessory?.action_id) out.push(b.accessory.action_id);
  }
  return out;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describePostgres('two instances on one PostgreSQL database', () => {
  const database = useTestDatabase();
  let fake: FakeSlack;
  let db: pg.Pool;
  let A: Instance;
  let B: Instance;
  let lastChange = Date.now();
  const both = () => [A, B] as const;

  async function launch(name: 'A' | 'B', port: number): Promise<Instance> {
    const proc = startMain({
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: String(port),
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '8',
      OUTBOX_LEASE_MS: String(LEASE_MS),
      LOG_LEVEL: 'info',
    });
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 30_000);
    } catch (err) {
      proc.child.kill('SIGKILL');
      throw new Error(`instance ${name}: ${(err as Error).message}\n${proc.output()}`);
    }
    return { name, proc, port, slack: new SlackDriver({ appUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET, fake, teamId: TEAM }) };
  }

  /** The lines logged at ERROR by either instance since `mark()` (a duplicate or a race met as a failure). */
  const mark = () => {
    const at = both().map((i) => i.proc.output().length);
    return () => both().flatMap((i, k) => i.proc.output().slice(at[k]).split('\n').filter((l) => l.includes('[ERROR]')).map((l) => `${i.name}: ${l}`));
  };

  /** Both logs, for a failure's message. */
  const logs = () => both().map((i) => `--- instance ${i.name} (pid ${i.proc.child.pid})\n${i.proc.output()}`).join('\n');

  /**
   * Nothing left to do: no outbox row pending, and neither instance has called Slack for a while
   * (a request's work after its ack may still be writing rows).
   */
  async function quiet(timeoutMs = 15_000): Promise<void> {
    await until(
      'both instances to go quiet (no pending outbox row, no Slack call for 500 ms)',
      async () => {
        const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE state = 'pending'");
        return Number(rows[0]?.n) === 0 && Date.now() - lastChange > 500 ? true : undefined;
      },
      timeoutMs,
    );
  }

  beforeAll(async () => {
    fake = await FakeSlack.start();
    fake.onChange(() => (lastChange = Date.now()));
    for (const id of [ALICE, BOB, CAROL, ...DEC, DAN, ANN, HANK, LEE]) fake.addUser({ id, teamId: TEAM, name: id.slice(4).toLowerCase() });
    db = new pg.Pool({ connectionString: database.url, max: 4 });
    const [pa, pb] = [await freePort(), await freePort()];
    // At the same moment, on the empty database: both migrate (under the advisory lock).
    [A, B] = await Promise.all([launch('A', pa), launch('B', pb)]);
  }, 60_000);

  afterAll(async () => {
    for (const i of [A, B]) {
      if (i && i.proc.child.exitCode === null && i.proc.child.signalCode === null) {
        i.proc.child.kill('SIGKILL');
        await i.proc.exited;
      }
    }
    await db?.end();
    await fake?.stop();
  });

  it('started together on a fresh database: migrated once, both healthy on PostgreSQL', async () => {
    for (const i of both()) {
      const res = await fetch(`http://127.0.0.1:${i.port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', store: 'ok', database: 'postgresql' });
    }
    const journal = JSON.parse(readFileSync(`${PG_MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
    const applied = (await db.query<{ hash: string }>('SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')).rows;
    expect(applied).toHaveLength(journal.entries.length);
    expect(new Set(applied.map((r) => r.hash)).size).toBe(journal.entries.length);
    // The two senders are two lease owners, one per process.
    expect(A.proc.child.pid).not.toBe(B.proc.child.pid);
  }, CASE_TIMEOUT_MS);

  it('1. one request_approval delivered to both instances at once: one approval, one card per approver', async () => {
    const executionId = 'FxTWOINSTDUP';
    const eventId = 'EvTWOINSTDUP';
    const inputs = { approver: ALICE, other_approvers: [BOB], title: 'Two instances: one request', requester: CAROL };
    const errors = mark();
    // Slack redelivers an event it got no answer for, and the redelivery may reach the other instance.
    const [ra, rb] = await Promise.all([
      A.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, executionId, eventId, inputs }),
      B.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.requestApproval, executionId, eventId, inputs, retryNum: 1, retryReason: 'http_timeout' }),
    ]);
    expect([ra.response.status, rb.response.status]).toEqual([200, 200]);
    await until('both approval cards', () => fake.messages(fake.dmChannel(ALICE)).length > 0 && fake.messages(fake.dmChannel(BOB)).length > 0);
    await quiet();

    const approvals = (await db.query<{ id: string; status: string }>('SELECT id, status FROM approvals WHERE function_execution_id = $1', [executionId])).rows;
    expect(approvals, logs()).toHaveLength(1);
    const id = Number(approvals[0]?.id);
    expect(approvals[0]?.status).toBe('pending');
    const approvers = (await db.query<{ user_id: string }>('SELECT user_id FROM approval_approvers WHERE approval_id = $1 ORDER BY user_id', [id])).rows;
    expect(approvers.map((r) => r.user_id)).toEqual([ALICE, BOB].sort());
    expect((await db.query("SELECT 1 FROM audit_log WHERE entity = 'approval' AND entity_id = $1 AND action = 'requested'", [id])).rowCount).toBe(1);

    const posts = postsByKey(fake);
    for (const who of [ALICE, BOB]) {
      // Exactly one message in their DM, and it is this approval's card with live buttons.
      const dm = fake.messages(fake.dmChannel(who));
      expect(dm.map((m) => effectKeyOf(m)), logs()).toEqual([`approval:${id}:card:${who}`]);
      expect(liveActions(dm[0] as FakeMessage)).toContain(ACTION.approve);
      expect(posts.get(`approval:${id}:card:${who}`)).toHaveLength(1);
    }
    // Nothing else about this approval was posted twice either (e.g. the requester's "sent" notice).
    for (const [key, list] of posts) if (key.startsWith(`approval:${id}:`)) expect(list, key).toHaveLength(1);
    expect(fake.execution(executionId)?.state).toBe('running');
    // The second delivery was recognized as one, not run into the unique index as a failure.
    expect(errors()).toEqual([]);
  }, CASE_TIMEOUT_MS);

  it('2. two approvers click Approve at once on different instances: one decision, the step completed once', async () => {
    // Three requests, three races (a single race could happen to be decided before the other click lands).
    for (let round = 0; round < 3; round += 1) {
      const executionId = `FxTWOINSTRACE${round}`;
      const r = await A.slack.functionExecuted({
        teamId: TEAM,
        callbackId: FUNCTION.requestApproval,
        executionId,
        inputs: { approver: DEC[0], other_approvers: [DEC[1]], title: `Two instances: race ${round}`, requester: DAN },
      });
      expect(r.response.status).toBe(200);
      const { rows } = await until('the approval row', async () => {
        const q = await db.query<{ id: string }>('SELECT id FROM approvals WHERE function_execution_id = $1', [executionId]);
        return q.rowCount === 1 ? q : undefined;
      });
      const id = Number(rows[0]?.id);
      const cardOf = (who: string) => fake.messages(fake.dmChannel(who)).find((m) => effectKeyOf(m) === `approval:${id}:card:${who}`);
      const cards = await until('both cards', () => {
        const c = DEC.map(cardOf);
        return c.every((m) => m !== undefined) ? (c as FakeMessage[]) : undefined;
      });

      const errors = mark();
      const clicks = await Promise.all(
        DEC.map((who, k) =>
          [A, B][k]!.slack.blockAction({ teamId: TEAM, userId: who, actionId: ACTION.approve, container: 'message', channelId: cards[k]!.channel, messageTs: cards[k]!.ts }),
        ),
      );
      expect(clicks.map((c) => c.response.status)).toEqual([200, 200]);
      await until('the step to be completed', () => fake.execution(executionId)?.state === 'completed');
      await quiet();

      const a = (await db.query<{ status: string; decided_by: string; step_state: string }>('SELECT status, decided_by, step_state FROM approvals WHERE id = $1', [id])).rows[0];
      expect(a, logs()).toMatchObject({ status: 'approved', step_state: 'completed' });
      const decider = a?.decided_by as string;
      expect(DEC).toContain(decider);
      const decisions = (await db.query<{ action: string; actor_id: string }>("SELECT action, actor_id FROM audit_log WHERE entity = 'approval' AND entity_id = $1 AND action <> 'requested'", [id])).rows;
      expect(decisions).toEqual([{ action: 'approved', actor_id: decider }]);

      const completions = fake.callsTo('functions.completeSuccess').filter((c) => c.args['function_execution_id'] === executionId);
      expect(completions, logs()).toHaveLength(1);
      expect(fake.execution(executionId)?.outputs).toMatchObject({ approved: true, decided_by: decider, approval_id: String(id) });
      expect(fake.callsTo('functions.completeError').filter((c) => c.args['function_execution_id'] === executionId)).toEqual([]);

      // Both cards show the one decision, without buttons; the requester was told once.
      for (const who of DEC) {
        const m = cardOf(who) as FakeMessage;
        expect(liveActions(m)).toEqual([]);
        expect(JSON.stringify(m.blocks)).toContain(`*Approved* by <@${decider}>`);
      }
      expect(postsByKey(fake).get(`approval:${id}:outcome`)).toHaveLength(1);
      // The losing click was refused as such, not failed.
      expect(errors()).toEqual([]);
    }
  }, CASE_TIMEOUT_MS);

  it('3. 50 concurrent /task add split across both: numbers exactly 1..50, 50 cards', async () => {
    const N = 50;
    const titles = Array.from({ length: N }, (_, k) => `two instances task ${k}`);
    const t0 = Date.now();
    const sent = await Promise.all(
      titles.map((title, k) =>
        (k % 2 === 0 ? A : B).slack.command({ teamId: TEAM, userId: ANN, text: `add "${title}"` }).then((r) => ({ ...r, ms: Date.now() - t0 })),
      ),
    );
    // Each add is stored before its ack, and the workspace's counter row queues them (across both
    // instances) for the few round trips between the number and the commit: all within Slack's 3 s.
    const refused = sent.flatMap((s, k) => (s.response.status === 200 ? [] : [`${titles[k]} (${k % 2 === 0 ? 'A' : 'B'}): ${s.response.status} after ${s.ms} ms ${s.response.body}`]));
    expect(refused, logs()).toEqual([]);
    console.log(`twoInstances: 50 concurrent /task add acknowledged within ${Math.max(...sent.map((s) => s.ms))} ms`);
    await until(`${N} task rows`, async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM tasks WHERE team_id = $1', [TEAM])).rows[0]?.n) >= N ? true : undefined);
    await quiet();

    const tasks = (await db.query<{ id: string; number: number; title: string }>('SELECT id, number, title FROM tasks WHERE team_id = $1 ORDER BY number', [TEAM])).rows;
    expect(tasks.map((t) => t.number), logs()).toEqual(Array.from({ length: N }, (_, k) => k + 1));
    expect(tasks.map((t) => t.title).sort()).toEqual([...titles].sort());
    expect((await db.query<{ last_task_number: number }>('SELECT last_task_number FROM team_counters WHERE team_id = $1', [TEAM])).rows[0]?.last_task_number).toBe(N);

    // Each request was answered with its own number.
    const replies = sent.map((s) => {
      const text = [s.response.body, ...fake.responses(s.responseUrl).map((b) => JSON.stringify(b))].join('\n');
      return Number(/Created #(\d+) /.exec(text)?.[1]);
    });
    expect(replies.every((n) => n >= 1 && n <= N), `replies: ${replies.join(', ')}`).toBe(true);
    expect(new Set(replies).size).toBe(N);

    // One card per task in ANN's DM, each posted once and recorded once.
    const posts = postsByKey(fake);
    for (const t of tasks) {
      const key = `task:${t.id}:card:assignee`;
      expect(posts.get(key)?.map((m) => m.channel), key).toEqual([fake.dmChannel(ANN)]);
      expect(JSON.stringify(posts.get(key)?.[0]?.blocks)).toContain(t.title);
    }
    expect(fake.messages(fake.dmChannel(ANN)).filter((m) => effectKeyOf(m)?.startsWith('task:'))).toHaveLength(N);
    expect(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM task_messages WHERE team_id = $1', [TEAM])).rows[0]?.n)).toBe(N);
  }, CASE_TIMEOUT_MS);

  it('5. a Home changed through both instances is published with the newest state', async () => {
    const publishes = () => fake.callsTo('views.publish').filter((c) => c.args['user_id'] === HANK && c.status === 200);
    const viewText = (c: RecordedCall | undefined) => {
      const v = c?.args['view'];
      return typeof v === 'string' ? v : JSON.stringify(v);
    };
    const opened = await A.slack.appHomeOpened({ teamId: TEAM, userId: HANK });
    expect(opened.status).toBe(200);
    await until('the first publish of the Home', () => publishes().length > 0);

    // Tasks for HANK added through both, with Home opens through both in between.
    const titles = Array.from({ length: 12 }, (_, k) => `home item ${String(k).padStart(2, '0')}`);
    const added = await Promise.all([
      ...titles.map((title, k) => (k % 2 === 0 ? B : A).slack.command({ teamId: TEAM, userId: HANK, text: `add "${title}"` }).then((r) => r.response)),
      ...[0, 1, 2, 3].map((k) => (k % 2 === 0 ? A : B).slack.appHomeOpened({ teamId: TEAM, userId: HANK })),
    ]);
    for (const r of added) expect(r.status).toBe(200);
    const tasks = await until("HANK's 12 tasks", async () => {
      const q = await db.query<{ number: number; title: string }>('SELECT number, title FROM tasks WHERE team_id = $1 AND assignee_id = $2 ORDER BY title', [TEAM, HANK]);
      return q.rowCount === titles.length ? q.rows : undefined;
    });
    const doneCount = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM tasks WHERE team_id = $1 AND assignee_id = $2 AND status = 'done'", [TEAM, HANK])).rows[0]?.n);

    // …then three of them completed through both, at once, the Home opened again meanwhile.
    const completed = await Promise.all([
      ...tasks.slice(0, 3).map((t, k) => (k % 2 === 0 ? A : B).slack.command({ teamId: TEAM, userId: HANK, text: `done ${t.number}` }).then((r) => r.response)),
      B.slack.appHomeOpened({ teamId: TEAM, userId: HANK }),
      A.slack.appHomeOpened({ teamId: TEAM, userId: HANK }),
    ]);
    for (const r of completed) expect(r.status).toBe(200);
    await until('three tasks done', async () => ((await doneCount()) === 3 ? true : undefined));
    await quiet();

    // …and the last change lands through B while A's publish of the Home is on its way: Slack got
    // that view (it still shows the task open) but has not answered yet. The change makes the
    // Home owed again, so the newest state is published after it.
    const last = tasks[3] as { number: number; title: string };
    fake.failWhen('views.publish', (args) => args['user_id'] === HANK, { answerAfterMs: 1_000 }, 1);
    const before = publishes().length;
    expect((await A.slack.appHomeOpened({ teamId: TEAM, userId: HANK })).status).toBe(200);
    await until('A publishing the Home (answer held back)', () => publishes().length > before);
    const held = publishes()[before];
    expect((await B.slack.command({ teamId: TEAM, userId: HANK, text: `done ${last.number}` })).response.status).toBe(200);
    await until('the fourth task done', async () => ((await doneCount()) === 4 ? true : undefined));
    await quiet();
    expect(viewText(held), 'the held publish was built before the last change').toContain(last.title);

    // The last publish (and the Home Slack shows) has every open task and none of the completed
    // ones: the newest state, whichever instance published it.
    const final = publishes().at(-1);
    expect(final, 'the Home was not published again after the last change').not.toBe(held);
    const text = viewText(final);
    const shown = JSON.stringify(fake.homeView(HANK)?.blocks);
    for (const t of tasks.slice(4)) {
      expect(text, `open task ${t.title} missing from the last publish`).toContain(t.title);
      expect(shown).toContain(t.title);
    }
    for (const t of tasks.slice(0, 4)) {
      expect(text, `completed task ${t.title} still shown in the last publish`).not.toContain(t.title);
      expect(shown).not.toContain(t.title);
    }
  }, CASE_TIMEOUT_MS);

  it('6. scheduled actions (rows written for later) falling due while both instances run are each done once, not before their time', async () => {
    const now = Date.now();
    const due = new Map(Array.from({ length: 40 }, (_, i) => [`two-sched:${now}:${i}`, now + 1_000 + (i % 10) * 150] as const));
    await new PgOutboxRepository(pgDatabase(db)).add(
      [...due].map(([key, at], i) => ({ ...messageEffect({ key, teamId: TEAM, channel: HANK, text: `scheduled ${i}` }), notBefore: at })),
      now,
    );
    const keys = [...due.keys()];
    await until(
      'both instances to send the scheduled rows',
      async () => {
        const q = await db.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE key = ANY($1) AND state = 'done'", [keys]);
        return Number(q.rows[0]?.n) === keys.length ? true : undefined;
      },
      POLL_MS * 2 + 10_000,
    );
    await quiet();
    const posts = postsByKey(fake);
    for (const [key, at] of due) {
      const list = posts.get(key) ?? [];
      expect(list, `${key}: ${logs()}`).toHaveLength(1);
      expect(Number(list[0]?.ts) * 1000).toBeGreaterThanOrEqual(at - 5);
    }
  }, CASE_TIMEOUT_MS);

  it('4. a SIGKILLed instance\'s claimed outbox rows are sent by the other once its lease runs out, exactly once', async () => {
    const titles = [0, 1, 2].map((k) => `lease held ${k}`);
    // A's posts of these cards are lost on the way: A holds the rows (leased) waiting for Slack.
    fake.failWhen('chat.postMessage', (args) => titles.some((t) => JSON.stringify(args).includes(t)), { noAnswerMs: 120_000 }, titles.length);
    const sent = await Promise.all(titles.map((title) => A.slack.command({ teamId: TEAM, userId: LEE, text: `add "${title}"` })));
    expect(sent.map((s) => s.response.status)).toEqual([200, 200, 200]);
    const lost = () => fake.callsTo('chat.postMessage').filter((c) => c.status === 0 && titles.some((t) => JSON.stringify(c.args).includes(t)));
    await until('A\'s three card posts to hang', () => lost().length === titles.length);

    const tasks = (await db.query<{ id: string; title: string }>('SELECT id, title FROM tasks WHERE team_id = $1 AND assignee_id = $2 ORDER BY id', [TEAM, LEE])).rows;
    expect(tasks).toHaveLength(titles.length);
    const keys = tasks.map((t) => `task:${t.id}:card:assignee`);
    const leased = (await db.query<{ key: string; state: string; lease_owner: string; lease_until: string }>('SELECT key, state, lease_owner, lease_until FROM outbox WHERE key = ANY($1) ORDER BY key', [keys])).rows;
    expect(leased).toHaveLength(titles.length);
    const killedAt = Date.now();
    for (const r of leased) {
      expect(r.state).toBe('pending');
      // Claimed by A's sender (its owner id carries its pid), under a lease that has not run out.
      expect(r.lease_owner, `row ${r.key} leased by ${r.lease_owner}, not by A (pid ${A.proc.child.pid})`).toMatch(new RegExp(`^sender-${A.proc.child.pid}-`));
      expect(Number(r.lease_until)).toBeGreaterThan(killedAt);
    }
    const leaseEnds = new Map(leased.map((r) => [r.key, Number(r.lease_until)]));

    A.proc.child.kill('SIGKILL');
    const exit = await A.proc.exited;
    expect(exit.signal).toBe('SIGKILL');

    await until(
      'B to send the rows A held',
      async () => {
        const q = await db.query("SELECT 1 FROM outbox WHERE key = ANY($1) AND state = 'done'", [keys]);
        return q.rowCount === keys.length ? true : undefined;
      },
      LEASE_MS + POLL_MS + 10_000,
    );
    await quiet();

    const posts = postsByKey(fake);
    for (const [k, key] of keys.entries()) {
      const list = posts.get(key) ?? [];
      // Exactly once: A's post never arrived, B's did, and only one.
      expect(list.map((m) => m.channel), `${key}: ${logs()}`).toEqual([fake.dmChannel(LEE)]);
      expect(JSON.stringify(list[0]?.blocks)).toContain(tasks[k]?.title);
      const row = (await db.query<{ lease_owner: string | null; attempts: number }>('SELECT lease_owner, attempts FROM outbox WHERE key = $1', [key])).rows[0];
      expect(row?.lease_owner ?? '').not.toMatch(new RegExp(`^sender-${A.proc.child.pid}-`));
    }
    // Sent only after A's lease ran out (B did not take the rows while A still held them).
    const delivered = fake.callsTo('chat.postMessage').filter((c) => c.status === 200 && titles.some((t) => JSON.stringify(c.args).includes(t)));
    expect(delivered).toHaveLength(titles.length);
    for (const [k, t] of tasks.entries()) {
      const call = delivered.find((c) => JSON.stringify(c.args).includes(t.title));
      expect(call?.at, `${keys[k]} sent before A's lease ran out`).toBeGreaterThanOrEqual(leaseEnds.get(keys[k] as string) as number);
    }
    expect(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM task_messages tm JOIN tasks t ON t.id = tm.task_id WHERE t.assignee_id = $1', [LEE])).rows[0]?.n)).toBe(titles.length);
    // B still serves.
    expect((await fetch(`http://127.0.0.1:${B.port}/healthz`)).status).toBe(200);
  }, CASE_TIMEOUT_MS);
});
