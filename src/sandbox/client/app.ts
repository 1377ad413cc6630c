/**
 * The sandbox page's script (runs in the browser). It shows what the chosen person sees, fetched
 * from `/sandbox/state`, redraws on every change the emulator reports (`/sandbox/events`), and
 * sends what the person does to `/sandbox/act`, which posts it to the app as Slack would.
 */
import { escapeHtml, renderBlocks, renderMrkdwn, renderText, type RenderContext } from './render.js';

interface Person { id: string; name: string; tz: string; guest?: boolean }
interface Channel { id: string; name: string; isPrivate: boolean; kind: 'channel' | 'group_dm' | 'dm' | 'app' }
interface Message { ts: string; user: string; author: string; isApp: boolean; text: string; blocks: unknown[] | null; threadTs: string | null; edited: boolean; reactions: { name: string; users: string[] }[] }
interface View { id: string; callbackId: string; title: { text?: string } | null; submit: { text?: string } | null; close: { text?: string } | null; blocks: unknown[]; hash: string }
interface Param { type: string; title?: string; description?: string; is_required?: boolean; items?: { type: string } }
interface Execution { id: string; callbackId: string; state: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> | null; error: string | null }
interface Snapshot {
  me: Person;
  people: Person[];
  channels: Channel[];
  allChannels: { id: string; name: string }[];
  conversations: Record<string, { messages: Message[]; ephemerals: { ts: string; text: string; blocks: unknown[] | null }[] }>;
  home: View | null;
  modals: View[];
  functions: Record<string, { title?: string; description?: string; input_parameters?: Record<string, Param> }>;
  executions: Execution[];
}
/** What the main area shows; `app` is the app's DM with whoever is acting (its id differs per person). */
type Pane = { kind: 'channel'; id: string } | { kind: 'app' } | { kind: 'home' } | { kind: 'workflows' };

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const params = new URLSearchParams(location.search);
let as = params.get('as') ?? 'U0ALICE';
let pane: Pane = { kind: 'channel', id: 'C0GENERAL' };
let snap: Snapshot | undefined;
let drawnMain = '';
let drawnModal = '';
let modalErrors: Record<string, string> = {};
/** The message whose "…" menu is open (`channel/ts`), kept across redraws. */
let messageMenu: string | undefined;

function ctx(): RenderContext {
  const people = snap?.people ?? [];
  return {
    userName: (id) => (id === 'U0TASKLANE' ? 'Tasklane' : people.find((p) => p.id === id)?.name),
    channelName: (id) => snap?.allChannels.find((c) => c.id === id)?.name,
    users: people.map((p) => ({ id: p.id, name: p.name })),
    channels: snap?.allChannels ?? [],
    timeZone: snap?.me.tz,
  };
}

async function load(): Promise<void> {
  const res = await fetch(`/sandbox/state?as=${encodeURIComponent(as)}`);
  snap = (await res.json()) as Snapshot;
  draw();
}

async function act(intent: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch('/sandbox/act', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as, ...intent }) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) toast(String(json['error'] ?? `Error ${res.status}`));
  else if (typeof json['status'] === 'number' && json['status'] !== 200) toast(`The app answered ${json['status']}`);
  await load();
  return json;
}

function toast(text: string): void {
  const t = $('#toast');
  t.textContent = text;
  t.hidden = false;
  setTimeout(() => (t.hidden = true), 4000);
}

// ------------------------------------------------------------------ drawing

