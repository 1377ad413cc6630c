/**
 * Every id Slack routes on. COMMAND, SHORTCUT, FUNCTION and EVENT must match manifest.json
 * (test/foundation/registry.test.ts proves it); ACTION/VIEW ids are ours alone.
 * Never repeat these as string literals elsewhere.
 */
export const COMMAND = { task: '/task' } as const;

export const SHORTCUT = {
  newTask: 'create_task',
  requestApproval: 'request_approval',
  taskFromMessage: 'task_from_message',
} as const;

export const FUNCTION = {
  requestApproval: 'request_approval',
  createTask: 'create_task',
  completeTask: 'complete_task',
} as const;

export const EVENT = {
  appHomeOpened: 'app_home_opened',
  appMention: 'app_mention',
  reactionAdded: 'reaction_added',
  functionExecuted: 'function_executed',
} as const;

export const ACTION = {
  approve: 'approval_approve',
  reject: 'approval_reject',
  approveWithComment: 'approval_approve_with_comment',
  taskComplete: 'task_complete',
  taskOpen: 'task_open',
  homeNewTask: 'home_new_task',
  homeRequestApproval: 'home_request_approval',
  homeSearch: 'home_search',
  homeFilter: 'home_filter',
  homePrev: 'home_prev',
  homeNext: 'home_next',
  homeTaskOverflow: 'home_task_overflow',
  /** The Home's Complete button (ACTION.taskComplete belongs to task cards in messages). */
  homeTaskComplete: 'home_task_complete',
  detailsEdit: 'details_edit',
  detailsComment: 'details_comment',
  detailsComplete: 'details_complete',
  detailsDelete: 'details_delete',
  /** The New/Edit task form's assignee select (dispatch_action): warms the user cache for the submit. */
  taskFormAssignee: 'task_assignee',
  /** A due-date reminder or overdue nudge (a DM): complete the task, or move its due date. */
  reminderComplete: 'reminder_complete',
  reminderSnoozeTomorrow: 'reminder_snooze_tomorrow',
  reminderSnoozeWeek: 'reminder_snooze_week',
  /** The Home's Settings button: the Settings modal. */
  homeSettings: 'home_settings',
} as const;

export const VIEW = {
  rejectReason: 'approval_reject_reason',
  approveComment: 'approval_approve_comment',
  newTask: 'task_new',
  editTask: 'task_edit',
  taskDetails: 'task_details',
  commentTask: 'task_comment',
  /** The delete confirmation (from the task details, or the App Home menu); its submit clears the stack. */
  detailsDeleteTask: 'task_details_delete_confirm',
  /** A placeholder modal opened at once with a fresh trigger id, then replaced by views.update. */
  loading: 'tasklane_loading',
  reassignTask: 'task_reassign',
  requestApproval: 'approval_request',
  /** App Home → Settings: reminders on/off and hour; the workspace's audit webhook for admins. */
  settings: 'home_settings_modal',
} as const;
