import type { Services } from '../../services.js';
import { stringOf, viewInput } from '../../slack/values.js';
import { PRIORITIES, type Priority } from '../../store/schema.js';
import { todayIn } from './dates.js';
import { assigneeProblem, validateTaskFields, type TaskFieldErrors } from './service.js';
import type { RepeatSpec } from './recurrence.js';
import { NEW_TASK_FIELD, REPEAT_CHOICES } from './views.js';

/**
 * The New/Edit task form between Slack and the service: reading the submitted values, and the
 * checks that decide the `view_submission` answer. Those run before the ack, so they use the
 * store, the payload and the UserDirectory cache; when the cache lacks someone, one lookup is
 * allowed, bounded by LOOKUP_BUDGET_MS. What could not be checked in time is accepted here and
 * checked again by the service after the ack (its refusal reaches the user in a DM).
 */

/** The longest a submission may wait on Slack (users.info) before its ack. */
export const LOOKUP_BUDGET_MS = 1000;

/**
 * UTC−12 (the IANA name's sign is POSIX's, inverted), where the calendar date is earliest. When
 * the user's own zone is unknown at submit, "not before today" is checked against it: a date
 * refused there is in the past for everyone, and the service checks the exact zone after the ack.
 */
export const ZONE_UTC_MINUS_12 = 'Etc/GMT+12';

export interface TaskForm {
  title: string;
  description: string;
  assigneeId: string | undefined;
  dueDate: string | null;
  priority: Priority;
  channelId: string | undefined;
  /** The New task form's Repeat (the Edit form has none): undefined when it does not repeat. */
  repeat: RepeatSpec | undefined;
}

/** The form's values; one of the wrong type reads as empty (a title then fails "needs a title"). */
export function readTaskForm(values: unknown): TaskForm {
  const priority = viewInput(values, NEW_TASK_FIELD.priority).selectedOption();
  return {
    title: viewInput(values, NEW_TASK_FIELD.title).text() ?? '',
    description: viewInput(values, NEW_TASK_FIELD.description).text() ?? '',
    assigneeId: viewInput(values, NEW_TASK_FIELD.assignee).selectedUser() || undefined,
    dueDate: viewInput(values, NEW_TASK_FIELD.dueDate).selectedDate() || null,
    priority: PRIORITIES.find((p) => p === priority) ?? 'normal',
    channelId: viewInput(values, NEW_TASK_FIELD.channel).selectedConversation() || undefined,
    repeat: REPEAT_CHOICES.find((c) => c.value === viewInput(values, NEW_TASK_FIELD.repeat).selectedOption())?.spec,
  };
}

const FIELD_BLOCK: Record<keyof TaskFieldErrors, string> = {
  title: NEW_TASK_FIELD.title,
  description: NEW_TASK_FIELD.description,
  dueDate: NEW_TASK_FIELD.dueDate,
  assignee: NEW_TASK_FIELD.assignee,
};

/** Service field errors (title, dueDate, …) keyed by the form's block ids. */
export function toBlockErrors(errors: Partial<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors)) {
    const block = FIELD_BLOCK[field as keyof TaskFieldErrors];
    if (block && message) out[block] = message;
  }
  return out;
}

export interface FormCheck {
  /** Block id → message; empty when the form may be accepted. */
  errors: Record<string, string>;
  /** The submitter's IANA zone, when known (metadata, cache, or the bounded lookup). */
  timeZone: string | undefined;
}

/**
 * Checks a submitted task form: title, description, due date (not before the submitter's today,
 * when `checkDue`), and the assignee (a person, not a bot or deactivated, when `checkAssignee`).
 */
export async function checkTaskForm(
  svc: Pick<Services, 'users' | 'logger' | 'now'>,
  req: { userId: string; form: TaskForm; timeZone?: string; checkDue: boolean; checkAssignee: boolean },
): Promise<FormCheck> {
  const { userId, form } = req;
  const assigneeId = form.assigneeId;
  const wantsAssignee = req.checkAssignee && assigneeId !== undefined && assigneeId !== userId;
  const wantsZone = req.checkDue && form.dueDate !== null && req.timeZone === undefined;
  // Both lookups (usually cache hits) share one deadline.
  const [me, assignee] = await Promise.all([
    wantsZone ? svc.users.getWithin(userId, LOOKUP_BUDGET_MS) : undefined,
    wantsAssignee ? svc.users.getWithin(assigneeId, LOOKUP_BUDGET_MS) : undefined,
  ]);
  const timeZone = req.timeZone ?? (me?.found ? me.user?.tz : undefined) ?? svc.users.peek(userId)?.tz;

  const today = todayIn(timeZone ?? ZONE_UTC_MINUS_12, svc.now());
  const errors: TaskFieldErrors = validateTaskFields(
    { title: form.title, description: form.description, dueDate: req.checkDue ? form.dueDate : null },
    today,
  );
  if (!assigneeId) errors.assignee = 'Pick who should do it.';
  else if (assignee?.found) {
    // A modal's error text is plain: a mention would show as <@U…>, so the person is named.
    const problem = assigneeProblem(assignee.user, assignee.user?.name ?? 'That person');
    if (problem) errors.assignee = problem;
  } else if (wantsAssignee) {
    svc.logger.info(`task form: could not look up assignee ${assigneeId} within ${LOOKUP_BUDGET_MS} ms; the service checks after the ack`);
  }
  return { errors: toBlockErrors(errors), timeZone };
}

/** Looks a user up in the background (a modal opens, an assignee is picked), so a later submit finds them cached. */
export function warmUser(svc: Pick<Services, 'users' | 'background' | 'logger'>, selected: unknown): void {
  const userId = stringOf(selected);
  if (!userId || svc.users.peek(userId)) return;
  svc.background.run(`look up user ${userId}`, async () => {
    await svc.users.get(userId).catch((err: unknown) => svc.logger.debug(`could not look up ${userId}: ${String(err)}`));
  });
}
