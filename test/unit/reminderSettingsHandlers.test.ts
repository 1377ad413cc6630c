// The reminder DM's buttons and the App Home's Settings with fake dependencies: a payload in, then
// what was acked, which service or store method got which actor and arguments, what the DM will
// say (the outbox row written with the change), who was told what, and what was logged.
import { describe, expect, it, vi } from 'vitest';
import { NotAllowedError } from '../../src/errors.js';
import { homePublishEffect } from '../../src/features/home/effects.js';
import { handleHomeSettings, handleSettingsSubmit } from '../../src/features/home/settings.js';
import { REMINDERS_ON, SETTINGS_INPUT } from '../../src/features/home/settingsViews.js';
import { handleReminderComplete, handleReminderSnooze } from '../../src/features/tasks/reminders.js';
import { reminderCompletedBlocks, reminderCompletedText, reminderSnoozedBlocks, reminderSnoozedText } from '../../src/features/tasks/reminderViews.js';
import type { TaskService } from '../../src/features/tasks/service.js';
import { messageUpdateEffect } from '../../src/outbox/kinds.js';
import { ACTION } from '../../src/slack/ids.js';
import type { TaskRow } from '../../src/store/schema.js';
import { ANN, BOB, NOW, blockById, expectValidView, GENERIC_APOLOGY } from './blocks.js';

const TEAM = 'T1';
const DM = { channel: 'D1', ts: '1741608000.000100' };
const APOLOGY = GENERIC_APOLOGY;
const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });
const task = { id: 7, teamId: TEAM, number: 12, title: 'Send the contract', assigneeId: ANN, creatorId: BOB, status: 'open', dueDate: '2025-03-10' } as TaskRow;

/** A click on a reminder DM's button, as Slack sends it (`inMessage: false`: no channel nor message, as on a surface we did not draw). */
function reminderClick(actionId: string, value: string, inMessage = true) {
  const body = {
    type: 'block_actions',
    team: { id: TEAM, domain: 't1' },
    user: { id: ANN, username: 'ann', name: 'ann', team_id: TEAM },
    api_app_id: 'A1',
    trigger_id: 'trigger-1',
    response_url: 'https://hooks.slack.com/actions/T1/1/abc',
    container: inMessage ? { type: 'message', message_ts: DM.ts, channel_id: DM.channel, is_ephemeral: false } : { type: 'view', view_id: 'V1' },
    ...(inMessage ? { channel: { id: DM.channel, name: 'directmessage' }, message: { type: 'message', ts: DM.ts, text: 'Due today: #12 Send the contract' } } : {}),
    actions: [] as unknown[],
  };
  const action = { type: 'button', action_id: actionId, block_id: 'reminder_actions', value, text: { type: 'plain_text', text: 'Complete' }, action_ts: '1741608001.000200' };
  body.actions = [action];
  return { body, action };
}

function clickOn(handler: (deps: never) => (args: never) => Promise<void>, click: ReturnType<typeof reminderClick>, tasks: Partial<Record<keyof TaskService, unknown>>, respond: () => Promise<unknown> = async () => {}, calls: string[] = []) {
  const ack = vi.fn(async () => void calls.push('ack'));
  const respondFn = vi.fn(respond);
  const log = logger();
  const done = handler({ tasks: tasks as unknown as TaskService, logger: log } as never)({ ...click, ack, respond: respondFn } as never);
  return { done, calls, ack, respond: respondFn, log };
}

/** The effects callback a service method received (its last argument), applied to `args`. */
const effectsOf = (fn: ReturnType<typeof vi.fn>, ...args: unknown[]) => (fn.mock.calls[0]?.at(-1) as (...a: unknown[]) => unknown)(...args);

