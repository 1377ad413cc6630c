import { expect } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import * as pgSchema from '../../src/store/pg/schema.js';
import { taskMessages, tasks, type TaskRow } from '../../src/store/schema.js';

type TaskMessageRow = typeof taskMessages.$inferSelect;
import type { FakeMessage } from '../../src/sandbox/fakeSlack.js';
import { OTHER_TEAM, TEAM, type TestApp } from '../support/harness.js';

/** People in workspace A (TEAM) and B (OTHER_TEAM). */
export const ANN = 'UANN00001';
export const BOB = 'UBOB00002';
export const CAT = 'UCAT00003';
export const EVE = 'UEVE00004'; // a stranger to most tasks
export const BOT = 'UROBOT005';
export const GONE = 'UGONE0006';
export const BEA = 'UBEA00007'; // workspace B
export const CHANNEL = 'CGENERAL1';

export function addPeople(t: TestApp): void {
  t.fake.addUser({ id: ANN, teamId: TEAM, name: 'ann', tz: 'Europe/Paris' });
  t.fake.addUser({ id: BOB, teamId: TEAM, name: 'bob', tz: 'America/New_York' });
  t.fake.addUser({ id: CAT, teamId: TEAM, name: 'cat' });
  t.fake.addUser({ id: EVE, teamId: TEAM, name: 'eve' });
  t.fake.addUser({ id: BOT, teamId: TEAM, name: 'robot', isBot: true });
  t.fake.addUser({ id: GONE, teamId: TEAM, name: 'gone', deleted: true });
  t.fake.addUser({ id: BEA, teamId: OTHER_TEAM, name: 'bea' });
  t.fake.addChannel({ id: CHANNEL, teamId: TEAM, name: 'general', botIsMember: true });
}

/** Runs `/task <text>` and waits for everything it caused; returns the ephemeral replies. */
export async function slash(t: TestApp, userId: string, text: string, teamId = TEAM, channelId?: string) {
  const { response, responseUrl, triggerId } = await t.slack.command({ teamId, userId, text, ...(channelId ? { channelId } : {}) });
  expect(response.status).toBe(200);
  await t.settle();
  // What the user sees: the ack's body, if it had one, then what came through response_url.
  const ackBody = response.json && typeof response.json === 'object' ? [response.json as Record<string, unknown>] : [];
  const bodies = [...ackBody, ...t.fake.responses(responseUrl)];
  for (const b of bodies) expect(b['response_type'] ?? 'ephemeral').toBe('ephemeral');
  return { response, bodies, text: bodies.map((b) => String(b['text'] ?? '')).join('\n'), triggerId, responseUrl };
}

// What the store holds, read on either engine (the suite runs these files on both).

export async function taskByNumber(t: TestApp, n: number, teamId = TEAM): Promise<TaskRow> {
  const row = await t.stores.tasks.findByNumber(teamId, n);
  if (!row) throw new Error(`no task #${n} in ${teamId}`);
  return row;
}

/** Every task of the workspace, in id order. */
export async function allTasks(t: TestApp, teamId = TEAM): Promise<TaskRow[]> {
  const pg = t.stores.postgres;
  if (pg) return pg.db.select().from(pgSchema.tasks).where(eq(pgSchema.tasks.teamId, teamId)).orderBy(asc(pgSchema.tasks.id));
  return t.store.db.select().from(tasks).where(eq(tasks.teamId, teamId)).orderBy(asc(tasks.id)).all();
}

/** The task's cards recorded in Slack (task_messages), oldest first. */
export async function cardsOf(t: TestApp, taskId: number): Promise<TaskMessageRow[]> {
  const pg = t.stores.postgres;
  if (pg) return pg.db.select().from(pgSchema.taskMessages).where(eq(pgSchema.taskMessages.taskId, taskId)).orderBy(asc(pgSchema.taskMessages.ts));
  return t.store.db.select().from(taskMessages).where(eq(taskMessages.taskId, taskId)).orderBy(asc(taskMessages.ts)).all();
}

/** The actions of the task's audit rows, oldest first. */
export async function auditOf(t: TestApp, taskId: number, teamId = TEAM): Promise<string[]> {
  return (await t.stores.tasks.history(teamId, taskId)).map((r) => r.action);
}

/** The DM card the assignee got for a task (channel + ts recorded in task_messages). */
export async function dmCard(t: TestApp, taskId: number): Promise<FakeMessage> {
  const row = (await cardsOf(t, taskId)).find((c) => c.kind === 'assignee_dm');
  if (!row) throw new Error(`task ${taskId} has no DM card`);
  const m = t.fake.message(row.channelId, row.ts);
  if (!m) throw new Error(`the fake has no message ${row.channelId}/${row.ts}`);
  return m;
}

/** All button action_ids in a message's blocks. */
export function buttons(blocks: unknown[] | undefined): string[] {
  return (blocks ?? []).flatMap((b) => {
    const block = b as { type?: string; elements?: { action_id?: string }[] };
    return block.type === 'actions' ? (block.elements ?? []).map((e) => e.action_id ?? '') : [];
  });
}

/** Messages and ephemerals the fake holds, as one JSON string, to search. */
export function everythingSent(t: TestApp): string {
  return JSON.stringify({ calls: t.fake.calls.map((c) => ({ m: c.method, a: c.args })), responses: t.fake.allResponses() });
}
