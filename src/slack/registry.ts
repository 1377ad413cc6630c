import type {
  App,
  Middleware,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
} from '@slack/bolt';
import type { GlobalShortcut, MessageShortcut } from '@slack/bolt';

export type SurfaceKind = 'command' | 'global_shortcut' | 'message_shortcut' | 'function' | 'event';
export interface Surface {
  kind: SurfaceKind;
  id: string;
}

/**
 * Registers the listeners for what manifest.json declares (commands, shortcuts, custom steps,
 * events) and remembers each one, so a test can prove the manifest and the code agree.
 * Actions, views and options are not declared in a manifest and go on `app` directly.
 */
export class ListenerRegistry {
  readonly surfaces: Surface[] = [];

  constructor(readonly app: App) {}

  private remember(kind: SurfaceKind, id: string): void {
    if (this.surfaces.some((s) => s.kind === kind && s.id === id)) {
      throw new Error(`${kind} ${id} already has a listener`);
    }
    this.surfaces.push({ kind, id });
  }

  command(name: string, listener: Middleware<SlackCommandMiddlewareArgs>): void {
    this.remember('command', name);
    this.app.command(name, listener);
  }

  globalShortcut(callbackId: string, listener: Middleware<SlackShortcutMiddlewareArgs<GlobalShortcut>>): void {
    this.remember('global_shortcut', callbackId);
    this.app.shortcut<GlobalShortcut>({ type: 'shortcut', callback_id: callbackId }, listener);
  }

  messageShortcut(callbackId: string, listener: Middleware<SlackShortcutMiddlewareArgs<MessageShortcut>>): void {
    this.remember('message_shortcut', callbackId);
    this.app.shortcut<MessageShortcut>({ type: 'message_action', callback_id: callbackId }, listener);
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
    this.app.function(callbackId, options, listener);
  }

  event<E extends string>(name: E, listener: Middleware<SlackEventMiddlewareArgs<E>>): void {
    this.remember('event', name);
    this.app.event(name, listener);
  }
}
