import type { Services } from '../../services.js';
import { SHORTCUT } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { placeholderMessageShortcut } from '../placeholders.js';
import { registerTaskCardActions } from './cardActions.js';
import { registerTaskCommand } from './command.js';
import { registerTaskEvents } from './events.js';
import { openNewTaskModal, registerNewTaskModal } from './modal.js';
import { TaskService } from './service.js';
import { registerTaskSteps } from './steps.js';

/**
 * Tasks: `/task`, task cards and their buttons, ✅ reactions, @mentions, the New task modal and
 * the `create_task` / `complete_task` steps. Listeners are thin; the rules live in TaskService.
 * Returns the service so later features (App Home, full modals) share the one instance.
 */
export function registerTasks(reg: ListenerRegistry, svc: Services): TaskService {
  const tasks = new TaskService(svc);

  registerTaskCommand(reg, svc, tasks);
  registerTaskCardActions(reg.app, svc, tasks);
  registerTaskEvents(reg, svc, tasks);
  registerTaskSteps(reg, svc, tasks);
  registerNewTaskModal(reg.app, svc, tasks);

  reg.globalShortcut(SHORTCUT.newTask, async ({ ack, shortcut, client }) => {
    await ack();
    await openNewTaskModal(client, svc, { triggerId: shortcut.trigger_id, userId: shortcut.user.id, origin: 'shortcut' });
  });
  // The modals issue prefills the New task modal from the message and keeps its permalink.
  placeholderMessageShortcut(reg, SHORTCUT.taskFromMessage, 'Make a task');

  // Steps whose task was completed while the process was down (or whose Slack call failed).
  svc.onStart('tasks: complete pending create_task steps', async () => {
    await tasks.recoverSteps();
  });
  return tasks;
}
