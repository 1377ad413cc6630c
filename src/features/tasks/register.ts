import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { COMMAND, SHORTCUT } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { registerTaskCardActions } from './cardActions.js';
import { handleTaskCommand } from './command.js';
import { registerTaskDetails } from './details.js';
import { registerTaskEvents } from './events.js';
import { registerTaskFromMessage } from './fromMessage.js';
import { openNewTaskModal, registerNewTaskModal } from './modal.js';
import type { TaskService } from './service.js';
import { registerTaskSteps } from './steps.js';

/**
 * Tasks: `/task`, task cards and their buttons, ✅ reactions, @mentions, the New task modal,
 * Make a task, the task details stack (Edit / Comment / Complete / Delete) and the
 * `create_task` / `complete_task` steps. Listeners are thin; the rules live in TaskService.
 * `tasks` is the app's one TaskService, shared with the App Home (its in-process step locks
 * only mean something if every surface goes through the same instance).
 */
export function registerTasks(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {

  reg.command(COMMAND.task, handleTaskCommand({ tasks, ...svc }));
  registerTaskCardActions(reg, svc, tasks);
  registerTaskEvents(reg, svc, tasks);
  registerTaskSteps(reg, svc, tasks);
  registerNewTaskModal(reg, svc, tasks);
  registerTaskDetails(reg, svc, tasks);
  registerTaskFromMessage(reg, svc);

  reg.globalShortcut(SHORTCUT.newTask, async ({ ack, shortcut, client }) => {
    await ack();
    const userId = shortcut.user.id;
    try {
      await openNewTaskModal(client, svc, { triggerId: shortcut.trigger_id, userId, origin: 'shortcut' });
    } catch (err) {
      // A global shortcut has no channel or response_url: the app's DM is the private place.
      svc.logger.warn(`new task shortcut (user ${userId}): could not open the modal: ${describeError(err)}`);
      await client.chat
        .postMessage({ channel: userId, text: couldNotOpenText('the New task form', err) })
        .catch((e: unknown) => svc.logger.warn(`could not DM ${userId}: ${describeError(e)}`));
    }
  });

  // Steps a store from before the outbox still owes a completion: into the outbox (a no-op otherwise).
  svc.onStart('tasks: create_task completions a store from before the outbox still owes', async () => {
    await tasks.ensureStepEffects();
  });
}
