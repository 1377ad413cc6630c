import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../../src/features/tasks/commandParser.js';
import { todayIn } from '../../src/features/tasks/dates.js';
import { NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import { OTHER_TEAM, startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { addPeople, allTasks, ANN, auditOf, BEA, BOB, BOT, buttons, cardsOf, CAT, dmCard, EVE, GONE, slash, taskByNumber } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  addPeople(t);
});
afterAll(async () => t?.dispose());

describe('/task add', () => {
  it('creates the task, DMs the assignee a card and answers ephemerally', async () => {
    const r = await slash(t, ANN, `add Send the contract <@${BOB}|bob> due 2099-01-15`);
    expect(r.response.body).toBe('');
    expect(r.text).toMatch(/^:white_check_mark: Created #\d+ Send the contract for <@UBOB00002>, due Thu, Jan 15, 2099\.$/);
    const n = Number(/#(\d+)/.exec(r.text)![1]);
    const task = await taskByNumber(t, n);
    expect(task).toMatchObject({ title: 'Send the contract', assigneeId: BOB, creatorId: ANN, dueDate: '2099-01-15', origin: 'command', status: 'open' });
    expect(await auditOf(t, task.id)).toEqual(['created']);

    const card = await dmCard(t, task.id);
    expect(t.fake.dmUser(card.channel)).toBe(BOB);
    expect(card.text).toContain(`<@${ANN}> assigned you a task: #${n} Send the contract`);
    expect(buttons(card.blocks)).toEqual([ACTION.taskComplete, ACTION.taskOpen]);
    expect(JSON.stringify(card.blocks)).toContain(`"value":"${task.id}"`);
  });

  it('assigns to the author by default and reads dates in the author’s time zone', async () => {
    const r = await slash(t, BOB, 'add "Water the plants" due today');
    const n = Number(/#(\d+)/.exec(r.text)![1]);
    expect(r.text).toContain('for you');
    expect(await taskByNumber(t, n)).toMatchObject({ assigneeId: BOB, dueDate: todayIn('America/New_York', Date.now()) });
  });

  it.each([
    ['add', 'Tell me what the task is.'],
    ['add "Open quote', 'opening quote is never closed'],
    [`add Title <@${BOB}|bob> <@${CAT}|cat>`, 'A task has one assignee'],
    ['add Report due to outage', 'I couldn’t read "to outage" as a due date'],
    ['add Something @bob', 'I can’t tell who @bob is'],
    // Invisible characters (zero-width space/non-joiner/joiner, word joiner, BOM) are no title.
    ['add "\u200B\u200C\u200D\u2060\uFEFF"', 'The task needs a title'],
    [`add \u200B\u2060 <@${BOB}|bob>`, 'The task needs a title'],
  ])('explains %j with the usage', async (text, fragment) => {
    const before = (await allTasks(t)).length;
    const r = await slash(t, ANN, text);
    expect(r.text).toContain(fragment);
    expect(r.text).toContain('*Usage:* `/task add &lt;title&gt; [@assignee] [due &lt;date&gt;] [every &lt;when&gt;]`');
    expect(await allTasks(t)).toHaveLength(before);
  });

  it.each([
    [`add ${'x'.repeat(151)}`, 'The title is 151 characters long; keep it to 150.'],
    ['add Old news due 2020-01-01', 'The due date can’t be in the past.'],
    ['add Yesterday’s news due yesterday', 'The due date can’t be in the past.'],
    [`add Beep <@${BOT}|robot>`, `<@${BOT}> is an app or bot; tasks need a person.`],
    [`add Ghost work <@${GONE}|gone>`, `<@${GONE}> is deactivated; pick someone else.`],
    ['add For nobody <@UNKNOWN99|who>', 'I can’t find that person in Slack.'],
  ])('refuses %j', async (text, message) => {
    const before = (await allTasks(t)).length;
    const r = await slash(t, ANN, text);
    expect(r.text).toBe(`${message}\n*Usage:* ${USAGE.add}`);
    expect(await allTasks(t)).toHaveLength(before);
  });

  it('tells the author when the assignee cannot get the DM, and keeps the task', async () => {
    // Slack refuses the DM for good (not worth retrying): the card effect is given up at once.
    t.fake.failWhen('chat.postMessage', (args) => args['channel'] === CAT || args['channel'] === t.fake.dmChannel(CAT), { error: 'messages_tab_disabled' }, 1);
    const annDm = t.fake.dmChannel(ANN);
    const dmsBefore = t.fake.messages(annDm).length;
    const r = await slash(t, ANN, `add Unreachable <@${CAT}|cat>`);
    // The reply is the ack alone: the DM had not been tried yet when it was sent.
    expect(r.bodies).toHaveLength(1);
    expect(r.text).toMatch(/^:white_check_mark: Created #\d+ Unreachable for <@UCAT00003>/);
    const n = Number(/#(\d+)/.exec(r.text)![1]);
    const task = await taskByNumber(t, n);
    expect(task.status).toBe('open');
    expect(await cardsOf(t, task.id)).toEqual([]);

    // The author is told in a DM from the app, with what to do and without Slack's code.
    const told = t.fake.messages(annDm).slice(dmsBefore).map((m) => m.text);
    expect(told).toEqual([
      `#${n} Unreachable was saved, but I couldn’t send <@UCAT00003> the task in a DM. Tasklane can’t send that person direct messages; ask an admin to turn on the app’s Messages tab, or pick someone else.`,
    ]);
    expect(told.join()).not.toContain('messages_tab_disabled');
    const rows = await t.outboxRows();
    expect(rows.find((row) => row.key === `task:${task.id}:card:assignee`)).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringContaining('messages_tab_disabled') });
    expect(rows.find((row) => row.key === `task:${task.id}:card:assignee:undelivered`)).toMatchObject({ state: 'done', target: ANN });
  });
});

describe('/task list', () => {
  it('lists mine / created / all, open / done, newest first, ephemerally', async () => {
    const a = await slash(t, CAT, 'add First for cat');
    const b = await slash(t, CAT, `add Second for ann <@${ANN}|ann>`);
    const c = await slash(t, CAT, 'add Third for cat');
    const [n1, n2, n3] = [a, b, c].map((r) => Number(/#(\d+)/.exec(r.text)![1]));
    await slash(t, CAT, `done #${n1}`);

    const mine = await slash(t, CAT, 'list');
    const mineBlocks = JSON.stringify(mine.bodies[0]!['blocks']);
    expect(mine.text).toMatch(/^Your open tasks: \d+$/);
    expect(mineBlocks).toContain(`*#${n3}* Third for cat`);
    expect(mineBlocks).not.toContain('Second for ann');
    expect(mineBlocks).not.toContain('First for cat');

    const created = JSON.stringify((await slash(t, CAT, 'list created')).bodies[0]!['blocks']);
    expect(created.indexOf(`#${n3}*`)).toBeLessThan(created.indexOf(`#${n2}*`));
    expect(created).toContain(`for <@${ANN}>`);

    const done = JSON.stringify((await slash(t, CAT, 'list mine done')).bodies[0]!['blocks']);
    expect(done).toContain(`*#${n1}* First for cat`);
    expect(done).toContain(`done by <@${CAT}>`);

    const all = JSON.stringify((await slash(t, CAT, 'list all')).bodies[0]!['blocks']);
    expect(all).toContain('All open tasks in this workspace');
    expect(all).toContain('Second for ann');
  });

  it('has a friendly empty state and explains bad filters', async () => {
    const empty = await slash(t, EVE, 'list');
    expect(JSON.stringify(empty.bodies[0]!['blocks'])).toContain('Nothing on your plate');
    const bad = await slash(t, EVE, 'list everything');
    expect(bad.text).toContain('I don’t know the list filter "everything".');
    expect(bad.text).toContain('*Usage:* `/task list [mine|created|all] [open|done]`');
  });
});

describe('/task done, reopen, assign', () => {
  it('done: completes, updates the card in place, tells the creator; a second time says who did it', async () => {
    const n = Number(/#(\d+)/.exec((await slash(t, ANN, `add Ship it <@${BOB}|bob>`)).text)![1]);
    const task = await taskByNumber(t, n);
    const r = await slash(t, BOB, `done #${n}`);
    expect(r.text).toBe(`:white_check_mark: Completed #${n} Ship it.`);
    expect(await taskByNumber(t, n)).toMatchObject({ status: 'done', completedBy: BOB });
    const card = await dmCard(t, task.id);
    expect(card.updates).toBe(1);
    expect(buttons(card.blocks)).toEqual([ACTION.taskOpen]);
    expect(JSON.stringify(card.blocks)).toContain(`Completed by <@${BOB}>`);
    const notice = t.fake.messages(t.fake.dmChannel(ANN)).find((m) => m.text?.includes(`completed #${n} Ship it`));
    expect(notice?.text).toBe(`:white_check_mark: <@${BOB}> completed #${n} Ship it`);

    const again = await slash(t, ANN, `done ${n}`);
    expect(again.text).toBe(`#${n} Ship it was already completed by <@${BOB}>.`);
    expect(await auditOf(t, task.id)).toEqual(['created', 'completed']);
  });

  it('done: a stranger is refused and nothing changes', async () => {
    const n = Number(/#(\d+)/.exec((await slash(t, ANN, `add Private matter <@${BOB}|bob>`)).text)![1]);
    const updatesBefore = t.fake.callsTo('chat.update').length;
    const r = await slash(t, EVE, `done #${n}`);
    expect(r.text).toBe(`Only the assignee (<@${BOB}>) or the creator (<@${ANN}>) can complete #${n} Private matter.`);
    expect((await taskByNumber(t, n)).status).toBe('open');
    expect(t.fake.callsTo('chat.update')).toHaveLength(updatesBefore);
  });

  it('done / reopen / assign: unknown numbers and wrong states', async () => {
    expect((await slash(t, ANN, 'done #9999')).text).toBe('There is no task #9999 in this workspace.');
    expect((await slash(t, ANN, 'reopen 9999')).text).toBe('There is no task #9999 in this workspace.');
    expect((await slash(t, ANN, `assign #9999 <@${BOB}|bob>`)).text).toBe('There is no task #9999 in this workspace.');
    const n = Number(/#(\d+)/.exec((await slash(t, ANN, 'add Still open')).text)![1]);
    expect((await slash(t, ANN, `reopen #${n}`)).text).toBe(`#${n} Still open is already open.`);
    expect((await slash(t, ANN, 'done')).text).toContain('Which task?');
    expect((await slash(t, ANN, 'done abc')).text).toContain('"abc" is not a task number');
  });

  it('reopen: by the creator, the card gets its Complete button back and the assignee hears of it', async () => {
    const n = Number(/#(\d+)/.exec((await slash(t, ANN, `add Redo <@${BOB}|bob>`)).text)![1]);
    await slash(t, BOB, `done #${n}`);
    expect((await slash(t, EVE, `reopen #${n}`)).text).toContain('can reopen');
    const r = await slash(t, ANN, `reopen #${n}`);
    expect(r.text).toBe(`Reopened #${n} Redo; it is assigned to <@${BOB}>.`);
    const task = await taskByNumber(t, n);
    expect(task).toMatchObject({ status: 'open', completedBy: null });
    expect(buttons((await dmCard(t, task.id)).blocks)).toEqual([ACTION.taskComplete, ACTION.taskOpen]);
    expect(t.fake.messages(t.fake.dmChannel(BOB)).some((m) => m.text === `<@${ANN}> reopened #${n} Redo`)).toBe(true);
  });

  it('assign: the new assignee gets a DM card; strangers and bots are refused', async () => {
    const n = Number(/#(\d+)/.exec((await slash(t, ANN, `add Hand over <@${BOB}|bob>`)).text)![1]);
    const task = await taskByNumber(t, n);
    expect((await slash(t, EVE, `assign #${n} <@${EVE}|eve>`)).text).toContain('can reassign');
    expect((await slash(t, ANN, `assign #${n} <@${BOT}|robot>`)).text).toBe(`<@${BOT}> is an app or bot; tasks need a person.\n*Usage:* ${USAGE.assign}`);
    expect((await slash(t, ANN, `assign #${n} <@${BOB}|bob>`)).text).toBe(`#${n} Hand over is already assigned to <@${BOB}>.`);

    const r = await slash(t, BOB, `assign #${n} <@${CAT}|cat>`);
    expect(r.text).toBe(`#${n} Hand over is now assigned to <@${CAT}>.`);
    expect((await taskByNumber(t, n)).assigneeId).toBe(CAT);
    const dms = (await cardsOf(t, task.id)).filter((c) => c.kind === 'assignee_dm');
    expect(dms.map((c) => t.fake.dmUser(c.channelId)).sort()).toEqual([BOB, CAT].sort());
    // What Cat was notified with (a refresh of the task's cards, sent beside it, may rewrite the
    // card's fallback text to the task's own afterwards).
    const catPost = t.fake.callsTo('chat.postMessage').find((c) => c.args['channel'] === CAT && String(c.args['text']).includes(`#${n} Hand over`));
    expect(catPost?.args['text']).toBe(`<@${BOB}> assigned you a task: #${n} Hand over`);
    // Bob's old card now shows Cat as the assignee.
    const bobCard = t.fake.message(dms.find((c) => t.fake.dmUser(c.channelId) === BOB)!.channelId, dms.find((c) => t.fake.dmUser(c.channelId) === BOB)!.ts);
    expect(JSON.stringify(bobCard?.blocks)).toContain(`*Assignee*\\n<@${CAT}>`);
    expect(await auditOf(t, task.id)).toEqual(['created', 'assigned']);
  });
});

describe('/task help, unknown text and the modal', () => {
  it('help shows every subcommand', async () => {
    const r = await slash(t, ANN, 'help');
    for (const s of ['`/task`', '/task add', '/task list', '/task done #n', '/task reopen #n', '/task assign #n @person', '/task help']) expect(r.text).toContain(s);
  });

  it('unknown subcommands get a "did you mean" and the usage', async () => {
    const r = await slash(t, ANN, 'lsit all');
    expect(r.text).toContain('I don’t know `/task lsit`. Did you mean `/task list`?');
    expect(r.text).toContain('/task assign #n @person');
  });

  it('`/task` alone opens the New task modal; its submission validates before the ack, then creates', async () => {
    const r = await slash(t, ANN, '');
    expect(r.bodies).toEqual([]);
    const view = t.fake.topView(ANN)!;
    expect(view.callback_id).toBe(VIEW.newTask);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ tz: 'Europe/Paris', origin: 'command' });

    const values = (title: string, due: string | null, assignee = BOB) => ({
      [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: title } },
      [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: assignee } },
      [NEW_TASK_FIELD.dueDate]: { [NEW_TASK_FIELD.dueDate]: { type: 'datepicker', selected_date: due } },
      [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: { type: 'plain_text_input', value: 'Details & more' } },
    });
    const before = (await allTasks(t)).length;
    const bad = await t.slack.viewSubmission({ teamId: TEAM, userId: ANN, viewId: view.id, values: values('   ', '2020-01-01') });
    expect(bad.action).toBe('errors');
    expect(bad.json).toEqual({
      response_action: 'errors',
      errors: { [NEW_TASK_FIELD.title]: 'The task needs a title.', [NEW_TASK_FIELD.dueDate]: 'The due date can’t be in the past.' },
    });
    await t.settle();
    expect(await allTasks(t)).toHaveLength(before);

    const ok = await t.slack.viewSubmission({ teamId: TEAM, userId: ANN, viewId: view.id, values: values('From the modal', '2099-02-01') });
    expect(ok.action).toBe('pop');
    await t.settle();
    const made = (await allTasks(t)).find((x) => x.title === 'From the modal')!;
    expect(made).toMatchObject({ assigneeId: BOB, creatorId: ANN, dueDate: '2099-02-01', description: 'Details & more', origin: 'command' });
    expect((await dmCard(t, made.id)).text).toContain('From the modal');
  });

  it('the New task shortcut opens the same modal', async () => {
    const { response } = await t.slack.globalShortcut({ teamId: TEAM, userId: CAT, callbackId: 'create_task' });
    expect(response.status).toBe(200);
    await t.settle();
    expect(t.fake.topView(CAT)?.callback_id).toBe(VIEW.newTask);
  });
});

describe('concurrency and workspaces', () => {
  it('answers what the store alone can answer in the ack itself, with no response_url call', async () => {
    const help = await slash(t, ANN, 'help');
    expect((help.response.json as { text?: string }).text).toContain('/task add');
    expect(t.fake.responses(help.responseUrl)).toEqual([]);

    const added = await slash(t, ANN, 'add Answered in the ack');
    expect((added.response.json as { text?: string }).text).toMatch(/Created #\d+/);
    expect(t.fake.responses(added.responseUrl)).toEqual([]);

    // The list needs the user's time zone: once it is known (cached), the list comes in the ack too.
    await t.services.users.get(ANN);
    const list = await slash(t, ANN, 'list');
    expect((list.response.json as { text?: string }).text).toBeTruthy();
    expect(t.fake.responses(list.responseUrl)).toEqual([]);
  });

  it('50 concurrent /task add in one workspace get 50 distinct consecutive numbers', async () => {
    const team = 'T0CCCCCCC';
    const user = 'UCONC0001';
    t.fake.addUser({ id: user, teamId: team });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => t.slack.command({ teamId: team, userId: user, text: `add Parallel ${i}` })));
    for (const r of results) expect(r.response.status).toBe(200);
    await t.settle();
    const numbers = (await allTasks(t, team)).map((x) => x.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Each reply came in the ack's body or through response_url.
    const replies = results.flatMap((r) =>
      [r.response.json as Record<string, unknown> | undefined, ...t.fake.responses(r.responseUrl)].filter((b) => b && typeof b === 'object').map((b) => String(b?.['text'])),
    );
    expect(new Set(replies.map((x) => /#(\d+)/.exec(x)?.[1])).size).toBe(50);
  });

  it('workspace A cannot see or complete workspace B’s #1', async () => {
    const teamA = 'T0DDDDDDD';
    const userA = 'UDAN00001';
    t.fake.addUser({ id: userA, teamId: teamA });
    await slash(t, userA, 'add A one', teamA);
    await slash(t, BEA, 'add B one', OTHER_TEAM);
    const bOne = await taskByNumber(t, 1, OTHER_TEAM);
    expect((await taskByNumber(t, 1, teamA)).title).toBe('A one');

    const r = await slash(t, userA, 'done 1', teamA);
    expect(r.text).toBe(':white_check_mark: Completed #1 A one.');
    expect((await taskByNumber(t, 1, teamA)).status).toBe('done');
    expect((await taskByNumber(t, 1, OTHER_TEAM)).status).toBe('open');

    const list = JSON.stringify((await slash(t, userA, 'list all done', teamA)).bodies[0]!['blocks']);
    expect(list).toContain('A one');
    expect(list).not.toContain('B one');

    // A workspace-B task id in a workspace-A click resolves to nothing.
    const card = await dmCard(t, bOne.id);
    await t.slack.blockAction({ teamId: teamA, userId: userA, actionId: ACTION.taskComplete, container: 'message', channelId: card.channel, messageTs: card.ts });
    await t.settle();
    expect((await taskByNumber(t, 1, OTHER_TEAM)).status).toBe('open');
    expect(JSON.stringify(t.fake.allResponses().slice(-1))).toContain('That task no longer exists.');
  });
});
