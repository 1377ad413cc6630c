/**
 * Block Kit and mrkdwn to HTML, for the sandbox page that plays the Slack client. Pure string
 * functions with no Node or DOM imports, so the browser loads this module as it is compiled and
 * tests call it directly.
 *
 * Safety: every piece of text from a payload is HTML-escaped where it is placed; links keep only
 * http(s) and mailto targets; nothing from a payload becomes markup, an attribute name or a tag.
 * Interactive elements carry `data-*` attributes (action id, block id, value) that the page reads
 * to build the payload Slack would send.
 */

/** What the renderer needs to know about the workspace to show names instead of ids. */
export interface RenderContext {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
  /** People offered by user selects. */
  users?: { id: string; name: string }[];
  /** Channels offered by conversation selects. */
  channels?: { id: string; name: string }[];
  /** IANA time zone for `<!date^…>` (default UTC). */
  timeZone?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Slack's own escaping of `&`, `<` and `>` in message text, undone. */
function decodeSlackEntities(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_m, e: string) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  warning: '⚠️',
  x: '❌',
  wastebasket: '🗑️',
  tada: '🎉',
  sunny: '☀️',
  speech_balloon: '💬',
  sparkles: '✨',
  red_circle: '🔴',
  raised_hand: '✋',
  outbox_tray: '📤',
  memory: '📝',
  memo: '📝',
  large_orange_circle: '🟠',
  large_blue_circle: '🔵',
  hourglass_flowing_sand: '⏳',
  calendar: '📆',
  ballot_box_with_check: '☑️',
  zap: '⚡',
  thumbsup: '👍',
  '+1': '👍',
};

function emojify(escapedHtml: string): string {
  return escapedHtml.replace(/:([a-z0-9_+-]{1,40}):/g, (m, name: string) => EMOJI[name] ?? m);
}

// Placeholders stand for rendered pieces while formatting is applied around them; they use
// private-use characters, which are taken out of the input first so no input can forge one.
const PH_OPEN = '\uE000';
const PH_CLOSE = '\uE001';
const PH_PATTERN = /\uE000(\d+)\uE001/g;
const HAS_PH = /\uE000\d+\uE001/;

