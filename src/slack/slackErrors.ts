/**
 * What a person is told when a Slack Web API call failed: one sentence saying what to do, never
 * Slack's error code (`missing_scope` means nothing to most people). Logs keep the code.
 */

/** Slack's error code on a failed Web API call (`not_in_channel`, …), if it was one. */
export function slackErrorCode(err: unknown): string | undefined {
  const code = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
  return typeof code === 'string' ? code : undefined;
}

const REINSTALL = 'Tasklane is missing a permission in this workspace; ask an admin to reinstall the app.';
const RECONNECT = 'Tasklane is not connected to this workspace properly; ask an admin to reinstall the app.';
const CHANNEL = 'I can’t post in that channel; invite @Tasklane to it or pick another.';
const TOO_SLOW = 'That took too long; please try again.';
const BUSY = 'Slack is busy; try again in a minute.';
const SLACK_TROUBLE = 'Slack had a problem; please try again in a moment.';
const REFUSED_CONTENT = 'Slack could not show what Tasklane sent; please try again, and tell an admin if it keeps happening.';
const NO_SUCH_PERSON = 'Slack doesn’t know that person; pick someone else.';
const DEACTIVATED = 'That person’s account is deactivated; pick someone else.';

/** Slack's error codes (from Slack's method pages) and what to do about each. */
const WHAT_TO_DO: Readonly<Record<string, string>> = {
  missing_scope: REINSTALL,
  no_permission: REINSTALL,
  not_allowed_token_type: REINSTALL,
  restricted_action: 'This workspace’s settings don’t allow that; ask an admin.',
  invalid_auth: RECONNECT,
  not_authed: RECONNECT,
  token_revoked: RECONNECT,
  token_expired: RECONNECT,
  team_access_not_granted: RECONNECT,
  channel_not_found: CHANNEL,
  not_in_channel: CHANNEL,
  is_archived: 'That channel is archived; pick another.',
  expired_trigger_id: TOO_SLOW,
  exchanged_trigger_id: TOO_SLOW,
  invalid_trigger_id: TOO_SLOW,
  ratelimited: BUSY,
  rate_limited: BUSY,
  user_not_found: NO_SUCH_PERSON,
  users_not_found: NO_SUCH_PERSON,
  user_not_visible: NO_SUCH_PERSON,
  cannot_dm_bot: 'That’s a bot, and bots can’t get direct messages; pick a person.',
  messages_tab_disabled: 'Tasklane can’t send that person direct messages; ask an admin to turn on the app’s Messages tab, or pick someone else.',
  user_disabled: DEACTIVATED,
  account_inactive: DEACTIVATED,
  msg_too_long: 'That was too long for a Slack message; shorten it and try again.',
  no_text: REFUSED_CONTENT,
  invalid_blocks: REFUSED_CONTENT,
  invalid_blocks_format: REFUSED_CONTENT,
  invalid_arguments: REFUSED_CONTENT,
  view_too_large: REFUSED_CONTENT,
  message_not_found: 'That message is no longer in Slack.',
  cant_update_message: 'That message can no longer be changed.',
  not_found: 'That window was closed in Slack; open it again.',
  hash_conflict: 'That window changed meanwhile; please try again.',
  push_limit_reached: 'Too many windows are open; close one and try again.',
  internal_error: SLACK_TROUBLE,
  fatal_error: SLACK_TROUBLE,
  service_unavailable: SLACK_TROUBLE,
  request_timeout: SLACK_TROUBLE,
};

/**
 * The sentence for a failed Slack call `err` (or an error code): what to do, without the code.
 * A failure with no code (Slack did not answer) and a code not listed get a general sentence.
 */
export function slackFailureText(errOrCode: unknown): string {
  const code = typeof errOrCode === 'string' ? errOrCode : slackErrorCode(errOrCode);
  if (code === undefined) return 'Slack did not answer; please try again in a moment.';
  return WHAT_TO_DO[code] ?? 'Slack refused it; please try again, and tell an admin if it keeps happening.';
}

/** Slack's answers when a trigger id (3 s, single use) can no longer open a view. */
const STALE_TRIGGER = new Set(['expired_trigger_id', 'exchanged_trigger_id', 'invalid_trigger_id']);

function isStaleTrigger(err: unknown): boolean {
  return STALE_TRIGGER.has(slackErrorCode(err) ?? '');
}

/** What the user is told when Slack refused to open `what` ("the New task form"): a trigger too old, mostly. */
export function couldNotOpenText(what: string, err: unknown): string {
  return isStaleTrigger(err) ? `Slack took too long to open ${what}, so it did not open. Please try again.` : `I couldn’t open ${what}. ${slackFailureText(err)}`;
}
