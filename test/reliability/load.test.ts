// Under load: a steady mixed stream of signed requests for a minute — `/task add`,
// `/task list`, Complete clicks, app_home_opened, request_approval and Approve clicks — against
// the real app over HTTP (in this process, so its logs and store can be read). Every request is
// answered 2xx, nothing is logged as an error, and every write is in the store exactly once.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM, JSON_CT, runLoad, type SignedRequest } from '../../bench/lib/load.js';
import { ACTION, FUNCTION } from '../../src/slack/ids.js';
import { SIGNING_SECRET, TEAM, startTestApp, type TestApp } from '../support/harness.js';

const SECONDS = 60;
const RATE = 40; // requests per second, overall
const USERS = Array.from({ length: 8 }, (_, i) => `ULOAD${String(i).padStart(4, '0')}`);

describe('load: a steady mixed stream', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    for (const id of USERS) t.fake.addUser({ id, teamId: TEAM, tz: 'Europe/Paris' });
  });
  afterAll(async () => t?.dispose());

  it(`${RATE} req/s for ${SECONDS} s: no errors, no lost or doubled writes`, async () => {
    const fake = t.fake;
    let seq = 0;
    const user = () => USERS[seq % USERS.length] as string;

    // What was sent, to check against the store afterwards.
    const titles: string[] = [];
    const executions: string[] = [];
    const completed = new Map<number, string>(); // task id → who clicked Complete
    const approved = new Map<number, string>(); // approval id → who clicked Approve
    const counts: Record<string, number> = {};

    const command = (userId: string, text: string): SignedRequest => ({
      body: new URLSearchParams({
        token: t.slack.verificationToken, team_id: TEAM, team_domain: 'load', channel_id: fake.dmChannel(userId), channel_name: 'directmessage',
        user_id: userId, user_name: userId.toLowerCase(), command: '/task', text, api_app_id: fake.appId, is_enterprise_install: 'false',
        response_url: fake.newResponseUrl({ channel: fake.dmChannel(userId), userId }), trigger_id: fake.issueTriggerId(userId, TEAM),
      }).toString(),
      contentType: FORM,
    });
    const click = (userId: string, actionId: string, value: string, channel: string, ts: string): SignedRequest => {
      const payload = {
        type: 'block_actions', team: { id: TEAM, domain: 'load' }, user: { id: userId, username: userId, name: userId, team_id: TEAM },
        api_app_id: fake.appId, token: t.slack.verificationToken, container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
        trigger_id: fake.issueTriggerId(userId, TEAM), channel: { id: channel, name: 'directmessage' },
        message: { type: 'message', ts, text: 'card', user: fake.botUserId, blocks: [] },
        response_url: fake.newResponseUrl({ channel, messageTs: ts, userId }),
        actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: `${Date.now() / 1000}` }],
        state: { values: {} }, is_enterprise_install: false, enterprise: null,
      };
      return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: FORM };
    };
    const event = (ev: Record<string, unknown>): SignedRequest => ({
      body: JSON.stringify(t.slack.eventEnvelope(TEAM, ev, `EvLOAD${(seq += 1)}${randomBytes(3).toString('hex')}`)),
      contentType: JSON_CT,
    });

    // Targets for clicks come from the store: open tasks with a DM card, pending approvals with cards.
    const db = t.store.sqlite;
    const openCard = db.prepare(
      `SELECT t.id, t.assignee_id AS assignee, m.channel_id AS channel, m.ts FROM tasks t JOIN task_messages m ON m.task_id = t.id
       WHERE t.status = 'open' AND m.kind = 'assignee_dm' ORDER BY t.id DESC LIMIT 50`,
    );
    const pendingCard = db.prepare(
      `SELECT a.id, p.user_id AS approver, p.channel_id AS channel, p.message_ts AS ts FROM approvals a JOIN approval_approvers p ON p.approval_id = a.id
       WHERE a.status = 'pending' AND p.message_ts IS NOT NULL ORDER BY a.id DESC LIMIT 50`,
    );

    const kinds: [string, number, () => SignedRequest | undefined][] = [
      ['/task add', 30, () => {
        const title = `load task ${(seq += 1)}`;
        titles.push(title);
        return command(user(), `add "${title}"`);
      }],
      ['/task list', 15, () => command(user(), 'list mine open')],
      ['Complete click', 20, () => {
        const row = (openCard.all() as { id: number; assignee: string; channel: string; ts: string }[]).find((r) => !completed.has(r.id));
        if (!row) return undefined;
        completed.set(row.id, row.assignee);
        return click(row.assignee, ACTION.taskComplete, String(row.id), row.channel, row.ts);
      }],
      ['app_home_opened', 15, () => {
        const u = user();
        return event({ type: 'app_home_opened', user: u, channel: fake.dmChannel(u), tab: 'home', event_ts: `${Date.now() / 1000}` });
      }],
      ['request_approval', 10, () => {
        const requester = user();
        const approver = USERS[(seq + 1) % USERS.length] as string;
        const other = USERS[(seq + 2) % USERS.length] as string;
        const inputs = { approver, other_approvers: [other], title: `load approval ${(seq += 1)}`, requester };
        const ex = fake.startFunctionExecution({ teamId: TEAM, callbackId: FUNCTION.requestApproval, inputs });
        executions.push(ex.executionId);
        return event({
          type: 'function_executed', function: { id: 'Fn0LOAD', callback_id: FUNCTION.requestApproval, title: 'Request approval', type: 'app', app_id: fake.appId },
          inputs, function_execution_id: ex.executionId, workflow_execution_id: ex.workflowExecutionId, bot_access_token: ex.workflowToken, event_ts: `${Date.now() / 1000}`,
        });
      }],
      ['Approve click', 10, () => {
        const row = (pendingCard.all() as { id: number; approver: string; channel: string; ts: string }[]).find((r) => !approved.has(r.id));
        if (!row) return undefined;
        approved.set(row.id, row.approver);
        return click(row.approver, ACTION.approve, String(row.id), row.channel, row.ts);
      }],
    ];
    const weights = kinds.reduce((n, [, w]) => n + w, 0);
    const [addName, , add] = kinds[0] as (typeof kinds)[number];
    let n = 0;
    const next = (): SignedRequest => {
      // 37 is prime to the weights' sum (100): the picks walk every slot evenly, in a fixed order.
      let pick = ((n += 1) * 37) % weights;
      const [name, , build] = kinds.find(([, w]) => (pick -= w) < 0) ?? (kinds[0] as (typeof kinds)[number]);
      // A click with nothing to click yet becomes a `/task add`.
      const built = build();
      const kind = built ? name : addName;
      counts[kind] = (counts[kind] ?? 0) + 1;
      return built ?? (add() as SignedRequest);
    };

    const result = await runLoad({ url: t.url, secret: SIGNING_SECRET, requests: next, seconds: SECONDS, rate: RATE });
    await t.settle();

    // Every request answered, in time, with 2xx; nothing logged as an error.
    expect(result.errors).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.requests).toBeGreaterThanOrEqual(RATE * SECONDS * 0.8);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    const warnings = t.logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toEqual([]);

    // Every write exactly once.
    const taskCount = db.prepare('SELECT count(*) AS n FROM tasks WHERE title = ?');
    for (const title of titles) expect((taskCount.get(title) as { n: number }).n, title).toBe(1);
    expect((db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n).toBe(titles.length);
    const task = db.prepare(`SELECT status, completed_by AS completedBy FROM tasks WHERE id = ?`);
    const taskAudit = db.prepare(`SELECT count(*) AS n FROM audit_log WHERE entity = 'task' AND entity_id = ? AND action = 'completed'`);
    for (const [id, who] of completed) {
      expect(task.get(id), `task ${id}`).toEqual({ status: 'done', completedBy: who });
      expect((taskAudit.get(id) as { n: number }).n).toBe(1);
    }
    const approvalOf = db.prepare(`SELECT id, status, decided_by AS decidedBy, step_state AS stepState FROM approvals WHERE function_execution_id = ?`);
    const approvalAudit = db.prepare(`SELECT count(*) AS n FROM audit_log WHERE entity = 'approval' AND entity_id = ? AND action = 'approved'`);
    for (const fx of executions) {
      const a = approvalOf.get(fx) as { id: number; status: string; decidedBy: string | null; stepState: string } | undefined;
      expect(a, fx).toBeDefined();
      if (!a) continue;
      const decider = approved.get(a.id);
      if (decider) {
        expect(a).toMatchObject({ status: 'approved', decidedBy: decider, stepState: 'completed' });
        expect((approvalAudit.get(a.id) as { n: number }).n).toBe(1);
        expect(fake.execution(fx)).toMatchObject({ state: 'completed', outputs: { approved: true, decided_by: decider } });
      } else {
        expect(a.status).toBe('pending');
        expect(fake.execution(fx)?.state).toBe('running');
      }
    }
    expect((db.prepare('SELECT count(*) AS n FROM approvals').get() as { n: number }).n).toBe(executions.length);
    const completions = fake.calls.filter((c) => c.method === 'functions.completeSuccess' && c.response['ok'] === true).length;
    expect(completions).toBe(approved.size);

    console.log(
      [
        `load (in-process app, ${RATE} req/s for ${SECONDS} s): ${result.requests} requests, ${result.errors} errors, ${result.non2xx} non-2xx; ack p50 ${result.p50} ms, p99 ${result.p99} ms`,
        `  mix: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}`,
        `  writes: ${titles.length} tasks created, ${completed.size} completed, ${executions.length} approvals requested, ${approved.size} approved (steps completed: ${completions}): all present exactly once; 0 error or warning logs`,
        `  Slack calls made: ${fake.calls.length} (views.publish ${fake.callsTo('views.publish').length})`,
      ].join('\n'),
    );
  }, 120_000);
});
