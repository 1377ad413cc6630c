import type { types } from '@slack/bolt';
import { DomainError, InvalidInputError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import { isBlank } from '../../slack/inputText.js';
import type { Services } from '../../services.js';
import { COMMAND } from '../../slack/ids.js';
import { mention } from '../../slack/mrkdwn.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { FULL_USAGE, parseTaskCommand, USAGE, type TaskCommand } from './commandParser.js';
import { formatDueDate } from './dates.js';
import { openNewTaskModal } from './modal.js';
import type { Actor, TaskService } from './service.js';
import { LOOKUP_BUDGET_MS } from './taskForm.js';
import { taskLabel, taskListBlocks, taskListText } from './views.js';

/** `/task` in a list: newest first, at most this many lines (the App Home pages through the rest). */
const LIST_LIMIT = 20;

/**
 * `/task`. What the local store alone can answer is answered in the ack itself (help,
 * usage errors, a list when the user's time zone is known, an `add` that needs no Slack lookup —
 * stored before the ack, so an acknowledged command is never lost to a crash): the reply is
 * there at once and costs no response_url call. Anything that needs Slack (users.info) acks
 * first and answers ephemerally through `respond` (response_url) when done.
 */
export function registerTaskCommand(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  reg.command(COMMAND.task, async ({ command, ack, respond, client }) => {
    // Only work on the local store may come before the ack; anything else acks at once. The
    // first reply made before the ack travels in the ack's body, later ones through response_url.
    let acked = false;
    const ackOnce = async () => {
      if (acked) return;
      acked = true;
      await ack();
    };
    if (!answerableBeforeAck(command.text, command.user_id, svc)) await ackOnce();
    const reply = async (text: string, blocks?: types.KnownBlock[]) => {
      const message = { response_type: 'ephemeral' as const, text, ...(blocks ? { blocks } : {}) };
      if (acked) {
        await respond(message);
        return;
      }
      acked = true;
      await ack(message);
    };
    if (isBlank(command.text)) {
      try {
        await openNewTaskModal(client, svc, { triggerId: command.trigger_id, userId: command.user_id, origin: 'command' });
      } catch (err) {
        svc.logger.warn(`/task (team ${command.team_id}, user ${command.user_id}): could not open the New task modal: ${describeError(err)}`);
        await reply(couldNotOpenText('the New task form', err)).catch((e: unknown) => svc.logger.warn(`/task: could not reply: ${describeError(e)}`));
      }
      return;
    }
    let parsed: TaskCommand | undefined;
    try {
      // Only a due date depends on the user's time zone; skip the users.info call otherwise.
      const timeZone = /\bdue\b/i.test(command.text) ? await svc.users.timeZone(command.user_id) : undefined;
      parsed = parseTaskCommand(command.text, { now: svc.now(), timeZone: timeZone ?? 'UTC' });
      // Not yet acked: the store and the user cache answer; a guest lookup the cache missed is bounded.
      const budget = acked ? {} : { lookupBudgetMs: LOOKUP_BUDGET_MS };
      const actor: Actor = { teamId: command.team_id, userId: command.user_id, timeZone, ...budget };
      await run(parsed, actor, tasks, reply);
    } catch (err) {
      if (!(err instanceof DomainError)) {
        svc.logger.error(`/task failed (team ${command.team_id}, user ${command.user_id}): ${describeError(err)}`);
      }
      // Input the rules refused (too long, in the past, a bot as assignee) gets the usage too.
      const usage = err instanceof InvalidInputError && parsed && parsed.kind in USAGE ? `\n*Usage:* ${USAGE[parsed.kind as keyof typeof USAGE]}` : '';
      await reply(`${userMessageFor(err)}${usage}`).catch((e: unknown) => svc.logger.warn(`/task: could not reply: ${describeError(e)}`));
    }
    await ackOnce();
  });
}

/**
 * Whether the local store alone can answer this `/task` text (no Slack lookup): help and usage
 * errors; a list when the user's time zone is cached (it decides what is overdue); an `add` whose
 * assignee is the user or already known (cached), with a due date read in a cached time zone.
 */
function answerableBeforeAck(text: string, userId: string, svc: Services): boolean {
  if (isBlank(text)) return false;
  const cachedTz = svc.users.peek(userId)?.tz;
  if (/\bdue\b/i.test(text) && cachedTz === undefined) return false;
  const parsed = parseTaskCommand(text, { now: svc.now(), timeZone: cachedTz ?? 'UTC' });
  switch (parsed.kind) {
    case 'help':
    case 'invalid':
      return true;
    case 'list':
      // The cached user also says whether they are a guest (what "all" may show them).
      return cachedTz !== undefined;
    // Changes are stored before the ack (acknowledged means stored); what only Slack knows (an
    // assignee, whether the user is a guest) is asked within the lookup budget.
    case 'add':
    case 'done':
    case 'reopen':
    case 'assign':
      return true;
    default:
      return false;
  }
}

type Reply = (text: string, blocks?: types.KnownBlock[]) => Promise<void>;

async function run(parsed: TaskCommand, actor: Actor, tasks: TaskService, reply: Reply): Promise<void> {
  switch (parsed.kind) {
    case 'new':
    case 'help':
      return reply(FULL_USAGE);
    case 'invalid':
      return reply(`${parsed.message}\n*Usage:* ${parsed.usage}`);
    case 'add': {
      const { task } = await tasks.create(actor, {
        title: parsed.title,
        assigneeId: parsed.assigneeId,
        dueDate: parsed.dueDate,
        origin: 'command',
      });
      const forWhom = task.assigneeId === actor.userId ? 'for you' : `for ${mention(task.assigneeId)}`;
      const due = task.dueDate ? `, due ${formatDueDate(task.dueDate)}` : '';
      return reply(`:white_check_mark: Created ${taskLabel(task)} ${forWhom}${due}.`);
    }
    case 'list': {
      const { tasks: rows, total } = await tasks.list(actor, { scope: parsed.scope, status: parsed.status, limit: LIST_LIMIT });
      const today = await tasks.todayFor(actor.userId, actor.timeZone);
      return reply(taskListText(total, parsed.scope, parsed.status), taskListBlocks(rows, total, parsed.scope, parsed.status, today));
    }
    case 'done': {
      const task = await tasks.complete(actor, { number: parsed.number });
      return reply(`:white_check_mark: Completed ${taskLabel(task)}.`);
    }
    case 'reopen': {
      const task = await tasks.reopen(actor, { number: parsed.number });
      return reply(`Reopened ${taskLabel(task)}; it is assigned to ${mention(task.assigneeId)}.`);
    }
    case 'assign': {
      const task = await tasks.assign(actor, { number: parsed.number }, parsed.assigneeId);
      return reply(`${taskLabel(task)} is now assigned to ${mention(task.assigneeId)}.`);
    }
  }
}
