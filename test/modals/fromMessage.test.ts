import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackToPlain, taskFieldsFromMessage } from '../../src/features/tasks/messageText.js';
import { NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { SHORTCUT, VIEW } from '../../src/slack/ids.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { allTasks } from '../tasks/helpers.js';
import { ANN, BOB, CHANNEL, SECRET, addPeople, inputElement, lastDm, meta, refusedCalls, taskFormValues } from './helpers.js';

describe('taskFieldsFromMessage (pure)', () => {
  it('title from the first non-blank line, description from the rest, Slack markup as plain text', () => {
    expect(taskFieldsFromMessage('\n  Ask <@U123|ann> about &lt;the plan&gt; &amp; budget  \nSee <https://x.example/a|the doc> and <#C1|general>\n<!here> ping')).toEqual({
      title: 'Ask @ann about <the plan> & budget',
      description: 'See the doc (https://x.example/a) and #general\n@here ping',
    });
    expect(taskFieldsFromMessage('')).toEqual({ title: '', description: '' });
    expect(taskFieldsFromMessage(undefined)).toEqual({ title: '', description: '' });
  });

  it('cuts the title to 150 and the description to 3000, with an ellipsis', () => {
    const { title, description } = taskFieldsFromMessage(`${'t'.repeat(400)}\n${'d'.repeat(9000)}`);
    expect(title).toHaveLength(150);
    expect(title.endsWith('…')).toBe(true);
    expect(description).toHaveLength(3000);
    expect(description.endsWith('…')).toBe(true);
  });

  it('reads links, mentions and dates the way a person would type them', () => {
    expect(slackToPlain('<https://a.example>')).toBe('https://a.example');
    expect(slackToPlain('<mailto:x@y.z|x@y.z>')).toBe('x@y.z');
    expect(slackToPlain('<@U99>')).toBe('@U99');
    expect(slackToPlain('<!subteam^S1|@design>')).toBe('@design');
    expect(slackToPlain('<!date^1700000000^{date}|Nov 14>')).toBe('Nov 14');
  });
});

describe('Make a task (message shortcut)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    addPeople(t);
  });
  afterEach(async () => t?.dispose());

  /** A message in a channel (posted through the fake so that chat.getPermalink knows it). */
  async function postMessage(channel: string, text: string): Promise<string> {
    if (channel === SECRET) return '1700000000.000200'; // the app cannot post there; Slack still has it
    const res = await t.services.client.chat.postMessage({ channel, text });
    return res.ts as string;
  }

  async function makeTask(userId: string, channel: string, text: string, ts: string) {
    const r = await t.slack.messageShortcut({ teamId: TEAM, userId, callbackId: SHORTCUT.taskFromMessage, channelId: channel, message: { ts, text, user: BOB } });
    expect(r.response.status).toBe(200);
    await t.settle();
    return r;
  }

  it('a 10,000-character message: Loading… then the prefilled form; the task keeps a cut title/description, the permalink, and a thread reply', async () => {
    // As Slack sends message text: &, < and > escaped.
    const text = `${'Quarterly numbers need a second look '.repeat(10)}\n${'Details &amp; more &lt;stuff&gt;. '.repeat(500)}`.slice(0, 10_000);
    expect(text).toHaveLength(10_000);
    const ts = await postMessage(CHANNEL, text);
    const calls = t.fake.calls.length;
    await makeTask(ANN, CHANNEL, text, ts);

    // A lightweight modal first (fresh trigger id), then the real one by views.update.
    const methods = t.fake.calls.slice(calls).map((c) => c.method);
    expect(methods.indexOf('views.open')).toBeLessThan(methods.indexOf('views.update'));
    expect(t.fake.callsTo('views.open').at(-1)?.args['view']).toMatchObject({ callback_id: VIEW.loading });
    const view = t.fake.topView(ANN) as FakeView;
    expect(view.callback_id).toBe(VIEW.newTask);
    expect(refusedCalls(t)).toEqual([]);
    const title = inputElement(view, NEW_TASK_FIELD.title);
    const description = inputElement(view, NEW_TASK_FIELD.description);
    expect(String(title['initial_value']).length).toBeLessThanOrEqual(title['max_length'] as number);
    expect(String(title['initial_value']).length).toBe(150);
    expect(String(description['initial_value']).length).toBe(3000);
    expect(description['max_length']).toBe(3000);
    expect(meta(view)).toEqual({ origin: 'message', tz: 'Europe/Paris', source: { channelId: CHANNEL, ts } });

    // The user submits what was prefilled.
    const r = await t.slack.viewSubmission({
      teamId: TEAM,
      userId: ANN,
      viewId: view.id,
      values: taskFormValues({ title: String(title['initial_value']), description: String(description['initial_value']), assignee: ANN }),
    });
    expect(r.action).toBe('pop');
    await t.settle();

    const [task] = await allTasks(t);
    expect(await allTasks(t)).toHaveLength(1);
    expect(task?.title).toHaveLength(150);
    expect(task?.title.startsWith('Quarterly numbers need a second look')).toBe(true);
    expect(task?.description.length).toBeLessThanOrEqual(3000);
    expect(task?.description.startsWith('Details & more <stuff>.')).toBe(true);
    expect(task?.origin).toBe('message');
    expect(task?.sourcePermalink).toBe(`https://fake.slack.com/archives/${CHANNEL}/p${ts.replace('.', '')}`);
    expect(t.fake.callsTo('chat.getPermalink')).toHaveLength(1);

    const reply = t.fake.messages(CHANNEL).find((m) => m.thread_ts === ts);
    expect(reply?.text).toContain(`made this a task: *#${task?.number} Quarterly numbers`);
    expect(reply?.text).toContain(`assigned to <@${ANN}>`);
    expect(refusedCalls(t)).toEqual([]);
  });

  it('when the thread reply fails (not in the channel) the task still exists and the user is told privately', async () => {
    const ts = await postMessage(SECRET, 'Rotate the keys\nBefore Friday.');
    await makeTask(BOB, SECRET, 'Rotate the keys\nBefore Friday.', ts);
    const view = t.fake.topView(BOB) as FakeView;
    expect(inputElement(view, NEW_TASK_FIELD.title)['initial_value']).toBe('Rotate the keys');
    const r = await t.slack.viewSubmission({ teamId: TEAM, userId: BOB, viewId: view.id, values: taskFormValues({ title: 'Rotate the keys', description: 'Before Friday.', assignee: BOB }) });
    expect(r.action).toBe('pop');
    await t.settle();
    expect(await allTasks(t)).toEqual([expect.objectContaining({ title: 'Rotate the keys', origin: 'message', sourcePermalink: null })]);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.args['channel'] === SECRET).map((c) => c.response['error'])).toEqual(['not_in_channel']);
    // Refused for good: given up at once (one attempt), and the person who acted is told in a DM.
    const [task] = await allTasks(t);
    expect(await t.services.outbox.repo.byKey(`task:${task!.id}:thread-reply`)).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringContaining('not_in_channel') });
    expect(lastDm(t, BOB)).toBe(`#${task!.number} Rotate the keys was saved, but I couldn’t reply in the message’s thread. I can’t post in that channel; invite @Tasklane to it or pick another.`);
  });

  it('a slow users.info after the trigger expired (fake clock) still ends with the full form: Loading… was opened in time', async () => {
    const NEW = 'UNEWBIE01';
    t.fake.addUser({ id: NEW, teamId: TEAM, name: 'newbie', tz: 'Asia/Tokyo' });
    const ts = await postMessage(CHANNEL, 'Slow path');
    t.fake.failNext('users.info', { delayMs: 300 });
    const sent = makeTask(NEW, CHANNEL, 'Slow path', ts);
    await t.fake.waitFor('views.open');
    t.fake.advanceClock(10_000); // the trigger id of the shortcut is long dead now
    await sent;
    const methods = t.fake.calls.map((c) => c.method);
    expect(methods.indexOf('views.open')).toBeLessThan(methods.indexOf('users.info'));
    expect(methods.indexOf('users.info')).toBeLessThan(methods.indexOf('views.update'));
    expect(t.fake.topView(NEW)?.callback_id).toBe(VIEW.newTask);
    expect(meta(t.fake.topView(NEW))).toMatchObject({ tz: 'Asia/Tokyo' });
    expect(refusedCalls(t)).toEqual([]);
  });

  it('an expired trigger id on the shortcut itself: an ephemeral explains, nothing else happens', async () => {
    t.fake.failNext('views.open', { error: 'expired_trigger_id' });
    const ts = await postMessage(CHANNEL, 'Too slow');
    const r = await makeTask(ANN, CHANNEL, 'Too slow', ts);
    expect(t.fake.responses(r.responseUrl)).toEqual([
      expect.objectContaining({ response_type: 'ephemeral', text: 'Slack took too long to open the New task form, so it did not open. Please try again.' }),
    ]);
    expect(t.fake.callsTo('views.update')).toEqual([]);
    expect(await allTasks(t)).toEqual([]);
  });

  it('the user closing the Loading… modal before it is replaced is not an error', async () => {
    const ts = await postMessage(CHANNEL, 'Closed early');
    t.fake.failNext('views.update', { error: 'not_found' });
    const r = await makeTask(ANN, CHANNEL, 'Closed early', ts);
    expect(t.fake.responses(r.responseUrl)).toEqual([]);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
