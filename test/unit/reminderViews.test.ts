// The reminder DMs and the Settings modal as pure functions, checked against Block Kit's limits;
// and the audit webhook URL rule.
import { describe, expect, it } from 'vitest';
import { auditWebhookUrlProblem as auditWebhookProblem } from '../../src/features/audit/feed.js';
import { REMINDERS_ON, SETTINGS_INPUT, settingsModal } from '../../src/features/home/settingsViews.js';
import { MAX_NUDGES, reminderBlocks, reminderCompletedBlocks, reminderSnoozedBlocks, reminderText, shortDueDate } from '../../src/features/tasks/reminderViews.js';
import { ACTION, VIEW } from '../../src/slack/ids.js';
import type { TaskRow } from '../../src/store/schema.js';
import { ANN, BOB, NOW, blockById, buttons, expectValidMessage, expectValidView, texts } from './blocks.js';

function task(over: Partial<TaskRow> = {}): TaskRow {
  return {
    id: 7, teamId: 'T1', number: 12, title: 'Send the contract', titleSearch: 'send the contract', description: '', status: 'open', priority: 'normal',
    assigneeId: ANN, creatorId: BOB, dueDate: '2026-12-04', origin: 'command', sourcePermalink: null, channelId: null, createdAt: NOW, updatedAt: NOW,
    completedBy: null, completedAt: null, functionExecutionId: null, stepState: 'none', private: false, repeatRule: null, seriesId: null, requestKey: null, ...over,
  };
}

type Obj = Record<string, unknown>;

describe('reminder DM', () => {
  it('due today: the task, who gave it, and Complete / Snooze buttons carrying the task id', () => {
    const blocks = reminderBlocks(task(), { kind: 'due' });
    expectValidMessage(blocks);
    expect(texts(blocks).join('\n')).toContain('*Due today:* #12 Send the contract');
    expect(texts(blocks).join('\n')).toContain(`From <@${BOB}>`);
    expect(buttons(blocks)).toEqual([
      { actionId: ACTION.reminderComplete, text: 'Complete', value: '7', style: 'primary' },
      { actionId: ACTION.reminderSnoozeTomorrow, text: 'Snooze until tomorrow', value: '7', style: undefined },
      { actionId: ACTION.reminderSnoozeWeek, text: 'Snooze a week', value: '7', style: undefined },
    ]);
    expect(reminderText(task(), { kind: 'due' })).toBe('Due today: #12 Send the contract');
  });

  it('overdue nudge: says so, since when, and which of the three', () => {
    const blocks = reminderBlocks(task(), { kind: 'overdue', nudge: 2 });
    expectValidMessage(blocks);
    const text = texts(blocks).join('\n');
    expect(text).toContain('*Overdue* (was due Fri, Dec 4)');
    expect(text).toContain(`reminder 2 of ${MAX_NUDGES}`);
    expect(buttons(blocks).map((b) => b.actionId)).toEqual([ACTION.reminderComplete, ACTION.reminderSnoozeTomorrow, ACTION.reminderSnoozeWeek]);
    // Sent late (after downtime): overdue, without a count.
    expect(texts(reminderBlocks(task(), { kind: 'overdue' })).join('\n')).not.toContain('reminder ');
  });

  it('a hostile or huge title is escaped and cut to Block Kit limits', () => {
    const blocks = reminderBlocks(task({ title: '<!channel> '.repeat(400), number: 10 ** 12 }), { kind: 'overdue', nudge: 3 });
    expectValidMessage(blocks);
    expect(JSON.stringify(blocks)).not.toContain('<!channel>');
  });

  it('after a click: done, or snoozed to a date, without buttons', () => {
    const done = reminderCompletedBlocks(task({ status: 'done' }), ANN);
    expectValidMessage(done);
    expect(buttons(done)).toEqual([]);
    expect(texts(done).join('\n')).toContain('is done');
    const snoozed = reminderSnoozedBlocks(task(), '2026-12-05');
    expectValidMessage(snoozed);
    expect(buttons(snoozed)).toEqual([]);
    expect(texts(snoozed).join('\n')).toContain('Snoozed to Sat, Dec 5 — I’ll remind you then.');
    expect(shortDueDate('2026-12-04')).toBe('Fri, Dec 4');
  });
});

