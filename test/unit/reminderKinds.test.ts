// The reminder and nudge handlers with their dependencies faked: every branch of "is it still
// relevant, is it time yet, what comes next".
import { describe, expect, it, vi } from 'vitest';
import { TASK_KIND } from '../../src/features/tasks/effects.js';
import { REMINDER_RECHECK_MS, registerReminderKinds } from '../../src/features/tasks/reminderKinds.js';
import type { EffectContext, EffectKind, Outbox } from '../../src/outbox/sender.js';
import type { SlackUser } from '../../src/slack/users.js';
import type { Effect } from '../../src/store/outbox.js';
import type { OutboxRow, TaskRow } from '../../src/store/schema.js';
import type { UserSettings } from '../../src/store/settings.js';

const utc = (iso: string) => Date.parse(iso);
const ANN = 'UANN00001';

function task(over: Partial<TaskRow> = {}): TaskRow {
  return {
    id: 7, teamId: 'T1', number: 12, title: 'Send the contract', titleSearch: '', description: '', status: 'open', priority: 'normal',
    assigneeId: ANN, creatorId: 'UBOB00002', dueDate: '2026-12-04', origin: 'command', sourcePermalink: null, channelId: null, createdAt: 0, updatedAt: 0,
    completedBy: null, completedAt: null, functionExecutionId: null, stepState: 'none', private: false, repeatRule: null, seriesId: null, requestKey: null, ...over,
  };
}

function setup(opts: { task?: TaskRow | undefined; settings?: UserSettings; tz?: string } = {}) {
  const kinds = new Map<string, EffectKind>();
  const outbox = { register: (k: string, h: EffectKind) => kinds.set(k, h), kick: vi.fn() } as unknown as Outbox;
  const added: Effect[][] = [];
  const user: SlackUser = { id: ANN, teamId: 'T1', name: 'ann', isBot: false, deleted: false, isGuest: false, tz: opts.tz ?? 'Europe/Berlin', isAdmin: false };
  const deps = {
    stores: {
      tasks: { findById: async () => ('task' in opts ? opts.task : task()) },
      settings: { user: async () => opts.settings ?? { remindersEnabled: true, reminderHour: 9 } },
      outbox: { add: async (e: readonly Effect[]) => void added.push([...e]) },
    },
    users: { get: async () => user },
  };
  registerReminderKinds(outbox, deps as never);
  const posts: { channel: string; text: string }[] = [];
  const send = (kind: string, payload: Record<string, unknown>, now: number, rowCreatedAt = utc('2026-12-01T00:00:00Z')) =>
    (kinds.get(kind) as EffectKind).send({
      row: { teamId: 'T1', createdAt: rowCreatedAt } as OutboxRow,
      payload,
      now,
      post: async (a: { channel: string; text: string }) => {
        posts.push(a);
        return { channel: 'D1', ts: '1.1' };
      },
    } as unknown as EffectContext);
  const keys = () => added.flat().map((e) => e.key);
  return { send, posts, added, keys };
}

const remind = { taskId: 7, dueDate: '2026-12-04' };

