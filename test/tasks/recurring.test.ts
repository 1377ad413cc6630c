// Repeating tasks through Slack: /task add … every …, the New task form's Repeat, /task stop, and
// the next occurrence made by the outbox (on completion, or once the day has passed), with the
// clock under the test's control.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskService } from '../../src/features/tasks/service.js';
import { NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { ACTION, SHORTCUT, VIEW } from '../../src/slack/ids.js';
import type { TaskRow } from '../../src/store/schema.js';
import { startTestApp, TEAM, type TestApp } from '../support/harness.js';
import { viewText } from '../home/seed.js';
import { taskFormValues } from '../modals/helpers.js';
import { addPeople, allTasks, ANN, BOB, dmCard, EVE, slash, taskByNumber } from './helpers.js';

/** Monday 7 December 2026, 12:00 UTC (13:00 for Ann in Paris, 07:00 for Bob in New York). */
const MONDAY = Date.UTC(2026, 11, 7, 12);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let clock = MONDAY;
let t: TestApp;
beforeEach(async () => {
  clock = MONDAY;
  t = await startTestApp({ now: () => clock });
  addPeople(t);
});
afterEach(async () => t?.dispose());

/** `/task add …` by `userId`; the task it made. */
async function add(text: string, userId = ANN): Promise<{ task: TaskRow; reply: string }> {
  const r = await slash(t, userId, `add ${text}`);
  const n = /Created #(\d+)/.exec(r.text)?.[1];
  if (!n) throw new Error(`not created: ${r.text}`);
  return { task: await taskByNumber(t, Number(n)), reply: r.text };
}

/** Every occurrence of the series, oldest first. */
async function series(first: TaskRow): Promise<TaskRow[]> {
  return (await allTasks(t)).filter((x) => x.seriesId === first.id);
}

/** The clock moves on; the sender looks at what has come due, and everything it caused settles. */
async function advanceTo(at: number): Promise<void> {
  clock = at;
  t.services.outbox.kick();
  await t.settle();
  // The handler's own effects (the new card) are kicked after its row is recorded.
  t.services.outbox.kick();
  await t.settle();
}

const nextRows = async (taskId: number) => (await t.outboxRows()).filter((r) => r.key.startsWith(`task:${taskId}:next`));

describe('/task add … every …', () => {
  it.each([
    ['every monday', 'weekly:1', '2026-12-07', 'every Monday'],
    ['every week', 'weekly:1', '2026-12-07', 'every Monday'],
    ['every day', 'daily', '2026-12-07', 'every day'],
    ['every weekday', 'weekdays', '2026-12-07', 'every weekday'],
    ['every friday', 'weekly:5', '2026-12-11', 'every Friday'],
    ['every 2 weeks due 2026-12-10', 'weeks:2:4', '2026-12-10', 'every 2 weeks on Thursday'],
    ['every month on the 1st', 'monthly:1', '2027-01-01', 'every month on the 1st'],
    ['every month', 'monthly:7', '2026-12-07', 'every month on the 7th'],
  ])('%s: the first occurrence is due on the rule’s first day (or the due date), and the reply says it repeats', async (phrase, rule, due, words) => {
    const { task, reply } = await add(`Weekly report <@${BOB}|bob> ${phrase}`);
    expect(task).toMatchObject({ title: 'Weekly report', assigneeId: BOB, repeatRule: rule, seriesId: task.id, dueDate: due });
    expect(reply).toContain(`It repeats ${words}.`);
    // The day-passed action is scheduled for 00:00 UTC after the due date.
    const [row] = await nextRows(task.id);
    expect(row).toMatchObject({ key: `task:${task.id}:next:${due}`, kind: 'task.next', state: 'pending', nextAttemptAt: Date.parse(`${due}T00:00:00Z`) + DAY });
    expect((await dmCard(t, task.id)).text).toContain('Weekly report');
  });

  it('a near miss gets a "did you mean", an unknown rule the list of supported ones; nothing is created', async () => {
    const before = (await allTasks(t)).length;
    expect((await slash(t, ANN, `add Weekly report <@${BOB}|bob> every mondy`)).text).toContain('Did you mean `every monday`?');
    const fortnight = (await slash(t, ANN, 'add Sync every fortnight')).text;
    expect(fortnight).toContain('I can’t repeat a task `every fortnight`');
    expect(fortnight).toContain('`every 2 weeks`');
    expect(fortnight).toContain('*Usage:* `/task add &lt;title&gt; [@assignee] [due &lt;date&gt;] [every &lt;when&gt;]`');
    expect(await allTasks(t)).toHaveLength(before);
  });

  it('a command Slack delivers again (same trigger id, retry headers) makes one series, answered the same way', async () => {
    const first = await slash(t, ANN, `add Weekly report <@${BOB}|bob> every monday`);
    const again = await t.slack.command({ teamId: TEAM, userId: ANN, text: `add Weekly report <@${BOB}|bob> every monday`, again: { triggerId: first.triggerId, responseUrl: first.responseUrl, retryNum: 1 } });
    expect(again.response.status).toBe(200);
    await t.settle();
    const made = (await allTasks(t)).filter((x) => x.title === 'Weekly report');
    expect(made).toHaveLength(1);
    expect(await series(made[0]!)).toHaveLength(1);
    expect(JSON.stringify(again.response.json)).toContain(`Created #${made[0]!.number} Weekly report`);
    // One card, one day-passed action; the same words typed again later are a new series.
    expect((await t.outboxRows()).filter((r) => r.key.startsWith(`task:${made[0]!.id}:card:assignee`))).toHaveLength(1);
    expect(await nextRows(made[0]!.id)).toHaveLength(1);
    await add(`Weekly report <@${BOB}|bob> every monday`);
    expect((await allTasks(t)).filter((x) => x.title === 'Weekly report')).toHaveLength(2);
  });

  it('/task help lists stop and the repeat phrases', async () => {
    const help = (await slash(t, ANN, 'help')).text;
    expect(help).toContain('/task stop #n');
    expect(help).toContain('`every month on the 1st`');
  });
});

describe('the next occurrence', () => {
  it('completed early: the next is made at once with the next due date and number, for the same assignee, who gets its card', async () => {
    const { task: first } = await add(`Weekly report <@${BOB}|bob> every monday due 2026-12-14`);
    const { task: other } = await add('Something else');
    expect((await slash(t, BOB, `done #${first.number}`)).text).toContain(`Completed #${first.number}`);
    await advanceTo(clock);
    const occurrences = await series(first);
    expect(occurrences.map((o) => [o.number, o.dueDate, o.status, o.repeatRule])).toEqual([
      [first.number, '2026-12-14', 'done', null],
      [other.number + 1, '2026-12-21', 'open', 'weekly:1'],
    ]);
    const next = occurrences[1] as TaskRow;
    expect(next).toMatchObject({ title: 'Weekly report', assigneeId: BOB, creatorId: ANN, priority: first.priority, private: false });
    const card = await dmCard(t, next.id);
    expect(t.fake.dmUser(card.channel)).toBe(BOB);
    expect(card.text).toContain(`#${next.number} Weekly report`);
    // The day of the completed one passing later makes nothing more.
    await advanceTo(Date.UTC(2026, 11, 15, 6));
    expect(await series(first)).toHaveLength(2);
    const rows = await nextRows(first.id);
    expect(rows.find((r) => r.key === `task:${first.id}:next`)).toMatchObject({ state: 'done', result: expect.stringMatching(/^created/) });
    expect(rows.find((r) => r.key === `task:${first.id}:next:2026-12-14`)).toMatchObject({ state: 'done', result: expect.stringMatching(/^skipped/) });
  });

  it('completed late: the next is the first one from today, never a burst of past ones', async () => {
    const { task: first } = await add(`Weekly report <@${BOB}|bob> every monday`); // due Mon 12-07
    // Wednesday 16th: the day-passed action (due 8th) and the completion both run now.
    clock = Date.UTC(2026, 11, 16, 15);
    await slash(t, BOB, `done #${first.number}`);
    await advanceTo(clock);
    expect((await series(first)).map((o) => o.dueDate)).toEqual(['2026-12-07', '2026-12-21']);
  });

  it('the day passing without a completion makes the next one, once; completing the old one later makes nothing', async () => {
    const { task: first } = await add(`Standup <@${BOB}|bob> every day`); // due 12-07
    await advanceTo(Date.UTC(2026, 11, 7, 23, 59));
    expect(await series(first)).toHaveLength(1);
    await advanceTo(Date.UTC(2026, 11, 8, 0, 1));
    let occurrences = await series(first);
    expect(occurrences.map((o) => [o.dueDate, o.status, o.repeatRule])).toEqual([
      ['2026-12-07', 'open', null],
      ['2026-12-08', 'open', 'daily'],
    ]);
    await dmCard(t, (occurrences[1] as TaskRow).id);
    await advanceTo(clock + HOUR);
    await slash(t, BOB, `done #${first.number}`);
    await advanceTo(clock + HOUR);
    occurrences = await series(first);
    expect(occurrences).toHaveLength(2);
    // The next day passes: the third, from the second.
    await advanceTo(Date.UTC(2026, 11, 9, 0, 5));
    expect((await series(first)).map((o) => o.dueDate)).toEqual(['2026-12-07', '2026-12-08', '2026-12-09']);
  });

  it('a completion and the day passing at once make one next occurrence', async () => {
    const { task: first } = await add(`Weekly report <@${BOB}|bob> every monday`); // due 12-07
    // Past the day, not yet looked at by the sender: the completion's own kick runs both.
    clock = Date.UTC(2026, 11, 8, 1);
    await slash(t, BOB, `done #${first.number}`);
    await advanceTo(clock);
    expect((await series(first)).map((o) => o.dueDate)).toEqual(['2026-12-07', '2026-12-14']);
    expect((await nextRows(first.id)).map((r) => r.result?.split(':')[0]).sort()).toEqual(['created', 'skipped']);
  });

  it('a due date changed later schedules its own day; the old one finds the date changed', async () => {
    const { task: first } = await add(`Report <@${BOB}|bob> every day`); // due 12-07
    await new TaskService(t.services).edit({ teamId: TEAM, userId: ANN, timeZone: 'Europe/Paris' }, { id: first.id }, { dueDate: '2026-12-09' });
    await advanceTo(Date.UTC(2026, 11, 8, 1));
    expect(await series(first)).toHaveLength(1);
    expect((await nextRows(first.id)).find((r) => r.key.endsWith(':2026-12-07'))?.result).toContain('skipped');
    await advanceTo(Date.UTC(2026, 11, 10, 1));
    expect((await series(first)).map((o) => o.dueDate)).toEqual(['2026-12-09', '2026-12-10']);
    // One occurrence per day: moving the old one onto the new one's date is refused in words.
    await expect(new TaskService(t.services).edit({ teamId: TEAM, userId: ANN, timeZone: 'UTC' }, { id: first.id }, { dueDate: '2026-12-10' })).rejects.toThrow(
      'Another task of this repeating series is due Thu, Dec 10, 2026; pick another date.',
    );
  });
});

describe('/task stop', () => {
  it('ends the series from any occurrence: completing afterwards, or the day passing, makes nothing', async () => {
    const { task: first } = await add(`Weekly report <@${BOB}|bob> every monday`);
    await slash(t, BOB, `done #${first.number}`);
    await advanceTo(clock);
    const [, second] = await series(first);
    // Stopped through the first (done) occurrence, by the assignee.
    const r = await slash(t, BOB, `stop #${first.number}`);
    expect(r.text).toBe(`:octagonal_sign: Stopped: #${first.number} Weekly report will not repeat any more.`);
    expect(await taskByNumber(t, second!.number)).toMatchObject({ repeatRule: null, status: 'open' });
    await slash(t, BOB, `done #${second!.number}`);
    await advanceTo(Date.UTC(2026, 11, 30));
    expect(await series(first)).toHaveLength(2);
    expect((await slash(t, BOB, `stop #${second!.number}`)).text).toContain('already does not repeat any more');
  });

  it('refuses a task that does not repeat, a stranger, and a task that does not exist', async () => {
    const { task: plain } = await add('Plain task');
    expect((await slash(t, ANN, `stop #${plain.number}`)).text).toBe(`#${plain.number} Plain task is not a repeating task: there is nothing to stop.\n*Usage:* \`/task stop #n\` — task #n (a repeating task) will not repeat any more`);
    const { task: weekly } = await add(`Weekly <@${BOB}|bob> every monday`);
    expect((await slash(t, EVE, `stop #${weekly.number}`)).text).toContain(`Only the assignee (<@${BOB}>) or the creator (<@${ANN}>) can stop repeating #${weekly.number} Weekly.`);
    expect((await slash(t, ANN, 'stop #999')).text).toContain('There is no task #999');
    expect(await taskByNumber(t, weekly.number)).toMatchObject({ repeatRule: 'weekly:1' });
  });
});

describe('the New task form', () => {
  async function openNewTask(userId: string): Promise<FakeView> {
    await t.slack.globalShortcut({ teamId: TEAM, userId, callbackId: SHORTCUT.newTask });
    await t.settle();
    const view = t.fake.topView(userId);
    expect(view?.callback_id).toBe(VIEW.newTask);
    return view as FakeView;
  }
  const repeatValue = (value: string) => ({ [NEW_TASK_FIELD.repeat]: { [NEW_TASK_FIELD.repeat]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } } } });

  it('Repeat: every week on the due date’s weekday; without a due date, from today; "Does not repeat" makes a plain task', async () => {
    const submit = async (title: string, due: string | null, repeat: string) => {
      const view = await openNewTask(ANN);
      const r = await t.slack.viewSubmission({ teamId: TEAM, userId: ANN, viewId: view.id, values: { ...taskFormValues({ title, assignee: BOB, due }), ...repeatValue(repeat) } });
      await t.settle();
      expect(r.json).toBeUndefined();
      return (await allTasks(t)).find((x) => x.title === title) as TaskRow;
    };
    expect(await submit('Thursday sync', '2026-12-10', 'weekly')).toMatchObject({ repeatRule: 'weekly:4', dueDate: '2026-12-10', assigneeId: BOB });
    expect(await submit('Fortnightly', '2026-12-10', 'weeks2')).toMatchObject({ repeatRule: 'weeks:2:4', dueDate: '2026-12-10' });
    expect(await submit('Daily', null, 'daily')).toMatchObject({ repeatRule: 'daily', dueDate: '2026-12-07' });
    expect(await submit('Workdays', null, 'weekdays')).toMatchObject({ repeatRule: 'weekdays', dueDate: '2026-12-07' });
    expect(await submit('Monthly', '2026-12-31', 'monthly')).toMatchObject({ repeatRule: 'monthly:31', dueDate: '2026-12-31' });
    const plain = await submit('Once', null, 'none');
    expect(plain).toMatchObject({ repeatRule: null, seriesId: null, dueDate: null });
    expect(await nextRows(plain.id)).toEqual([]);
  });
});

