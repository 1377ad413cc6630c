import type { MessageShortcut, RespondFn, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { openModal } from '../../slack/modals.js';
import { teamIdOf } from '../../slack/values.js';
import { couldNotOpenText, slackErrorCode } from '../../slack/slackErrors.js';
import { taskFieldsFromMessage } from './messageText.js';
import { LOOKUP_BUDGET_MS } from './taskForm.js';
import { loadingModal, newTaskModal, type NewTaskMetadata } from './views.js';

/**
 * "Make a task" (message shortcut): the New task modal prefilled from the message. The
 * trigger id lasts 3 s and the full modal wants the user's time zone (users.info), so a small
 * "Loading…" modal is opened first with the fresh trigger id, then replaced with views.update.
 * The submission is the New task modal's (modal.ts); the service stores the message's permalink
 * and replies in its thread after the ack.
 */
export const handleTaskFromMessage = (svc: Pick<Services, 'client' | 'logger' | 'users'>) =>
  async function taskFromMessage({ ack, shortcut, respond }: Pick<SlackShortcutMiddlewareArgs<MessageShortcut>, 'ack' | 'shortcut' | 'respond'>): Promise<void> {
    await ack();
    const userId = shortcut.user.id;
    const teamId = teamIdOf(shortcut);
    let loading: { id?: string; hash?: string } | undefined;
    try {
      loading = (await openModal(svc.client, { triggerId: shortcut.trigger_id }, loadingModal('New task'))).view;
    } catch (err) {
      svc.logger.warn(`make a task (team ${teamId}, user ${userId}): could not open the modal: ${describeError(err)}`);
      await tell(svc, shortcut, respond, couldNotOpenText('the New task form', err));
      return;
    }
    if (!loading?.id) return;

    // No trigger id is needed from here on: the slow part may take its time (bounded).
    const me = await svc.users.getWithin(userId, LOOKUP_BUDGET_MS);
    const tz = me.found ? me.user?.tz : undefined;
    const metadata: NewTaskMetadata = {
      origin: 'message',
      ...(tz ? { tz } : {}),
      source: sourceOf(shortcut),
    };
    const prefill = taskFieldsFromMessage(shortcut.message.text);
    try {
      await svc.client.views.update({
        view_id: loading.id,
        ...(loading.hash ? { hash: loading.hash } : {}),
        view: newTaskModal({ userId, metadata, ...prefill }),
      });
    } catch (err) {
      // not_found: the user closed the loading modal; hash_conflict: something else replaced it.
      const code = slackErrorCode(err);
      if (code === 'not_found' || code === 'hash_conflict') svc.logger.info(`make a task (team ${teamId}, user ${userId}): loading modal gone (${code})`);
      else {
        svc.logger.error(`make a task (team ${teamId}, user ${userId}): could not show the form: ${describeError(err)}`);
        await tell(svc, shortcut, respond, 'I couldn’t show the New task form. Please try the shortcut again.');
      }
    }
  };

/** The message's channel and ts, and its thread's ts when it is itself a reply (the reply goes in that thread). */
function sourceOf(shortcut: MessageShortcut): NonNullable<NewTaskMetadata['source']> {
  const ts = shortcut.message.ts || shortcut.message_ts;
  const threadTs = typeof shortcut.message['thread_ts'] === 'string' ? (shortcut.message['thread_ts'] as string) : undefined;
  return { channelId: shortcut.channel.id, ts, ...(threadTs && threadTs !== ts ? { threadTs } : {}) };
}

/** Only the user sees it: an ephemeral through the shortcut's response_url, else a DM. */
async function tell(svc: Pick<Services, 'client' | 'logger'>, shortcut: MessageShortcut, respond: RespondFn | undefined, text: string): Promise<void> {
  try {
    if (shortcut.response_url && respond) await respond({ response_type: 'ephemeral', replace_original: false, text });
    else await svc.client.chat.postMessage({ channel: shortcut.user.id, text });
  } catch (err) {
    svc.logger.warn(`make a task: could not tell ${shortcut.user.id}: ${describeError(err)}`);
  }
}
