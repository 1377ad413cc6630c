// The audit feed: approval decisions and workflow tasks' completions posted once each to an
// incoming webhook (the fake Slack's), through the outbox: retried while the webhook fails,
// reported to the admin who set it when it is broken, kept across a restart.
import { afterEach, describe, expect, it } from 'vitest';
import { FUNCTION } from '../../src/slack/ids.js';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { addPeople as addApprovalPeople, ALICE, approvalOf, approve, BOB, card, CAROL, defaultInputs, runStep } from '../approvals/support.js';
import { addPeople as addTaskPeople, ANN, slash, taskByNumber } from '../tasks/helpers.js';

const ADMIN = ALICE;
let fake: FakeSlack | undefined;
let t: TestApp | undefined;

afterEach(async () => {
  await t?.dispose();
  await fake?.stop();
  t = undefined;
  fake = undefined;
});

/** An app whose AUDIT_WEBHOOK_URL is the fake's `env` webhook (or none). */
async function start(opts: { envFeed?: boolean; now?: () => number } = {}): Promise<{ t: TestApp; fake: FakeSlack; envUrl: string }> {
  fake = await FakeSlack.start();
  const envUrl = fake.webhookUrl('env');
  t = await startTestApp({ fake, now: opts.now, config: opts.envFeed === false ? {} : { auditWebhookUrl: envUrl } });
  addApprovalPeople(t);
  addTaskPeople(t);
  return { t, fake, envUrl };
}

async function approveOne(app: TestApp): Promise<number> {
  const { executionId } = await runStep(app, defaultInputs());
  const res = await approve(app, ALICE, card(app, ALICE));
  expect(res.response.status).toBe(200);
  await app.settle();
  return (await approvalOf(app, executionId)).id;
}

const auditRows = async (app: TestApp) => (await app.outboxRows()).filter((r) => r.kind === 'audit');

