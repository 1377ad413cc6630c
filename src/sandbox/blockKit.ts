// Block Kit validation as Slack's Web API applies it.
// Pure functions: no I/O. Used by the fake Slack for chat.*, views.* and response_url bodies.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface BlockIssue {
  /** Slack-style message, e.g. "must be less than 3001 characters" */
  message: string;
  /** JSON pointer, e.g. "/blocks/0/text/text" */
  pointer: string;
}

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  viewBytes: 250 * 1024,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  id: 255,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  staticSelectOptions: 100,
  overflowOptions: 5,
  checkboxOptions: 10,
  actionsElements: 25,
  contextElements: 10,
  inputLabel: 2000,
  inputHint: 2000,
  placeholder: 150,
  plainTextInputMaxLength: 3000,
  modalTitle: 24,
  privateMetadata: 3000,
  altText: 2000,
  url: 3000,
} as const;

export const KNOWN_BLOCK_TYPES = ['section', 'actions', 'context', 'divider', 'header', 'input', 'image', 'rich_text', 'markdown'] as const;

const SELECT_TYPES = new Set([
  'static_select', 'external_select', 'users_select', 'conversations_select', 'channels_select',
  'multi_static_select', 'multi_external_select', 'multi_users_select', 'multi_conversations_select', 'multi_channels_select',
]);
const INPUT_ONLY_TYPES = new Set([
  'plain_text_input', 'number_input', 'email_text_input', 'url_text_input', 'rich_text_input', 'file_input',
]);
const OTHER_INTERACTIVE = new Set([
  'button', 'overflow', 'datepicker', 'timepicker', 'datetimepicker', 'checkboxes', 'radio_buttons', 'workflow_button',
]);

type Obj = Record<string, unknown>;
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Collector {
  issues: BlockIssue[] = [];
  add(message: string, pointer: string): void {
    this.issues.push({ message, pointer });
  }
  maxLen(value: unknown, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max) this.add(`must be less than ${max + 1} characters`, pointer);
  }
  required(obj: Obj, key: string, pointer: string): boolean {
    if (obj[key] === undefined || obj[key] === null) {
      this.add(`missing required field: ${key}`, pointer);
      return false;
    }
    return true;
  }
  /** A composition text object; returns false when absent/invalid. */
  text(value: unknown, pointer: string, opts: { max: number; plainOnly?: boolean; required?: boolean }): void {
    if (value === undefined) {
      if (opts.required) this.add('missing required field: text', pointer);
      return;
    }
    if (!isObj(value)) {
      this.add('must be an object', pointer);
      return;
    }
    const t = value['type'];
    if (t !== 'plain_text' && t !== 'mrkdwn') {
      this.add('must be a valid enum value', `${pointer}/type`);
    } else if (opts.plainOnly && t !== 'plain_text') {
      this.add('must be a valid enum value', `${pointer}/type`);
    }
    const text = value['text'];
    if (typeof text !== 'string') {
      this.add('missing required field: text', `${pointer}/text`);
    } else if (text.length === 0) {
      this.add('must be more than 0 characters', `${pointer}/text`);
    } else {
      this.maxLen(text, opts.max, `${pointer}/text`);
    }
  }
  id(value: unknown, pointer: string): void {
    if (value === undefined) return;
    if (typeof value !== 'string') this.add('must be a string', pointer);
    else if (value.length === 0) this.add('must be more than 0 characters', pointer);
    else this.maxLen(value, LIMITS.id, pointer);
  }
}

function checkOption(c: Collector, opt: unknown, pointer: string, allowMrkdwn: boolean): void {
  if (!isObj(opt)) {
    c.add('must be an object', pointer);
    return;
  }
  c.text(opt['text'], `${pointer}/text`, { max: LIMITS.optionText, plainOnly: !allowMrkdwn, required: true });
  if (c.required(opt, 'value', `${pointer}/value`)) {
    const v = opt['value'];
    if (typeof v !== 'string') c.add('must be a string', `${pointer}/value`);
    else c.maxLen(v, LIMITS.optionValue, `${pointer}/value`);
  }
  if (opt['description'] !== undefined) c.text(opt['description'], `${pointer}/description`, { max: LIMITS.optionDescription, plainOnly: !allowMrkdwn });
}