function draw(): void {
  if (!snap) return;
  const who = $<HTMLSelectElement>('#as');
  if (who.options.length === 0) {
    who.innerHTML = snap.people.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.name)}${p.guest ? ' (guest)' : ''} · ${escapeHtml(p.tz)}</option>`).join('');
  }
  who.value = as;
  drawSidebar();
  const main = mainHtml();
  if (main !== drawnMain) {
    // Keep what is being typed in the composer across a redraw.
    const typing = document.querySelector<HTMLInputElement>('#composer input');
    const text = typing?.value ?? '';
    const focused = typing !== null && document.activeElement === typing;
    $('#main').innerHTML = main;
    drawnMain = main;
    const again = document.querySelector<HTMLInputElement>('#composer input');
    if (again) {
      again.value = text;
      if (focused) again.focus();
    }
  }
  drawModal();
}

function drawSidebar(): void {
  if (!snap) return;
  const active = (p: Pane) => JSON.stringify(p) === JSON.stringify(pane);
  const item = (p: Pane, label: string) => `<button type="button" data-pane='${escapeHtml(JSON.stringify(p))}' class="${active(p) ? 'active' : ''}">${label}</button>`;
  const channels = snap.channels.filter((c) => c.kind === 'channel');
  const app = snap.channels.find((c) => c.kind === 'app');
  $('#sidebar').innerHTML = [
    '<h4>Apps</h4>',
    item({ kind: 'home' }, '🏠 Tasklane · Home'),
    app ? item({ kind: 'app' }, '💬 Tasklane · Messages') : '',
    '<h4>Channels</h4>',
    ...channels.map((c) => item({ kind: 'channel', id: c.id }, `${c.isPrivate ? '🔒' : '#'} ${escapeHtml(c.name)}`)),
    '<h4>Direct messages</h4>',
    ...snap.channels.filter((c) => c.kind === 'dm' || c.kind === 'group_dm').map((c) => item({ kind: 'channel', id: c.id }, `👤 ${escapeHtml(c.name)}`)),
    '<h4>Workflow Builder</h4>',
    item({ kind: 'workflows' }, '⚙️ Workflows'),
  ].join('');
}

function mainHtml(): string {
  if (!snap) return '';
  if (pane.kind === 'home') {
    const blocks = snap.home ? renderBlocks(snap.home.blocks, ctx()) : '<p>Loading your Home…</p>';
    return `<div class="pane-title">Tasklane · Home</div><div class="scroll" data-container="home">${blocks}</div>`;
  }
  if (pane.kind === 'workflows') return `<div class="pane-title">Workflows</div><div class="scroll">${workflowsHtml()}</div>`;
  const id = pane.kind === 'app' ? snap.channels.find((c) => c.kind === 'app')?.id : pane.id;
  const channel = snap.channels.find((c) => c.id === id);
  if (!channel) return '<div class="scroll"><p>You are not a member of this conversation.</p></div>';
  const convo = snap.conversations[channel.id] ?? { messages: [], ephemerals: [] };
  const top = convo.messages.filter((m) => !m.threadTs || m.threadTs === m.ts);
  const items = [
    ...top.map((m) => ({ ts: m.ts, html: messageHtml(channel.id, m, convo.messages.filter((r) => r.threadTs === m.ts && r.ts !== m.ts)) })),
    ...convo.ephemerals.map((e) => ({ ts: e.ts, html: `<div class="msg ephemeral"><span class="who">Tasklane</span> <span class="only-you">Only visible to you</span><div>${e.blocks ? renderBlocks(e.blocks, ctx()) : renderMrkdwn(e.text, ctx())}</div></div>` })),
  ].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  const title = channel.kind === 'app' ? 'Tasklane · Messages' : channel.kind === 'channel' ? `${channel.isPrivate ? '🔒' : '#'} ${escapeHtml(channel.name)}` : `👤 ${escapeHtml(channel.name)}`;
  return `<div class="pane-title">${title}</div><div class="scroll" id="messages">${items.map((i) => i.html).join('') || '<p>No messages yet.</p>'}</div>
