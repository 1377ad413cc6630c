import type { types } from '@slack/bolt';
import { DomainError, InvalidInputError, userMessageFor } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { COMMAND } from '../../slack/ids.js';
import { mention } from '../../slack/mrkdwn.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { FULL_USAGE, parseTaskCommand, USAGE, type TaskCommand } from './commandParser.js';
import { formatDueDate } from './dates.js';
import { couldNotOpenText, openNewTaskModal } from './modal.js';
import type { Actor, TaskService } from './service.js';
import { taskLabel, taskListBlocks, taskListText } from './views.js';

/** `/task` in a list: newest first, at most this many lines (the App Home pages through the rest). */
const LIST_LIMIT = 20;

/**
 * `/task` (SPEC S5). Acks with nothing, then does the work and answers ephemerally through
 * `respond` (response_url): the user's time zone (users.info) and the Slack calls a change causes
 * would not fit in Slack's 3 seconds. Only a `/task add` that needs no Slack lookup is stored
 * before the ack (a local write), so that an acknowledged command is never lost to a crash.
 */
export function registerTaskCommand(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  reg.command(COMMAND.task, async ({ command, ack, respond, client }) => {
    // `/task add` that needs nothing from Slack is stored before the ack (SPEC S9 allows work on
    // the local store there), so a 200 means the task exists even if the process dies right
    // after. Everything else is acknowledged at once; any reply acknowledges first.
    let acked = false;
    const ackOnce = async () => {
      if (acked) return;
      acked = true;
      await ack();
    };
    if (!storableBeforeAck(command.text, command.user_id, svc)) await ackOnce();
    const reply = async (text: string, blocks?: types.KnownBlock[]) => {
      await ackOnce();
      await respond({ response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) });
    };
    if (command.text.trim() === '') {
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
      const actor: Actor = { teamId: command.team_id, userId: command.user_id, timeZone, tell: (text) => reply(text) };
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
 * Whether this `/task` text is an `add` that the local store alone can decide: the assignee is
 * the user or already known (cached), and a due date, if any, can be read in a cached time zone.
 */
function storableBeforeAck(text: string, userId: string, svc: Services): boolean {
  if (text.trim() === '') return false;
  const cachedTz = svc.users.peek(userId)?.tz;
  if (/\bdue\b/i.test(text) && cachedTz === undefined) return false;
  const parsed = parseTaskCommand(text, { now: svc.now(), timeZone: cachedTz ?? 'UTC' });
  if (parsed.kind !== 'add') return false;
  return !parsed.assigneeId || parsed.assigneeId === userId || svc.users.peek(parsed.assigneeId) !== undefined;
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
      const { tasks: rows, total } = await tasks.list(actor.teamId, {
        scope: parsed.scope,
        status: parsed.status,
        userId: actor.userId,
        limit: LIST_LIMIT,
      });
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
