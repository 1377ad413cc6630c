// Reading and checking what a pure view builder returns: the Block Kit validator the fake Slack
// applies, and small finders so a test can say "this button, with this value" in one line.
import { expect } from 'vitest';
import { validateMessage, validateView } from '../../src/sandbox/blockKit.js';
import type { Approval } from '../../src/store/approvals.js';
import type { TaskRow } from '../../src/store/schema.js';

type Obj = Record<string, unknown>;

/** What an unexpected failure tells the user. */
export const GENERIC_APOLOGY = 'Sorry, something went wrong on our side. Nothing you entered was lost; please try again.';
export const NOW = Date.UTC(2025, 2, 10, 12);
export const ANN = 'UANN00001';
export const BOB = 'UBOB00002';

/** A pending approval request from Bob, with its approvers (Ann unless told). */
export function approval(over: Partial<Approval> = {}, approverIds: string[] = [ANN]): Approval {
  return {
    id: 42,
    teamId: 'T1',
    title: 'Budget for the offsite',
    details: '',
    requesterId: BOB,
    status: 'pending',
    decidedBy: null,
    comment: null,
    decidedAt: null,
    failureReason: null,
    remindAfterHours: null,
    escalateTo: null,
    expireAfterHours: null,
    remindersSent: 0,
    origin: 'shortcut',
    functionExecutionId: null,
    workflowExecutionId: null,
    stepState: 'none',
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
    approvers: over.approvers ?? approverIds.map((userId) => ({ approvalId: over.id ?? 42, teamId: over.teamId ?? 'T1', userId, channelId: null, messageTs: null, escalated: false })),
  };
}

/** Blocks Slack would accept in a message (chat.postMessage / chat.update). */
export function expectValidMessage(blocks: readonly unknown[]): void {
  expect(validateMessage({ blocks })).toEqual([]);
}

/** A view Slack would accept in views.open / views.update / views.publish. */
export function expectValidView(view: unknown, type: 'modal' | 'home' = 'modal'): void {
  expect(validateView(view, type)).toEqual({ ok: true });
}

const asObjs = (blocks: readonly unknown[]): Obj[] => blocks as Obj[];

export function blockById(blocks: readonly unknown[], blockId: string): Obj | undefined {
  return asObjs(blocks).find((b) => b['block_id'] === blockId);
}

export interface Button {
  actionId: string;
  text: string;
  value: string | undefined;
  style: string | undefined;
}

/** Every button of every actions block, in order. */
export function buttons(blocks: readonly unknown[]): Button[] {
  return asObjs(blocks)
    .filter((b) => b['type'] === 'actions')
    .flatMap((b) => b['elements'] as Obj[])
    .filter((e) => e['type'] === 'button')
    .map((e) => ({ actionId: e['action_id'] as string, text: (e['text'] as Obj)['text'] as string, value: e['value'] as string | undefined, style: e['style'] as string | undefined }));
}

/** The mrkdwn and plain text of sections (text and fields), headers and contexts, one string a block. */
export function texts(blocks: readonly unknown[]): string[] {
  return asObjs(blocks).map((b) => {
    const parts = [b['text'], ...((b['fields'] as unknown[]) ?? []), ...(b['type'] === 'context' ? (b['elements'] as unknown[]) : [])];
    return parts
      .filter((p): p is Obj => typeof p === 'object' && p !== null)
      .map((p) => p['text'] as string)
      .join('\n');
  });
}

/** Each block's type, for checking a layout at a glance. */
export const types = (blocks: readonly unknown[]): string[] => asObjs(blocks).map((b) => b['type'] as string);

/** Task #12 ("Send the contract"), assigned to Ann, created by Bob, open, in no channel. */
export function taskRow(over: Partial<TaskRow> = {}): TaskRow {
  return {
    id: 7,
    teamId: 'T1',
    number: 12,
    title: 'Send the contract',
    titleSearch: 'send the contract',
    description: '',
    status: 'open',
    priority: 'normal',
    assigneeId: ANN,
    creatorId: BOB,
    dueDate: null,
    origin: 'command',
    sourcePermalink: null,
    channelId: null,
    createdAt: NOW,
    updatedAt: NOW,
    completedBy: null,
    completedAt: null,
    functionExecutionId: null,
    stepState: 'none',
    private: false,
    repeatRule: null,
    seriesId: null,
    requestKey: null,
    ...over,
  };
}
