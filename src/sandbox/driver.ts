// Signs and posts every payload kind to the app the way Slack does (HTTP mode).
// Requests as Slack sends them (signed, form or JSON bodies).
import { createHmac, randomBytes } from 'node:crypto';
import { isObj } from './blockKit.js';
import type { FakeSlack, FakeView, ViewChangeResult } from './fakeSlack.js';

type Obj = Record<string, unknown>;

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const JSON_CONTENT_TYPE = 'application/json';

export interface SendResult {
  status: number;
  body: string;
  json?: unknown;
  headers: Record<string, string>;
}

export interface SendOptions {
  /** 'valid' (default) signs correctly, 'bad' signs with a wrong secret, 'none' omits the signature headers */
  signature?: 'valid' | 'bad' | 'none';
  /** unix seconds for X-Slack-Request-Timestamp (default: now) */
  timestamp?: number;
}

export interface FunctionExecutionRef {
  executionId: string;
  workflowToken: string;
  callbackId: string;
  inputs?: Record<string, unknown>;
}

export interface BlockActionArgs {
  teamId: string;
  userId: string;
  actionId: string;
  value?: string;
  blockId?: string;
  selectedOption?: { value: string; text?: string };
  selectedUser?: string;
  selectedConversation?: string;
  selectedDate?: string;
  container: 'message' | 'view';
  channelId?: string;
  messageTs?: string;
  viewId?: string;
  /** state.values for a view container (defaults to {}) */
  values?: Record<string, Record<string, unknown>>;
  /** Force function_data (otherwise derived from the message's workflow token, if it was posted with one). */
  functionExecution?: FunctionExecutionRef;
  /** Skip the check that the message/view exists in the fake and contains the action. */
  unchecked?: boolean;
}

export interface ViewSubmissionResult {
  response: SendResult;
  json: unknown;
  /** what Slack did with the modal stack after the app's answer */
  action: 'pop' | 'clear' | 'update' | 'push' | 'errors' | 'none';
  /** set when Slack would have refused the app's response_action (invalid view, push limit, bad errors keys, HTTP error) */
  stackError?: string;
  stackErrorMessages?: string[];
}

function teamDomain(teamId: string): string {
  return `team-${teamId.toLowerCase()}`;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface FoundElement {
  blockId: string;
  element: Obj;
}

/** Find an interactive element by action_id (and block_id) in a blocks array, as Slack would render it. */
export function findElement(blocks: unknown, actionId: string, blockId?: string): FoundElement | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const [i, block] of blocks.entries()) {
    if (!isObj(block)) continue;
    const bid = typeof block['block_id'] === 'string' ? block['block_id'] : `auto${i}`;
    if (blockId !== undefined && bid !== blockId) continue;
    const candidates: unknown[] = [];
    if (block['accessory'] !== undefined) candidates.push(block['accessory']);
    if (block['element'] !== undefined) candidates.push(block['element']);
    if (Array.isArray(block['elements'])) candidates.push(...(block['elements'] as unknown[]));
    for (const el of candidates) {
      if (isObj(el) && el['action_id'] === actionId) return { blockId: bid, element: el };
    }
  }
  return undefined;
}

function listActionIds(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  const out: string[] = [];
  for (const block of blocks) {
    if (!isObj(block)) continue;
    const els: unknown[] = [block['accessory'], block['element'], ...(Array.isArray(block['elements']) ? (block['elements'] as unknown[]) : [])];
    for (const el of els) if (isObj(el) && typeof el['action_id'] === 'string') out.push(`${String(block['block_id'] ?? '?')}/${el['action_id']}`);
  }
  return out;
}

function optionsOf(el: Obj): Obj[] {
  const out: Obj[] = [];
  if (Array.isArray(el['options'])) for (const o of el['options'] as unknown[]) if (isObj(o)) out.push(o);
  if (Array.isArray(el['option_groups'])) {
    for (const g of el['option_groups'] as unknown[]) {
      if (isObj(g) && Array.isArray(g['options'])) for (const o of g['options'] as unknown[]) if (isObj(o)) out.push(o);
    }
  }
  return out;
}

