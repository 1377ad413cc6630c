import type { BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { ListenerRegistry } from '../../slack/registry.js';
import type { WebClient } from '@slack/web-api';
import { DomainError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { ACTION } from '../../slack/ids.js';
import { rowIdOf, teamIdOf } from '../../slack/values.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { triggerOf } from '../../slack/modals.js';
import { openTaskDetails } from './details.js';
import type { TaskService } from './service.js';

/**
 * The buttons on a task card: Complete (assignee or creator; anyone else gets an ephemeral
 * note and nothing changes) and Open (the task details modal, details.ts).
 * The card itself is updated in place by the service once the change is stored.
 */
export function registerTaskCardActions(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  reg.action<BlockAction<ButtonAction>>(ACTION.taskComplete, async ({ ack, body, action, respond, client }) => {
    await ack();
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const id = taskIdOf(action.value);
    const note = ephemeralNote(client, body, respond);
    if (id === undefined) return;
    try {
      await tasks.complete({ teamId, userId }, { id });
    } catch (err) {
      if (!(err instanceof DomainError)) svc.logger.error(`complete button (team ${teamId}, user ${userId}, task ${id}): ${describeError(err)}`);
      await note(userMessageFor(err)).catch((e: unknown) => svc.logger.warn(`could not tell ${userId}: ${describeError(e)}`));
    }
  });

  reg.action<BlockAction<ButtonAction>>(ACTION.taskOpen, async ({ ack, body, action, client, respond }) => {
    await ack();
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const id = taskIdOf(action.value);
    if (id === undefined) return;
    try {
      // Cards posted with a workflow token carry an interactivity pointer instead of a trigger id.
      await openTaskDetails(svc, tasks, { teamId, userId, taskId: id, ...triggerOf(body) });
    } catch (err) {
      svc.logger.warn(`open button (team ${teamId}, user ${userId}, task ${id}): ${describeError(err)}`);
      await ephemeralNote(client, body, respond)(couldNotOpenText('the task’s details', err)).catch((e: unknown) => svc.logger.warn(`could not tell ${userId}: ${describeError(e)}`));
    }
  });
}

function taskIdOf(value: string | undefined): number | undefined {
  return rowIdOf(value);
}

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