<form class="composer" id="composer"><input name="text" autocomplete="off" placeholder="Message, or /task add Write the report @bob due friday" aria-label="Message"><button class="btn btn-primary" type="submit">Send</button></form>`;
}

function messageHtml(channel: string, m: Message, replies: Message[]): string {
  const when = new Date(Number(m.ts.split('.')[0]) * 1000).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', timeZone: snap?.me.tz });
  const body = m.blocks ? renderBlocks(m.blocks, ctx()) : renderMrkdwn(m.text, ctx());
  const reactions = m.reactions.length ? `<div class="reactions">${m.reactions.map((r) => `<span title="${escapeHtml(r.users.join(', '))}">${r.name === 'white_check_mark' ? '✅' : `:${escapeHtml(r.name)}:`} ${r.users.length}</span>`).join('')}</div>` : '';
  const thread = replies.length ? `<div class="thread">${replies.map((r) => messageHtml(channel, r, [])).join('')}</div>` : '';
  return `<div class="msg" data-container="message" data-channel="${escapeHtml(channel)}" data-ts="${escapeHtml(m.ts)}">
<div class="tools${messageMenu === `${channel}/${m.ts}` ? ' open' : ''}"><button type="button" data-react="white_check_mark" title="React with ✅">✅</button><button type="button" data-message-menu title="More actions">⋯</button>${
    messageMenu === `${channel}/${m.ts}` ? '<div class="menu" role="menu"><button type="button" data-message-shortcut="task_from_message">Make a task</button></div>' : ''
  }</div>
<span class="who">${escapeHtml(m.author)}</span><span class="when">${escapeHtml(when)}</span>${m.edited ? ' <span class="edited">(edited)</span>' : ''}
<div class="body">${body}</div>${reactions}</div>${thread}`;
}

function workflowsHtml(): string {
  if (!snap) return '';
  const forms = Object.entries(snap.functions).map(([callbackId, fn]) => {
    const inputs = Object.entries(fn.input_parameters ?? {}).map(([name, p]) => `<label>${escapeHtml(p.title ?? name)}${p.is_required ? ' *' : ''}</label>${paramControl(name, p)}`);
    const runs = snap!.executions.filter((e) => e.callbackId === callbackId).map(runHtml).join('');
    return `<form class="workflow" data-workflow="${escapeHtml(callbackId)}"><h3>${escapeHtml(fn.title ?? callbackId)}</h3><p>${escapeHtml(fn.description ?? '')}</p>${inputs.join('')}
<p><button class="btn btn-primary" type="submit">Run step</button></p>${runs}</form>`;
  });
  return `<p>Each form runs a Tasklane step as a workflow would: Slack sends <code>function_executed</code> with these inputs, and the run below shows what the step reported.</p>${forms.join('')}`;
}

function paramControl(name: string, p: Param): string {
  const people = snap?.people ?? [];
  const personOptions = people.map((u) => `<option value="${escapeHtml(u.id)}">${escapeHtml(u.name)}</option>`).join('');
  const n = `name="${escapeHtml(name)}" data-param-type="${escapeHtml(p.type)}"`;
  if (p.type === 'slack#/types/user_id') return `<select ${n}><option value="">—</option>${personOptions}</select>`;
  if (p.type === 'array' && p.items?.type === 'slack#/types/user_id') return `<select multiple ${n}>${personOptions}</select>`;
  if (p.type === 'slack#/types/channel_id') return `<select ${n}><option value="">—</option>${(snap?.allChannels ?? []).map((c) => `<option value="${escapeHtml(c.id)}">#${escapeHtml(c.name)}</option>`).join('')}</select>`;
  if (p.type === 'boolean') return `<input type="checkbox" ${n}>`;
  if (p.type === 'slack#/types/date') return `<input type="date" ${n}>`;
  if (p.type === 'integer' || p.type === 'number') return `<input type="number" ${n}>`;
  return `<input type="text" ${n}>`;
}

function runHtml(e: Execution): string {
  const detail = e.state === 'completed' ? `outputs ${escapeHtml(JSON.stringify(e.outputs))}` : e.state === 'failed' ? `error: ${escapeHtml(e.error ?? '')}` : 'waiting for the step to finish…';
  return `<div class="run" data-execution="${escapeHtml(e.id)}"><b class="state-${escapeHtml(e.state)}">${escapeHtml(e.state)}</b> · ${detail}</div>`;
}

function drawModal(): void {
  const layer = $('#modal-layer');
  const stack = snap?.modals ?? [];
  const top = stack[stack.length - 1];
  if (!top) {
    layer.hidden = true;
    layer.innerHTML = '';
    drawnModal = '';
    modalErrors = {};
    return;
  }
  // Redraw only when the view itself changed, so what the person typed stays.
  const key = `${top.id}:${top.hash}:${stack.length}`;
  if (key !== drawnModal) {
    drawnModal = key;
    modalErrors = {};
    layer.innerHTML = `<div class="modal" role="dialog" aria-modal="true" data-container="view" data-view-id="${escapeHtml(top.id)}">