export class SlackDriver {
  readonly appUrl: string;
  readonly signingSecret: string;
  readonly fake: FakeSlack;
  readonly teamId: string;
  readonly appId: string;
  /** legacy verification token carried in payloads */
  readonly verificationToken = 'fake-verification-token';

  constructor(opts: { appUrl: string; signingSecret: string; fake: FakeSlack; teamId?: string; appId?: string }) {
    this.appUrl = opts.appUrl;
    this.signingSecret = opts.signingSecret;
    this.fake = opts.fake;
    this.teamId = opts.teamId ?? opts.fake.teamId;
    this.appId = opts.appId ?? opts.fake.appId;
  }

  /** `v0=` + hex HMAC-SHA256(secret, `v0:${ts}:${body}`) */
  static signature(secret: string, timestamp: number, body: string): string {
    return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  }

  async send(body: string, contentType: string, headers: Record<string, string> = {}, opts: SendOptions = {}): Promise<SendResult> {
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const mode = opts.signature ?? 'valid';
    const h: Record<string, string> = { 'content-type': contentType, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...headers };
    if (mode !== 'none') {
      h['x-slack-request-timestamp'] = String(ts);
      h['x-slack-signature'] = SlackDriver.signature(mode === 'valid' ? this.signingSecret : `${this.signingSecret}-wrong`, ts, body);
    }
    const res = await fetch(this.appUrl, { method: 'POST', headers: h, body });
    const text = await res.text();
    return { status: res.status, body: text, json: parseJson(text), headers: Object.fromEntries(res.headers.entries()) };
  }

  // ------------------------------------------------------------ shapes

  team(teamId: string): Obj {
    return { id: teamId, domain: teamDomain(teamId) };
  }

  user(userId: string, teamId: string): Obj {
    const name = this.fake.user(userId)?.name ?? userId.toLowerCase();
    return { id: userId, username: name, name, team_id: teamId };
  }

  private common(teamId: string): Obj {
    return { api_app_id: this.appId, token: this.verificationToken, is_enterprise_install: false, enterprise: null, team: this.team(teamId) };
  }

  private channelObj(channelId: string): Obj {
    const c = this.fake.channel(channelId);
    return { id: channelId, name: c?.name ?? (channelId.startsWith('D') ? 'directmessage' : channelId.toLowerCase()) };
  }

  private actionTs(): string {
    return (Date.now() / 1000).toFixed(6);
  }

  private sendForm(fields: Record<string, string>, opts?: SendOptions, headers: Record<string, string> = {}): Promise<SendResult> {
    return this.send(new URLSearchParams(fields).toString(), FORM_CONTENT_TYPE, headers, opts);
  }

  /** Interactivity: `payload=<json>` form field. */
  sendPayload(payload: Obj, opts?: SendOptions): Promise<SendResult> {
    return this.sendForm({ payload: JSON.stringify(payload) }, opts);
  }

  // ------------------------------------------------------------ events

  eventEnvelope(teamId: string, event: Record<string, unknown>, eventId?: string): Obj {
    return {
      token: this.verificationToken,
      team_id: teamId,
      context_team_id: teamId,
      context_enterprise_id: null,
      api_app_id: this.appId,
      event,
      type: 'event_callback',
      event_id: eventId ?? `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: teamId, user_id: this.fake.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${randomBytes(8).toString('hex')}`,
    };
  }