function checkOptions(c: Collector, el: Obj, pointer: string, min: number, max: number, allowMrkdwn: boolean): void {
  const options = el['options'];
  const groups = el['option_groups'];
  if (options === undefined && groups === undefined) {
    c.add('missing required field: options', `${pointer}/options`);
    return;
  }
  if (options !== undefined) {
    if (!Array.isArray(options)) {
      c.add('must be an array', `${pointer}/options`);
      return;
    }
    if (options.length < min) c.add(`must provide at least ${min} items`, `${pointer}/options`);
    if (options.length > max) c.add(`must provide no more than ${max} items`, `${pointer}/options`);
    options.forEach((o, i) => checkOption(c, o, `${pointer}/options/${i}`, allowMrkdwn));
  }
  if (groups !== undefined) {
    if (!Array.isArray(groups)) {
      c.add('must be an array', `${pointer}/option_groups`);
      return;
    }
    if (groups.length > 100) c.add('must provide no more than 100 items', `${pointer}/option_groups`);
    groups.forEach((g, gi) => {
      const gp = `${pointer}/option_groups/${gi}`;
      if (!isObj(g)) return c.add('must be an object', gp);
      c.text(g['label'], `${gp}/label`, { max: LIMITS.optionText, plainOnly: true, required: true });
      const go = g['options'];
      if (!Array.isArray(go)) return c.add('must be an array', `${gp}/options`);
      if (go.length > 100) c.add('must provide no more than 100 items', `${gp}/options`);
      go.forEach((o, i) => checkOption(c, o, `${gp}/options/${i}`, false));
    });
  }
}

function checkElement(c: Collector, el: unknown, pointer: string, where: 'actions' | 'section' | 'input' | 'context'): void {
  if (!isObj(el)) {
    c.add('must be an object', pointer);
    return;
  }
  const type = el['type'];
  if (typeof type !== 'string') {
    c.add('missing required field: type', `${pointer}/type`);
    return;
  }
  if (where === 'context') {
    if (type === 'plain_text' || type === 'mrkdwn') {
      c.text(el, pointer, { max: LIMITS.sectionText, required: true });
    } else if (type === 'image') {
      if (el['image_url'] === undefined && el['slack_file'] === undefined) c.add('missing required field: image_url', `${pointer}/image_url`);
      c.maxLen(el['image_url'], LIMITS.url, `${pointer}/image_url`);
      if (c.required(el, 'alt_text', `${pointer}/alt_text`)) c.maxLen(el['alt_text'], LIMITS.altText, `${pointer}/alt_text`);
    } else {
      c.add('must be a valid enum value', `${pointer}/type`);
    }
    return;
  }
  const known = SELECT_TYPES.has(type) || INPUT_ONLY_TYPES.has(type) || OTHER_INTERACTIVE.has(type) || (type === 'image' && where === 'section');
  if (!known) {
    c.add('must be a valid enum value', `${pointer}/type`);
    return;
  }
  if (INPUT_ONLY_TYPES.has(type) && where !== 'input') {
    c.add('must be a valid enum value', `${pointer}/type`);
    return;
  }
  c.id(el['action_id'], `${pointer}/action_id`);
  if (el['placeholder'] !== undefined) c.text(el['placeholder'], `${pointer}/placeholder`, { max: LIMITS.placeholder, plainOnly: true });
  switch (type) {
    case 'image':
      if (el['image_url'] === undefined && el['slack_file'] === undefined) c.add('missing required field: image_url', `${pointer}/image_url`);
      if (c.required(el, 'alt_text', `${pointer}/alt_text`)) c.maxLen(el['alt_text'], LIMITS.altText, `${pointer}/alt_text`);
      break;
    case 'button':
      c.text(el['text'], `${pointer}/text`, { max: LIMITS.buttonText, plainOnly: true, required: true });
      c.maxLen(el['value'], LIMITS.buttonValue, `${pointer}/value`);
      c.maxLen(el['url'], LIMITS.url, `${pointer}/url`);
      if (el['style'] !== undefined && el['style'] !== 'primary' && el['style'] !== 'danger') c.add('must be a valid enum value', `${pointer}/style`);
      break;
    case 'overflow':
      checkOptions(c, el, pointer, 1, LIMITS.overflowOptions, false);
      break;
    case 'static_select':
    case 'multi_static_select':
      checkOptions(c, el, pointer, 1, LIMITS.staticSelectOptions, false);
      if (el['initial_option'] !== undefined) checkOption(c, el['initial_option'], `${pointer}/initial_option`, false);
      break;
    case 'checkboxes':
    case 'radio_buttons':
      checkOptions(c, el, pointer, 1, LIMITS.checkboxOptions, true);
      break;
    case 'plain_text_input': {
      const ml = el['max_length'];
      if (ml !== undefined && (typeof ml !== 'number' || ml > LIMITS.plainTextInputMaxLength || ml < 1)) c.add(`must be less than ${LIMITS.plainTextInputMaxLength + 1}`, `${pointer}/max_length`);
      const mn = el['min_length'];
      if (mn !== undefined && (typeof mn !== 'number' || mn > LIMITS.plainTextInputMaxLength || mn < 0)) c.add(`must be less than ${LIMITS.plainTextInputMaxLength + 1}`, `${pointer}/min_length`);
      c.maxLen(el['initial_value'], LIMITS.plainTextInputMaxLength, `${pointer}/initial_value`);
      break;
    }
    default:
      break;
  }
}