describe('task.remind', () => {
  it('skips a deleted, done or moved task, and reminders turned off', async () => {
    expect(await setup({ task: undefined }).send(TASK_KIND.remind, remind, utc('2026-12-04T09:00:00Z'))).toBe('skipped: the task was deleted');
    expect(await setup({ task: task({ status: 'done' }) }).send(TASK_KIND.remind, remind, utc('2026-12-04T09:00:00Z'))).toBe('skipped: the task is done');
    expect(await setup({ task: task({ dueDate: '2026-12-05' }) }).send(TASK_KIND.remind, remind, utc('2026-12-04T09:00:00Z'))).toBe('skipped: the due date is now 2026-12-05');
    const off = setup({ settings: { remindersEnabled: false, reminderHour: 9 } });
    expect(await off.send(TASK_KIND.remind, remind, utc('2026-12-04T09:00:00Z'))).toBe('skipped: reminders off');
    expect(off.posts).toEqual([]);
  });

  it('waits for the hour in the assignee’s zone, looking again at least hourly', async () => {
    const s = setup();
    expect(await s.send(TASK_KIND.remind, remind, utc('2026-12-03T10:00:00Z'))).toEqual({ later: utc('2026-12-03T10:00:00Z') + REMINDER_RECHECK_MS });
    expect(await s.send(TASK_KIND.remind, remind, utc('2026-12-04T07:30:00Z'))).toEqual({ later: utc('2026-12-04T08:00:00Z') });
    expect(s.posts).toEqual([]);
  });

  it('at the hour: the DM, then the first nudge from the next day', async () => {
    const s = setup();
    expect(await s.send(TASK_KIND.remind, remind, utc('2026-12-04T08:00:00Z'))).toBe('D1/1.1');
    expect(s.posts).toEqual([expect.objectContaining({ channel: ANN, text: 'Due today: #12 Send the contract' })]);
    const nudge = s.added.flat().find((e) => e.kind === TASK_KIND.nudge);
    expect(nudge).toMatchObject({ key: 'task:7:nudge:2026-12-04:1', payload: { from: '2026-12-05', nudge: 1 }, notBefore: utc('2026-12-04T10:00:00Z') });
  });

  it('set after its hour on the day: no DM, the nudges still follow; set days later: nothing', async () => {
    const s = setup();
    expect(await s.send(TASK_KIND.remind, remind, utc('2026-12-04T14:00:00Z'), utc('2026-12-04T13:00:00Z'))).toBe('skipped: set after its reminder time');
    expect(s.posts).toEqual([]);
    expect(s.keys()).toContain('task:7:nudge:2026-12-04:1');
    const late = setup();
    expect(await late.send(TASK_KIND.remind, remind, utc('2026-12-07T14:00:00Z'), utc('2026-12-07T13:00:00Z'))).toBe('skipped: set after its day');
    expect(late.keys()).toEqual([]);
  });

  it('sent late (the app was down): says overdue, and the next nudge counts from today', async () => {
    const s = setup();
    await s.send(TASK_KIND.remind, remind, utc('2026-12-09T10:00:00Z'));
    expect(s.posts[0]?.text).toMatch(/^Overdue/);
    expect(s.added.flat().find((e) => e.kind === TASK_KIND.nudge)?.payload).toMatchObject({ from: '2026-12-10', nudge: 1 });
  });
});

describe('task.nudge', () => {
  const nudge = (n: number, from: string) => ({ taskId: 7, dueDate: '2026-12-04', nudge: n, from });

  it('on a weekend, waits for Monday at the hour (rechecking hourly)', async () => {
    const s = setup();
    const now = utc('2026-12-05T09:00:00Z'); // Saturday
    expect(await s.send(TASK_KIND.nudge, nudge(1, '2026-12-05'), now)).toEqual({ later: now + REMINDER_RECHECK_MS });
    expect(await s.send(TASK_KIND.nudge, nudge(1, '2026-12-05'), utc('2026-12-07T07:30:00Z'))).toEqual({ later: utc('2026-12-07T08:00:00Z') });
    expect(s.posts).toEqual([]);
  });

  it('sends on the working day, with the next nudge from tomorrow; the third is the last', async () => {
    const s = setup();
    await s.send(TASK_KIND.nudge, nudge(2, '2026-12-08'), utc('2026-12-08T08:00:00Z'));
    expect(s.posts).toHaveLength(1);
    expect(s.keys()).toContain('task:7:nudge:2026-12-04:3');
    const last = setup();
    await last.send(TASK_KIND.nudge, nudge(3, '2026-12-09'), utc('2026-12-09T08:00:00Z'));
    expect(last.posts).toHaveLength(1);
    expect(last.keys().filter((k) => k.includes(':nudge:'))).toEqual([]);
  });

  it('in Los Angeles, Monday 09:00 is 17:00 UTC', async () => {
    const s = setup({ tz: 'America/Los_Angeles' });
    expect(await s.send(TASK_KIND.nudge, nudge(1, '2026-12-05'), utc('2026-12-07T16:30:00Z'))).toEqual({ later: utc('2026-12-07T17:00:00Z') });
  });
});
