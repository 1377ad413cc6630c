import type { Services } from '../../services.js';
import { COMMAND, EVENT, FUNCTION, SHORTCUT } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { placeholderCommand, placeholderFunction, placeholderGlobalShortcut, placeholderMessageShortcut } from '../placeholders.js';

export function registerTasks(reg: ListenerRegistry, _svc: Services): void {
  placeholderCommand(reg, COMMAND.task);
  placeholderFunction(reg, FUNCTION.createTask);
  placeholderFunction(reg, FUNCTION.completeTask);
  placeholderGlobalShortcut(reg, SHORTCUT.newTask, 'New task');
  placeholderMessageShortcut(reg, SHORTCUT.taskFromMessage, 'Make a task');
  reg.event(EVENT.appMention, async () => {});
  reg.event(EVENT.reactionAdded, async () => {});
}
