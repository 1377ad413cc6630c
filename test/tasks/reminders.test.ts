// Due-date reminders and overdue nudges through the real app and the fake Slack, with the clock
// under the test's control: reminders at the assignee's hour in their own zone (DST included),
// Snooze / Complete from the DM, one nudge per working day (3 at most), no burst after downtime,
// and the App Home's Settings modal (reminders; the audit webhook for admins only).
import { afterEach, describe, expect, it } from 'vitest';
import { REMINDERS_ON, SETTINGS_INPUT } from '../../src/features/home/settingsViews.js';
import type { FakeMessage, FakeView } from '../../src/sandbox/fakeSlack.js';
import { ACTION } from '../../src/slack/ids.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { auditOf, buttons, dmCard, slash, taskByNumber } from './helpers.js';
import { viewText } from '../home/seed.js';

const BOSS = 'UBOSS0001'; // creates the tasks; UTC
const LA = 'ULOSANG01'; // America/Los_Angeles
const BERLIN = 'UBERLIN01'; // Europe/Berlin
const KOLKATA = 'UKOLKAT01'; // Asia/Kolkata (+05:30)
const ADMIN = 'UADMIN001'; // a workspace admin

const utc = (iso: string) => Date.parse(iso);
type Obj = Record<string, unknown>;

