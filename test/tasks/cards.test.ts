import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { addPeople, ANN, auditOf, BOB, buttons, CHANNEL, dmCard, EVE, everythingSent, slash, taskByNumber } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  addPeople(t);
});
afterAll(async () => t?.dispose());

async function newTask(title: string, assignee = BOB, creator = ANN) {
  const r = await slash(t, creator, `add "${title}" <@${assignee}|x>`);
  const n = Number(/#(\d+)/.exec(r.text)![1]);
  const task = await taskByNumber(t, n);
  return { n, task, card: await dmCard(t, task.id) };
}

async function click(userId: string, actionId: string, card: { channel: string; ts: string }) {
  const r = await t.slack.blockAction({ teamId: TEAM, userId, actionId, container: 'message', channelId: card.channel, messageTs: card.ts });
  expect(r.response.status).toBe(200);
  await t.settle();
  return { ...r, replies: r.responseUrl ? t.fake.responses(r.responseUrl) : [] };
}

describe('Complete button', () => {
  it('the assignee completes; the card is updated in place; a second click says who did it', async () => {
    const { n, task, card } = await newTask('Card complete');
    const first = await click(BOB, ACTION.taskComplete, card);
    expect(first.replies).toEqual([]);
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: BOB });
    const updated = t.fake.message(card.channel, card.ts)!;
    expect(updated.updates).toBe(1);
    expect(buttons(updated.blocks)).toEqual([ACTION.taskOpen]);
    expect(JSON.stringify(updated.blocks)).toContain(`Completed by <@${BOB}>`);
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed']);
  });

  it('a stale second click (button still on screen) gets "already completed by"', async () => {
    const { task, card } = await newTask('Double click');
    const staleBlocks = card.blocks;
    await click(BOB, ACTION.taskComplete, card);
    // Put the old blocks back, as a client that has not refreshed still shows them.
    t.fake.message(card.channel, card.ts)!.blocks = staleBlocks;
    const again = await click(BOB, ACTION.taskComplete, card);
    expect(again.replies).toEqual([expect.objectContaining({ response_type: 'ephemeral', replace_original: false, text: `#${task.number} Double click was already completed by <@${BOB}>.` })]);
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed']);
  });

  it('the creator may complete; a stranger is refused with an ephemeral note and nothing changes', async () => {
    const { n, card } = await newTask('Guarded');
    const updates = t.fake.callsTo('chat.update').length;
    const stranger = await click(EVE, ACTION.taskComplete, card);
    expect(stranger.replies).toEqual([
      expect.objectContaining({ response_type: 'ephemeral', replace_original: false, text: `Only the assignee (<@${BOB}>) or the creator (<@${ANN}>) can complete #${n} Guarded.` }),
    ]);
    expect((await taskByNumber(t, n)).status).toBe('open');
    expect(t.fake.callsTo('chat.update')).toHaveLength(updates);
    expect(t.fake.message(card.channel, card.ts)!.updates).toBe(0);

    await click(ANN, ACTION.taskComplete, card);
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: ANN });
  });
});

describe('Open button', () => {
  it('opens a read-only details modal', async () => {
    const { n, card } = await newTask('Details please');
    await slash(t, BOB, `done #${n}`);
    await click(EVE, ACTION.taskOpen, t.fake.message(card.channel, card.ts)!);
    const view = t.fake.topView(EVE)!;
    expect(view.callback_id).toBe(VIEW.taskDetails);
    expect((view.title as { text: string }).text).toBe(`Task #${n}`);
    const json = JSON.stringify(view.blocks);
    expect(json).toContain(`#${n} Details please`);
    expect(json).toContain(`<@${BOB}> completed the task`);
    expect(view.submit).toBeUndefined();
  });
});

