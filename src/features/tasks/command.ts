import type { SlackCommandMiddlewareArgs, types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { DomainError, InvalidInputError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import { isBlank } from '../../slack/inputText.js';
import type { Services } from '../../services.js';
import { mention } from '../../slack/mrkdwn.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { teamIdOf } from '../../slack/values.js';
import { FULL_USAGE, parseTaskCommand, USAGE, type TaskCommand } from './commandParser.js';
import { formatDueDate } from './dates.js';
import { describe } from './recurrence.js';
import { openNewTaskModal } from './modal.js';
import type { Actor, TaskService } from './service.js';
import { LOOKUP_BUDGET_MS } from './taskForm.js';
import { taskLabel, taskListBlocks, taskListText } from './views.js';

/** `/task` in a list: newest first, at most this many lines (the App Home pages through the rest). */
const LIST_LIMIT = 20;

export type TaskCommandDeps = { tasks: TaskService } & Pick<Services, 'logger' | 'users' | 'now' | 'background'>;

type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack' | 'respond'> & { client: WebClient };

/** An ephemeral answer to `/task`, in the ack's body or through response_url. */
interface Answer {
  response_type: 'ephemeral';
  text: string;
  blocks?: types.KnownBlock[];
}

/**
 * `/task`. What the local store alone can answer is answered in the ack itself (help,
 * usage errors, a list when the user's time zone is known, an `add` that needs no Slack lookup —
 * stored before the ack, so an acknowledged command is never lost to a crash): the reply is
 * there at once and costs no response_url call. Anything that needs Slack (users.info) acks
 * first and answers ephemerally through `respond` (response_url) when done.
 */
export const handleTaskCommand = (deps: TaskCommandDeps) =>
  async function taskCommand({ command, ack, respond, client }: CommandArgs): Promise<void> {
    const teamId = teamIdOf(command);
    const userId = command.user_id;
    const early = parseBeforeAck(command.text, userId, deps);
    // Not yet acked: the store and the user cache answer; a guest lookup the cache missed is bounded.
    const answerNow = early?.answerNow
      ? await answer(deps, early.command, { teamId, userId, timeZone: early.timeZone, lookupBudgetMs: LOOKUP_BUDGET_MS }, command.trigger_id)
      : undefined;
    await ack(answerNow);
    if (early?.answerNow) return;

    if (isBlank(command.text)) {
      try {
        await openNewTaskModal(client, deps, { triggerId: command.trigger_id, userId, origin: 'command' });
      } catch (err) {
        deps.logger.warn(`/task (team ${teamId}, user ${userId}): could not open the New task modal: ${describeError(err)}`);
        await respondQuietly(deps, respond, ephemeral(couldNotOpenText('the New task form', err)));
      }
      return;
    }
    let parsed = early?.command;
    let later: Answer;
    try {
      // Parsed before the ack unless a due date needed the user's time zone (users.info, now).
      const timeZone = early ? early.timeZone : await deps.users.timeZone(userId);
      parsed ??= parseTaskCommand(command.text, { now: deps.now(), timeZone: timeZone ?? 'UTC' });
      later = await answer(deps, parsed, { teamId, userId, timeZone }, command.trigger_id);
    } catch (err) {
      later = failure(deps, err, parsed, { teamId, userId });
    }
    await respondQuietly(deps, respond, later);
  };

const mentionsDue = (text: string) => /\bdue\b/i.test(text);

/**
 * The command parsed before the ack, and whether the local store alone can answer it there (no
 * Slack lookup): help and usage errors; a list when the user's time zone is cached (it decides what
 * is overdue); a change, whose assignee or guest status is asked within the lookup budget, with a
 * due date read in a cached time zone. Undefined when there is nothing to parse (the New task
 * modal) or a due date needs a time zone the cache lacks: it is parsed after the ack then.
 */
function parseBeforeAck(
  text: string,
  userId: string,
  deps: Pick<Services, 'users' | 'now'>,
): { command: TaskCommand; timeZone: string | undefined; answerNow: boolean } | undefined {
  if (isBlank(text)) return undefined;
  const cachedTz = deps.users.peek(userId)?.tz;
  const due = mentionsDue(text);
  if (due && cachedTz === undefined) return undefined;
  const command = parseTaskCommand(text, { now: deps.now(), timeZone: cachedTz ?? 'UTC' });
  return { command, timeZone: due ? cachedTz : undefined, answerNow: answerableBeforeAck(command, cachedTz !== undefined) };
}

function answerableBeforeAck(command: TaskCommand, userCached: boolean): boolean {
  switch (command.kind) {
    case 'help':
    case 'invalid':
      return true;
    case 'list':
      // The cached user also says whether they are a guest (what "all" may show them).
      return userCached;
    // Changes are stored before the ack (acknowledged means stored).
    case 'add':
    case 'done':
    case 'reopen':
    case 'assign':
    case 'stop':
      return true;
    default:
      return false;
  }
}

const ephemeral = (text: string, blocks?: types.KnownBlock[]): Answer => ({ response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) });

/** The answer to a parsed command; a refusal or failure becomes its user message. */
async function answer(deps: TaskCommandDeps, parsed: TaskCommand, actor: Actor, triggerId: string | undefined): Promise<Answer> {
  try {
    return await run(parsed, actor, deps.tasks, triggerId);
  } catch (err) {
    return failure(deps, err, parsed, actor);
  }
}

/** Input the rules refused (too long, in the past, a bot as assignee) gets the usage too. */
function failure(deps: Pick<Services, 'logger'>, err: unknown, parsed: TaskCommand | undefined, actor: { teamId: string; userId: string }): Answer {
  if (!(err instanceof DomainError)) deps.logger.error(`/task failed (team ${actor.teamId}, user ${actor.userId}): ${describeError(err)}`);
  const usage = err instanceof InvalidInputError && parsed && parsed.kind in USAGE ? `\n*Usage:* ${USAGE[parsed.kind as keyof typeof USAGE]}` : '';
  return ephemeral(`${userMessageFor(err)}${usage}`);
}

async function respondQuietly(deps: Pick<Services, 'logger'>, respond: CommandArgs['respond'], message: Answer): Promise<void> {
  await respond(message).catch((e: unknown) => deps.logger.warn(`/task: could not reply: ${describeError(e)}`));
}

/** `triggerId`: the command's, naming this request (Slack delivers a retried command with the same one). */
async function run(parsed: TaskCommand, actor: Actor, tasks: TaskService, triggerId: string | undefined): Promise<Answer> {
  switch (parsed.kind) {
    case 'new':
    case 'help':
      return ephemeral(FULL_USAGE);
    case 'invalid':
      return ephemeral(`${parsed.message}\n*Usage:* ${parsed.usage}`);
    case 'add': {
      const { task } = await tasks.create(actor, {
        title: parsed.title,
        assigneeId: parsed.assigneeId,
        dueDate: parsed.dueDate,
        origin: 'command',
        ...(parsed.repeat ? { repeat: parsed.repeat } : {}),
        ...(triggerId ? { requestKey: `command:${triggerId}` } : {}),
      });
      const forWhom = task.assigneeId === actor.userId ? 'for you' : `for ${mention(task.assigneeId)}`;
      const due = task.dueDate ? `, due ${formatDueDate(task.dueDate)}` : '';
      const repeats = describe(task.repeatRule);
      return ephemeral(`:white_check_mark: Created ${taskLabel(task)} ${forWhom}${due}.${repeats ? ` It repeats ${repeats}.` : ''}`);
    }
    case 'list': {
      const { tasks: rows, total } = await tasks.list(actor, { scope: parsed.scope, status: parsed.status, limit: LIST_LIMIT });
      const today = await tasks.todayFor(actor.userId, actor.timeZone);
      return ephemeral(taskListText(total, parsed.scope, parsed.status), taskListBlocks(rows, total, parsed.scope, parsed.status, today));
    }
    case 'done': {
      const task = await tasks.complete(actor, { number: parsed.number });
      return ephemeral(`:white_check_mark: Completed ${taskLabel(task)}.`);
    }
    case 'reopen': {
      const task = await tasks.reopen(actor, { number: parsed.number });
      return ephemeral(`Reopened ${taskLabel(task)}; it is assigned to ${mention(task.assigneeId)}.`);
    }
    case 'stop': {
      const task = await tasks.stopRepeating(actor, { number: parsed.number });
      return ephemeral(`:octagonal_sign: Stopped: ${taskLabel(task)} will not repeat any more.`);
    }
    case 'assign': {
      const task = await tasks.assign(actor, { number: parsed.number }, parsed.assigneeId);
      return ephemeral(`${taskLabel(task)} is now assigned to ${mention(task.assigneeId)}.`);
    }
  }
}