describe('due-date reminders and overdue nudges', () => {
  let t: TestApp;
  // The test's clock: set by the test, then running at real speed (a Home published twice is
  // spaced by 250 ms; a clock standing still would never get there).
  let clock = 0;
  let setAt = 0;
  const now = () => clock + (Date.now() - setAt);
  const setClock = (ms: number) => {
    clock = ms;
    setAt = Date.now();
  };

  async function start(iso: string): Promise<void> {
    setClock(utc(iso));
    t = await startTestApp({ now });
    t.fake.addUser({ id: BOSS, teamId: TEAM, name: 'boss', tz: 'UTC' });
    t.fake.addUser({ id: LA, teamId: TEAM, name: 'la', tz: 'America/Los_Angeles' });
    t.fake.addUser({ id: BERLIN, teamId: TEAM, name: 'berlin', tz: 'Europe/Berlin' });
    t.fake.addUser({ id: KOLKATA, teamId: TEAM, name: 'kolkata', tz: 'Asia/Kolkata' });
    t.fake.addUser({ id: ADMIN, teamId: TEAM, name: 'admin', tz: 'UTC', admin: 'admin' });
  }
  afterEach(async () => {
    await t?.dispose();
  });

  /** Waits for what the last request caused. */
  async function tick(): Promise<void> {
    t.services.outbox.kick();
    await t.settle();
  }

  /** The clock moves to `iso`; the outbox sends whatever is due by then. */
  async function at(iso: string): Promise<void> {
    const next = utc(iso);
    if (next < now()) throw new Error(`the clock only moves forward (${iso})`);
    setClock(next);
    t.services.outbox.kick();
    await t.settle();
  }

  async function addTask(assignee: string, title: string, due: string): Promise<number> {
    const r = await slash(t, BOSS, `add ${title} <@${assignee}|x> due ${due}`);
    expect(r.text).not.toMatch(/can.t|not /i);
    const number = Number(/#(\d+)/.exec(r.text)?.[1]);
    return (await taskByNumber(t, number)).id;
  }

  /** The reminder DMs a person got (messages with the reminder's buttons), oldest first. */
  const reminders = (userId: string): FakeMessage[] => t.fake.messages(t.fake.dmChannel(userId)).filter((m) => (m.blocks ?? []).some((b) => (b as Obj)['block_id'] === 'reminder_task'));
  const remindersAbout = (userId: string, taskId: number) => reminders(userId).filter((m) => JSON.stringify(m.blocks).includes(`"value":"${taskId}"`) || m.updates > 0);
  const textOf = (m: FakeMessage | undefined) => (m ? viewText(m.blocks ?? []) : '');

  async function clickReminder(userId: string, m: FakeMessage, actionId: string): Promise<void> {
    const res = await t.slack.blockAction({ teamId: TEAM, userId, actionId, container: 'message', channelId: m.channel, messageTs: m.ts });
    expect(res.response.status).toBe(200);
    await tick();
  }

  // ---------------------------------------------------------------- Settings through the Home

  async function openSettings(userId: string): Promise<FakeView> {
    await t.slack.appHomeOpened({ teamId: TEAM, userId });
    await tick();
    const home = t.fake.homeView(userId);
    if (!home) throw new Error(`no Home for ${userId}`);
    const res = await t.slack.blockAction({ teamId: TEAM, userId, actionId: ACTION.homeSettings, container: 'view', viewId: home.id });
    expect(res.response.status).toBe(200);
    await tick();
    const modal = t.fake.topView(userId);
    if (!modal) throw new Error(`no Settings modal for ${userId}`);
    return modal;
  }

  function settingsValues(s: { enabled: boolean; hour: number; url?: string }): Record<string, Record<string, unknown>> {
    const option = { text: { type: 'plain_text', text: 'Send me due-date reminders and overdue nudges' }, value: REMINDERS_ON };
    return {
      [SETTINGS_INPUT.reminders.block]: { [SETTINGS_INPUT.reminders.action]: { type: 'checkboxes', selected_options: s.enabled ? [option] : [] } },
      [SETTINGS_INPUT.hour.block]: { [SETTINGS_INPUT.hour.action]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: `${s.hour}:00` }, value: String(s.hour) } } },
      ...(s.url !== undefined ? { [SETTINGS_INPUT.auditWebhook.block]: { [SETTINGS_INPUT.auditWebhook.action]: { type: 'plain_text_input', value: s.url } } } : {}),
    };
  }

  async function saveSettings(userId: string, s: { enabled: boolean; hour: number; url?: string }) {
    const modal = await openSettings(userId);
    const result = await t.slack.viewSubmission({ teamId: TEAM, userId, viewId: modal.id, values: settingsValues(s) });
    await tick();
    return { modal, result };
  }

  const inputBlocks = (view: FakeView) => (view.blocks as Obj[]).filter((b) => b['type'] === 'input').map((b) => b['block_id']);

  // ---------------------------------------------------------------- the due day

  it('reminds at 09:00 local in Los Angeles, Berlin and Kolkata: not a minute before, once at or after', async () => {
    await start('2026-12-02T12:00:00Z'); // Wednesday
    const la = await addTask(LA, 'Ship the LA build', '2026-12-04');
    const berlin = await addTask(BERLIN, 'Berlin invoices', '2026-12-04');
    const kolkata = await addTask(KOLKATA, 'Kolkata standup notes', '2026-12-04');
    // One scheduled row per task, keyed by its due date, due when the date begins anywhere (UTC+14).
    const row = await t.stores.outbox.byKey(`task:${la}:remind:2026-12-04`);
    expect(row?.nextAttemptAt).toBe(utc('2026-12-03T10:00:00Z'));

    await at('2026-12-03T23:00:00Z');
    expect([reminders(LA), reminders(BERLIN), reminders(KOLKATA)].map((r) => r.length)).toEqual([0, 0, 0]);
    await at('2026-12-04T03:29:00Z'); // 08:59 in Kolkata
    expect(reminders(KOLKATA)).toHaveLength(0);
    await at('2026-12-04T03:30:00Z'); // 09:00 in Kolkata
    expect(reminders(KOLKATA)).toHaveLength(1);
    expect(textOf(reminders(KOLKATA)[0])).toContain('Due today:');
    expect(textOf(reminders(KOLKATA)[0])).toContain('Kolkata standup notes');
    expect(buttons(reminders(KOLKATA)[0]?.blocks)).toEqual([ACTION.reminderComplete, ACTION.reminderSnoozeTomorrow, ACTION.reminderSnoozeWeek]);
    expect(JSON.stringify(reminders(KOLKATA)[0]?.blocks)).toContain(`"value":"${kolkata}"`);
    await at('2026-12-04T07:59:00Z'); // 08:59 in Berlin
    expect(reminders(BERLIN)).toHaveLength(0);
    await at('2026-12-04T08:00:00Z');
    expect(reminders(BERLIN)).toHaveLength(1);
    expect(JSON.stringify(reminders(BERLIN)[0]?.blocks)).toContain(`"value":"${berlin}"`);
    await at('2026-12-04T16:59:00Z'); // 08:59 in Los Angeles
    expect(reminders(LA)).toHaveLength(0);
    await at('2026-12-04T17:00:00Z');
    expect(reminders(LA)).toHaveLength(1);
    await at('2026-12-04T22:00:00Z');
    expect([reminders(LA), reminders(BERLIN), reminders(KOLKATA)].map((r) => r.length)).toEqual([1, 1, 1]);
    // Nobody else got them.
    expect(reminders(BOSS)).toHaveLength(0);
  });

  it('across a DST change: a due date right after it still reminds at 09:00 local', async () => {
    await start('2026-03-05T12:00:00Z');
    await addTask(LA, 'After spring forward (LA)', '2026-03-09'); // LA changed on Mar 8: 09:00 PDT = 16:00Z
    await addTask(BERLIN, 'After spring forward (Berlin)', '2026-03-30'); // Berlin changes on Mar 29: 09:00 CEST = 07:00Z
    await at('2026-03-09T15:59:00Z');
    expect(reminders(LA)).toHaveLength(0);
    await at('2026-03-09T16:00:00Z');
    expect(reminders(LA)).toHaveLength(1);
    await at('2026-03-30T06:59:00Z');
    expect(reminders(BERLIN)).toHaveLength(0);
    await at('2026-03-30T07:00:00Z');
    expect(reminders(BERLIN)).toHaveLength(1);
  });

  it('none for a task done before its day; none when reminders are off; a changed hour is honoured', async () => {
    await start('2026-12-02T12:00:00Z');
    const done = await addTask(BERLIN, 'Finished early', '2026-12-04');
    const off = await addTask(LA, 'LA has reminders off', '2026-12-04');
    await addTask(KOLKATA, 'Kolkata at seven', '2026-12-04');
    // Berlin completes it from the task card the day before.
    const card = await dmCard(t, done);
    await clickReminder(BERLIN, card, ACTION.taskComplete);
    expect((await t.stores.tasks.findById(TEAM, done))?.status).toBe('done');
    // LA turns reminders off; Kolkata moves them to 07:00.
    await saveSettings(LA, { enabled: false, hour: 9 });
    await saveSettings(KOLKATA, { enabled: true, hour: 7 });
    expect(await t.stores.settings.user(TEAM, LA)).toEqual({ remindersEnabled: false, reminderHour: 9 });
    expect(await t.stores.settings.user(TEAM, KOLKATA)).toEqual({ remindersEnabled: true, reminderHour: 7 });

    await at('2026-12-04T01:29:00Z'); // 06:59 in Kolkata
    expect(reminders(KOLKATA)).toHaveLength(0);
    await at('2026-12-04T01:30:00Z'); // 07:00 in Kolkata
    expect(reminders(KOLKATA)).toHaveLength(1);
    for (const day of ['2026-12-04T23:00:00Z', '2026-12-07T20:00:00Z', '2026-12-08T20:00:00Z', '2026-12-09T20:00:00Z']) await at(day);
    expect(reminders(BERLIN)).toHaveLength(0);
    expect(reminders(LA)).toHaveLength(0);
    expect((await t.stores.outbox.byKey(`task:${done}:remind:2026-12-04`))?.result).toBe('skipped: the task is done');
    expect((await t.stores.outbox.byKey(`task:${off}:remind:2026-12-04`))?.result).toBe('skipped: reminders off');
  });

  // ---------------------------------------------------------------- the DM's buttons

  it('Snooze until tomorrow / for a week moves the due date (assignee’s zone) and the reminder; recorded as an edit', async () => {
    await start('2026-12-02T12:00:00Z');
    const id = await addTask(BERLIN, 'Snoozable', '2026-12-03');
    await at('2026-12-03T08:00:00Z'); // Thu 09:00 Berlin
    const first = reminders(BERLIN)[0];
    if (!first) throw new Error('no reminder');
    await clickReminder(BERLIN, first, ACTION.reminderSnoozeTomorrow);
    expect((await t.stores.tasks.findById(TEAM, id))?.dueDate).toBe('2026-12-04');
    expect(await auditOf(t, id)).toContain('edited');
    const updated = t.fake.message(first.channel, first.ts);
    expect(textOf(updated)).toContain('Snoozed to Fri, Dec 4 — I’ll remind you then.');
    expect(buttons(updated?.blocks)).toEqual([]);
    // No nudge for the old date, and the reminder of the new one at 09:00 Friday.
    await at('2026-12-04T07:59:00Z');
    expect(reminders(BERLIN).filter((m) => buttons(m.blocks).length > 0)).toHaveLength(0);
    await at('2026-12-04T08:00:00Z');
    const second = reminders(BERLIN).filter((m) => buttons(m.blocks).length > 0);
    expect(second).toHaveLength(1);
    await clickReminder(BERLIN, second[0] as FakeMessage, ACTION.reminderSnoozeWeek);
    expect((await t.stores.tasks.findById(TEAM, id))?.dueDate).toBe('2026-12-11');
    expect(textOf(t.fake.message(second[0]?.channel ?? '', second[0]?.ts ?? ''))).toContain('Snoozed to Fri, Dec 11');
    for (const day of ['2026-12-07T08:00:00Z', '2026-12-08T08:00:00Z', '2026-12-10T08:00:00Z']) await at(day);
    expect(reminders(BERLIN).filter((m) => buttons(m.blocks).length > 0)).toHaveLength(0);
    await at('2026-12-11T08:00:00Z');
    expect(reminders(BERLIN).filter((m) => buttons(m.blocks).length > 0)).toHaveLength(1);
    expect((await auditOf(t, id)).filter((a) => a === 'edited')).toHaveLength(2);
  });

  it('Complete completes the task and the DM says so; a second click is told it is done', async () => {
    await start('2026-12-02T12:00:00Z');
    const id = await addTask(LA, 'Complete me', '2026-12-03');
    await at('2026-12-03T17:00:00Z');
    const dm = reminders(LA)[0];
    if (!dm) throw new Error('no reminder');
    await clickReminder(LA, dm, ACTION.reminderComplete);
    const task = await t.stores.tasks.findById(TEAM, id);
    expect(task?.status).toBe('done');
    expect(task?.completedBy).toBe(LA);
    const updated = t.fake.message(dm.channel, dm.ts);
    expect(textOf(updated)).toContain('is done');
    expect(buttons(updated?.blocks)).toEqual([]);
    // A click on a stale copy (the buttons were still there): told, nothing changes.
    const res = await t.slack.blockAction({ teamId: TEAM, userId: LA, actionId: ACTION.reminderComplete, container: 'message', channelId: dm.channel, messageTs: dm.ts, value: String(id), unchecked: true });
    await tick();
    expect(t.fake.responses(res.responseUrl ?? '').map((b) => String(b['text']))).toEqual([expect.stringContaining('already completed')]);
    // And no nudges for it.
    for (const day of ['2026-12-04T17:00:00Z', '2026-12-07T17:00:00Z', '2026-12-08T17:00:00Z']) await at(day);
    expect(remindersAbout(LA, id)).toHaveLength(1);
  });

  // ---------------------------------------------------------------- overdue

  it('overdue: one nudge per working day in the assignee’s zone (not Sat/Sun), 3 at most, none after completion; the creator’s Home shows it overdue', async () => {
    await start('2026-12-02T12:00:00Z');
    const id = await addTask(BERLIN, 'Overdue report', '2026-12-04'); // Friday
    const other = await addTask(KOLKATA, 'Done after one nudge', '2026-12-04');
    // The creator keeps the "Created by me" list open.
    await t.slack.appHomeOpened({ teamId: TEAM, userId: BOSS });
    await tick();
    const home = t.fake.homeView(BOSS) as FakeView;
    await t.slack.blockAction({ teamId: TEAM, userId: BOSS, actionId: ACTION.homeFilter, container: 'view', viewId: home.id, selectedOption: { value: 'created' } });
    await tick();
    expect(viewText((t.fake.homeView(BOSS) as FakeView).blocks)).toContain('Due Dec 4');
    expect(viewText((t.fake.homeView(BOSS) as FakeView).blocks)).not.toMatch(/Overdue\*/);

    const count = () => reminders(BERLIN).length;
    await at('2026-12-04T08:00:00Z'); // the due day's reminder
    expect(count()).toBe(1);
    await at('2026-12-05T08:00:00Z'); // Saturday
    await at('2026-12-06T08:00:00Z'); // Sunday
    await at('2026-12-07T07:59:00Z'); // Monday 08:59
    expect(count()).toBe(1);
    await at('2026-12-07T08:00:00Z');
    expect(count()).toBe(2);
    const nudge = reminders(BERLIN)[1];
    expect(textOf(nudge)).toContain('*Overdue* (was due Fri, Dec 4)');
    expect(textOf(nudge)).toContain('reminder 1 of 3');
    expect(buttons(nudge?.blocks)).toEqual([ACTION.reminderComplete, ACTION.reminderSnoozeTomorrow, ACTION.reminderSnoozeWeek]);
    // The nudge redrew the creator's Home: the task shows overdue there.
    const created = viewText((t.fake.homeView(BOSS) as FakeView).blocks);
    expect(created).toContain('Overdue report');
    expect(created).toMatch(/Overdue\* \(due Dec 4\)/);
    await at('2026-12-07T20:00:00Z');
    expect(count()).toBe(2);

    // Kolkata completes theirs from the first nudge: nothing more for it.
    const kNudge = reminders(KOLKATA)[1];
    if (!kNudge) throw new Error('no nudge for Kolkata');
    await clickReminder(KOLKATA, kNudge, ACTION.reminderComplete);
    expect((await t.stores.tasks.findById(TEAM, other))?.status).toBe('done');

    await at('2026-12-08T08:00:00Z');
    expect(count()).toBe(3);
    await at('2026-12-09T08:00:00Z');
    expect(count()).toBe(4);
    expect(textOf(reminders(BERLIN)[3])).toContain('reminder 3 of 3');
    for (const day of ['2026-12-10T08:00:00Z', '2026-12-11T08:00:00Z', '2026-12-14T08:00:00Z']) await at(day);
    expect(count()).toBe(4);
    expect(reminders(KOLKATA)).toHaveLength(2);
    expect((await t.stores.outbox.byKey(`task:${other}:nudge:2026-12-04:2`))?.result).toBe('skipped: the task is done');
    expect(await t.stores.outbox.byKey(`task:${id}:nudge:2026-12-04:4`)).toBeUndefined();
    expect((await t.stores.tasks.findById(TEAM, id))?.status).toBe('open');
  });

  it('missed while down: one late reminder at restart, not a burst; none for a task completed while its reminder waited; the next nudge counts from then', async () => {
    await start('2026-12-02T12:00:00Z');
    await addTask(BERLIN, 'Missed while down', '2026-12-04');
    const done = await addTask(LA, 'Completed before the outage ended', '2026-12-04');
    await at('2026-12-03T12:00:00Z');
    // Completed while its reminder waits for its day, just before the app goes down.
    await clickReminder(LA, await dmCard(t, done), ACTION.taskComplete);
    await t.stop();
    setClock(utc('2026-12-09T10:00:00Z')); // Wednesday, 11:00 in Berlin: the reminder and two nudges were missed
    t = await t.restart();
    await at('2026-12-09T10:00:05Z');
    const late = reminders(BERLIN);
    expect(late).toHaveLength(1);
    expect(textOf(late[0])).toContain('*Overdue*');
    expect(reminders(LA)).toHaveLength(0);
    await at('2026-12-09T20:00:00Z');
    expect(reminders(BERLIN)).toHaveLength(1);
    // The next working day, at the hour: one nudge.
    await at('2026-12-10T07:59:00Z');
    expect(reminders(BERLIN)).toHaveLength(1);
    await at('2026-12-10T08:00:00Z');
    expect(reminders(BERLIN)).toHaveLength(2);
  });

  // ---------------------------------------------------------------- Settings

  it('Settings: saved and shown again; an admin sets the audit webhook (bad URLs get an inline error, never saved)', async () => {
    await start('2026-12-02T12:00:00Z');
    const { modal, result } = await saveSettings(BERLIN, { enabled: true, hour: 18 });
    expect(inputBlocks(modal)).toEqual([SETTINGS_INPUT.reminders.block, SETTINGS_INPUT.hour.block]);
    expect(result.action).toBe('pop');
    expect(await t.stores.settings.user(TEAM, BERLIN)).toEqual({ remindersEnabled: true, reminderHour: 18 });
    const again = await openSettings(BERLIN);
    expect(JSON.stringify(again.blocks)).toContain('"initial_option":{"text":{"type":"plain_text","text":"18:00"');

    // The admin sees the field; a URL that is not a Slack webhook is refused on that field.
    const adminModal = await openSettings(ADMIN);
    expect(inputBlocks(adminModal)).toEqual([SETTINGS_INPUT.reminders.block, SETTINGS_INPUT.hour.block, SETTINGS_INPUT.auditWebhook.block]);
    for (const bad of ['https://evil.example/services/x', 'http://hooks.slack.com/services/T/B/x', 'not a url']) {
      const r = await t.slack.viewSubmission({ teamId: TEAM, userId: ADMIN, viewId: adminModal.id, values: settingsValues({ enabled: true, hour: 9, url: bad }) });
      expect(r.action).toBe('errors');
      expect(((r.json as Obj)['errors'] as Obj)[SETTINGS_INPUT.auditWebhook.block]).toMatch(/URL/);
    }
    expect(await t.stores.settings.workspace(TEAM)).toBeUndefined();
    const ok = await t.slack.viewSubmission({ teamId: TEAM, userId: ADMIN, viewId: adminModal.id, values: settingsValues({ enabled: true, hour: 9, url: ' https://hooks.slack.com/services/T0/B0/secret ' }) });
    expect(ok.action).toBe('pop');
    await tick();
    expect(await t.stores.settings.workspace(TEAM)).toMatchObject({ auditWebhookUrl: 'https://hooks.slack.com/services/T0/B0/secret', updatedBy: ADMIN });
    // The sandbox's Slack (the configured API origin) is allowed too; empty means none.
    const sandboxUrl = t.fake.webhookUrl('audit');
    await saveSettings(ADMIN, { enabled: true, hour: 9, url: sandboxUrl });
    expect((await t.stores.settings.workspace(TEAM))?.auditWebhookUrl).toBe(sandboxUrl);
    const reopened = await openSettings(ADMIN);
    expect(JSON.stringify(reopened.blocks)).toContain(sandboxUrl);
    await t.slack.viewSubmission({ teamId: TEAM, userId: ADMIN, viewId: reopened.id, values: settingsValues({ enabled: true, hour: 9, url: '' }) });
    await tick();
    expect((await t.stores.settings.workspace(TEAM))?.auditWebhookUrl).toBeNull();
  });

  it('Settings: a non-admin never sees the webhook field, and a forged one is not saved', async () => {
    await start('2026-12-02T12:00:00Z');
    const modal = await openSettings(LA);
    expect(JSON.stringify(modal.blocks)).not.toContain('Audit feed');
    const publishes = () => t.fake.callsTo('views.publish').filter((c) => c.args['user_id'] === LA).length;
    const before = publishes();
    const r = await t.slack.viewSubmission({ teamId: TEAM, userId: LA, viewId: modal.id, values: settingsValues({ enabled: false, hour: 10, url: 'https://hooks.slack.com/services/T0/B0/forged' }) });
    await tick();
    expect(r.action).toBe('pop');
    expect(await t.stores.settings.workspace(TEAM)).toBeUndefined();
    // Their own settings are saved as usual, and their Home is drawn again.
    expect(await t.stores.settings.user(TEAM, LA)).toEqual({ remindersEnabled: false, reminderHour: 10 });
    expect(publishes()).toBe(before + 1);
    expect(t.logger.text()).toContain('not a workspace admin');
  });
});
