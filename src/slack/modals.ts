import type { types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { objectOf, stringOf } from './values.js';

/**
 * What lets us open a modal for a person: a click's `trigger_id`, or, on a click in a message a
 * workflow posted (no trigger id then), its interactivity pointer, which opens modals as well.
 */
export interface ModalTrigger {
  triggerId?: string;
  interactivityPointer?: string;
}

/** The trigger a payload carries (block_actions, shortcuts, commands). */
export function triggerOf(body: unknown): ModalTrigger {
  const b = objectOf(body);
  const triggerId = stringOf(b?.['trigger_id']) || undefined;
  const interactivityPointer = stringOf(objectOf(b?.['interactivity'])?.['interactivity_pointer']) || undefined;
  return { ...(triggerId ? { triggerId } : {}), ...(interactivityPointer ? { interactivityPointer } : {}) };
}

/** The Web API argument naming the trigger (`views.open`, `views.push`); the trigger id wins. */
export function triggerArgument(trigger: ModalTrigger): { trigger_id: string } | { interactivity_pointer: string } | undefined {
  if (trigger.triggerId) return { trigger_id: trigger.triggerId };
  if (trigger.interactivityPointer) return { interactivity_pointer: trigger.interactivityPointer };
  return undefined;
}

/** Opens `view` as a new modal. Throws what views.open throws (e.g. `expired_trigger_id`), or when there is no trigger. */
export async function openModal(client: WebClient, trigger: ModalTrigger, view: types.ModalView) {
  const argument = triggerArgument(trigger);
  if (!argument) throw new Error('opening a modal needs a trigger id or an interactivity pointer');
  return client.views.open({ ...argument, view });
}
