// The outbox under Slack's faults, through the real app and the fake Slack: every kind of effect
// is delivered exactly once when Slack recovers (500s, a 429, an answer that came after the
// client gave up), a post whose answer was lost is found instead of sent twice, a rate-limited
// Home waits on its own while other people's modals open at once, and an event a crash cut short
// is handled again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { homeEffects } from '../../src/features/home/effects.js';
import { TaskEffects } from '../../src/features/tasks/effects.js';
import { EFFECT_EVENT_TYPE } from '../../src/outbox/sender.js';
import { openStore } from '../../src/store/db.js';
import { OutboxRepository } from '../../src/store/outbox.js';
import { TasksRepository } from '../../src/store/tasks.js';
import type { Fault } from '../../src/sandbox/fakeSlack.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { actionIds, approvalOf, approve, card, defaultInputs, runStep, ALICE, BOB, CAROL } from '../approvals/support.js';

const ANN = 'UANN00001';
const DAN = 'UDAN00002';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The outbox's Web API timeout in these tests: an answer held back longer is lost to the client. */
const CALL_TIMEOUT_MS = 300;

let t: TestApp;
beforeEach(async () => {
  // The sender in its worker thread, as in production.
  t = await startTestApp({ outbox: { callTimeoutMs: CALL_TIMEOUT_MS, thread: true } });
  for (const id of [ALICE, BOB, CAROL, ANN, DAN]) t.fake.addUser({ id, teamId: TEAM, name: id.toLowerCase() });
});
afterEach(async () => {
  await t.dispose();
});

/** Waits (polling) until `done()`; the outbox's retries after a 429 are seconds apart. */
async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}\n${t.logger.text().split('\n').filter((l) => l.includes('outbox')).join('\n')}`);
    await sleep(50);
  }
  await t.settle();
}

const okCalls = (method: string, match: (a: Record<string, unknown>) => boolean = () => true) =>
  t.fake.callsTo(method).filter((c) => c.status === 200 && c.response['ok'] === true && match(c.args));
const dm = (userId: string) => t.fake.messages(t.fake.dmChannel(userId));
const allSent = async () => (await t.outboxRows()).every((r) => r.state === 'done');

async function slash(userId: string, text: string) {
  const r = await t.slack.command({ teamId: TEAM, userId, text });
  expect(r.response.status).toBe(200);
  await t.settle();
  return r;
}

function taskId(n: number): number {
  return (t.store.sqlite.prepare('SELECT id FROM tasks WHERE number = ?').get(n) as { id: number }).id;
}

describe('a post whose answer was lost is not sent twice', () => {
  it('Slack answers chat.postMessage after the client timed out: one card per approver, its ts stored, its buttons live', async () => {
    t.fake.failNext('chat.postMessage', { answerAfterMs: CALL_TIMEOUT_MS + 500 }, 2);
    const { executionId } = await runStep(t, defaultInputs());
    await until('both cards recorded', async () => (t.store.sqlite.prepare('SELECT count(*) AS n FROM approval_approvers WHERE message_ts IS NOT NULL').get() as { n: number }).n === 2 && (await allSent()));
    const a = await approvalOf(t, executionId);
    for (const p of a.approvers) {
      expect(dm(p.userId), `${p.userId}'s cards`).toHaveLength(1);
      expect(p.messageTs).toBe(dm(p.userId)[0]?.ts);
    }
    // Two posts, each looked for after its answer was lost, none posted again.
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(2);
    expect(t.fake.callsTo('conversations.history').length).toBeGreaterThanOrEqual(2);
    expect(t.logger.text()).toMatch(/had been posted .* though Slack's answer was lost/);
    // The recorded card is the one with live buttons: a click on it decides.
    await approve(t, BOB, card(t, BOB));
    await t.settle();
    expect((await approvalOf(t, executionId)).status).toBe('approved');
    expect(actionIds(card(t, ALICE))).toEqual([]);
  });
});

