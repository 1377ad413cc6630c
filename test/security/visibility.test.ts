// Visibility, as a matrix: tasks made with "Make a task" from a private channel, a group DM
// and a DM (and from a private channel the app is not in, where Slack will not say: fail safe) are
// seen only by their creator and their current assignee; tasks from a public channel by every
// member, but not by guests unless they created or are assigned the task. Each cell drives the
// real app through signed HTTP requests and reads what Slack received: App Home filters (All open,
// Recently done, Assigned, Created), the Home search (options) and its pick (the details modal),
// `/task list all` (open and done), a comment submitted on the task, and commands by number. A
// hidden task must answer exactly as a missing one does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, SHORTCUT, VIEW } from '../../src/slack/ids.js';
import { COMMENT_FIELD } from '../../src/features/tasks/views.js';
import type { TaskRow } from '../../src/store/schema.js';
import { taskFormValues, viewText } from '../modals/helpers.js';
import { OTHER_TEAM, TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { storeRows } from '../support/storeRows.js';
import { slash, taskByNumber } from '../tasks/helpers.js';
import { submissionPayload } from './support.js';

const ANN = 'UANN00001'; // creator
const BOB = 'UBOB00002'; // assignee
const CAT = 'UCAT00003'; // the person a task gets reassigned to
const EVE = 'UEVE00004'; // a member, in none of the private conversations
const GUS = 'UGUS00005'; // a multi-channel guest (is_restricted)
const ULA = 'UULA00006'; // a single-channel guest (is_ultra_restricted)
const BEA = 'UBEA00007'; // workspace B

const PUBLIC = 'CGENERAL1';
const PRIVATE = 'GPRIVATE1'; // private channel, the app is a member
const GROUP_DM = 'GMPDM0001'; // group DM (mpim), the app is a member
const DM = 'D0ANNBOB1'; // ANN's DM with BOB: Slack tells the app nothing about it
const SECRET = 'GSECRET01'; // private channel the app is not in: conversations.info says channel_not_found

type Obj = Record<string, unknown>;
interface Viewer {
  name: string;
  teamId: string;
  userId: string;
}
const creator: Viewer = { name: 'creator', teamId: TEAM, userId: ANN };
const assignee: Viewer = { name: 'assignee', teamId: TEAM, userId: BOB };
const outsider: Viewer = { name: 'channel outsider', teamId: TEAM, userId: EVE };
const guest: Viewer = { name: 'guest', teamId: TEAM, userId: GUS };
const singleGuest: Viewer = { name: 'single-channel guest', teamId: TEAM, userId: ULA };
const otherWorkspace: Viewer = { name: 'other workspace', teamId: OTHER_TEAM, userId: BEA };
const VIEWERS = [creator, assignee, outsider, guest, singleGuest, otherWorkspace];

let t: TestApp;
let seq = 0;

/** "Make a task" on a message in `channelId`, as `userId`, submitted with `title` for `assigneeId`. */
async function makeFromMessage(userId: string, channelId: string, title: string, assigneeId: string): Promise<TaskRow> {
  seq += 1;
  const ts = `1700000000.${String(seq).padStart(6, '0')}`;
  const shortcut = await t.slack.messageShortcut({ teamId: TEAM, userId, callbackId: SHORTCUT.taskFromMessage, channelId, message: { ts, text: title, user: userId } });
  expect(shortcut.response.status).toBe(200);
  await t.settle();
  const form = t.fake.topView(userId);
  expect(form?.callback_id).toBe(VIEW.newTask);
  const submitted = await t.slack.viewSubmission({ teamId: TEAM, userId, viewId: form!.id, values: taskFormValues({ title, assignee: assigneeId }) });
  expect(submitted.action).toBe('pop');
  await t.settle();
  const [row] = await storeRows<{ number: number }>(t, 'SELECT number FROM tasks WHERE team_id = ? AND title = ?', [TEAM, title]);
  if (!row) throw new Error(`no task "${title}"`);
  return await taskByNumber(t, row.number);
}

/** An open task and a done one (completed by its assignee), both made from a message in `channelId`. */
async function pairFrom(channelId: string, label: string, by = ANN, to = BOB): Promise<{ open: TaskRow; done: TaskRow }> {
  const open = await makeFromMessage(by, channelId, `${label} open ${channelId}`, to);
  const done = await makeFromMessage(by, channelId, `${label} done ${channelId}`, to);
  await slash(t, to, `done #${done.number}`);
  return { open, done: await taskByNumber(t, done.number) };
}

/** The viewer's Home with `filter` chosen (the Home is opened first if never published). */
async function homeWith(v: Viewer, filter: 'assigned' | 'created' | 'all_open' | 'recently_done'): Promise<string> {
  if (!t.fake.homeView(v.userId)) {
    await t.slack.appHomeOpened({ teamId: v.teamId, userId: v.userId });
    await t.settle();
  }
  const r = await t.slack.blockAction({ teamId: v.teamId, userId: v.userId, actionId: ACTION.homeFilter, container: 'view', viewId: t.fake.homeView(v.userId)!.id, selectedOption: { value: filter } });
  expect(r.response.status).toBe(200);
  await t.settle();
  return viewText(t.fake.homeView(v.userId));
}

async function searchOptions(v: Viewer, query: string): Promise<string> {
  const { response, json } = await t.slack.blockSuggestion({ teamId: v.teamId, userId: v.userId, actionId: ACTION.homeSearch, value: query });
  expect(response.status).toBe(200);
  return JSON.stringify(json);
}

/** Picks the task in the Home search (as if it had been offered): the details modal, or a notice. */
async function openDetails(v: Viewer, taskId: number): Promise<string> {
  t.fake.clearViews(v.userId);
  await t.slack.blockAction({ teamId: v.teamId, userId: v.userId, actionId: ACTION.homeSearch, container: 'view', viewId: t.fake.homeView(v.userId)!.id, selectedOption: { value: String(taskId) } });
  await t.settle();
  return viewText(t.fake.topView(v.userId));
}

const commentCount = async (taskId: number) => Number((await storeRows<{ n: number | string }>(t, 'SELECT count(*) AS n FROM task_comments WHERE task_id = ?', [taskId]))[0]?.n);

/** A comment submitted from a Comment form on the task's details; what the submission answered. */
async function comment(v: Viewer, taskId: number): Promise<{ added: boolean; answer: string }> {
  const before = await commentCount(taskId);
  const res = await t.slack.sendPayload(
    submissionPayload(t, {
      teamId: v.teamId,
      userId: v.userId,
      callbackId: VIEW.commentTask,
      privateMetadata: JSON.stringify({ taskId, depth: 1 }),
      values: { [COMMENT_FIELD]: { [COMMENT_FIELD]: { type: 'plain_text_input', value: `a word from ${v.name}` } } },
    }),
  );
  await t.settle();
  return { added: await commentCount(taskId) > before, answer: JSON.stringify((res.json as Obj | undefined)?.['view'] ?? null) };
}

/** Every read surface: does the task reach this viewer? */
async function whatReaches(v: Viewer, task: { open: TaskRow; done: TaskRow }) {
  const saw = (text: string, row: TaskRow) => text.includes(row.title);
  return {
    homeAllOpen: saw(await homeWith(v, 'all_open'), task.open),
    homeRecentlyDone: saw(await homeWith(v, 'recently_done'), task.done),
    homeMine: saw((await homeWith(v, 'assigned')) + (await homeWith(v, 'created')), task.open),
    searchByTitle: saw(await searchOptions(v, task.open.title), task.open),
    searchByNumber: saw(await searchOptions(v, `#${task.open.number}`), task.open),
    listAll: saw(JSON.stringify((await slash(t, v.userId, 'list all', v.teamId)).bodies), task.open),
    listAllDone: saw(JSON.stringify((await slash(t, v.userId, 'list all done', v.teamId)).bodies), task.done),
    details: saw(await openDetails(v, task.open.id), task.open),
    comment: (await comment(v, task.open.id)).added,
  };
}

/** What a viewer who may (or may not) see the task gets; "Assigned"/"Created" only ever list one's own. */
const everything = (seen: boolean, own = seen) => ({
  homeAllOpen: seen,
  homeRecentlyDone: seen,
  homeMine: own,
  searchByTitle: seen,
  searchByNumber: seen,
  listAll: seen,
  listAllDone: seen,
  details: seen,
  comment: seen,
});

beforeAll(async () => {
  t = await startTestApp();
  for (const [id, name] of [[ANN, 'ann'], [BOB, 'bob'], [CAT, 'cat'], [EVE, 'eve']] as const) t.fake.addUser({ id, teamId: TEAM, name });
  t.fake.addUser({ id: GUS, teamId: TEAM, name: 'gus', guest: 'multi' });
  t.fake.addUser({ id: ULA, teamId: TEAM, name: 'ula', guest: 'single' });
  t.fake.addUser({ id: BEA, teamId: OTHER_TEAM, name: 'bea' });
  t.fake.addChannel({ id: PUBLIC, teamId: TEAM, name: 'general', botIsMember: true });
  t.fake.addChannel({ id: PRIVATE, teamId: TEAM, name: 'hush', isPrivate: true, botIsMember: true });
  t.fake.addChannel({ id: GROUP_DM, teamId: TEAM, name: 'mpdm-ann--bob--cat-1', isMpim: true, botIsMember: true });
  t.fake.addChannel({ id: SECRET, teamId: TEAM, name: 'secret', isPrivate: true, botIsMember: false });
});
afterAll(async () => t?.dispose());

describe.each([
  ['a private channel', PRIVATE],
  ['a group DM', GROUP_DM],
  ['a DM', DM],
  ['a private channel Slack will not describe to the app', SECRET],
])('a task made from a message in %s', (_where, channelId) => {
  let task: { open: TaskRow; done: TaskRow };
  beforeAll(async () => {
    task = await pairFrom(channelId, 'Hush');
  });

  it('is stored private; conversations.info decided it (never a DM id)', () => {
    expect(task.open.private).toBe(true);
    expect(task.done.private).toBe(true);
    const asked = t.fake.callsTo('conversations.info').filter((c) => c.args['channel'] === channelId);
    expect(asked.length > 0).toBe(!channelId.startsWith('D'));
  });

  it.each(VIEWERS.map((v) => [v.name, v] as const))('the %s', async (_name, v) => {
    const seen = v === creator || v === assignee;
    expect(await whatReaches(v, task)).toEqual(everything(seen));
  });

  it.each([outsider, guest, singleGuest, otherWorkspace].map((v) => [v.name, v] as const))(
    'for the %s it answers exactly as a missing task, and nothing changes',
    async (_name, v) => {
      const missing = 990_000 + seq;
      const byNumber = async (verb: string, n: number) => (await slash(t, v.userId, `${verb} #${n}${verb === 'assign' ? ` <@${EVE}|eve>` : ''}`, v.teamId)).text;
      for (const verb of ['done', 'reopen', 'assign']) {
        const n = verb === 'reopen' ? task.done.number : task.open.number;
        expect(await byNumber(verb, n), verb).toBe((await byNumber(verb, missing)).replace(`#${missing}`, `#${n}`));
      }
      expect(await openDetails(v, task.open.id)).toBe(await openDetails(v, 99_999_999));
      expect((await comment(v, task.open.id)).answer).toBe((await comment(v, 99_999_999)).answer);
      // The assignee's card, its Complete button pressed by someone else (a forged click), and a ✅ on it.
      const [card] = await storeRows<{ channel: string; ts: string }>(t, 'SELECT channel_id AS channel, ts FROM task_messages WHERE task_id = ?', [task.open.id]);
      if (!card) throw new Error(`task ${task.open.id} has no card recorded`);
      const press = async (value: string) => {
        const r = await t.slack.blockAction({ teamId: v.teamId, userId: v.userId, actionId: ACTION.taskComplete, container: 'message', channelId: card.channel, messageTs: card.ts, unchecked: true, value });
        await t.settle();
        return t.fake.responses(r.responseUrl!).map((b) => b['text']);
      };
      expect(await press(String(task.open.id))).toEqual(await press('99999999'));
      const ephemerals = t.fake.ephemerals(card.channel).length;
      await t.slack.event(v.teamId, { type: 'reaction_added', user: v.userId, reaction: 'white_check_mark', item: { type: 'message', channel: card.channel, ts: card.ts }, item_user: t.fake.botUserId, event_ts: '1700000000.000300' });
      await t.settle();
      expect(t.fake.ephemerals(card.channel)).toHaveLength(ephemerals);
      expect(await taskByNumber(t, task.open.number)).toMatchObject({ status: 'open', assigneeId: BOB });
      expect(await taskByNumber(t, task.done.number)).toMatchObject({ status: 'done' });
    },
  );
});

describe('when Slack cannot say what the channel is', () => {
  it('a task made from a public channel’s message is private (fail safe)', async () => {
    t.fake.failNext('conversations.info', { status: 500 }, 3);
    const task = await makeFromMessage(ANN, PUBLIC, 'Slack was down for this one', BOB);
    expect(task.private).toBe(true);
    expect(await searchOptions(outsider, task.title)).not.toContain(task.title);
    expect(await searchOptions(assignee, task.title)).toContain(task.title);
  });
});

describe('a task made from a message in a public channel', () => {
  let task: { open: TaskRow; done: TaskRow };
  beforeAll(async () => {
    task = await pairFrom(PUBLIC, 'Open');
  });

  it('is not private', () => {
    expect(task.open.private).toBe(false);
  });

  it.each(VIEWERS.map((v) => [v.name, v] as const))('the %s', async (_name, v) => {
    const seen = v === creator || v === assignee || v === outsider;
    expect(await whatReaches(v, task)).toEqual(everything(seen, v === creator || v === assignee));
  });

  it('a guest sees the tasks they were given or made, and the totals count only what each may see', async () => {
    const given = await makeFromMessage(ANN, PUBLIC, 'Given to the guest', GUS);
    await slash(t, GUS, 'add Made by the guest');
    const home = await homeWith(guest, 'all_open');
    expect(home).toContain(given.title);
    expect(home).toContain('Made by the guest');
    const openCount = async (where: string) => Number((await storeRows<{ n: number | string }>(t, `SELECT count(*) AS n FROM tasks WHERE team_id = ? AND status = 'open' AND ${where}`, [TEAM]))[0]?.n);
    expect(home).toContain(`1–2 of 2`);
    expect(await homeWith(outsider, 'all_open')).toContain(`of ${await openCount('NOT private')}`);
    expect(await homeWith(creator, 'all_open')).toContain(`of ${await openCount(`(NOT private OR creator_id = '${ANN}' OR assignee_id = '${ANN}')`)}`);
    expect((await slash(t, GUS, 'list all')).text).toContain('All open tasks in this workspace: 2');
  });
});

describe('reassigning a private task', () => {
  it('shows it to the new assignee, and no longer to the one it was taken from', async () => {
    const task = await makeFromMessage(ANN, PRIVATE, 'Moves along quietly', BOB);
    const before = { cat: await searchOptions({ name: 'cat', teamId: TEAM, userId: CAT }, task.title), bob: await searchOptions(assignee, task.title) };
    expect(before).toEqual({ cat: expect.not.stringContaining(task.title), bob: expect.stringContaining(task.title) });
    await slash(t, ANN, `assign #${task.number} <@${CAT}|cat>`);
    expect((await taskByNumber(t, task.number)).assigneeId).toBe(CAT);
    expect((await slash(t, CAT, 'list all')).bodies.map((b) => JSON.stringify(b)).join()).toContain(task.title);
    expect(await searchOptions({ name: 'cat', teamId: TEAM, userId: CAT }, task.title)).toContain(task.title);
    expect(await searchOptions(assignee, task.title)).not.toContain(task.title);
    expect(await searchOptions(creator, task.title)).toContain(task.title);
    // The new assignee may complete it; the old one finds nothing to complete.
    expect((await slash(t, BOB, `done #${task.number}`)).text).toBe(`There is no task #${task.number} in this workspace.`);
    await slash(t, CAT, `done #${task.number}`);
    expect(await taskByNumber(t, task.number)).toMatchObject({ status: 'done', completedBy: CAT });
  });
});