/** Slack's mrkdwn as HTML: bold, italic, strike, code, code blocks, quotes, links, mentions, dates, entities. */
export function renderMrkdwn(text: string, ctx: RenderContext): string {
  const pieces: string[] = [];
  const hold = (html: string) => `${PH_OPEN}${pieces.push(html) - 1}${PH_CLOSE}`;
  let s = text.replace(/[\uE000\uE001]/g, '');

  // Code first: nothing inside it is formatted or linked.
  s = s.replace(/```([\s\S]*?)```/g, (_m, code: string) => hold(`<pre>${escapeHtml(decodeSlackEntities(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_m, code: string) => hold(`<code>${escapeHtml(decodeSlackEntities(code))}</code>`));
  // Control sequences: <@U…>, <#C…>, <!…>, <url|label>. A literal "<" in user text arrives as &lt;.
  s = s.replace(/<([^<>\n]{1,2000})>/g, (_m, inner: string) => hold(controlSequence(inner, ctx)));

  let html = escapeHtml(decodeSlackEntities(s));
  html = html.replace(/(^|[\s(>])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s.,;:!?)<])/g, '$1<b>$2</b>');
  html = html.replace(/(^|[\s(>])_(?=\S)([^_\n]*?\S)_(?=$|[\s.,;:!?)<])/g, '$1<i>$2</i>');
  html = html.replace(/(^|[\s(>])~(?=\S)([^~\n]*?\S)~(?=$|[\s.,;:!?)<])/g, '$1<s>$2</s>');
  html = html.replace(/^&gt; ?(.*)$/gm, '<blockquote>$1</blockquote>');
  html = emojify(html).replace(/\n/g, '<br>');
  // Pieces may hold pieces (a label inside a link): substitute until none is left.
  while (HAS_PH.test(html)) html = html.replace(PH_PATTERN, (_m, i: string) => pieces[Number(i)] ?? '');
  return html;
}

function controlSequence(inner: string, ctx: RenderContext): string {
  const [target = '', ...rest] = inner.split('|');
  const label = rest.join('|');
  if (/^@[UW][A-Z0-9]+$/.test(target)) {
    const id = target.slice(1);
    return `<span class="mention" data-user="${escapeHtml(id)}">@${escapeHtml(ctx.userName(id) ?? (decodeSlackEntities(label) || id))}</span>`;
  }
  if (/^#[CGD][A-Z0-9]+$/.test(target)) {
    const id = target.slice(1);
    return `<span class="mention channel">#${escapeHtml(ctx.channelName(id) ?? (decodeSlackEntities(label) || id))}</span>`;
  }
  if (target.startsWith('!date^')) return renderDate(target, label, ctx);
  if (/^!(here|channel|everyone)$/.test(target)) return `<span class="mention broadcast">@${target.slice(1)}</span>`;
  if (target.startsWith('!')) return escapeHtml(decodeSlackEntities(label || target));
  const url = decodeSlackEntities(target);
  const shown = escapeHtml(decodeSlackEntities(label || target));
  if (/^(https?:\/\/|mailto:)/i.test(url)) return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${shown}</a>`;
  return shown;
}

/** `<!date^1700000000^{date_short_pretty} at {time}|fallback>` in the reader's time zone. */
function renderDate(target: string, fallback: string, ctx: RenderContext): string {
  const [, seconds = '', format = ''] = target.split('^');
  const ms = Number(seconds) * 1000;
  if (!/^\d{1,12}$/.test(seconds) || !Number.isFinite(ms)) return escapeHtml(decodeSlackEntities(fallback));
  const at = new Date(ms);
  const zone = ctx.timeZone ?? 'UTC';
  const fmt = (o: Intl.DateTimeFormatOptions) => {
    try {
      return new Intl.DateTimeFormat('en-US', { ...o, timeZone: zone }).format(at);
    } catch {
      return new Intl.DateTimeFormat('en-US', { ...o, timeZone: 'UTC' }).format(at);
    }
  };
  const tokens: Record<string, string> = {
    date_num: fmt({ year: 'numeric', month: '2-digit', day: '2-digit' }),
    date: fmt({ year: 'numeric', month: 'long', day: 'numeric' }),
    date_short: fmt({ year: 'numeric', month: 'short', day: 'numeric' }),
    date_long: fmt({ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }),
    date_pretty: fmt({ year: 'numeric', month: 'long', day: 'numeric' }),
    date_short_pretty: fmt({ year: 'numeric', month: 'short', day: 'numeric' }),
    date_long_pretty: fmt({ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }),
    time: fmt({ hour: 'numeric', minute: '2-digit' }),
    time_secs: fmt({ hour: 'numeric', minute: '2-digit', second: '2-digit' }),
  };
  const text = decodeSlackEntities(format).replace(/\{([a-z_]+)\}/g, (m, name: string) => tokens[name] ?? m);
  return `<time datetime="${escapeHtml(at.toISOString())}">${escapeHtml(text)}</time>`;
}

/** A text object: mrkdwn rendered, plain_text escaped (emoji shortcodes shown when `emoji` is not false). */
export function renderText(t: unknown, ctx: RenderContext): string {
  if (!isObj(t)) return '';
  const text = str(t['text']);
  if (t['type'] === 'mrkdwn') return renderMrkdwn(text, ctx);
  const html = escapeHtml(text).replace(/\n/g, '<br>');
  return t['emoji'] === false ? html : emojify(html);
}

function attrs(values: Record<string, string | undefined>): string {
  return Object.entries(values)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join('');
}

function optionText(o: unknown, ctx: RenderContext): string {
  return isObj(o) ? renderText(o['text'], ctx) : '';
}

function optionValue(o: unknown): string {
  return isObj(o) ? str(o['value']) : '';
}

function options(el: Obj): Obj[] {
  const flat = Array.isArray(el['options']) ? el['options'] : [];
  const grouped = Array.isArray(el['option_groups']) ? el['option_groups'].flatMap((g) => (isObj(g) && Array.isArray(g['options']) ? g['options'] : [])) : [];
  return [...flat, ...grouped].filter(isObj);
}

/** An interactive element. `blockId` ties it to its block; in an input block, `input` marks it a form field. */
export function renderElement(el: unknown, blockId: string, ctx: RenderContext, input = false): string {
  if (!isObj(el)) return '';
  const type = str(el['type']);
  const actionId = str(el['action_id']);
  const common = { 'data-type': type, 'data-action-id': actionId, 'data-block-id': blockId, ...(input ? { 'data-input': '1' } : {}) };
  const placeholder = isObj(el['placeholder']) ? str(el['placeholder']['text']) : undefined;
  switch (type) {
    case 'button': {
      const style = el['style'] === 'primary' || el['style'] === 'danger' ? ` btn-${el['style']}` : '';
      const url = str(el['url']);
      const confirm = isObj(el['confirm']) ? renderText(el['confirm']['text'], ctx) : undefined;
      return `<button type="button" class="btn${style}"${attrs({ ...common, 'data-value': str(el['value']), 'data-url': /^https?:\/\//i.test(url) ? url : undefined, 'data-confirm': confirm })}>${renderText(el['text'], ctx)}</button>`;
    }
    case 'overflow':
      return `<select class="overflow"${attrs({ ...common, 'aria-label': 'More actions' })}><option value="">⋯</option>${options(el)
        .map((o) => `<option${attrs({ value: optionValue(o) })}>${optionText(o, ctx)}</option>`)
        .join('')}</select>`;
    case 'static_select': {
      const initial = optionValue(el['initial_option']);
      return `<select${attrs(common)}><option value="">${escapeHtml(placeholder ?? 'Select an option')}</option>${options(el)
        .map((o) => `<option${attrs({ value: optionValue(o), ...(optionValue(o) === initial && initial !== '' ? { selected: 'selected' } : {}) })}>${optionText(o, ctx)}</option>`)
        .join('')}</select>`;
    }
    case 'checkboxes': {
      const initial = new Set((Array.isArray(el['initial_options']) ? el['initial_options'] : []).map(optionValue));
      return `<span class="checkboxes"${attrs(common)}>${options(el)
        .map((o) => `<label><input type="checkbox"${attrs({ value: optionValue(o), 'data-label': isObj(o['text']) ? str(o['text']['text']) : undefined, ...(initial.has(optionValue(o)) ? { checked: 'checked' } : {}) })}> ${optionText(o, ctx)}</label>`)
        .join('')}</span>`;
    }
    case 'external_select': {
      const initial = el['initial_option'];
      return `<span class="external"${attrs(common)}><input type="search" autocomplete="off"${attrs({ placeholder: placeholder ?? 'Type to search', 'data-min-query-length': str(el['min_query_length']) || undefined })}><span class="external-options" role="listbox"></span><input type="hidden" class="external-value"${attrs({ value: optionValue(initial), 'data-label': isObj(initial) && isObj(initial['text']) ? str(initial['text']['text']) : undefined })}></span>`;
    }
    case 'users_select':
    case 'multi_users_select': {
      const multi = type === 'multi_users_select';
      const initial = new Set(multi ? (Array.isArray(el['initial_users']) ? el['initial_users'].map(str) : []) : [str(el['initial_user'])]);
      const people = ctx.users ?? [];
      return `<select${multi ? ' multiple' : ''}${attrs(common)}>${multi ? '' : `<option value="">${escapeHtml(placeholder ?? 'Select a person')}</option>`}${people
        .map((u) => `<option${attrs({ value: u.id, ...(initial.has(u.id) ? { selected: 'selected' } : {}) })}>${escapeHtml(u.name)}</option>`)
        .join('')}</select>`;
    }
    case 'conversations_select':
    case 'channels_select': {
      const initial = str(el['initial_conversation'] ?? el['initial_channel']);
      return `<select${attrs(common)}><option value="">${escapeHtml(placeholder ?? 'Select a channel')}</option>${(ctx.channels ?? [])
        .map((c) => `<option${attrs({ value: c.id, ...(c.id === initial ? { selected: 'selected' } : {}) })}>#${escapeHtml(c.name)}</option>`)
        .join('')}</select>`;
    }
    case 'datepicker':
      return `<input type="date"${attrs({ ...common, value: /^\d{4}-\d{2}-\d{2}$/.test(str(el['initial_date'])) ? str(el['initial_date']) : undefined })}>`;
    case 'plain_text_input': {
      const maxLength = typeof el['max_length'] === 'number' ? String(el['max_length']) : undefined;
      const a = attrs({ ...common, placeholder, maxlength: maxLength });
      const initial = escapeHtml(str(el['initial_value']));
      return el['multiline'] === true ? `<textarea${a}>${initial}</textarea>` : `<input type="text"${a} value="${initial}">`;
    }
    case 'image':
      return `<img class="accessory-image"${attrs({ src: /^https?:\/\//i.test(str(el['image_url'])) ? str(el['image_url']) : undefined, alt: str(el['alt_text']) })}>`;
    default:
      return unknownPiece('element', type);
  }
}

function unknownPiece(kind: 'block' | 'element', type: string): string {
  return `<div class="unknown">Unsupported ${kind}: <code>${escapeHtml(type || '(no type)')}</code></div>`;
}

/** One block. */
export function renderBlock(block: unknown, ctx: RenderContext): string {
  if (!isObj(block)) return unknownPiece('block', '');
  const type = str(block['type']);
  const blockId = str(block['block_id']);
  const open = (cls: string) => `<div class="block ${cls}"${attrs({ 'data-block-id': blockId || undefined })}>`;
  switch (type) {
    case 'header':
      return `${open('header')}<h3>${renderText(block['text'], ctx)}</h3></div>`;
    case 'divider':
      return `${open('divider')}<hr></div>`;
    case 'section': {
      const fields = Array.isArray(block['fields']) ? `<div class="fields">${block['fields'].map((f) => `<div class="field">${renderText(f, ctx)}</div>`).join('')}</div>` : '';
      const accessory = isObj(block['accessory']) ? `<div class="accessory">${renderElement(block['accessory'], blockId, ctx)}</div>` : '';
      return `${open('section')}<div class="section-body">${renderText(block['text'], ctx)}${fields}</div>${accessory}</div>`;
    }
    case 'context': {
      const elements = Array.isArray(block['elements']) ? block['elements'] : [];
      return `${open('context')}${elements
        .map((e) => (isObj(e) && e['type'] === 'image' ? renderElement(e, blockId, ctx) : `<span>${renderText(e, ctx)}</span>`))
        .join('')}</div>`;
    }
    case 'actions': {
      const elements = Array.isArray(block['elements']) ? block['elements'] : [];
      return `${open('actions')}${elements.map((e) => renderElement(e, blockId, ctx)).join('')}</div>`;
    }
    case 'input': {
      const optional = block['optional'] === true ? ' <span class="optional">(optional)</span>' : '';
      const hint = isObj(block['hint']) ? `<div class="hint">${renderText(block['hint'], ctx)}</div>` : '';
      return `${open('input')}<label>${renderText(block['label'], ctx)}${optional}</label>${renderElement(block['element'], blockId, ctx, true)}${hint}<div class="input-error" role="alert"></div></div>`;
    }
    case 'image':
      return `${open('image')}${renderElement(block, blockId, ctx)}</div>`;
    default:
      return `${open('unknown-block')}${unknownPiece('block', type)}</div>`;
  }
}

export function renderBlocks(blocks: unknown, ctx: RenderContext): string {
  return Array.isArray(blocks) ? blocks.map((b) => renderBlock(b, ctx)).join('') : '';
}
