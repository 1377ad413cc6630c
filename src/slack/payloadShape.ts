/**
 * The minimum shape of what Slack sends, checked once at the door
 * so that neither Bolt nor a listener meets a payload without the fields they read. Slack always
 * sends these fields; a signed request without them is malformed and gets a 400, instead
 * of a TypeError deep in Bolt (a 500) or in a listener (an error after the ack).
 *
 * Only what the code relies on is required: ids, types and the containers they live in. Anything
 * else (unknown payload types, extra fields, null `team` of org-wide installs) is let through.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** Why `body` is not a payload Slack would send, or undefined when it is fine to hand to Bolt. */
export function malformedReason(body: unknown): string | undefined {
  if (!isObj(body)) return `the body is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}, not an object`;
  if (body['ssl_check'] !== undefined || body['type'] === 'url_verification') return undefined;
  if (body['command'] !== undefined) return slashCommand(body);
  switch (body['type']) {
    case 'event_callback':
      return eventCallback(body);
    case 'block_actions':
      return blockActions(body);
    case 'block_suggestion':
      return user(body) ?? (isId(body['action_id']) ? undefined : 'no action_id') ?? (isText(body['value']) ? undefined : 'no value');
    case 'view_submission':
    case 'view_closed':
      return user(body) ?? view(body['view'], body['type'] === 'view_submission');
    case 'shortcut':
      return user(body) ?? (isId(body['callback_id']) ? undefined : 'no callback_id');
    case 'message_action':
      return (
        user(body) ??
        (isId(body['callback_id']) ? undefined : 'no callback_id') ??
        (isObj(body['channel']) && isId(body['channel']['id']) ? undefined : 'no channel') ??
        (isObj(body['message']) ? undefined : 'no message')
      );
    default:
      return undefined;
  }
}

function slashCommand(b: Obj): string | undefined {
  if (!isId(b['command'])) return 'no command';
  if (!isId(b['user_id'])) return 'no user_id';
  if (!isId(b['team_id'])) return 'no team_id';
  if (!isText(b['text'])) return 'no text';
  return undefined;
}

function user(b: Obj): string | undefined {
  return isObj(b['user']) && isId(b['user']['id']) ? undefined : 'no user';
}

function blockActions(b: Obj): string | undefined {
  const actions = b['actions'];
  if (!Array.isArray(actions) || actions.length === 0) return user(b) ?? 'no actions';
  if (!actions.every((a) => isObj(a) && isId(a['action_id']))) return 'an action without action_id';
  if (!isObj(b['container'])) return 'no container';
  return user(b);
}

function view(v: unknown, submitted: boolean): string | undefined {
  if (!isObj(v) || !isId(v['id'])) return 'no view';
  if (!isText(v['callback_id'])) return 'no view callback_id';
  if (submitted && !(isObj(v['state']) && isObj(v['state']['values']))) return 'no view state';
  return undefined;
}

/** Per event type, the fields listeners read (events we do not handle are let through). */
const EVENT_FIELDS: Record<string, (e: Obj) => string | undefined> = {
  app_home_opened: (e) => (isId(e['user']) ? undefined : 'no user'),
  reaction_added: (e) =>
    isId(e['user']) && isText(e['reaction']) && isObj(e['item']) && isText(e['item']['type']) ? undefined : 'no user, reaction or item',
  app_mention: (e) => (isId(e['channel']) && isText(e['ts']) ? undefined : 'no channel or ts'),
  function_executed: (e) =>
    isObj(e['function']) && isId(e['function']['callback_id']) && isId(e['function_execution_id']) && isObj(e['inputs'])
      ? undefined
      : 'no function, function_execution_id or inputs',
};

function eventCallback(b: Obj): string | undefined {
  if (!isId(b['team_id'])) return 'no team_id';
  const event = b['event'];
  if (!isObj(event) || !isId(event['type'])) return 'no event type';
  return EVENT_FIELDS[event['type']]?.(event);
}