describe('a 429 storm on one person’s Home', () => {
  it('other people’s modals open within a second, and the Home is published once when Slack recovers', async () => {
    await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE });
    await t.settle();
    expect(okCalls('views.publish', (a) => a['user_id'] === ALICE)).toHaveLength(1);
    // Every publish of Alice's Home is refused for a while, each time for a second.
    t.fake.failWhen('views.publish', (a) => a['user_id'] === ALICE, { status: 429, retryAfter: 1 }, 3);
    for (let i = 0; i < 20; i++) await t.services.outbox.add(homeEffects(TEAM, [ALICE], t.services.now()));
    await sleep(100);

    // Meanwhile three people open the New task form and one opens their Home.
    const opened = await Promise.all(
      [BOB, CAROL, DAN].map(async (userId) => {
        const sent = Date.now();
        const r = await t.slack.command({ teamId: TEAM, userId, text: '' });
        expect(r.response.status).toBe(200);
        const call = await t.fake.waitFor('views.open', (c) => c.args['trigger_id'] === r.triggerId, 2_000);
        return { userId, ms: call.at - sent, ok: call.response['ok'] };
      }),
    );
    for (const o of opened) {
      expect(o.ok, `${o.userId}'s modal`).toBe(true);
      expect(o.ms, `${o.userId}'s modal opened after ${o.ms} ms`).toBeLessThan(1_000);
    }
    const bobHome = Date.now();
    await t.slack.appHomeOpened({ teamId: TEAM, userId: BOB });
    const bobPublish = await t.fake.waitFor('views.publish', (c) => c.args['user_id'] === BOB, 2_000);
    expect(bobPublish.at - bobHome).toBeLessThan(1_000);

    await until('Alice’s Home published after the storm', async () => okCalls('views.publish', (a) => a['user_id'] === ALICE).length === 2 && (await allSent()));
    const refused = t.fake.callsTo('views.publish').filter((c) => c.args['user_id'] === ALICE && c.status === 429);
    expect(refused).toHaveLength(3);
    // 20 changes, 3 refusals: one more publish of the newest state, not 20.
    expect(okCalls('views.publish', (a) => a['user_id'] === ALICE)).toHaveLength(2);
  }, 30_000);
});

interface Scenario {
  /** The Web API call this effect makes, and which calls of it to fail. */
  method: string;
  match: (a: Record<string, unknown>) => boolean;
  /** Everything up to the change whose effect is under test (its calls are not failed). */
  before?: () => Promise<void>;
  /** The change. */
  act: () => Promise<void>;
  /** The effect is there, once. */
  check: () => Promise<void> | void;
}

const scenarios: Record<string, () => Scenario> = {
  'the assignee’s task card (chat.postMessage)': () => ({
    method: 'chat.postMessage',
    match: (a) => a['channel'] === BOB,
    act: () => slash(ANN, `add "Water the plants" <@${BOB}>`).then(() => undefined),
    check: () => {
      expect(dm(BOB)).toHaveLength(1);
      expect(t.store.sqlite.prepare('SELECT count(*) AS n FROM task_messages').get()).toEqual({ n: 1 });
      expect(buttonsOf(dm(BOB)[0]?.blocks)).toContain(ACTION.taskComplete);
    },
  }),
  'a task card refreshed on completion (chat.update)': () => ({
    method: 'chat.update',
    match: () => true,
    before: () => slash(ANN, `add "Water the plants" <@${BOB}>`).then(() => undefined),
    act: () => slash(BOB, 'done #1').then(() => undefined),
    check: () => {
      expect(dm(BOB)).toHaveLength(1);
      expect(buttonsOf(dm(BOB)[0]?.blocks)).not.toContain(ACTION.taskComplete);
      expect(JSON.stringify(dm(BOB)[0]?.blocks)).toContain('Completed by');
    },
  }),
  'the creator’s “completed” notice (chat.postMessage)': () => ({
    method: 'chat.postMessage',
    match: (a) => a['channel'] === ANN,
    before: () => slash(ANN, `add "Water the plants" <@${BOB}>`).then(() => undefined),
    act: () => slash(BOB, 'done #1').then(() => undefined),
    check: () => {
      expect(dm(ANN).filter((m) => (m.text ?? '').includes('completed'))).toHaveLength(1);
    },
  }),
  'a create_task step’s completion (functions.completeSuccess)': () => {
    let executionId = '';
    return {
      method: 'functions.completeSuccess',
      match: () => true,
      act: async () => {
        const r = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'From a workflow', assignee: BOB } });
        expect(r.response.status).toBe(200);
        executionId = r.executionId;
        await t.settle();
      },
      check: () => {
        expect(t.fake.execution(executionId)).toMatchObject({ state: 'completed', outputs: { task_id: `task-${taskId(1)}`, task_number: 1 } });
        expect(t.store.sqlite.prepare('SELECT step_state AS s FROM tasks').get()).toEqual({ s: 'completed' });
      },
    };
  },
  'an approver’s request card (chat.postMessage)': () => {
    let executionId = '';
    return {
      method: 'chat.postMessage',
      match: (a) => a['channel'] === ALICE,
      act: async () => {
        executionId = (await runStep(t, defaultInputs())).executionId;
      },
      check: async () => {
        expect(dm(ALICE)).toHaveLength(1);
        expect(actionIds(card(t, ALICE))).toContain(ACTION.approve);
        expect((await approvalOf(t, executionId)).approvers.every((p) => p.messageTs)).toBe(true);
      },
    };
  },
  'approval cards turned into the outcome (chat.update)': () => {
    let executionId = '';
    return {
      method: 'chat.update',
      match: () => true,
      before: async () => {
        executionId = (await runStep(t, defaultInputs())).executionId;
      },
      act: async () => {
        await approve(t, ALICE, card(t, ALICE));
        await t.settle();
      },
      check: async () => {
        for (const who of [ALICE, BOB]) expect(actionIds(card(t, who))).toEqual([]);
        expect(t.fake.execution(executionId)?.state).toBe('completed');
        expect(dm(CAROL).filter((m) => (m.text ?? '').includes('was approved'))).toHaveLength(1);
      },
    };
  },
  'an App Home (views.publish)': () => ({
    method: 'views.publish',
    match: (a) => a['user_id'] === ALICE,
    act: async () => {
      await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE });
      await t.settle();
    },
    check: () => {
      expect(t.fake.homeView(ALICE)).toBeDefined();
    },
  }),
};