describe('✅ reactions', () => {
  const react = async (userId: string, channel: string, ts: string, reaction = 'white_check_mark', opts: { eventId?: string; retryNum?: number } = {}) => {
    const r = await t.slack.event(TEAM, { type: 'reaction_added', user: userId, reaction, item_user: 'UBOT', item: { type: 'message', channel, ts }, event_ts: `${Date.now() / 1000}` }, opts);
    expect(r.status).toBe(200);
    await t.settle();
  };

  it('on a DM card, by the assignee, completes the task and updates the card', async () => {
    const { n, card } = await newTask('React to me');
    await react(BOB, card.channel, card.ts, 'eyes');
    expect((await taskByNumber(t, n)).status).toBe('open');
    await react(BOB, card.channel, card.ts);
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: BOB });
    expect(buttons(t.fake.message(card.channel, card.ts)!.blocks)).toEqual([ACTION.taskOpen]);
  });

  it('on a channel card, by a stranger, changes nothing and tells only them', async () => {
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: 'create_task', inputs: { title: 'In the channel', assignee: BOB, channel: CHANNEL } });
    expect(exec.response.status).toBe(200);
    await t.settle();
    const posted = t.fake.messages(CHANNEL).find((m) => m.text?.includes('In the channel'))!;
    const task = await t.stores.tasks.findByExecutionId(TEAM, exec.executionId);
    await react(EVE, CHANNEL, posted.ts);
    expect((await taskByNumber(t, task!.number)).status).toBe('open');
    const note = t.fake.ephemerals(CHANNEL, EVE).at(-1);
    expect(note?.text).toContain('can complete');
    await react(BOB, CHANNEL, posted.ts);
    expect(await taskByNumber(t, task!.number)).toMatchObject({ status: 'done', completedBy: BOB });
  });

  it('a retried delivery of the same event has no second effect', async () => {
    const { n, card } = await newTask('Retry me');
    await react(BOB, card.channel, card.ts, 'white_check_mark', { eventId: 'EvRETRY0001' });
    expect((await taskByNumber(t, n)).status).toBe('done');
    await slash(t, ANN, `reopen #${n}`);
    await react(BOB, card.channel, card.ts, 'white_check_mark', { eventId: 'EvRETRY0001', retryNum: 1 });
    expect((await taskByNumber(t, n)).status).toBe('open');
    expect(await auditOf(t, (await taskByNumber(t, n)).id)).toEqual(['created', 'completed', 'reopened']);
  });

  it('on a message that is not a task card, does nothing', async () => {
    const calls = t.fake.calls.length;
    await react(BOB, CHANNEL, '1234.5678');
    expect(t.fake.calls.slice(calls).map((c) => c.method)).toEqual([]);
  });
});

describe('app_mention', () => {
  it('replies in a thread with short help and the mentioner’s open count', async () => {
    const eve = 'UMENTION1';
    t.fake.addUser({ id: eve, teamId: TEAM });
    await slash(t, eve, 'add One');
    await slash(t, eve, 'add Two');
    const ts = '1700000000.000100';
    await t.slack.event(TEAM, { type: 'app_mention', user: eve, text: '<@UBOT> help', channel: CHANNEL, ts, event_ts: ts });
    await t.settle();
    const reply = t.fake.messages(CHANNEL).find((m) => m.thread_ts === ts)!;
    expect(reply.text).toContain(`Hi <@${eve}>! You have *2* open tasks.`);
    expect(reply.text).toContain('/task add');
  });
});

describe('hostile text', () => {
  const HOSTILE = '<!channel> <@U1> <https://evil|click> & co';
  const ESCAPED = '&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|click&gt; &amp; co';

  it('is escaped in every card, DM, notice, list and modal Slack receives', async () => {
    // Typed into /task (Slack escapes &, <, > in command text), via a workflow, and in the modal.
    const typed = ESCAPED;
    const a = await slash(t, ANN, `add "${typed}" <@${BOB}|bob>`);
    expect(a.text).toContain(ESCAPED);
    const n = Number(/#(\d+)/.exec(a.text)![1]);
    expect((await taskByNumber(t, n)).title).toBe(HOSTILE);

    await t.slack.functionExecuted({ teamId: TEAM, callbackId: 'create_task', inputs: { title: HOSTILE, description: HOSTILE, assignee: BOB, channel: CHANNEL } });
    await t.settle();

    const { card } = { card: await dmCard(t, (await taskByNumber(t, n)).id) };
    await click(BOB, ACTION.taskOpen, card);
    await slash(t, BOB, 'list');
    await slash(t, ANN, 'list created');
    await click(BOB, ACTION.taskComplete, card);
    await slash(t, ANN, `done #${n}`);

    const sent = everythingSent(t);
    expect(sent).toContain(JSON.stringify(ESCAPED).slice(1, -1));
    for (const bad of ['<!channel>', '<@U1>', '<https://evil']) expect(sent).not.toContain(bad);
  });

  it('Slack-formatted pings typed in a title become plain text', async () => {
    const r = await slash(t, ANN, 'add Tell <!channel> and <!here> about <https://evil.example|this>');
    const n = Number(/#(\d+)/.exec(r.text)![1]);
    expect((await taskByNumber(t, n)).title).toBe('Tell @channel and @here about https://evil.example');
    const sent = everythingSent(t);
    for (const bad of ['<!channel>', '<!here>', '|this>']) expect(sent).not.toContain(bad);
  });

  it('long titles and descriptions are cut to Block Kit limits, not refused by Slack', async () => {
    const long = 'é'.repeat(150);
    const exec = await t.slack.functionExecuted({ teamId: TEAM, callbackId: 'create_task', inputs: { title: `&${long.slice(1)}`, description: '<'.repeat(3000), assignee: BOB, channel: CHANNEL } });
    await t.settle();
    expect(t.fake.execution(exec.executionId)?.state).toBe('completed');
    const card = t.fake.messages(CHANNEL).at(-1)!;
    expect(JSON.stringify(card.blocks)).toContain('&amp;é');
    const failed = t.fake.calls.filter((c) => c.method.startsWith('chat.') && c.response['ok'] !== true);
    expect(failed).toEqual([]);
  });
});
