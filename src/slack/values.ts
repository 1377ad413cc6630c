/**
 * A row id carried back to us by Slack: a button or option value, or a number in private_metadata.
 * We write ids as plain decimal digits (`String(id)`), so only those are read back: `0x1`, ` 1 `,
 * `1e0`, `-1` or a number past 2^53 are not ours and name nothing.
 */
export function rowIdOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string' || !/^[1-9]\d{0,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Reading what Slack sends back, by type: a payload field of the wrong type (a number, an object,
 * an array where a string belongs) reads as missing, never as a value the code would then call
 * string methods on. Listeners turn "missing" into their usual validation error before the ack.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` when it is a plain object (not null, not an array), else undefined. */
export function objectOf(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

/** `v` when it is a string, else undefined. */
export function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `v` when it is an array of strings, else undefined (one stray entry makes the whole list unreadable). */
export function stringsOf(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** The selected option's value of a select or overflow (`selected_option.value`). */
export function selectedOptionValue(holder: unknown): string | undefined {
  return isObj(holder) && isObj(holder['selected_option']) ? stringOf(holder['selected_option']['value']) : undefined;
}

/** One input's state in a submitted view: `view.state.values[block][action]`, when it is an object. */
function inputState(values: unknown, block: string, action: string): Obj | undefined {
  const b = isObj(values) ? values[block] : undefined;
  const a = isObj(b) ? b[action] : undefined;
  return isObj(a) ? a : undefined;
}

/** Typed reads of one input of a submitted view (plain_text_input, users_select, datepicker, …). */
export function viewInput(values: unknown, block: string, action: string = block) {
  const s = inputState(values, block, action);
  return {
    /** plain_text_input `value`. */
    text: () => stringOf(s?.['value']),
    selectedUser: () => stringOf(s?.['selected_user']),
    selectedUsers: () => stringsOf(s?.['selected_users']),
    selectedDate: () => stringOf(s?.['selected_date']),
    selectedConversation: () => stringOf(s?.['selected_conversation']) ?? stringOf(s?.['selected_channel']),
    selectedOption: () => selectedOptionValue(s),
  };
}

/**
 * The object our `private_metadata` JSON holds, or undefined. Only a string is parsed: JSON.parse
 * would turn a number or an array of one string into text first, and read that.
 */
export function metadataObject(raw: unknown): Obj | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObj(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The workspace a request acts in, read as Bolt reads `context.teamId`, whatever the payload:
 * - events and custom steps: the installation the event was delivered for
 *   (`authorizations[0].team_id`), else the top-level `team_id` (in a Slack Connect channel the
 *   event may have happened in the other organisation's workspace);
 * - view submissions: `view.app_installed_team_id` (a modal opened from a Slack Connect channel),
 *   else as interactions;
 * - interactions, shortcuts and options: `team.id` (null on org-wide installs, then
 *   `user.team_id`), else `view.team_id`; commands: the top-level `team_id`.
 * '' when none is given.
 */
export function teamIdOf(body: unknown): string {
  const b = objectOf(body);
  if (b?.['type'] === 'event_callback') {
    const authorizations = b['authorizations'];
    const installed = Array.isArray(authorizations) ? stringOf(objectOf(authorizations[0])?.['team_id']) : undefined;
    return installed ?? stringOf(b['team_id']) ?? '';
  }
  const team = objectOf(b?.['team']);
  const user = objectOf(b?.['user']);
  const view = objectOf(b?.['view']);
  const isViewPayload = b?.['type'] === 'view_submission' || b?.['type'] === 'view_closed';
  const installed = isViewPayload ? stringOf(view?.['app_installed_team_id']) : undefined;
  return installed ?? stringOf(team?.['id']) ?? stringOf(user?.['team_id']) ?? stringOf(view?.['team_id']) ?? stringOf(b?.['team_id']) ?? '';
}