const faults: Record<string, { fault: Fault; times: number }> = {
  'two 500s': { fault: { status: 500 }, times: 2 },
  'a 429': { fault: { status: 429, retryAfter: 1 }, times: 1 },
  'an answer after the client gave up': { fault: { answerAfterMs: CALL_TIMEOUT_MS + 400 }, times: 1 },
};

function buttonsOf(blocks: unknown[] | undefined): string[] {
  return ((blocks ?? []) as { elements?: { action_id?: string }[] }[]).flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ''));
}

describe('every kind of effect, delivered exactly once when Slack recovers', () => {
  for (const [name, make] of Object.entries(scenarios)) {
    for (const [faultName, { fault, times }] of Object.entries(faults)) {
      it(`${name}: ${faultName}`, async () => {
        const s = make();
        await s.before?.();
        t.fake.failWhen(s.method, s.match, fault, times);
        const failedBefore = t.fake.callsTo(s.method).filter((c) => s.match(c.args)).length;
        await s.act();
        await until('every effect sent', allSent);
        const calls = t.fake.callsTo(s.method).filter((c) => s.match(c.args)).length - failedBefore;
        if (s.method === 'chat.postMessage' && 'answerAfterMs' in fault) {
          // The post was made; its answer was lost: looked for and found, never sent again.
          expect(calls).toBe(1);
          expect(t.fake.callsTo('conversations.history').length).toBeGreaterThan(0);
        } else {
          // Slack was asked again after each fault, and (below) the effect is there once.
          expect(calls).toBeGreaterThan(times);
        }
        await s.check();
        expect(await t.services.outbox.repo.counts()).toMatchObject({ pending: 0, failed: 0 });
      }, 20_000);
    }
  }
});

describe('the sender thread', () => {
  it('sends from its worker thread, and if the thread dies the main thread takes over: nothing is lost', async () => {
    await slash(ANN, `add "Before" <@${BOB}>`);
    expect(dm(BOB)).toHaveLength(1);
    const sender = t.services.outbox as unknown as { worker?: { terminate(): Promise<number>; threadId: number } };
    expect(sender.worker?.threadId).toBeGreaterThan(0);
    await sender.worker?.terminate();
    await until('the main thread took over', () => t.logger.text().includes('the sender thread stopped'));
    await slash(ANN, `add "After" <@${BOB}>`);
    await until('the second card sent', async () => dm(BOB).length === 2 && (await allSent()));
    expect(dm(BOB).map((m) => m.text)).toEqual([expect.stringContaining('Before'), expect.stringContaining('After')]);
  });
});