describe('handleReminderComplete', () => {
  it('acks, completes the task for the clicker, and rewrites the DM in the same change', async () => {
    const calls: string[] = [];
    const complete = vi.fn(async () => void calls.push('complete'));
    const r = clickOn(handleReminderComplete, reminderClick(ACTION.reminderComplete, '7'), { complete }, undefined, calls);
    await r.done;
    expect(calls).toEqual(['ack', 'complete']);
    expect(complete).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN }, { id: 7 }, expect.any(Function));
    expect(effectsOf(complete, task)).toEqual([
      messageUpdateEffect({ key: `task:7:reminder:${DM.channel}:${DM.ts}:completed`, teamId: TEAM, channel: DM.channel, ts: DM.ts, text: reminderCompletedText(task), blocks: reminderCompletedBlocks(task, ANN) }),
    ]);
    expect(r.respond).not.toHaveBeenCalled();
  });

  it('rewrites nothing when the click carries no message to rewrite', async () => {
    const complete = vi.fn(async () => {});
    const r = clickOn(handleReminderComplete, reminderClick(ACTION.reminderComplete, '7', false), { complete });
    await r.done;
    expect(effectsOf(complete, task)).toEqual([]);
  });

  it('acks a value it did not write and does nothing else', async () => {
    for (const value of ['', 'abc', '0x7', '-7']) {
      const complete = vi.fn();
      const r = clickOn(handleReminderComplete, reminderClick(ACTION.reminderComplete, value), { complete });
      await r.done;
      expect(r.ack).toHaveBeenCalledTimes(1);
      expect(complete).not.toHaveBeenCalled();
      expect(r.respond).not.toHaveBeenCalled();
    }
  });

  it('tells a refused clicker why, ephemerally and beside the DM, without logging an error', async () => {
    const refusal = new NotAllowedError('not the assignee', 'Only the assignee or the creator can complete this task.');
    const r = clickOn(handleReminderComplete, reminderClick(ACTION.reminderComplete, '7'), { complete: vi.fn(async () => Promise.reject(refusal)) });
    await r.done;
    expect(r.respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text: 'Only the assignee or the creator can complete this task.' });
    expect(r.log.error).not.toHaveBeenCalled();
  });

  it('logs an unexpected failure with team and user, apologises, and survives a response_url that fails too', async () => {
    const r = clickOn(handleReminderComplete, reminderClick(ACTION.reminderComplete, '7'), { complete: vi.fn(async () => Promise.reject(new Error('disk full'))) }, async () => Promise.reject(new Error('expired_url')));
    await expect(r.done).resolves.toBeUndefined();
    expect(r.log.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`reminder complete \\(team ${TEAM}, user ${ANN}\\).*disk full`)));
    expect(r.respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text: APOLOGY });
    expect(r.log.warn).toHaveBeenCalledWith(expect.stringContaining(`could not tell ${ANN}`));
  });
});

describe('handleReminderSnooze', () => {
  it('snoozes by the button’s days (1 or 7) for the clicker, and the DM says to when', async () => {
    for (const [days, actionId] of [
      [1, ACTION.reminderSnoozeTomorrow],
      [7, ACTION.reminderSnoozeWeek],
    ] as const) {
      const snooze = vi.fn(async () => {});
      const r = clickOn(((deps: never) => handleReminderSnooze(deps, days)) as never, reminderClick(actionId, '7'), { snooze });
      await r.done;
      expect(r.ack).toHaveBeenCalledTimes(1);
      expect(snooze).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN }, { id: 7 }, days, expect.any(Function));
      expect(effectsOf(snooze, task, '2025-03-17')).toEqual([
        messageUpdateEffect({ key: `task:7:reminder:${DM.channel}:${DM.ts}:snoozed:2025-03-17`, teamId: TEAM, channel: DM.channel, ts: DM.ts, text: reminderSnoozedText(task, '2025-03-17'), blocks: reminderSnoozedBlocks(task, '2025-03-17') }),
      ]);
    }
  });

  it('ignores a value it did not write, and tells a refused clicker why', async () => {
    const snooze = vi.fn();
    const bad = clickOn(((deps: never) => handleReminderSnooze(deps, 1)) as never, reminderClick(ACTION.reminderSnoozeTomorrow, 'seven'), { snooze });
    await bad.done;
    expect(bad.ack).toHaveBeenCalledTimes(1);
    expect(snooze).not.toHaveBeenCalled();
    const refused = clickOn(((deps: never) => handleReminderSnooze(deps, 1)) as never, reminderClick(ACTION.reminderSnoozeTomorrow, '7'), {
      snooze: vi.fn(async () => Promise.reject(new NotAllowedError('done', 'Task #12 is already done.'))),
    });
    await refused.done;
    expect(refused.respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text: 'Task #12 is already done.' });
    expect(refused.log.error).not.toHaveBeenCalled();
  });
});

