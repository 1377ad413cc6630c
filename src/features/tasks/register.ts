import type { BlockAction, ButtonAction, UsersSelectAction } from '@slack/bolt';
import type { Services } from '../../services.js';
import { ACTION, COMMAND, EVENT, FUNCTION, SHORTCUT, VIEW } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { handleCardComplete, handleCardOpen } from './cardActions.js';
import { handleTaskCommand } from './command.js';
import {
  handleCommentTaskSubmit,
  handleDeleteTaskSubmit,
  handleDetailsComment,
  handleDetailsComplete,
  handleDetailsDelete,
  handleDetailsEdit,
  handleEditTaskSubmit,
} from './details.js';
import { handleAppMention, handleReactionAdded } from './events.js';
import { handleTaskFromMessage } from './fromMessage.js';
import { handleReminderComplete, handleReminderSnooze } from './reminders.js';
import { handleAssigneePicked, handleNewTaskShortcut, handleNewTaskSubmit } from './modal.js';
import type { TaskService } from './service.js';
import { handleCompleteTaskStep, handleCreateTaskStep } from './steps.js';

/**
 * Tasks: every listener of the feature, by surface. Listeners are thin; the rules live in
 * TaskService. `tasks` is the app's one TaskService, shared with the App Home (its in-process
 * step locks only mean something if every surface goes through the same instance).
 */
export function registerTasks(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  const { client, logger, now, users, background, outbox } = svc;
  const deps = { tasks, client, logger, now, users, background, outbox };

  reg.command(COMMAND.task, handleTaskCommand(deps));

  // Task cards (cardActions.ts) and reactions, mentions (events.ts).
  reg.action<BlockAction<ButtonAction>>(ACTION.taskComplete, handleCardComplete(deps));
  reg.action<BlockAction<ButtonAction>>(ACTION.taskOpen, handleCardOpen(deps));
  reg.event(EVENT.reactionAdded, handleReactionAdded(deps));
  reg.event(EVENT.appMention, handleAppMention(deps));

  // Reminder DMs (reminders.ts; sent by reminderKinds.ts).
  reg.action<BlockAction<ButtonAction>>(ACTION.reminderComplete, handleReminderComplete(deps));
  reg.action<BlockAction<ButtonAction>>(ACTION.reminderSnoozeTomorrow, handleReminderSnooze(deps, 1));
  reg.action<BlockAction<ButtonAction>>(ACTION.reminderSnoozeWeek, handleReminderSnooze(deps, 7));

  // Workflow Builder steps (steps.ts): each acknowledges once what it did is stored.
  reg.function(FUNCTION.createTask, handleCreateTaskStep(deps), { autoAcknowledge: false });
  reg.function(FUNCTION.completeTask, handleCompleteTaskStep(deps), { autoAcknowledge: false });

  // The New task form (modal.ts), from the shortcut, /task, the App Home or a message (fromMessage.ts).
  reg.globalShortcut(SHORTCUT.newTask, handleNewTaskShortcut(deps));
  reg.messageShortcut(SHORTCUT.taskFromMessage, handleTaskFromMessage(deps));
  reg.action<BlockAction<UsersSelectAction>>(ACTION.taskFormAssignee, handleAssigneePicked(deps));
  reg.view(VIEW.newTask, handleNewTaskSubmit(deps));

  // The task details stack (details.ts).
  reg.action(ACTION.detailsComplete, handleDetailsComplete(deps));
  reg.action(ACTION.detailsEdit, handleDetailsEdit(deps));
  reg.action(ACTION.detailsComment, handleDetailsComment(deps));
  reg.action(ACTION.detailsDelete, handleDetailsDelete(deps));
  reg.view(VIEW.editTask, handleEditTaskSubmit(deps));
  reg.view(VIEW.commentTask, handleCommentTaskSubmit(deps));
  reg.view(VIEW.detailsDeleteTask, handleDeleteTaskSubmit(deps));

  // Steps a store from before the outbox still owes a completion: into the outbox (a no-op otherwise).
  svc.onStart('tasks: create_task completions a store from before the outbox still owes', async () => {
    await tasks.ensureStepEffects();
  });
}
