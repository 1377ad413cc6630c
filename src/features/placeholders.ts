import type { ListenerRegistry } from '../slack/registry.js';

/**
 * Honest answers for surfaces whose feature has not landed yet, so every surface declared in
 * manifest.json is wired from day one. A feature replaces its placeholders when it lands.
 */
export const COMING_SOON = 'This part of Tasklane is not available yet. It is coming soon.';

export function placeholderCommand(reg: ListenerRegistry, name: string): void {
  reg.command(name, async ({ ack }) => {
    await ack({ response_type: 'ephemeral', text: COMING_SOON });
  });
}

export function placeholderFunction(reg: ListenerRegistry, callbackId: string): void {
  reg.function(callbackId, async ({ fail }) => {
    await fail({ error: `Tasklane cannot run "${callbackId}" yet: ${COMING_SOON}` });
  });
}

function comingSoonModal(title: string) {
  return {
    type: 'modal' as const,
    title: { type: 'plain_text' as const, text: title.slice(0, 24) },
    close: { type: 'plain_text' as const, text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: COMING_SOON } }],
  };
}

export function placeholderGlobalShortcut(reg: ListenerRegistry, callbackId: string, title: string): void {
  reg.globalShortcut(callbackId, async ({ ack, client, shortcut }) => {
    await ack();
    await client.views.open({ trigger_id: shortcut.trigger_id, view: comingSoonModal(title) });
  });
}

export function placeholderMessageShortcut(reg: ListenerRegistry, callbackId: string, title: string): void {
  reg.messageShortcut(callbackId, async ({ ack, client, shortcut }) => {
    await ack();
    await client.views.open({ trigger_id: shortcut.trigger_id, view: comingSoonModal(title) });
  });
}