function checkBlock(c: Collector, block: unknown, pointer: string, blockIds: Map<string, string>): void {
  if (!isObj(block)) {
    c.add('must be an object', pointer);
    return;
  }
  const type = block['type'];
  if (typeof type !== 'string' || !(KNOWN_BLOCK_TYPES as readonly string[]).includes(type)) {
    c.add('must be a valid enum value', `${pointer}/type`);
    return;
  }
  const blockId = block['block_id'];
  c.id(blockId, `${pointer}/block_id`);
  if (typeof blockId === 'string') {
    if (blockIds.has(blockId)) c.add(`duplicate block_id: ${blockId}`, `${pointer}/block_id`);
    else blockIds.set(blockId, pointer);
  }
  switch (type) {
    case 'section': {
      const text = block['text'];
      const fields = block['fields'];
      if (text === undefined && fields === undefined) c.add('must provide either text or fields', pointer);
      if (text !== undefined) c.text(text, `${pointer}/text`, { max: LIMITS.sectionText });
      if (fields !== undefined) {
        if (!Array.isArray(fields)) c.add('must be an array', `${pointer}/fields`);
        else {
          if (fields.length > LIMITS.sectionFields) c.add(`must provide no more than ${LIMITS.sectionFields} items`, `${pointer}/fields`);
          fields.forEach((f, i) => c.text(f, `${pointer}/fields/${i}`, { max: LIMITS.sectionFieldText, required: true }));
        }
      }
      if (block['accessory'] !== undefined) checkElement(c, block['accessory'], `${pointer}/accessory`, 'section');
      break;
    }
    case 'actions': {
      const els = block['elements'];
      if (!Array.isArray(els)) {
        c.add('missing required field: elements', `${pointer}/elements`);
        break;
      }
      if (els.length === 0) c.add('must provide at least 1 items', `${pointer}/elements`);
      if (els.length > LIMITS.actionsElements) c.add(`must provide no more than ${LIMITS.actionsElements} items`, `${pointer}/elements`);
      const seen = new Set<string>();
      els.forEach((el, i) => {
        checkElement(c, el, `${pointer}/elements/${i}`, 'actions');
        const aid = isObj(el) ? el['action_id'] : undefined;
        if (typeof aid === 'string') {
          if (seen.has(aid)) c.add(`duplicate action_id: ${aid}`, `${pointer}/elements/${i}/action_id`);
          seen.add(aid);
        }
      });
      break;
    }
    case 'context': {
      const els = block['elements'];
      if (!Array.isArray(els)) {
        c.add('missing required field: elements', `${pointer}/elements`);
        break;
      }
      if (els.length === 0) c.add('must provide at least 1 items', `${pointer}/elements`);
      if (els.length > LIMITS.contextElements) c.add(`must provide no more than ${LIMITS.contextElements} items`, `${pointer}/elements`);
      els.forEach((el, i) => checkElement(c, el, `${pointer}/elements/${i}`, 'context'));
      break;
    }
    case 'divider':
      break;
    case 'header':
      c.text(block['text'], `${pointer}/text`, { max: LIMITS.headerText, plainOnly: true, required: true });
      break;
    case 'input':
      c.text(block['label'], `${pointer}/label`, { max: LIMITS.inputLabel, plainOnly: true, required: true });
      if (block['hint'] !== undefined) c.text(block['hint'], `${pointer}/hint`, { max: LIMITS.inputHint, plainOnly: true });
      if (block['element'] === undefined) c.add('missing required field: element', `${pointer}/element`);
      else checkElement(c, block['element'], `${pointer}/element`, 'input');
      break;
    case 'image':
      if (block['image_url'] === undefined && block['slack_file'] === undefined) c.add('missing required field: image_url', `${pointer}/image_url`);
      c.maxLen(block['image_url'], LIMITS.url, `${pointer}/image_url`);
      if (c.required(block, 'alt_text', `${pointer}/alt_text`)) c.maxLen(block['alt_text'], LIMITS.altText, `${pointer}/alt_text`);
      if (block['title'] !== undefined) c.text(block['title'], `${pointer}/title`, { max: LIMITS.altText, plainOnly: true });
      break;
    case 'rich_text':
      if (!Array.isArray(block['elements'])) c.add('missing required field: elements', `${pointer}/elements`);
      break;
    case 'markdown':
      if (typeof block['text'] !== 'string' || block['text'].length === 0) c.add('missing required field: text', `${pointer}/text`);
      else c.maxLen(block['text'], 12000, `${pointer}/text`);
      break;
    default:
      break;
  }
}