// ------------------------------------------------------------ Settings

type Me = { found: boolean; user?: { id: string; teamId: string; isAdmin: boolean } };
const admin: Me = { found: true, user: { id: ANN, teamId: TEAM, isAdmin: true } };
const member: Me = { found: true, user: { id: ANN, teamId: TEAM, isAdmin: false } };
const WEBHOOK = 'https://hooks.slack.com/services/T1/B1/secret';

function settingsDeps(me: Me, over: { saveUser?: () => Promise<void>; open?: () => Promise<unknown> } = {}) {
  const calls: string[] = [];
  const settings = {
    user: vi.fn(async () => ({ remindersEnabled: true, reminderHour: 9 })),
    workspace: vi.fn(async () => ({ auditWebhookUrl: WEBHOOK, updatedBy: BOB, updatedAt: NOW })),
    saveUser: vi.fn(over.saveUser ?? (async () => void calls.push('saveUser'))),
    saveWorkspace: vi.fn(async () => void calls.push('saveWorkspace')),
  };
  const homeState = { touch: vi.fn(async () => void calls.push('touch')) };
  const users = { getWithin: vi.fn(async () => me) };
  const client = { views: { open: vi.fn(over.open ?? (async () => ({ ok: true }))) } };
  const outbox = { kick: vi.fn(() => void calls.push('kick')) };
  const log = logger();
  // The store's transaction: its repositories are the same fakes; `calls` shows what ran inside it.
  const transaction = vi.fn(async (fn: (stores: { settings: typeof settings }) => Promise<unknown>) => {
    calls.push('begin');
    const result = await fn({ settings });
    calls.push('commit');
    return result;
  });
  const deps = { settings, transaction, homeState, users, client, outbox, logger: log, now: () => NOW, config: { slackApiUrl: undefined } };
  return { deps, calls, settings, transaction, homeState, users, client, outbox, log };
}

describe('handleHomeSettings', () => {
  function open(me: Me, over: Parameters<typeof settingsDeps>[1] & { triggerId?: string | null } = {}) {
    const f = settingsDeps(me, over);
    const ack = vi.fn(async () => {});
    const body = {
      type: 'block_actions',
      team: { id: TEAM, domain: 't1' },
      user: { id: ANN, username: 'ann', name: 'ann', team_id: TEAM },
      container: { type: 'view', view_id: 'VHOME' },
      view: { id: 'VHOME', type: 'home', team_id: TEAM },
      ...(over.triggerId === null ? {} : { trigger_id: over.triggerId ?? 'trigger-1' }),
      actions: [{ type: 'button', action_id: ACTION.homeSettings, block_id: 'home_header', action_ts: '1741608001.000200' }],
    };
    return { ...f, ack, done: handleHomeSettings(f.deps as never)({ ack, body } as never) };
  }
  const viewOf = (client: { views: { open: ReturnType<typeof vi.fn> } }) => (client.views.open.mock.calls[0]?.[0] as { view: { blocks: unknown[] } }).view;

  it('opens the Settings modal with the trigger, without the admin field for a member', async () => {
    const r = open(member);
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.settings.user).toHaveBeenCalledWith(TEAM, ANN);
    expect(r.users.getWithin).toHaveBeenCalledWith(ANN, expect.any(Number));
    expect(r.settings.workspace).not.toHaveBeenCalled();
    expect(r.client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1' }));
    expectValidView(viewOf(r.client));
    expect(blockById(viewOf(r.client).blocks, SETTINGS_INPUT.hour.block)).toBeDefined();
    expect(blockById(viewOf(r.client).blocks, SETTINGS_INPUT.auditWebhook.block)).toBeUndefined();
  });

  it('shows an admin of this workspace the audit webhook field with its saved URL, and an admin of another none', async () => {
    const r = open(admin);
    await r.done;
    expect(r.settings.workspace).toHaveBeenCalledWith(TEAM);
    expect(JSON.stringify(blockById(viewOf(r.client).blocks, SETTINGS_INPUT.auditWebhook.block))).toContain(WEBHOOK);
    const elsewhere = open({ found: true, user: { id: ANN, teamId: 'T2', isAdmin: true } });
    await elsewhere.done;
    expect(elsewhere.settings.workspace).not.toHaveBeenCalled();
    expect(blockById(viewOf(elsewhere.client).blocks, SETTINGS_INPUT.auditWebhook.block)).toBeUndefined();
    const unknown = open({ found: false });
    await unknown.done;
    expect(blockById(viewOf(unknown.client).blocks, SETTINGS_INPUT.auditWebhook.block)).toBeUndefined();
  });

  it('does nothing but ack without a trigger id, and logs a modal that did not open', async () => {
    const none = open(member, { triggerId: null });
    await none.done;
    expect(none.ack).toHaveBeenCalledTimes(1);
    expect(none.settings.user).not.toHaveBeenCalled();
    expect(none.client.views.open).not.toHaveBeenCalled();
    const stale = open(member, { open: async () => Promise.reject(Object.assign(new Error('expired_trigger_id'), { data: { ok: false, error: 'expired_trigger_id' } })) });
    await expect(stale.done).resolves.toBeUndefined();
    expect(stale.log.warn).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`Settings for ${ANN} \\(team ${TEAM}\\).*expired_trigger_id`)));
  });
});

