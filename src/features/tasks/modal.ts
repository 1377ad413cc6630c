import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { DomainError, InvalidInputError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { VIEW } from '../../slack/ids.js';
import { userText } from '../../slack/mrkdwn.js';
import type { TaskOrigin } from '../../store/schema.js';
import { todayIn } from './dates.js';
import { validateTaskFields, type TaskFieldErrors, type TaskService } from './service.js';
import { NEW_TASK_FIELD, newTaskModal, type NewTaskMetadata } from './views.js';

/**
 * The New task modal, minimal for now (title, assignee, due date, description); the modals
 * issue adds priority, channel and the Edit variant. Its submission is validated before the ack
 * with the store-free rules (the creator's time zone travels in private_metadata), then the task
 * is created after the ack.
 */

interface Metadata extends NewTaskMetadata {
  origin: TaskOrigin;
}

export async function openNewTaskModal(
  client: WebClient,
  svc: Services,
  opts: { triggerId: string; userId: string; origin: TaskOrigin; title?: string; description?: string },
): Promise<void> {
  const tz = await svc.users.timeZone(opts.userId);
  const metadata: Metadata = { tz, origin: opts.origin };
  await client.views.open({
    trigger_id: opts.triggerId,
    view: newTaskModal({ userId: opts.userId, metadata, title: opts.title, description: opts.description }),
  });
}

function readMetadata(raw: string): Metadata {
  try {
    const m = JSON.parse(raw) as Partial<Metadata>;
    return { tz: typeof m.tz === 'string' ? m.tz : 'UTC', origin: m.origin ?? 'shortcut' };
  } catch {
    return { tz: 'UTC', origin: 'shortcut' };
  }
}

const FIELD_BLOCK: Record<keyof TaskFieldErrors, string> = {
  title: NEW_TASK_FIELD.title,
  description: NEW_TASK_FIELD.description,
  dueDate: NEW_TASK_FIELD.dueDate,
  assignee: NEW_TASK_FIELD.assignee,
};

function toBlockErrors(errors: TaskFieldErrors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors) as [keyof TaskFieldErrors, string][]) out[FIELD_BLOCK[field]] = message;
  return out;
}

export function registerNewTaskModal(app: App, svc: Services, tasks: TaskService): void {
  app.view(VIEW.newTask, async ({ ack, view, body, context }) => {
    const teamId = context.teamId ?? body.team?.id ?? view.team_id;
    const userId = body.user.id;
    const meta = readMetadata(view.private_metadata);
    const values = view.state.values;
    const title = values[NEW_TASK_FIELD.title]?.[NEW_TASK_FIELD.title]?.value ?? '';
    const assigneeId = values[NEW_TASK_FIELD.assignee]?.[NEW_TASK_FIELD.assignee]?.selected_user ?? undefined;
    const dueDate = values[NEW_TASK_FIELD.dueDate]?.[NEW_TASK_FIELD.dueDate]?.selected_date ?? null;
    const description = values[NEW_TASK_FIELD.description]?.[NEW_TASK_FIELD.description]?.value ?? '';

    // Decided before the ack, from the payload alone (SPEC S9).
    const errors = validateTaskFields({ title, description, dueDate }, todayIn(meta.tz, svc.now()));
    if (!assigneeId) errors.assignee = 'Pick who should do it.';
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors: toBlockErrors(errors) });
      return;
    }
    await ack();

    try {
      await tasks.create(
        { teamId, userId, timeZone: meta.tz },
        { title, description, assigneeId, dueDate, origin: meta.origin },
      );
    } catch (err) {
      if (!(err instanceof DomainError)) svc.logger.error(`new task modal (team ${teamId}, user ${userId}): ${describeError(err)}`);
      // The modal is gone by now: say what went wrong in a DM, with what they typed.
      const what = err instanceof InvalidInputError ? 'I couldn’t create the task' : 'The task was not created';
      await svc.client.chat
        .postMessage({ channel: userId, text: `${what} “${userText(title.trim(), 150)}”: ${userMessageFor(err)}` })
        .catch((e: unknown) => svc.logger.warn(`could not DM ${userId}: ${describeError(e)}`));
    }
  });
}