describe('events are handled at least once', () => {
  it('a ✅ whose handling a crash cut short is handled again after the restart, once', async () => {
    await slash(ANN, `add "Water the plants" <@${BOB}>`);
    const m = dm(BOB)[0];
    expect(m).toBeDefined();
    // The delivery was taken (Slack got its 200), then the process died before the listener ran.
    const body = t.slack.eventEnvelope(TEAM, { type: 'reaction_added', user: BOB, reaction: 'white_check_mark', item_user: 'UBOT', item: { type: 'message', channel: m?.channel, ts: m?.ts }, event_ts: `${Date.now() / 1000}` });
    const eventId = String(body['event_id']);
    t.store.sqlite
      .prepare("INSERT INTO processed_deliveries (key, team_id, received_at, state, claimed_at, attempts, body) VALUES (?, ?, ?, 'handling', ?, 1, ?)")
      .run(`event:${eventId}`, TEAM, Date.now() - 60_000, Date.now() - 60_000, JSON.stringify(body));
    // Slack's own redelivery of a taken event within the lease is ignored...
    t = await t.restart();
    await t.settle();
    expect((t.store.sqlite.prepare('SELECT status FROM tasks').get() as { status: string }).status).toBe('done');
    expect(t.store.sqlite.prepare('SELECT state, body FROM processed_deliveries WHERE key = ?').get(`event:${eventId}`)).toEqual({ state: 'done', body: null });
    expect(buttonsOf(dm(BOB)[0]?.blocks)).not.toContain(ACTION.taskComplete);
    // ...and a redelivery now changes nothing more.
    const again = await t.slack.event(TEAM, body['event'] as Record<string, unknown>, { eventId, retryNum: 1 });
    expect(again.status).toBe(200);
    await t.settle();
    expect(dm(ANN).filter((x) => (x.text ?? '').includes('completed'))).toHaveLength(1);
    expect(t.store.sqlite.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'completed'").get()).toEqual({ n: 1 });
  });

  it('a ✅ on a card whose record a crash delayed finds its task from the card’s metadata', async () => {
    // A sender posted Bob's card and died before recording it; its row is still leased.
    await t.stop();
    const store = openStore(t.dbPath);
    const { task } = await new TasksRepository(store).create({ teamId: TEAM, title: 'Crash-time card', assigneeId: BOB, creatorId: ANN, origin: 'command' }, Date.now(), (row) =>
      new TaskEffects({ everyWorkspace: false }).created(row, Date.now()),
    );
    new OutboxRepository(store).claim('a-dead-sender', Date.now(), 60_000, 100);
    store.close();
    const posted = await new WebClient(t.fake.botToken, { slackApiUrl: t.fake.apiUrl }).chat.postMessage({
      channel: BOB,
      text: 'You have a new task',
      metadata: { event_type: EFFECT_EVENT_TYPE, event_payload: { key: `task:${task.id}:card:assignee` } },
    });
    t = await t.restart();
    const r = await t.slack.event(TEAM, { type: 'reaction_added', user: BOB, reaction: 'white_check_mark', item_user: t.fake.botUserId, item: { type: 'message', channel: posted.channel, ts: posted.ts }, event_ts: `${Date.now() / 1000}` });
    expect(r.status).toBe(200);
    await t.settle();
    expect(t.store.sqlite.prepare('SELECT status, completed_by AS by FROM tasks WHERE id = ?').get(task.id)).toEqual({ status: 'done', by: BOB });
    expect(t.store.sqlite.prepare('SELECT channel_id AS channel, ts FROM task_messages WHERE task_id = ?').all(task.id)).toEqual([{ channel: posted.channel, ts: posted.ts }]);
    // The card was brought up to date at once (done, no Complete button), without waiting for the lease.
    const card = t.fake.message(posted.channel as string, posted.ts as string);
    expect(JSON.stringify(card?.blocks)).toContain('Completed by');
    expect(buttonsOf(card?.blocks)).not.toContain(ACTION.taskComplete);
  });
});