describe('handleSettingsSubmit', () => {
  function submit(me: Me, form: { reminders?: boolean; hour?: string; webhook?: string | null }, over: Parameters<typeof settingsDeps>[1] = {}) {
    const f = settingsDeps(me, over);
    const ack = vi.fn(async () => void f.calls.push('ack'));
    const values: Record<string, unknown> = {
      [SETTINGS_INPUT.reminders.block]: { [SETTINGS_INPUT.reminders.action]: { type: 'checkboxes', selected_options: form.reminders === false ? [] : [{ text: { type: 'plain_text', text: 'Send me due-date reminders' }, value: REMINDERS_ON }] } },
      [SETTINGS_INPUT.hour.block]: { [SETTINGS_INPUT.hour.action]: { type: 'static_select', selected_option: form.hour === undefined ? null : { text: { type: 'plain_text', text: `${form.hour}:00` }, value: form.hour } } },
    };
    // A member's form has no webhook field: one there is forged (or the admin right was lost meanwhile).
    if (form.webhook !== undefined) values[SETTINGS_INPUT.auditWebhook.block] = { [SETTINGS_INPUT.auditWebhook.action]: { type: 'plain_text_input', value: form.webhook } };
    const view = { id: 'V1', team_id: TEAM, type: 'modal', callback_id: 'home_settings', private_metadata: '', state: { values } };
    const body = { type: 'view_submission', team: { id: TEAM, domain: 't1' }, user: { id: ANN, username: 'ann', name: 'ann', team_id: TEAM }, view };
    return { ...f, ack, done: handleSettingsSubmit(f.deps as never)({ ack, body, view } as never) };
  }

  it('saves the reminder settings, then acks, redraws the Home and kicks the outbox', async () => {
    const r = submit(member, { reminders: true, hour: '8' });
    await r.done;
    expect(r.settings.saveUser).toHaveBeenCalledWith(TEAM, ANN, { remindersEnabled: true, reminderHour: 8 }, NOW);
    expect(r.ack).toHaveBeenCalledWith();
    expect(r.homeState.touch).toHaveBeenCalledWith(TEAM, ANN, NOW, [homePublishEffect(TEAM, ANN)]);
    expect(r.calls).toEqual(['begin', 'saveUser', 'commit', 'ack', 'touch', 'kick']);
    expect(r.users.getWithin).not.toHaveBeenCalled();
    expect(r.settings.saveWorkspace).not.toHaveBeenCalled();
  });

  it('saves reminders off when the box is unticked', async () => {
    const r = submit(member, { reminders: false, hour: '0' });
    await r.done;
    expect(r.settings.saveUser).toHaveBeenCalledWith(TEAM, ANN, { remindersEnabled: false, reminderHour: 0 }, NOW);
  });

  it('puts a missing or impossible hour on the hour field, saving nothing', async () => {
    for (const hour of [undefined, '24', '-1', '9.5', 'nine']) {
      const r = submit(member, { hour });
      await r.done;
      expect(r.ack).toHaveBeenCalledTimes(1);
      expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [SETTINGS_INPUT.hour.block]: 'Pick an hour between 00:00 and 23:00.' } });
      expect(r.settings.saveUser).not.toHaveBeenCalled();
      expect(r.homeState.touch).not.toHaveBeenCalled();
    }
  });

  it("ignores a non-admin's forged webhook field (logged), saving the rest", async () => {
    for (const me of [member, { found: true, user: { id: ANN, teamId: 'T2', isAdmin: true } }]) {
      const r = submit(me, { hour: '9', webhook: 'https://hooks.slack.com/services/T1/B666/forged' });
      await r.done;
      expect(r.users.getWithin).toHaveBeenCalledWith(ANN, expect.any(Number));
      expect(r.settings.saveWorkspace).not.toHaveBeenCalled();
      expect(r.settings.saveUser).toHaveBeenCalledWith(TEAM, ANN, { remindersEnabled: true, reminderHour: 9 }, NOW);
      expect(r.ack).toHaveBeenCalledWith();
      expect(r.log.warn).toHaveBeenCalledWith(expect.stringContaining(`${ANN} (team ${TEAM}) is not a workspace admin`));
    }
  });

  it("saves an admin's webhook URL with their reminders in one transaction, and an emptied field as none", async () => {
    const r = submit(admin, { hour: '9', webhook: `  ${WEBHOOK}  ` });
    await r.done;
    expect(r.settings.saveWorkspace).toHaveBeenCalledWith(TEAM, { auditWebhookUrl: WEBHOOK }, ANN, NOW);
    expect(r.calls).toEqual(['begin', 'saveUser', 'saveWorkspace', 'commit', 'ack', 'touch', 'kick']);
    for (const webhook of ['', null]) {
      const cleared = submit(admin, { hour: '9', webhook });
      await cleared.done;
      expect(cleared.settings.saveWorkspace).toHaveBeenCalledWith(TEAM, { auditWebhookUrl: null }, ANN, NOW);
    }
  });

  it("puts a bad webhook URL on its field, saving nothing", async () => {
    for (const [webhook, message] of [
      ['not a url', 'That is not a URL. Paste the incoming webhook URL Slack gave you, like https://hooks.slack.com/services/T…/B…/….'],
      ['https://evil.example/services/T1/B1/x', 'Only Slack incoming webhook URLs are accepted: they start with https://hooks.slack.com/services/.'],
    ] as const) {
      const r = submit(admin, { hour: '9', webhook });
      await r.done;
      expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [SETTINGS_INPUT.auditWebhook.block]: message } });
      expect(r.settings.saveUser).not.toHaveBeenCalled();
      expect(r.settings.saveWorkspace).not.toHaveBeenCalled();
    }
  });

  it('asks to try again when Slack does not say in time whether the submitter is an admin', async () => {
    const r = submit({ found: false }, { hour: '9', webhook: WEBHOOK });
    await r.done;
    expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [SETTINGS_INPUT.auditWebhook.block]: 'Slack did not tell me in time whether you are a workspace admin; please try again.' } });
    expect(r.settings.saveUser).not.toHaveBeenCalled();
  });

  it('logs a failed save with user and team, and says so on the form without redrawing the Home', async () => {
    const r = submit(member, { hour: '9' }, { saveUser: async () => Promise.reject(new Error('disk full')) });
    await r.done;
    expect(r.log.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`settings of ${ANN} \\(team ${TEAM}\\).*disk full`)));
    expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [SETTINGS_INPUT.hour.block]: 'Your settings could not be saved just now; please try again.' } });
    expect(r.homeState.touch).not.toHaveBeenCalled();
    expect(r.outbox.kick).not.toHaveBeenCalled();
  });
});
