import type { BlockAction, ButtonAction, RespondFn, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { DomainError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import { isWebApiError } from '../../slack/failures.js';
import { triggerOf } from '../../slack/modals.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { rowIdOf, teamIdOf } from '../../slack/values.js';
import { openTaskDetails, type DetailsHandlerDeps } from './details.js';
import type { TaskService } from './service.js';
import type { Services } from '../../services.js';

/**
 * The buttons on a task card: Complete (assignee or creator; anyone else gets an ephemeral
 * note and nothing changes) and Open (the task details modal, details.ts).
 * The card itself is updated in place by the service once the change is stored.
 */

type CardClickArgs = Pick<SlackActionMiddlewareArgs<BlockAction<ButtonAction>>, 'ack' | 'body' | 'action' | 'respond'> & { client: WebClient };

/** A card's Complete button. */
export const handleCardComplete = (deps: { tasks: TaskService } & Pick<Services, 'logger'>) =>
  async function cardComplete({ ack, body, action, respond, client }: CardClickArgs): Promise<void> {
    await ack();
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const id = rowIdOf(action.value);
    if (id === undefined) return;
    try {
      await deps.tasks.complete({ teamId, userId }, { id });
    } catch (err) {
      if (!(err instanceof DomainError)) deps.logger.error(`complete button (team ${teamId}, user ${userId}, task ${id}): ${describeError(err)}`);
      await ephemeralNote(client, body, respond)(userMessageFor(err)).catch((e: unknown) => deps.logger.warn(`could not tell ${userId}: ${describeError(e)}`));
    }
  };

/** A card's Open button: the task details modal. */
export const handleCardOpen = (deps: DetailsHandlerDeps) =>
  async function cardOpen({ ack, body, action, respond, client }: CardClickArgs): Promise<void> {
    await ack();
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const id = rowIdOf(action.value);
    if (id === undefined) return;
    try {
      // Cards posted with a workflow token carry an interactivity pointer instead of a trigger id.
      await openTaskDetails(deps, deps.tasks, { teamId, userId, taskId: id, ...triggerOf(body) });
    } catch (err) {
      // Slack refusing or not answering is told as such; our own failure (the store) is an error.
      const fromSlack = isWebApiError(err);
      if (fromSlack) deps.logger.warn(`open button (team ${teamId}, user ${userId}, task ${id}): ${describeError(err)}`);
      else deps.logger.error(`open button (team ${teamId}, user ${userId}, task ${id}) failed: ${describeError(err)}`);
      const text = fromSlack ? couldNotOpenText('the task’s details', err) : userMessageFor(err);
      await ephemeralNote(client, body, respond)(text).catch((e: unknown) => deps.logger.warn(`could not tell ${userId}: ${describeError(e)}`));
    }
  };

/** An ephemeral reply to the clicker, under the card (response_url), or in the channel when there is none. */
function ephemeralNote(client: WebClient, body: BlockAction, respond: RespondFn | undefined) {
  return async (text: string): Promise<void> => {
    if (body.response_url && respond) {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    } else if (body.channel?.id) {
      await client.chat.postEphemeral({ channel: body.channel.id, user: body.user.id, text });
    }
  };
}