<header><h2>${renderText(top.title, ctx())}</h2><span class="stack">${stack.length > 1 ? `view ${stack.length} of ${stack.length}` : ''}</span></header>
<div class="body">${renderBlocks(top.blocks, ctx())}</div>
<footer><button type="button" class="btn" data-modal-close>${renderText(top.close ?? { type: 'plain_text', text: 'Cancel' }, ctx())}</button>${top.submit ? `<button type="button" class="btn btn-primary" data-modal-submit>${renderText(top.submit, ctx())}</button>` : ''}</footer></div>`;
  }
  for (const slot of layer.querySelectorAll<HTMLElement>('.block.input')) {
    const error = slot.querySelector<HTMLElement>('.input-error');
    if (error) error.textContent = modalErrors[slot.dataset['blockId'] ?? ''] ?? '';
  }
  layer.hidden = false;
}

// ------------------------------------------------------------------ reading inputs as Slack does

function optionOf(select: HTMLSelectElement): { text: { type: 'plain_text'; text: string }; value: string } | null {
  const o = select.selectedOptions[0];
  return o && o.value !== '' ? { text: { type: 'plain_text', text: o.textContent ?? '' }, value: o.value } : null;
}

/** The modal's `state.values`, keyed by block id and action id, as Slack sends them. */
function viewValues(root: HTMLElement): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const el of root.querySelectorAll<HTMLElement>('[data-input]')) {
    const blockId = el.dataset['blockId'] ?? '';
    const actionId = el.dataset['actionId'] ?? '';
    const type = el.dataset['type'] ?? '';
    let value: Record<string, unknown> = { type };
    if (type === 'plain_text_input') value = { type, value: (el as HTMLInputElement).value === '' ? null : (el as HTMLInputElement).value };
    else if (type === 'static_select') value = { type, selected_option: optionOf(el as HTMLSelectElement) };
    else if (type === 'users_select') value = { type, selected_user: (el as HTMLSelectElement).value || null };
    else if (type === 'multi_users_select') value = { type, selected_users: [...(el as HTMLSelectElement).selectedOptions].map((o) => o.value) };
    else if (type === 'conversations_select') value = { type, selected_conversation: (el as HTMLSelectElement).value || null };
    else if (type === 'channels_select') value = { type, selected_channel: (el as HTMLSelectElement).value || null };
    else if (type === 'datepicker') value = { type, selected_date: (el as HTMLInputElement).value || null };
    else if (type === 'checkboxes') {
      const checked = [...el.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].filter((c) => c.checked);
      value = { type, selected_options: checked.map((c) => ({ text: { type: 'plain_text', text: c.dataset['label'] ?? c.value }, value: c.value })) };
    }
    else if (type === 'external_select') {
      const hidden = el.querySelector<HTMLInputElement>('.external-value');
      value = { type, selected_option: hidden?.value ? { text: { type: 'plain_text', text: hidden.dataset['label'] ?? hidden.value }, value: hidden.value } : null };
    }
    (values[blockId] ??= {})[actionId] = value;
  }
  return values;
}

function containerOf(el: HTMLElement): Record<string, unknown> | undefined {
  const c = el.closest<HTMLElement>('[data-container]');
  if (!c) return undefined;
  const kind = c.dataset['container'];
  if (kind === 'message') return { container: 'message', channel: c.dataset['channel'], ts: c.dataset['ts'] };
  if (kind === 'view') return { container: 'view', viewId: c.dataset['viewId'], values: viewValues(c) };
  return { container: 'home' };
}

// ------------------------------------------------------------------ what the person does

document.addEventListener('click', (ev) => {
  const target = ev.target as HTMLElement;
  const paneButton = target.closest<HTMLElement>('[data-pane]');
  if (paneButton) {
    pane = JSON.parse(paneButton.dataset['pane'] ?? '{}') as Pane;
    drawnMain = '';
    if (pane.kind === 'home') void act({ kind: 'openHome' });
    else draw();
    return;
  }
  if (target.closest('#bolt')) {
    const menu = $('#bolt-menu');
    menu.innerHTML = `<button type="button" data-shortcut="create_task">New task</button><button type="button" data-shortcut="request_approval">Request approval</button>`;
    menu.hidden = !menu.hidden;
    return;
  }
  const shortcut = target.closest<HTMLElement>('[data-shortcut]');
  if (shortcut) {
    $('#bolt-menu').hidden = true;
    void act({ kind: 'shortcut', callbackId: shortcut.dataset['shortcut'] });
    return;
  }
  const react = target.closest<HTMLElement>('[data-react]');
  if (react) {
    void act({ kind: 'reaction', ...containerOf(react), name: react.dataset['react'] });
    return;
  }
  const menuButton = target.closest<HTMLElement>('[data-message-menu]');
  if (menuButton) {
    const where = containerOf(menuButton) ?? {};
    const key = `${String(where['channel'])}/${String(where['ts'])}`;
    messageMenu = messageMenu === key ? undefined : key;
    draw();
    return;
  }
  const messageShortcut = target.closest<HTMLElement>('[data-message-shortcut]');
  if (messageShortcut) {
    messageMenu = undefined;
    void act({ kind: 'messageShortcut', callbackId: messageShortcut.dataset['messageShortcut'], ...containerOf(messageShortcut) });
    return;
  }
  if (target.closest('[data-modal-close]')) {
    const view = snap?.modals[snap.modals.length - 1];
    if (view) void act({ kind: 'close', viewId: view.id });
    return;
  }
  if (target.closest('[data-modal-submit]')) {
    void submitModal();
    return;
  }
  const option = target.closest<HTMLElement>('.external-options button');
  if (option) {
    void chooseExternal(option);
    return;
  }
  const button = target.closest<HTMLButtonElement>('button[data-action-id]');
  if (button) {
    const confirmText = button.dataset['confirm'];
    if (confirmText && !confirm(confirmText.replace(/<[^>]+>/g, ''))) return;
    const url = button.dataset['url'];
    if (url) window.open(url, '_blank', 'noopener');
    void act({ kind: 'blockAction', ...containerOf(button), actionId: button.dataset['actionId'], blockId: button.dataset['blockId'] || undefined, value: button.dataset['value'] });
  }
});

document.addEventListener('change', (ev) => {
  const el = ev.target as HTMLElement;
  if (el.id === 'as') {
    as = (el as HTMLSelectElement).value;
    drawnMain = '';
    history.replaceState(null, '', `?as=${encodeURIComponent(as)}`);
    void (pane.kind === 'home' ? act({ kind: 'openHome' }) : load());
    return;
  }
  if (el.dataset['input'] || !el.dataset['actionId']) return; // form fields are read on submit
  const base = { kind: 'blockAction', ...containerOf(el), actionId: el.dataset['actionId'], blockId: el.dataset['blockId'] || undefined };
  const type = el.dataset['type'];
  if (type === 'static_select' || type === 'overflow') {
    const chosen = optionOf(el as HTMLSelectElement);
    if (chosen) void act({ ...base, selectedOption: { value: chosen.value, text: chosen.text.text } });
  } else if (type === 'users_select') void act({ ...base, selectedUser: (el as HTMLSelectElement).value });
  else if (type === 'datepicker') void act({ ...base, selectedDate: (el as HTMLInputElement).value });
});

let searchTimer: ReturnType<typeof setTimeout> | undefined;
document.addEventListener('input', (ev) => {
  const input = ev.target as HTMLInputElement;
  const box = input.closest<HTMLElement>('.external');
  if (!box || input.type !== 'search') return;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void suggest(box, input.value), 150);
});

async function suggest(box: HTMLElement, value: string): Promise<void> {
  const where = containerOf(box) ?? {};
  const res = await fetch('/sandbox/act', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ as, kind: 'suggest', container: where['container'], viewId: where['viewId'], actionId: box.dataset['actionId'], blockId: box.dataset['blockId'] || undefined, value }),
  });
  const json = (await res.json()) as { json?: { options?: { text: { text: string }; value: string }[]; option_groups?: { options: { text: { text: string }; value: string }[] }[] } };
  const options = [...(json.json?.options ?? []), ...(json.json?.option_groups ?? []).flatMap((g) => g.options)];
  const list = box.querySelector<HTMLElement>('.external-options');
  if (list) {
    list.innerHTML = options.length
      ? options.map((o) => `<button type="button" data-value="${escapeHtml(o.value)}">${renderText(o.text, ctx())}</button>`).join('')
      : '<div class="hint">No matches</div>';
  }
}

async function chooseExternal(option: HTMLElement): Promise<void> {
  const box = option.closest<HTMLElement>('.external');
  if (!box) return;
  const value = option.dataset['value'] ?? '';
  const label = option.textContent ?? value;
  const list = box.querySelector<HTMLElement>('.external-options');
  if (list) list.innerHTML = '';
  if (box.dataset['input']) {
    const hidden = box.querySelector<HTMLInputElement>('.external-value');
    if (hidden) {
      hidden.value = value;
      hidden.dataset['label'] = label;
    }
    const search = box.querySelector<HTMLInputElement>('input[type=search]');
    if (search) search.value = label;
    return;
  }
  await act({ kind: 'blockAction', ...containerOf(box), actionId: box.dataset['actionId'], blockId: box.dataset['blockId'] || undefined, selectedOption: { value, text: label } });
}

async function submitModal(): Promise<void> {
  const view = snap?.modals[snap.modals.length - 1];
  const root = document.querySelector<HTMLElement>('.modal');
  if (!view || !root) return;
  const result = await act({ kind: 'submit', viewId: view.id, values: viewValues(root) });
  const json = result['json'] as { response_action?: string; errors?: Record<string, string> } | null;
  if (json?.response_action === 'errors' && json.errors) {
    modalErrors = json.errors;
    drawModal();
  } else if (result['stackError']) toast(`Slack refused the app's answer: ${String(result['stackError'])}`);
}