describe('Settings modal', () => {
  const inputs = (view: { blocks: unknown[] }) => (view.blocks as Obj[]).filter((b) => b['type'] === 'input').map((b) => b['block_id']);

  it('everyone: reminders on/off and the hour (00:00…23:00), prefilled; no workspace field', () => {
    const view = settingsModal({ settings: { remindersEnabled: true, reminderHour: 7 }, admin: false, auditWebhookUrl: 'https://hooks.slack.com/services/T/B/x' });
    expectValidView(view);
    expect(view.callback_id).toBe(VIEW.settings);
    expect(inputs(view)).toEqual([SETTINGS_INPUT.reminders.block, SETTINGS_INPUT.hour.block]);
    const checkbox = (blockById(view.blocks, SETTINGS_INPUT.reminders.block) as Obj)['element'] as Obj;
    expect((checkbox['initial_options'] as Obj[]).map((o) => o['value'])).toEqual([REMINDERS_ON]);
    const hour = (blockById(view.blocks, SETTINGS_INPUT.hour.block) as Obj)['element'] as Obj;
    const options = hour['options'] as Obj[];
    expect(options).toHaveLength(24);
    expect((options[0]?.['text'] as Obj)['text']).toBe('00:00');
    expect((options[23]?.['text'] as Obj)['text']).toBe('23:00');
    expect(((hour['initial_option'] as Obj)['text'] as Obj)['text']).toBe('07:00');
    expect(JSON.stringify(view)).not.toContain('hooks.slack.com');
  });

  it('reminders off: the box is unticked', () => {
    const view = settingsModal({ settings: { remindersEnabled: false, reminderHour: 9 }, admin: false });
    expectValidView(view);
    const checkbox = (blockById(view.blocks, SETTINGS_INPUT.reminders.block) as Obj)['element'] as Obj;
    expect(checkbox['initial_options']).toBeUndefined();
  });

  it('an admin also sees the audit feed webhook URL, prefilled with the stored one', () => {
    const view = settingsModal({ settings: { remindersEnabled: true, reminderHour: 9 }, admin: true, auditWebhookUrl: 'https://hooks.slack.com/services/T/B/x' });
    expectValidView(view);
    expect(inputs(view)).toEqual([SETTINGS_INPUT.reminders.block, SETTINGS_INPUT.hour.block, SETTINGS_INPUT.auditWebhook.block]);
    const field = blockById(view.blocks, SETTINGS_INPUT.auditWebhook.block) as Obj;
    expect((field['label'] as Obj)['text']).toBe('Audit feed webhook URL');
    expect(field['optional']).toBe(true);
    expect((field['element'] as Obj)['initial_value']).toBe('https://hooks.slack.com/services/T/B/x');
  });
});

describe('audit webhook URL', () => {
  it('accepts Slack incoming webhooks and the configured Slack API origin only', () => {
    expect(auditWebhookProblem('https://hooks.slack.com/services/T0/B0/abc', undefined)).toBeUndefined();
    expect(auditWebhookProblem('http://127.0.0.1:4000/services/T0/B0/audit', 'http://127.0.0.1:4000/api/')).toBeUndefined();
    expect(auditWebhookProblem('http://127.0.0.1:4000/hooks/audit', 'http://127.0.0.1:4000/api/')).toMatch(/incoming webhook/);
    expect(auditWebhookProblem('http://127.0.0.1:4001/hooks/audit', 'http://127.0.0.1:4000/api/')).toMatch(/hooks\.slack\.com\/services/);
    expect(auditWebhookProblem('http://hooks.slack.com/services/T0/B0/abc', undefined)).toMatch(/incoming webhook/);
    expect(auditWebhookProblem('https://hooks.slack.com/workflows/T0/abc', undefined)).toMatch(/incoming webhook/);
    expect(auditWebhookProblem('https://hooks.slack.com.evil.example/services/T0', undefined)).toMatch(/incoming webhook/);
    expect(auditWebhookProblem('https://user:pw@hooks.slack.com/services/T0/B0/abc', undefined)).toMatch(/incoming webhook/);
    expect(auditWebhookProblem('not a url', undefined)).toMatch(/^That is not a URL/);
    expect(auditWebhookProblem(`https://hooks.slack.com/services/${'x'.repeat(600)}`, undefined)).toMatch(/characters long/);
  });
});