/** Validate a blocks array. `base` is the JSON pointer of the array ("/blocks" or "/view/blocks"). */
export function validateBlocks(blocks: unknown, opts: { maxBlocks: number; base: string }): BlockIssue[] {
  const c = new Collector();
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) {
    c.add('must be an array', opts.base);
    return c.issues;
  }
  if (blocks.length > opts.maxBlocks) c.add(`must provide no more than ${opts.maxBlocks} items`, opts.base);
  const ids = new Map<string, string>();
  blocks.forEach((b, i) => checkBlock(c, b, `${opts.base}/${i}`, ids));
  return c.issues;
}

/** Message text over 40000 characters: Slack answers `msg_too_long`. */
export function messageTextTooLong(text: unknown): boolean {
  return typeof text === 'string' && text.length > LIMITS.messageText;
}

/** Validate message blocks (chat.postMessage / chat.update / chat.postEphemeral / response_url). */
export function validateMessage(args: { blocks?: unknown }): BlockIssue[] {
  return validateBlocks(args.blocks, { maxBlocks: LIMITS.messageBlocks, base: '/blocks' });
}

export type ViewValidation = { ok: true } | { ok: false; tooLarge: true } | { ok: false; tooLarge: false; issues: BlockIssue[] };

/** Validate a view (modal or home). `expectType` restricts the type (views.publish needs "home"). */
export function validateView(view: unknown, expectType?: 'modal' | 'home'): ViewValidation {
  const c = new Collector();
  const base = '/view';
  if (!isObj(view)) {
    c.add('must be an object', base);
    return { ok: false, tooLarge: false, issues: c.issues };
  }
  if (Buffer.byteLength(JSON.stringify(view), 'utf8') > LIMITS.viewBytes) return { ok: false, tooLarge: true };
  const type = view['type'];
  if (type !== 'modal' && type !== 'home') c.add('must be a valid enum value', `${base}/type`);
  else if (expectType && type !== expectType) c.add('must be a valid enum value', `${base}/type`);
  if (type === 'modal') {
    c.text(view['title'], `${base}/title`, { max: LIMITS.modalTitle, plainOnly: true, required: true });
    if (view['submit'] !== undefined) c.text(view['submit'], `${base}/submit`, { max: LIMITS.modalTitle, plainOnly: true });
    if (view['close'] !== undefined) c.text(view['close'], `${base}/close`, { max: LIMITS.modalTitle, plainOnly: true });
    const blocks = view['blocks'];
    if (Array.isArray(blocks) && view['submit'] === undefined && blocks.some((b) => isObj(b) && b['type'] === 'input')) {
      c.add('must provide submit when using input blocks', `${base}/submit`);
    }
  }
  if (view['private_metadata'] !== undefined) {
    if (typeof view['private_metadata'] !== 'string') c.add('must be a string', `${base}/private_metadata`);
    else c.maxLen(view['private_metadata'], LIMITS.privateMetadata, `${base}/private_metadata`);
  }
  c.id(view['callback_id'], `${base}/callback_id`);
  c.id(view['external_id'], `${base}/external_id`);
  if (view['blocks'] === undefined) c.add('missing required field: blocks', `${base}/blocks`);
  const issues = [...c.issues, ...validateBlocks(view['blocks'], { maxBlocks: LIMITS.viewBlocks, base: `${base}/blocks` })];
  return issues.length === 0 ? { ok: true } : { ok: false, tooLarge: false, issues };
}

/** Slack's chat.* error body for invalid blocks. */
export function chatBlocksError(issues: BlockIssue[]): { ok: false; error: 'invalid_blocks'; errors: string[]; response_metadata: { messages: string[] } } {
  const errors = issues.map((i) => `${i.message} [json-pointer:${i.pointer}]`);
  return { ok: false, error: 'invalid_blocks', errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } };
}

/** Slack's views.* error body for invalid views. */
export function viewsArgumentsError(issues: BlockIssue[]): { ok: false; error: 'invalid_arguments'; response_metadata: { messages: string[] } } {
  return { ok: false, error: 'invalid_arguments', response_metadata: { messages: issues.map((i) => `[ERROR] ${i.message} [json-pointer:${i.pointer}]`) } };
}
