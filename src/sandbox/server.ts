import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { CustomRoute } from '@slack/bolt';
import { SlackDriver } from './driver.js';
import { FakeSlack, type FakeMessage, type FakeView } from './fakeSlack.js';
import { pageHtml } from './page.js';
import { CHANNELS, PEOPLE, SANDBOX_TEAM, person, seedWorkspace } from './workspace.js';

/**
 * The local sandbox (no Slack workspace needed): the Slack emulator (the fake Slack the tests use)
 * mounted beside the app on the same port, and a page that plays the Slack client. The page's
 * clicks come here as intents ("run /task as Bob"); this turns them into the payloads Slack would
 * send and posts them, signed, to the app's own `/slack/events`, exactly as Slack does.
 */
export interface Sandbox {
  fake: FakeSlack;
  driver: SlackDriver;
  /** What the app needs to reach the emulator as it would reach Slack. */
  slack: { botToken: string; signingSecret: string; apiUrl: string };
  /** The page, its scripts, its live updates, its actions, and the emulator's Web API. */
  routes: CustomRoute[];
  port: number;
  /** What to open in a browser. */
  pageUrl: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function createSandbox(port: number, host = '127.0.0.1'): Sandbox {
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const origin = `http://127.0.0.1:${port}`;
  const botToken = `xoxb-sandbox-${randomBytes(8).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const fake = FakeSlack.mounted(origin, { botToken, teamId: SANDBOX_TEAM, botUserId: 'U0TASKLANE', botId: 'B0TASKLANE' });
  seedWorkspace(fake);
  const driver = new SlackDriver({ appUrl: `${origin}/slack/events`, signingSecret, fake, teamId: SANDBOX_TEAM });
  const executions: string[] = [];
  const guard = (handler: (req: IncomingMessage, res: ServerResponse) => void) => guarded(port, handler, host);
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../manifest.json', import.meta.url)), 'utf8')) as Obj;

  const emulator = (req: IncomingMessage, res: ServerResponse) => {
    fake.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'fatal_error', detail: String(err) }));
    });
  };

  const routes: CustomRoute[] = [
    { path: '/api/:method', method: ['POST', 'GET'], handler: emulator },
    { path: '/response/:id', method: ['POST'], handler: emulator },
    // Incoming webhooks (the audit feed, when an admin sets one of the emulator's).
    { path: '/services/:team/:bot/:name', method: ['POST'], handler: emulator },
    {
      path: '/',
      method: ['GET'],
      handler: guard((_req, res) => send(res, 200, 'text/html; charset=utf-8', pageHtml())),
    },
    {
      path: '/sandbox/client/:file',
      method: ['GET'],
      handler: guard((req, res) => {
        const file = (req as IncomingMessage & { params?: Record<string, string> }).params?.['file'] ?? '';
        clientModule(file)
          .then((code) => (code === undefined ? send(res, 404, 'text/plain', 'not found') : send(res, 200, 'text/javascript; charset=utf-8', code)))
          .catch((err: unknown) => send(res, 500, 'text/plain', String(err)));
      }),
    },
    {
      path: '/sandbox/state',
      method: ['GET'],
      handler: guard((req, res) => {
        const as = new URL(req.url ?? '/', origin).searchParams.get('as') ?? PEOPLE[0]!.id;
        if (!person(as)) return send(res, 400, 'application/json', JSON.stringify({ error: `no such person: ${as}` }));
        send(res, 200, 'application/json', JSON.stringify(snapshot(fake, as, executions, manifest)));
      }),
    },
    {
      path: '/sandbox/events',
      method: ['GET'],
      handler: guard((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': connected\n\n');
        // Bursts of Web API calls (a Home publish and a DM at once) make one update.
        let pending: NodeJS.Timeout | undefined;
        const off = fake.onChange(() => {
          pending ??= setTimeout(() => {
            pending = undefined;
            res.write('data: change\n\n');
          }, 30);
        });
        req.on('close', () => {
          off();
          clearTimeout(pending);
        });
      }),
    },
    {
      path: '/sandbox/act',
      method: ['POST'],
      handler: guard((req, res) => {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'application/json', JSON.stringify({ error: 'JSON only' }));
        readJson(req)
          .then((intent) => act(fake, driver, executions, intent))
          .then((result) => send(res, 200, 'application/json', JSON.stringify(result)))
          .catch((err: unknown) => send(res, 400, 'application/json', JSON.stringify({ error: err instanceof Error ? err.message : String(err) })));
      }),
    },
  ];
  return { fake, driver, slack: { botToken, signingSecret, apiUrl: fake.apiUrl }, routes, port, pageUrl: `http://${loopback ? 'localhost' : host}:${port}/` };
}

/** The page's own routes answer only requests addressed to this loopback server (no DNS rebinding, no other site's forms). */
function guarded(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1') {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `${host}:${port}`]);
  return (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers['origin'];
    if (!hosts.has(req.headers['host'] ?? '') || (origin !== undefined && !hosts.has(origin.replace(/^http:\/\//, '')))) {
      send(res, 403, 'text/plain', 'The sandbox answers only http://127.0.0.1 and http://localhost on its own port.');
      return;
    }
    handler(req, res);
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function readJson(req: IncomingMessage): Promise<Obj> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) req.destroy(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString());
        if (!isObj(v)) throw new Error('expected a JSON object');
        resolve(v);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.on('error', reject);
  });
}

const compiled = new Map<string, string>();

/** The page's scripts: the compiled file when running from `dist/`, else the TypeScript source transpiled once. */
async function clientModule(file: string): Promise<string | undefined> {
  const m = /^([a-z]+)\.js$/.exec(file);
  if (!m) return undefined;
  const cached = compiled.get(file);
  if (cached !== undefined) return cached;
  const js = new URL(`./client/${m[1]}.js`, import.meta.url);
  const tsFile = new URL(`./client/${m[1]}.ts`, import.meta.url);
  let code: string | undefined;
  if (existsSync(js)) code = readFileSync(js, 'utf8');
  else if (existsSync(tsFile)) {
    const ts = (await import('typescript')).default;
    code = ts.transpileModule(readFileSync(tsFile, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  }
  if (code !== undefined) compiled.set(file, code);
  return code;
}

// ------------------------------------------------------------------ what the page shows

function messageJson(m: FakeMessage, botUserId: string) {
  const isApp = m.user === botUserId;
  return {
    ts: m.ts,
    user: m.user,
    author: isApp ? 'Tasklane' : (person(m.user)?.name ?? m.user),
    isApp,
    text: m.text ?? '',
    blocks: m.blocks ?? null,
    threadTs: m.thread_ts ?? null,
    edited: m.updates > 0,
    reactions: m.reactions ?? [],
  };
}

function viewJson(v: FakeView) {
  return { id: v.id, callbackId: v.callback_id, title: v.title ?? null, submit: v.submit ?? null, close: v.close ?? null, blocks: v.blocks, hash: v.hash };
}

/** Everything one person sees: their channels and DMs with the app, ephemerals, Home, modal stack, workflow runs. */
export function snapshot(fake: FakeSlack, as: string, executions: string[], manifest: Obj) {
  const me = person(as)!;
  const channels = CHANNELS.filter((c) => c.members.includes(as)).map((c) => ({
    id: c.id,
    // A DM is named after the other person, a group DM after the others.
    name: c.kind === 'channel' ? c.name : c.members.filter((m) => m !== as).map((m) => person(m)?.name ?? m).join(', '),
    isPrivate: c.isPrivate,
    kind: c.kind,
  }));
  const dm = { id: fake.dmChannel(as), name: 'Tasklane', isPrivate: true, kind: 'app' as const };
  const conversations = Object.fromEntries(
    [...channels, dm].map((c) => [
      c.id,
      {
        messages: fake.messages(c.id).map((m) => messageJson(m, fake.botUserId)),
        ephemerals: fake.ephemerals(c.id, as).map((e) => ({ ts: e.message_ts, text: e.text ?? '', blocks: e.blocks ?? null })),
      },
    ]),
  );
  const home = fake.homeView(as);
  const functions = isObj(manifest['functions']) ? manifest['functions'] : {};
  return {
    team: SANDBOX_TEAM,
    me,
    people: PEOPLE,
    channels: [...channels, dm],
    allChannels: CHANNELS.filter((c) => c.kind === 'channel').map((c) => ({ id: c.id, name: c.name })),
    conversations,
    home: home ? viewJson(home) : null,
    modals: fake.viewStack(as).map(viewJson),
    functions,
    executions: executions
      .map((id) => ({ id, ...fake.execution(id) }))
      .reverse()
      .map((e) => ({ id: e.id, callbackId: e.callbackId, state: e.state, inputs: e.inputs, outputs: e.outputs ?? null, error: e.error ?? null })),
  };
}

// ------------------------------------------------------------------ what the page does

/**
 * Text as Slack delivers what a person typed (a command with `should_escape`, a message): `&`, `<`
 * and `>` escaped, `@name` and `#channel` turned into `<@U…|name>` and `<#C…|name>`.
 */
export function slackEscaped(typed: string): string {
  const kept: string[] = [];
  const keep = (s: string) => `\uE000${kept.push(s) - 1}\uE001`;
  const withMentions = typed
    .replace(/[\uE000\uE001]/g, '')
    .replace(/<@[UW][A-Z0-9]+>/g, keep)
    .replace(/(^|\s)@([a-z0-9._-]+)/gi, (m, pre: string, name: string) => {
      const p = PEOPLE.find((x) => x.name === name.toLowerCase());
      return p ? `${pre}${keep(`<@${p.id}|${p.name}>`)}` : m;
    })
    .replace(/(^|\s)#([a-z0-9_-]+)/gi, (m, pre: string, name: string) => {
      const c = CHANNELS.find((x) => x.name === name.toLowerCase());
      return c ? `${pre}${keep(`<#${c.id}|${c.name}>`)}` : m;
    });
  return withMentions.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\uE000(\d+)\uE001/g, (_m, i: string) => kept[Number(i)] ?? '');
}

/** One thing a person does in the page, sent to the app as Slack would send it. */
async function act(fake: FakeSlack, driver: SlackDriver, executions: string[], intent: Obj): Promise<Obj> {
  const as = str(intent['as']) ?? '';
  if (!person(as)) throw new Error(`no such person: ${as}`);
  const teamId = SANDBOX_TEAM;
  const channel = str(intent['channel']);
  switch (intent['kind']) {
    case 'command': {
      const { response } = await driver.command({ teamId, userId: as, text: slackEscaped(str(intent['text']) ?? ''), channelId: channel });
      if (response.status === 200 && isObj(response.json)) fake.showCommandAnswer({ channel: channel ?? fake.dmChannel(as), user: as, body: response.json });
      return { status: response.status, json: response.json ?? null, text: response.body };
    }
    case 'message': {
      if (!channel) throw new Error('message needs a channel');
      const text = str(intent['text']) ?? '';
      const mentionsApp = /(^|\s)@tasklane\b/i.test(text);
      const m = fake.postAsUser({ channel, user: as, text: slackEscaped(text.replace(/(^|\s)@tasklane\b/gi, `$1<@${fake.botUserId}>`)), threadTs: str(intent['threadTs']) });
      if (mentionsApp) {
        await driver.event(teamId, { type: 'app_mention', user: as, text: m.text, ts: m.ts, channel, event_ts: m.ts, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) });
      }
      return { ts: m.ts };
    }
    case 'shortcut': {
      const { response } = await driver.globalShortcut({ teamId, userId: as, callbackId: str(intent['callbackId']) ?? '' });
      return { status: response.status };
    }
    case 'messageShortcut': {
      const ts = str(intent['ts']) ?? '';
      const m = channel ? fake.message(channel, ts) : undefined;
      if (!channel || !m) throw new Error('that message is gone');
      const { response } = await driver.messageShortcut({ teamId, userId: as, callbackId: str(intent['callbackId']) ?? '', channelId: channel, message: { ts, text: m.text ?? '', user: m.user, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) } });
      return { status: response.status };
    }
    case 'reaction': {
      const ts = str(intent['ts']) ?? '';
      const name = str(intent['name']) ?? 'white_check_mark';
      const m = channel ? fake.message(channel, ts) : undefined;
      if (!channel || !m) throw new Error('that message is gone');
      if (!fake.addReaction(channel, ts, name, as)) return { status: 200, already: true };
      const response = await driver.event(teamId, { type: 'reaction_added', user: as, reaction: name, item: { type: 'message', channel, ts }, item_user: m.user, event_ts: (Date.now() / 1000).toFixed(6) });
      return { status: response.status };
    }
    case 'openHome': {
      const response = await driver.appHomeOpened({ teamId, userId: as });
      return { status: response.status };
    }
    case 'blockAction': {
      const where = intent['container'];
      const viewId = where === 'home' ? fake.homeView(as)?.id : str(intent['viewId']);
      const selected = isObj(intent['selectedOption']) ? { value: str(intent['selectedOption']['value']) ?? '', text: str(intent['selectedOption']['text']) } : undefined;
      const { response } = await driver.blockAction({
        teamId,
        userId: as,
        container: where === 'message' ? 'message' : 'view',
        channelId: channel,
        messageTs: str(intent['ts']),
        viewId,
        actionId: str(intent['actionId']) ?? '',
        blockId: str(intent['blockId']),
        value: str(intent['value']),
        selectedOption: selected,
        selectedUser: str(intent['selectedUser']),
        selectedDate: str(intent['selectedDate']),
        values: isObj(intent['values']) ? (intent['values'] as Record<string, Record<string, unknown>>) : undefined,
      });
      return { status: response.status, json: response.json ?? null };
    }
    case 'submit': {
      const result = await driver.viewSubmission({ teamId, userId: as, viewId: str(intent['viewId']) ?? '', values: isObj(intent['values']) ? (intent['values'] as Record<string, Record<string, unknown>>) : {} });
      return { status: result.response.status, action: result.action, json: result.json ?? null, stackError: result.stackError ?? null };
    }
    case 'close': {
      await driver.viewClosed({ teamId, userId: as, viewId: str(intent['viewId']) ?? '' });
      return { status: 200 };
    }
    case 'suggest': {
      const { json } = await driver.blockSuggestion({ teamId, userId: as, actionId: str(intent['actionId']) ?? '', blockId: str(intent['blockId']), value: str(intent['value']) ?? '', viewId: str(intent['viewId']) ?? (intent['container'] === 'home' ? fake.homeView(as)?.id : undefined) });
      return { json: json ?? null };
    }
    case 'runWorkflow': {
      const inputs = isObj(intent['inputs']) ? intent['inputs'] : {};
      const { response, executionId } = await driver.functionExecuted({ teamId, callbackId: str(intent['callbackId']) ?? '', inputs });
      executions.push(executionId);
      return { status: response.status, executionId };
    }
    default:
      throw new Error(`unknown action: ${String(intent['kind'])}`);
  }
}