  event(
    teamId: string,
    event: Record<string, unknown>,
    opts: { eventId?: string; retryNum?: number; retryReason?: string } & SendOptions = {},
  ): Promise<SendResult> {
    const headers: Record<string, string> = {};
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
    }
    const body = JSON.stringify(this.eventEnvelope(teamId, event, opts.eventId));
    return this.send(body, JSON_CONTENT_TYPE, headers, opts);
  }

  urlVerification(challenge: string, opts?: SendOptions): Promise<SendResult> {
    return this.send(JSON.stringify({ token: this.verificationToken, challenge, type: 'url_verification' }), JSON_CONTENT_TYPE, {}, opts);
  }

  appHomeOpened(a: { teamId: string; userId: string; tab?: 'home' | 'messages'; eventId?: string }): Promise<SendResult> {
    const home = this.fake.homeView(a.userId);
    const tab = a.tab ?? 'home';
    return this.event(
      a.teamId,
      {
        type: 'app_home_opened',
        user: a.userId,
        channel: this.fake.dmChannel(a.userId),
        tab,
        ...(tab === 'home' && home ? { view: this.fake.viewObject(home) } : {}),
        event_ts: this.actionTs(),
      },
      { eventId: a.eventId },
    );
  }

  async functionExecuted(a: {
    teamId: string;
    callbackId: string;
    inputs: Record<string, unknown>;
    executionId?: string;
    eventId?: string;
    retryNum?: number;
    retryReason?: string;
  }): Promise<{ response: SendResult; executionId: string; workflowExecutionId: string; workflowToken: string; eventId: string }> {
    const exec = this.fake.startFunctionExecution({ executionId: a.executionId, teamId: a.teamId, callbackId: a.callbackId, inputs: a.inputs });
    const eventId = a.eventId ?? `Ev${randomBytes(6).toString('hex').toUpperCase()}`;
    const nowSec = Math.floor(Date.now() / 1000);
    const event = {
      type: 'function_executed',
      function: {
        id: `Fn${a.callbackId.replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 9)}`,
        callback_id: a.callbackId,
        title: a.callbackId,
        description: '',
        type: 'app',
        input_parameters: [],
        output_parameters: [],
        app_id: this.appId,
        date_created: nowSec,
        date_updated: nowSec,
        date_deleted: 0,
      },
      inputs: a.inputs,
      function_execution_id: exec.executionId,
      workflow_execution_id: exec.workflowExecutionId,
      event_ts: this.actionTs(),
      bot_access_token: exec.workflowToken,
    };
    const response = await this.event(a.teamId, event, { eventId, retryNum: a.retryNum, retryReason: a.retryReason });
    return { response, ...exec, eventId };
  }

  // ------------------------------------------------------------ commands & shortcuts

  /**
   * A slash command. `again`: the same invocation delivered once more (its trigger id and
   * response_url), with Slack's retry headers.
   */
  async command(
    a: { teamId: string; userId: string; text?: string; command?: string; channelId?: string; again?: { triggerId: string; responseUrl: string; retryNum: number } },
    opts?: SendOptions,
  ): Promise<{ response: SendResult; triggerId: string; responseUrl: string }> {
    const channelId = a.channelId ?? this.fake.dmChannel(a.userId);
    const triggerId = a.again?.triggerId ?? this.fake.issueTriggerId(a.userId, a.teamId);
    const responseUrl = a.again?.responseUrl ?? this.fake.newResponseUrl({ channel: channelId, userId: a.userId });
    const user = this.user(a.userId, a.teamId);
    const response = await this.sendForm(
      {
        token: this.verificationToken,
        team_id: a.teamId,
        team_domain: teamDomain(a.teamId),
        channel_id: channelId,
        channel_name: String(this.channelObj(channelId)['name']),
        user_id: a.userId,
        user_name: String(user['username']),
        command: a.command ?? '/task',
        text: a.text ?? '',
        api_app_id: this.appId,
        is_enterprise_install: 'false',
        response_url: responseUrl,
        trigger_id: triggerId,
      },
      opts,
      a.again ? { 'x-slack-retry-num': String(a.again.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {},
    );
    return { response, triggerId, responseUrl };
  }

  async globalShortcut(a: { teamId: string; userId: string; callbackId: string }): Promise<{ response: SendResult; triggerId: string }> {
    const triggerId = this.fake.issueTriggerId(a.userId, a.teamId);
    const response = await this.sendPayload({
      type: 'shortcut',
      ...this.common(a.teamId),
      user: this.user(a.userId, a.teamId),
      callback_id: a.callbackId,
      trigger_id: triggerId,
      action_ts: this.actionTs(),
    });
    return { response, triggerId };
  }

  async messageShortcut(a: {
    teamId: string;
    userId: string;
    callbackId: string;
    channelId: string;
    message: { ts: string; text: string; user: string; [k: string]: unknown };
  }): Promise<{ response: SendResult; triggerId: string; responseUrl: string }> {
    const triggerId = this.fake.issueTriggerId(a.userId, a.teamId);
    const responseUrl = this.fake.newResponseUrl({ channel: a.channelId, messageTs: a.message.ts, userId: a.userId });
    const response = await this.sendPayload({
      type: 'message_action',
      ...this.common(a.teamId),
      user: this.user(a.userId, a.teamId),
      channel: this.channelObj(a.channelId),
      callback_id: a.callbackId,
      trigger_id: triggerId,
      response_url: responseUrl,
      message_ts: a.message.ts,
      message: { type: 'message', ...a.message },
      action_ts: this.actionTs(),
    });
    return { response, triggerId, responseUrl };
  }

  // ------------------------------------------------------------ block actions

  async blockAction(a: BlockActionArgs): Promise<{ response: SendResult; triggerId?: string; responseUrl?: string; interactivityPointer?: string }> {
    let blocks: unknown;
    let container: Obj;
    const extra: Obj = {};
    let postedWithToken: string | undefined;
    let responseUrl: string | undefined;
    if (a.container === 'message') {
      const channelId = a.channelId;
      const ts = a.messageTs;
      if (!channelId || !ts) throw new Error('blockAction(container: "message") needs channelId and messageTs');
      const m = this.fake.message(channelId, ts);
      if (!m && !a.unchecked) throw new Error(`blockAction: no message ${channelId}/${ts} in the fake (messages there: ${this.fake.messages(channelId).map((x) => x.ts).join(', ') || 'none'})`);
      blocks = m?.blocks;
      postedWithToken = m?.postedWithToken;
      container = { type: 'message', message_ts: ts, channel_id: channelId, is_ephemeral: false };
      extra['channel'] = this.channelObj(channelId);
      extra['message'] = m ? this.fake.messageObject(m) : { type: 'message', ts, text: '' };
      extra['state'] = { values: a.values ?? {} };
    } else {
      if (!a.viewId) throw new Error('blockAction(container: "view") needs viewId');
      const v = this.fake.view(a.viewId);
      if (!v && !a.unchecked) throw new Error(`blockAction: no open view ${a.viewId} in the fake`);
      blocks = v?.blocks;
      container = { type: 'view', view_id: a.viewId };
      extra['view'] = v ? { ...this.fake.viewObject(v), state: { values: a.values ?? {} } } : { id: a.viewId, state: { values: a.values ?? {} } };
    }

    const found = findElement(blocks, a.actionId, a.blockId);
    if (!found && !a.unchecked) {
      throw new Error(`blockAction: action_id "${a.actionId}"${a.blockId ? ` in block "${a.blockId}"` : ''} not found; present: ${listActionIds(blocks).join(', ') || 'none'}`);
    }
    const el: Obj = found?.element ?? { type: a.selectedOption ? 'static_select' : 'button', action_id: a.actionId };
    const type = typeof el['type'] === 'string' ? el['type'] : 'button';
    const action: Obj = { type, action_id: a.actionId, block_id: found?.blockId ?? a.blockId ?? 'unknown', action_ts: this.actionTs() };
    if (type === 'button') {
      action['text'] = el['text'] ?? { type: 'plain_text', text: a.actionId, emoji: true };
      const value = a.value ?? (typeof el['value'] === 'string' ? el['value'] : undefined);
      if (value !== undefined) action['value'] = value;
      if (el['style'] !== undefined) action['style'] = el['style'];
    } else if (a.selectedOption) {
      let text = a.selectedOption.text;
      const known = optionsOf(el);
      if (known.length > 0) {
        const match = known.find((o) => o['value'] === a.selectedOption?.value);
        if (!match && !a.unchecked) throw new Error(`blockAction: option value "${a.selectedOption.value}" is not among the options of ${a.actionId}`);
        const t = match?.['text'];
        if (text === undefined && isObj(t) && typeof t['text'] === 'string') text = t['text'];
      }
      action['selected_option'] = { text: { type: 'plain_text', text: text ?? a.selectedOption.value, emoji: true }, value: a.selectedOption.value };
    } else if (a.selectedUser !== undefined) {
      action['selected_user'] = a.selectedUser;
    } else if (a.selectedConversation !== undefined) {
      action['selected_conversation'] = a.selectedConversation;
    } else if (a.selectedDate !== undefined) {
      action['selected_date'] = a.selectedDate;
    } else if (a.value !== undefined) {
      action['value'] = a.value;
    }

    // Workflow-token messages: function_data + interactivity pointer, no trigger_id (as Slack sends them).
    let fn = a.functionExecution;
    if (!fn && postedWithToken?.startsWith('xwfp-')) {
      const exec = this.fake.executionForToken(postedWithToken);
      if (exec) fn = { executionId: exec.executionId, workflowToken: exec.workflowToken, callbackId: exec.callbackId, inputs: exec.inputs };
    }
    const payload: Obj = {
      type: 'block_actions',
      ...this.common(a.teamId),
      user: this.user(a.userId, a.teamId),
      container,
      ...extra,
      actions: [action],
    };
    let triggerId: string | undefined;
    let interactivityPointer: string | undefined;
    if (fn) {
      interactivityPointer = this.fake.issueInteractivityPointer(a.userId, a.teamId);
      payload['function_data'] = { execution_id: fn.executionId, function: { callback_id: fn.callbackId }, inputs: fn.inputs ?? this.fake.execution(fn.executionId)?.inputs ?? {} };
      payload['bot_access_token'] = fn.workflowToken;
      payload['interactivity'] = { interactor: { secret: randomBytes(16).toString('hex'), id: a.userId }, interactivity_pointer: interactivityPointer };
    } else {
      triggerId = this.fake.issueTriggerId(a.userId, a.teamId);
      payload['trigger_id'] = triggerId;
      if (a.container === 'message') {
        responseUrl = this.fake.newResponseUrl({ channel: a.channelId, messageTs: a.messageTs, userId: a.userId });
        payload['response_url'] = responseUrl;
      }
    }
    const response = await this.sendPayload(payload);
    return { response, triggerId, responseUrl, interactivityPointer };
  }

  // ------------------------------------------------------------ views

  private requireTopView(userId: string, viewId: string, what: string): FakeView {
    const v = this.fake.view(viewId);
    if (!v) throw new Error(`${what}: view ${viewId} is not open in the fake`);
    if (v.type !== 'modal') throw new Error(`${what}: view ${viewId} is a ${v.type} view`);
    if (v.user !== userId) throw new Error(`${what}: view ${viewId} belongs to ${v.user}, not ${userId}`);
    const top = this.fake.topView(userId);
    if (top?.id !== viewId) throw new Error(`${what}: view ${viewId} is not the top of ${userId}'s stack (top: ${top?.id ?? 'none'})`);
    return v;
  }

  async viewSubmission(a: { teamId: string; userId: string; viewId: string; values: Record<string, Record<string, unknown>> }): Promise<ViewSubmissionResult> {
    const v = this.requireTopView(a.userId, a.viewId, 'viewSubmission');
    const payload: Obj = {
      type: 'view_submission',
      ...this.common(a.teamId),
      user: this.user(a.userId, a.teamId),
      view: { ...this.fake.viewObject(v), state: { values: a.values } },
      trigger_id: this.fake.issueTriggerId(a.userId, a.teamId),
      response_urls: [],
    };
    const response = await this.sendPayload(payload);
    const json = response.json;
    if (response.status !== 200) return { response, json, action: 'none', stackError: `http_${response.status}` };
    if (response.body.trim() === '' || (isObj(json) && json['response_action'] === undefined)) {
      this.fake.closeTopView(a.userId);
      return { response, json, action: 'pop' };
    }
    if (!isObj(json)) return { response, json, action: 'none', stackError: 'invalid_response' };
    const ra = json['response_action'];
    const fromChange = (action: ViewSubmissionResult['action'], r: ViewChangeResult): ViewSubmissionResult =>
      r.ok ? { response, json, action } : { response, json, action: 'none', stackError: r.error, stackErrorMessages: r.messages };
    switch (ra) {
      case 'clear':
        this.fake.clearViews(a.userId);
        return { response, json, action: 'clear' };
      case 'update':
        return fromChange('update', this.fake.replaceTopView(a.userId, json['view']));
      case 'push':
        return fromChange('push', this.fake.pushView(a.userId, json['view']));
      case 'errors': {
        const errors = json['errors'];
        if (!isObj(errors)) return { response, json, action: 'none', stackError: 'invalid_errors' };
        const inputIds = new Set(
          v.blocks.filter((b): b is Obj => isObj(b) && b['type'] === 'input' && typeof b['block_id'] === 'string').map((b) => String(b['block_id'])),
        );
        const badKeys = Object.keys(errors).filter((k) => !inputIds.has(k));
        if (badKeys.length > 0) {
          return { response, json, action: 'none', stackError: 'invalid_errors', stackErrorMessages: badKeys.map((k) => `block_id "${k}" is not an input block of the view`) };
        }
        return { response, json, action: 'errors' };
      }
      default:
        return { response, json, action: 'none', stackError: `unknown_response_action:${String(ra)}` };
    }
  }

  /** The user closes the top modal (or the whole stack with `cleared`). view_closed is sent only with notify_on_close. */
  async viewClosed(a: { teamId: string; userId: string; viewId: string; cleared?: boolean }): Promise<{ response?: SendResult; sent: boolean }> {
    const v = this.requireTopView(a.userId, a.viewId, 'viewClosed');
    if (a.cleared) this.fake.clearViews(a.userId);
    else this.fake.closeTopView(a.userId);
    if (!v.notify_on_close) return { sent: false };
    const response = await this.sendPayload({
      type: 'view_closed',
      ...this.common(a.teamId),
      user: this.user(a.userId, a.teamId),
      view: this.fake.viewObject(v),
      is_cleared: a.cleared ?? false,
    });
    return { response, sent: true };
  }

  async blockSuggestion(a: { teamId: string; userId: string; actionId: string; blockId?: string; value: string; viewId?: string }): Promise<{ response: SendResult; json: unknown }> {
    let view: Obj | undefined;
    let blockId = a.blockId;
    if (a.viewId) {
      const v = this.fake.view(a.viewId);
      if (!v) throw new Error(`blockSuggestion: view ${a.viewId} is not open in the fake`);
      const found = findElement(v.blocks, a.actionId, a.blockId);
      if (!found) throw new Error(`blockSuggestion: action_id "${a.actionId}" not found in view ${a.viewId}; present: ${listActionIds(v.blocks).join(', ') || 'none'}`);
      blockId = found.blockId;
      view = { ...this.fake.viewObject(v), state: { values: {} } };
    }
    const response = await this.sendPayload({
      type: 'block_suggestion',
      ...this.common(a.teamId),
      user: this.user(a.userId, a.teamId),
      container: a.viewId ? { type: 'view', view_id: a.viewId } : { type: 'message' },
      action_id: a.actionId,
      block_id: blockId ?? 'unknown',
      value: a.value,
      ...(view ? { view } : {}),
      action_ts: this.actionTs(),
    });
    return { response, json: response.json };
  }
}
