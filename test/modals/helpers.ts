// Shared set-up for the modal tests: people, form values, and checks on what the fake saw.
import { expect } from 'vitest';
import { NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { todayIn } from '../../src/features/tasks/dates.js';
import type { FakeView, RecordedCall } from '../../src/sandbox/fakeSlack.js';
import { TEAM, type TestApp } from '../support/harness.js';

export const ANN = 'UANN00001'; // creator (Europe/Paris)
export const BOB = 'UBOB00002'; // assignee (America/New_York)
export const EVE = 'UEVE00004'; // a stranger to the tasks
export const BOT = 'UROBOT005';
export const GONE = 'UGONE0006';
export const KIRI = 'UKIRI0007'; // UTC+14: their today is often tomorrow in UTC
export const PAGO = 'UPAGO0008'; // UTC−11: their today is often yesterday in UTC
export const CHANNEL = 'CGENERAL1';
export const SECRET = 'GSECRET01'; // private, the app is not a member

export function addPeople(t: TestApp): void {
  t.fake.addUser({ id: ANN, teamId: TEAM, name: 'ann', tz: 'Europe/Paris' });
  t.fake.addUser({ id: BOB, teamId: TEAM, name: 'bob', tz: 'America/New_York' });
  t.fake.addUser({ id: EVE, teamId: TEAM, name: 'eve' });
  t.fake.addUser({ id: BOT, teamId: TEAM, name: 'robot', isBot: true });
  t.fake.addUser({ id: GONE, teamId: TEAM, name: 'gone', deleted: true });
  t.fake.addUser({ id: KIRI, teamId: TEAM, name: 'kiri', tz: 'Pacific/Kiritimati' });
  t.fake.addUser({ id: PAGO, teamId: TEAM, name: 'pago', tz: 'Pacific/Pago_Pago' });
  t.fake.addChannel({ id: CHANNEL, teamId: TEAM, name: 'general', botIsMember: true });
  t.fake.addChannel({ id: SECRET, teamId: TEAM, name: 'secret', isPrivate: true, botIsMember: false });
}

export interface FormInput {
  title?: string | null;
  assignee?: string | null;
  due?: string | null;
  priority?: string;
  channel?: string | null;
  description?: string | null;
}

/** state.values of the New/Edit task form, as Slack sends them. */
export function taskFormValues(f: FormInput): Record<string, Record<string, unknown>> {
  const v: Record<string, Record<string, unknown>> = {
    [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: { type: 'plain_text_input', value: f.title ?? null } },
    [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: f.assignee ?? null } },
    [NEW_TASK_FIELD.dueDate]: { [NEW_TASK_FIELD.dueDate]: { type: 'datepicker', selected_date: f.due ?? null } },
    [NEW_TASK_FIELD.priority]: {
      [NEW_TASK_FIELD.priority]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: f.priority ?? 'normal' }, value: f.priority ?? 'normal' } },
    },
    [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: { type: 'plain_text_input', value: f.description ?? null } },
  };
  if (f.channel !== undefined) v[NEW_TASK_FIELD.channel] = { [NEW_TASK_FIELD.channel]: { type: 'conversations_select', selected_conversation: f.channel } };
  return v;
}

/** A date `days` away from the user's today in `tz`. */
export function dayIn(tz: string, days: number): string {
  const today = todayIn(tz, Date.now());
  const d = new Date(`${today}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Every views.* / chat.* call Slack refused, except the ones a test provoked on purpose. */
export function refusedCalls(t: TestApp, expected: string[] = []): RecordedCall[] {
  return t.fake.calls.filter(
    (c) => (c.method.startsWith('views.') || c.method.startsWith('chat.')) && c.response['ok'] !== true && !expected.includes(String(c.response['error'])),
  );
}

/** No call ever ran into Slack's 3-view limit. */
export function expectNoPushLimit(t: TestApp): void {
  expect(t.fake.calls.filter((c) => c.response['error'] === 'push_limit_reached')).toEqual([]);
}

/** An input element of a view, by block id. */
export function inputElement(view: FakeView | undefined, blockId: string): Record<string, unknown> {
  const block = (view?.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === blockId) as { element?: Record<string, unknown> } | undefined;
  if (!block?.element) throw new Error(`no input ${blockId} in view ${view?.id ?? '?'}`);
  return block.element;
}

/** Action ids of the buttons in a view. */
export function viewButtons(view: FakeView | undefined): string[] {
  return (view?.blocks ?? []).flatMap((b) => {
    const block = b as { type?: string; elements?: { type?: string; action_id?: string }[] };
    return block.type === 'actions' ? (block.elements ?? []).filter((e) => e.type === 'button').map((e) => e.action_id ?? '') : [];
  });
}

export const viewText = (view: FakeView | undefined): string => JSON.stringify(view?.blocks ?? []);

export const meta = (view: FakeView | undefined): Record<string, unknown> => JSON.parse(view?.private_metadata || '{}') as Record<string, unknown>;

/** The last DM the app sent a user. */
export function lastDm(t: TestApp, userId: string): string {
  const list = t.fake.messages(t.fake.dmChannel(userId));
  return list[list.length - 1]?.text ?? '';
}