describe('shown as repeating', () => {
  it('in the App Home and the details modal: "Repeats every Monday"', async () => {
    const { task } = await add(`Weekly report <@${BOB}|bob> every monday`);
    await t.slack.appHomeOpened({ teamId: TEAM, userId: BOB });
    await t.settle();
    expect(viewText(t.fake.homeView(BOB)!.blocks)).toContain('Repeats every Monday');

    const card = await dmCard(t, task.id);
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskOpen, container: 'message', channelId: card.channel, messageTs: card.ts });
    await t.settle();
    const details = t.fake.topView(BOB);
    expect(details?.callback_id).toBe(VIEW.taskDetails);
    expect(viewText(details!.blocks)).toContain('Repeats every Monday');
  });
});

describe('after a restart', () => {
  it('a next occurrence pending while the app was down is made once at start-up', async () => {
    const { task: first } = await add(`Standup <@${BOB}|bob> every day`);
    await t.services.outbox.stop();
    clock = Date.UTC(2026, 11, 20, 9); // down for two weeks
    t = await t.restart();
    await t.settle();
    await advanceTo(clock);
    // One occurrence, due today, not thirteen.
    expect((await series(first)).map((o) => o.dueDate)).toEqual(['2026-12-07', '2026-12-20']);
    t = await t.restart();
    await advanceTo(clock + HOUR);
    expect(await series(first)).toHaveLength(2);
  });
});

describe('in the sender’s worker thread (SQLite’s production set-up; the real clock)', () => {
  it('completing an occurrence makes the next one there', async () => {
    const threaded = await startTestApp({ outbox: { thread: true } });
    try {
      addPeople(threaded);
      const r = await slash(threaded, ANN, `add Daily check <@${BOB}|bob> every day`);
      const first = await taskByNumber(threaded, Number(/Created #(\d+)/.exec(r.text)?.[1]));
      await slash(threaded, BOB, `done #${first.number}`);
      let occurrences: TaskRow[] = [];
      for (let i = 0; i < 100 && occurrences.length < 2; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        occurrences = (await allTasks(threaded)).filter((x) => x.seriesId === first.id);
      }
      expect(occurrences.map((o) => [o.status, o.repeatRule])).toEqual([
        ['done', null],
        ['open', 'daily'],
      ]);
      expect(occurrences[1]!.dueDate! > first.dueDate!).toBe(true);
    } finally {
      await threaded.dispose();
    }
  });
});
