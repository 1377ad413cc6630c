import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
  App,
  BlockAction,
  BlockSuggestion,
  GlobalShortcut,
  MessageShortcut,
  Middleware,
  SlackAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
  SlackViewAction,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';

export type SurfaceKind = 'command' | 'global_shortcut' | 'message_shortcut' | 'function' | 'event';
export interface Surface {
  kind: SurfaceKind;
  id: string;
}

type Args = AnyMiddlewareArgs & AllMiddlewareArgs;
type Listener = (args: Args) => Promise<void>;

/**
 * Every listener of the app, and the one place that routes a request to it.
 *
 * Registers the listeners for what manifest.json declares (commands, shortcuts, custom steps,
 * events) and remembers each one, so a test can prove the manifest and the code agree; actions,
 * views and options are not declared in a manifest and are only routed.
 *
 * Routing is one map lookup by kind and id (`dispatch`, installed as the last global
 * middleware). Bolt itself would run every registered listener's matcher chain for every request
 * (dozens of middleware invocations and argument copies each); only custom steps still go
 * through Bolt's listeners, which give them `complete`/`fail` and the workflow token.
 */
export class ListenerRegistry {
  readonly surfaces: Surface[] = [];
  private readonly routes = new Map<string, Listener>();

  constructor(readonly app: App) {}

  private remember(kind: SurfaceKind, id: string): void {
    if (this.surfaces.some((s) => s.kind === kind && s.id === id)) {
      throw new Error(`${kind} ${id} already has a listener`);
    }
    this.surfaces.push({ kind, id });
  }

  private route(key: string, listener: unknown): void {
    if (this.routes.has(key)) throw new Error(`${key.replace(':', ' ')} already has a listener`);
    this.routes.set(key, listener as Listener);
  }

  command(name: string, listener: Middleware<SlackCommandMiddlewareArgs>): void {
    this.remember('command', name);
    this.route(`command:${name}`, listener);
  }

  globalShortcut(callbackId: string, listener: Middleware<SlackShortcutMiddlewareArgs<GlobalShortcut>>): void {
    this.remember('global_shortcut', callbackId);
    this.route(`shortcut:${callbackId}`, listener);
  }

  messageShortcut(callbackId: string, listener: Middleware<SlackShortcutMiddlewareArgs<MessageShortcut>>): void {
    this.remember('message_shortcut', callbackId);
    this.route(`message_action:${callbackId}`, listener);
  }

  /** A Block Kit interaction (`block_actions`), by action_id. */
  action<A extends SlackAction = BlockAction>(actionId: string, listener: Middleware<SlackActionMiddlewareArgs<A>>): void {
    this.route(`block_actions:${actionId}`, listener);
  }

  /** A modal submission (`view_submission`), by the view's callback_id. */
  view<V extends SlackViewAction = ViewSubmitAction>(callbackId: string, listener: Middleware<SlackViewMiddlewareArgs<V>>): void {
    this.route(`view_submission:${callbackId}`, listener);
  }

  /** Options for an external select (`block_suggestion`), by action_id. */
  options(actionId: string, listener: Middleware<SlackOptionsMiddlewareArgs<BlockSuggestion['type']>>): void {
    this.route(`block_suggestion:${actionId}`, listener);
  }

  /**
   * A custom step. Bolt acknowledges `function_executed` before the listener runs, unless
   * `autoAcknowledge: false`: then the listener calls `ack()` itself (e.g. once the execution is
   * recorded, so a crash before that makes Slack redeliver it).
   */
  function(
    callbackId: string,
    listener: Middleware<SlackEventMiddlewareArgs<'function_executed'>>,
    options: { autoAcknowledge: boolean } = { autoAcknowledge: true },
  ): void {
    this.remember('function', callbackId);
    // Bolt routes the `function_executed` event to these listeners by callback id.
    if (!this.surfaces.some((s) => s.kind === 'event' && s.id === 'function_executed')) {
      this.surfaces.push({ kind: 'event', id: 'function_executed' });
    }
    this.route(`function:${callbackId}`, 'bolt');
    this.app.function(callbackId, options, listener);
  }

  event<E extends string>(name: E, listener: Middleware<SlackEventMiddlewareArgs<E>>): void {
    this.remember('event', name);
    this.route(`event:${name}`, listener);
  }

  /**
   * The global middleware that routes each request to its listener. A request no listener
   * handles (an unknown action or callback id, a stale button from an older version) is
   * acknowledged here and reported to `unhandled`, instead of Slack waiting 3 s for a 404.
   */
  dispatcher(unhandled: (body: unknown) => void): Listener {
    return async (args) => {
      const key = routeKey(args.body);
      const listener = key === undefined ? undefined : this.routes.get(key);
      if (typeof listener === 'function') return listener(args);
      if (listener !== undefined) return args.next(); // a custom step: Bolt's own listener
      unhandled(args.body);
      const ack = (args as { ack?: () => Promise<void> }).ack;
      if (ack) await ack();
    };
  }
}

/** The routing key of a payload: its kind and the id listeners are registered under. */
function routeKey(body: unknown): string | undefined {
  const b = body as {
    type?: string;
    command?: string;
    callback_id?: string;
    action_id?: string;
    actions?: { action_id?: string }[];
    view?: { callback_id?: string };
    event?: { type?: string; function?: { callback_id?: string } };
  };
  if (typeof b.command === 'string') return `command:${b.command}`;
  switch (b.type) {
    case 'event_callback':
      return b.event?.type === 'function_executed' ? `function:${b.event.function?.callback_id}` : `event:${b.event?.type}`;
    case 'block_actions':
      return `block_actions:${b.actions?.[0]?.action_id}`;
    case 'view_submission':
      return `view_submission:${b.view?.callback_id}`;
    case 'block_suggestion':
      return `block_suggestion:${b.action_id}`;
    case 'shortcut':
    case 'message_action':
      return `${b.type}:${b.callback_id}`;
    default:
      return undefined;
  }
}
