import type { Services } from '../../services.js';
import { ACTION, EVENT, VIEW } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import type { TaskService } from '../tasks/service.js';
import {
  handleHomeFilter,
  handleHomeNewTask,
  handleHomeOpened,
  handleHomePage,
  handleHomeRequestApproval,
  handleHomeSearchOptions,
  handleHomeSearchPick,
  handleHomeTaskComplete,
  handleHomeTaskMenu,
  handleReassignSubmit,
} from './handlers.js';
import { handleHomeSettings, handleSettingsSubmit } from './settings.js';

/**
 * The App Home's listeners (handlers.ts). Approve / Reject on the Home use the approvals
 * feature's own ACTION.approve / ACTION.reject listeners, which serve view containers.
 */
export function registerHome(reg: ListenerRegistry, svc: Services, tasks: TaskService): void {
  const { homeState, dashboard } = svc.stores;
  const homes = { homeState, outbox: svc.outbox, now: svc.now };
  const withTasks = { tasks, client: svc.client, logger: svc.logger, now: svc.now, users: svc.users, background: svc.background };

  reg.event(EVENT.appHomeOpened, handleHomeOpened(homes));

  // Which list, which page.
  reg.action(ACTION.homeFilter, handleHomeFilter(homes));
  reg.action(ACTION.homePrev, handleHomePage(homes));
  reg.action(ACTION.homeNext, handleHomePage(homes));

  // The header: New task and Request approval open those features' forms; search opens a task.
  reg.action(ACTION.homeNewTask, handleHomeNewTask(withTasks));
  reg.action(ACTION.homeRequestApproval, handleHomeRequestApproval(withTasks));
  reg.options(ACTION.homeSearch, handleHomeSearchOptions({ tasks, dashboard }));
  reg.action(ACTION.homeSearch, handleHomeSearchPick(withTasks));

  // A task's Complete button and menu, and the Reassign form the menu opens.
  reg.action(ACTION.homeTaskComplete, handleHomeTaskComplete(withTasks));
  reg.action(ACTION.homeTaskOverflow, handleHomeTaskMenu(withTasks));
  reg.view(VIEW.reassignTask, handleReassignSubmit(withTasks));

  // Settings (settings.ts): reminders for everyone, the audit webhook for workspace admins.
  const settings = { settings: svc.stores.settings, transaction: svc.stores.transaction, homeState, client: svc.client, logger: svc.logger, users: svc.users, now: svc.now, outbox: svc.outbox, config: svc.config };
  reg.action(ACTION.homeSettings, handleHomeSettings(settings));
  reg.view(VIEW.settings, handleSettingsSubmit(settings));
}
