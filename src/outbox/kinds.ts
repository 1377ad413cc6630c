import { isAlready, isGone } from '../slack/failures.js';
import type { Stores } from '../store/engine.js';
import type { Effect } from '../store/outbox.js';
import type { StepState } from '../store/schema.js';
import type { Notify, Outbox } from './sender.js';

/**
 * The effect kinds every feature uses: a message (a DM, a thread reply, a notice), an update of a
 * message whose content was decided when the change was made, and a workflow step's completion.
 * Features register their own kinds for cards they render from the store's current state.
 */

export const KIND = {
  message: 'message',
  messageUpdate: 'message.update',
  step: 'step',
} as const;

/** A message to post: `target` is a channel, or a user id for a DM from the app. */
export function messageEffect(e: { key: string; teamId: string; channel: string; text: string; blocks?: unknown[]; threadTs?: string; notify?: Notify }): Effect {
  return {
    key: e.key,
    teamId: e.teamId,
    kind: KIND.message,
    target: e.channel,
    payload: { text: e.text, ...(e.blocks ? { blocks: e.blocks } : {}), ...(e.threadTs ? { threadTs: e.threadTs } : {}), ...(e.notify ? { notify: e.notify } : {}) },
  };
}

/** A message already in Slack, to show this content (a deleted task's cards). */
export function messageUpdateEffect(e: { key: string; teamId: string; channel: string; ts: string; text: string; blocks?: unknown[] }): Effect {
  return { key: e.key, teamId: e.teamId, kind: KIND.messageUpdate, target: e.channel, payload: { ts: e.ts, text: e.text, ...(e.blocks ? { blocks: e.blocks } : {}) } };
}

/** Which row's `step_state` follows the step's completion. */
export interface StepOwner {
  table: 'tasks' | 'approvals';
  id: number;
}

/**
 * Completes (outputs) or fails (error) a workflow step. Keyed by the execution id alone, so
 * whatever surface finished the work, after any number of restarts, the step is completed once.
 */
export function stepEffect(e: { teamId: string; executionId: string; outputs?: Record<string, unknown>; error?: string; owner?: StepOwner }): Effect {
  return {
    key: `step:${e.executionId}`,
    teamId: e.teamId,
    kind: KIND.step,
    target: e.executionId,
    payload: { ...(e.outputs ? { outputs: e.outputs } : { error: e.error ?? 'The step could not be completed.' }), ...(e.owner ? { owner: e.owner } : {}) },
  };
}

/** Registers the common kinds. */
export function registerCommonKinds(outbox: Outbox, stores: Pick<Stores, 'tasks' | 'approvals'>): void {
  outbox.register(KIND.message, {
    async send({ row, payload, post }) {
      const posted = await post({
        channel: row.target,
        text: String(payload['text'] ?? ''),
        ...(Array.isArray(payload['blocks']) ? { blocks: payload['blocks'] as never[] } : {}),
        ...(typeof payload['threadTs'] === 'string' ? { thread_ts: payload['threadTs'] } : {}),
      });
      return `${posted.channel}/${posted.ts}`;
    },
  });

  outbox.register(KIND.messageUpdate, {
    async send({ row, payload, client }) {
      try {
        await client.chat.update({ channel: row.target, ts: String(payload['ts']), text: String(payload['text'] ?? ''), ...(Array.isArray(payload['blocks']) ? { blocks: payload['blocks'] as never[] } : {}) });
      } catch (err) {
        if (isGone(err)) return 'gone';
        throw err;
      }
      return `${row.target}/${String(payload['ts'])}`;
    },
  });

  outbox.register(KIND.step, {
    async send({ row, payload, client }) {
      const owner = payload['owner'] as StepOwner | undefined;
      try {
        if (payload['outputs']) await client.functions.completeSuccess({ function_execution_id: row.target, outputs: payload['outputs'] as Record<string, unknown> });
        else await client.functions.completeError({ function_execution_id: row.target, error: String(payload['error'] ?? '') });
      } catch (err) {
        if (!isAlready(err)) throw err;
      }
      if (owner) await setStepState(stores, row.teamId, owner, 'completed');
      return payload['outputs'] ? 'completed' : 'failed';
    },
    async gaveUp({ row, payload }) {
      const owner = payload['owner'] as StepOwner | undefined;
      if (owner) await setStepState(stores, row.teamId, owner, 'failed');
    },
  });
}

/** Records what became of a step: its owner row leaves `waiting`/`completing` (a task's also gets an audit row). */
async function setStepState(stores: Pick<Stores, 'tasks' | 'approvals'>, teamId: string, owner: StepOwner, state: StepState): Promise<void> {
  const open: StepState[] = ['waiting', 'completing'];
  await (owner.table === 'tasks' ? stores.tasks : stores.approvals).transitionStep(teamId, owner.id, open, state);
}