describe('audit feed', () => {
  it('posts an approval decision once, with who, what, when and a link back to the card', async () => {
    const { t, fake, envUrl } = await start();
    const id = await approveOne(t);
    const posts = fake.webhookPosts(envUrl);
    expect(posts).toHaveLength(1);
    const text = String(posts[0]!.body['text']);
    expect(text).toContain('*Approved*');
    expect(text).toContain('Budget for the Q3 offsite');
    expect(text).toContain(`(approval ${id}) by <@${ALICE}>`);
    expect(text).toMatch(/<!date\^\d+\^/);
    expect(text).toContain(`Requested by <@${CAROL}>`);
    expect(text).toMatch(/<https?:\/\/[^|]+\|View in Slack>/);
    // A second click (another approver, too late) changes nothing and posts nothing more.
    await approve(t, BOB, card(t, BOB), { approvalId: id });
    await t.settle();
    expect(fake.webhookPosts()).toHaveLength(1);
  });

  it('posts an approval’s expiry once, with no decider', async () => {
    let clock = Date.UTC(2026, 11, 1, 9);
    const { t, fake, envUrl } = await start({ now: () => clock });
    const { executionId } = await runStep(t, defaultInputs({ expire_after_hours: 2 }));
    clock += 2 * 60 * 60_000;
    t.services.outbox.kick();
    await t.settle();
    expect((await approvalOf(t, executionId)).status).toBe('expired');
    const posts = fake.webhookPosts(envUrl).map((p) => String(p.body['text']));
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatch(/^⌛ \*Expired\*: “Budget for the Q3 offsite” \(approval \d+\) on <!date\^\d+\^/);
    expect(posts[0]).toContain('No decision within 2 hours');
    expect(posts[0]).not.toMatch(/\(approval \d+\) by/);
    // The step completing again (a retried row) or a late click posts nothing more.
    await approve(t, ALICE, card(t, ALICE), { approvalId: (await approvalOf(t, executionId)).id });
    await t.settle();
    expect(fake.webhookPosts()).toHaveLength(1);
  });

  it('posts the completion of a workflow’s task, not of a task made with /task', async () => {
    const { t, fake, envUrl } = await start();
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: FUNCTION.createTask, inputs: { title: 'Ship the report', assignee: ANN } });
    await t.settle();
    const task = await t.stores.tasks.findByExecutionId(TEAM, exec.executionId);
    await slash(t, ANN, `done #${task!.number}`);
    await slash(t, ANN, 'add Water the plants');
    const mine = await taskByNumber(t, task!.number + 1);
    await slash(t, ANN, `done #${mine.number}`);
    await t.settle();
    const posts = fake.webhookPosts(envUrl);
    expect(posts.map((p) => String(p.body['text']))).toEqual([expect.stringContaining(`☑️ *Completed*: #${task!.number} “Ship the report” by <@${ANN}>`)]);
    expect(String(posts[0]!.body['text'])).toContain('View in Slack');
    expect(await auditRows(t)).toHaveLength(1);
  });

  it('a workspace’s own webhook (set by its admin) is used instead of AUDIT_WEBHOOK_URL', async () => {
    const { t, fake, envUrl } = await start();
    const own = fake.webhookUrl('own');
    await t.stores.settings.saveWorkspace(TEAM, { auditWebhookUrl: own }, ADMIN, t.services.now());
    await approveOne(t);
    expect(fake.webhookPosts(own)).toHaveLength(1);
    expect(fake.webhookPosts(envUrl)).toHaveLength(0);
  });

  it('with no feed configured anywhere, no event is kept; once an admin saves a webhook, the next decision is posted', async () => {
    const { t, fake } = await start({ envFeed: false });
    await approveOne(t);
    expect(fake.webhookPosts()).toHaveLength(0);
    expect(await auditRows(t)).toEqual([]);
    const own = fake.webhookUrl('own');
    await t.stores.settings.saveWorkspace(TEAM, { auditWebhookUrl: own }, ADMIN, t.services.now());
    await approveOne(t);
    expect(fake.webhookPosts(own)).toHaveLength(1);
    expect(await auditRows(t)).toEqual([expect.objectContaining({ state: 'done' })]);
  });

  it('a webhook answering 500 is tried again and the event posted once', async () => {
    const { t, fake, envUrl } = await start();
    fake.failWebhook(500, 'rollup_error', 2);
    await approveOne(t);
    await expect.poll(() => fake.webhookPosts(envUrl).length, { timeout: 5_000 }).toBe(1);
    await t.settle();
    expect(await auditRows(t)).toEqual([expect.objectContaining({ state: 'done', attempts: 3 })]);
    expect(fake.webhookPosts()).toHaveLength(1);
  });

  it('a broken workspace webhook (404 no_service) is given up and its admin told once, not once per event', async () => {
    const { t, fake } = await start({ envFeed: false });
    const own = fake.webhookUrl('revoked');
    fake.revokeWebhook(own);
    await t.stores.settings.saveWorkspace(TEAM, { auditWebhookUrl: own }, ADMIN, t.services.now());
    await approveOne(t);
    await approveOne(t);
    await t.settle();
    expect(fake.webhookPosts()).toHaveLength(0);
    expect((await auditRows(t)).map((r) => r.state)).toEqual(['failed', 'failed']);
    const told = fake.messages(fake.dmChannel(ADMIN)).filter((m) => m.text?.includes('audit feed could not post'));
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toContain('http_404');
    expect(told[0]!.text).not.toContain(own);
  });

  it('an event still waiting for the webhook when the app stops is posted once after the restart', async () => {
    const started = await start();
    let app = started.t;
    // Every attempt before the restart fails (Slack busy): the event is still pending when the app stops.
    started.fake.failWebhook(503, 'service_unavailable', 2);
    const { executionId } = await runStep(app, defaultInputs());
    await approve(app, ALICE, card(app, ALICE));
    await expect.poll(async () => (await auditRows(app))[0]?.attempts ?? 0, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    app = await app.restart();
    t = app;
    await expect.poll(() => started.fake.webhookPosts(started.envUrl).length, { timeout: 5_000 }).toBe(1);
    await app.settle();
    expect(started.fake.webhookPosts()).toHaveLength(1);
    expect(await auditRows(app)).toEqual([expect.objectContaining({ state: 'done' })]);
    expect((await approvalOf(app, executionId)).status).toBe('approved');
  });
});
