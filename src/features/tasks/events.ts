import type { SlackEventMiddlewareArgs } from '@slack/bolt';
import { AlreadyDoneError, NotAllowedError, NotFoundError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { teamIdOf } from '../../slack/values.js';
import { messageEffect } from '../../outbox/kinds.js';
import { effectKeyOf } from '../../outbox/sender.js';
import type { TaskRow } from '../../store/schema.js';
import { TASK_KIND } from './effects.js';
import type { TaskService } from './service.js';
import { mentionReplyText } from './views.js';

/** A ✅ on a task card completes it. */
export const COMPLETE_REACTION = 'white_check_mark';

type ReactionDeps = { tasks: TaskService } & Pick<Services, 'client' | 'logger' | 'outbox'>;

/** ✅ on a card (found by channel + ts) completes the task when the reactor may; others get a quiet note. */
export const handleReactionAdded = (deps: ReactionDeps) =>
  async function reactionAdded({ event, body, context, client }: Pick<SlackEventMiddlewareArgs<'reaction_added'>, 'event' | 'body'> & { context: { botUserId?: string }; client: Services['client'] }): Promise<void> {
    const { tasks } = deps;
    if (event.reaction !== COMPLETE_REACTION || event.item.type !== 'message') return;
    const teamId = teamIdOf(body);
    const actor = { teamId, userId: event.user };
    // A task the reactor may not see is as missing as a deleted one: nothing happens, no note.
    const task =
      (await tasks.findByMessage(actor, event.item.channel, event.item.ts)) ??
      // Tasklane's message, but no card recorded: one whose record a crash delayed (its outbox
      // row, still pending, is sent again once its lease runs out). Its metadata names the task.
      ((event.item_user === undefined || event.item_user === context.botUserId) && (await deps.outbox.repo.hasPending(teamId, TASK_KIND.card))
        ? await unrecordedCard(deps, actor, event.item.channel, event.item.ts)
        : undefined);
    if (!task || task.status !== 'open') return;
    try {
      await tasks.complete(actor, { id: task.id });
    } catch (err) {
      if (err instanceof AlreadyDoneError || err instanceof NotFoundError) return;
      if (err instanceof NotAllowedError) {
        await client.chat
          .postEphemeral({ channel: event.item.channel, user: event.user, text: userMessageFor(err) })
          .catch((e: unknown) => deps.logger.debug(`reaction note to ${event.user} not sent: ${describeError(e)}`));
        return;
      }
      deps.logger.error(`reaction on task ${task.id} (team ${teamId}, user ${event.user}): ${describeError(err)}`);
    }
  };

/** The task whose card `channel`/`ts` is, read from the message's metadata (and recorded now). */
async function unrecordedCard(deps: ReactionDeps, actor: { teamId: string; userId: string }, channel: string, ts: string): Promise<TaskRow | undefined> {
  let key: string | undefined;
  try {
    key = await effectKeyOf(deps.client, channel, ts);
  } catch (err) {
    deps.logger.debug(`reaction on ${channel}/${ts}: could not read the message's metadata: ${describeError(err)}`);
    return undefined;
  }
  const card = key ? /^task:(\d+):card:(assignee|channel)/.exec(key) : null;
  if (!card) return undefined;
  const task = await deps.tasks.find(actor, { id: Number(card[1]) });
  if (task) await deps.tasks.repo.recordMessage(task.teamId, task.id, { channelId: channel, ts, kind: card[2] === 'channel' ? 'channel' : 'assignee_dm' });
  return task;
}

/**
 * @Tasklane → a threaded reply with short help and the mentioner's open task count. An outbox
 * effect keyed by the event: handled again after a crash, it is still one reply.
 */
export const handleAppMention = (deps: { tasks: TaskService } & Pick<Services, 'outbox'>) =>
  async function appMention({ event, body }: Pick<SlackEventMiddlewareArgs<'app_mention'>, 'event' | 'body'>): Promise<void> {
    if (!event.user || event.bot_id) return;
    const teamId = teamIdOf(body);
    const open = await deps.tasks.openCount(teamId, event.user);
    await deps.outbox.add([
      messageEffect({ key: `mention-reply:${body.event_id}`, teamId, channel: event.channel, threadTs: event.thread_ts ?? event.ts, text: mentionReplyText(event.user, open) }),
    ]);
  };