document.addEventListener('submit', (ev) => {
  const form = ev.target as HTMLFormElement;
  ev.preventDefault();
  const channel = pane.kind === 'channel' ? pane.id : pane.kind === 'app' ? snap?.channels.find((c) => c.kind === 'app')?.id : undefined;
  if (form.id === 'composer' && channel) {
    const input = form.querySelector<HTMLInputElement>('input[name=text]');
    const text = input?.value.trim() ?? '';
    if (!text || !input) return;
    input.value = '';
    const command = /^\/task(\s|$)/.exec(text);
    void act(command ? { kind: 'command', channel, text: text.slice('/task'.length).trim() } : { kind: 'message', channel, text });
    return;
  }
  const callbackId = form.dataset['workflow'];
  if (callbackId) {
    const inputs: Record<string, unknown> = {};
    for (const el of form.querySelectorAll<HTMLInputElement & HTMLSelectElement>('[data-param-type]')) {
      const type = el.dataset['paramType'];
      if (el.multiple) {
        const ids = [...el.selectedOptions].map((o) => o.value);
        if (ids.length) inputs[el.name] = ids;
      } else if (type === 'boolean') inputs[el.name] = el.checked;
      else if (el.value !== '') inputs[el.name] = type === 'integer' || type === 'number' ? Number(el.value) : el.value;
    }
    void act({ kind: 'runWorkflow', callbackId, inputs });
  }
});

new EventSource('/sandbox/events').onmessage = () => void load();
void load();
