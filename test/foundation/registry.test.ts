import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { openStore } from '../../src/store/db.js';
import type { Surface } from '../../src/slack/registry.js';
import { ACTION, FUNCTION, VIEW } from '../../src/slack/ids.js';
import { COMPLETING_USER_INPUT } from '../../src/features/tasks/steps.js';
import { loadManifest } from '../manifest/loadSchema.js';

/** What manifest.json tells Slack to send us, as registry surfaces. */
function declaredSurfaces(): Surface[] {
  const m = loadManifest() as {
    features: { slash_commands?: { command: string }[]; shortcuts?: { type: string; callback_id: string }[] };
    functions?: Record<string, unknown>;
    settings: { event_subscriptions?: { bot_events?: string[] } };
  };
  return [
    ...(m.features.slash_commands ?? []).map((c) => ({ kind: 'command' as const, id: c.command })),
    ...(m.features.shortcuts ?? []).map((s) => ({
      kind: s.type === 'message' ? ('message_shortcut' as const) : ('global_shortcut' as const),
      id: s.callback_id,
    })),
    ...Object.keys(m.functions ?? {}).map((id) => ({ kind: 'function' as const, id })),
    ...(m.settings.event_subscriptions?.bot_events ?? []).map((id) => ({ kind: 'event' as const, id })),
  ];
}

const key = (s: Surface) => `${s.kind}:${s.id}`;

describe('manifest.json and the listeners agree', () => {
  const store = openStore(':memory:');
  const { registry } = createApp({
    config: {
      botToken: 'xoxb-registry-test',
      signingSecret: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      appToken: undefined,
      slackApiUrl: 'http://127.0.0.1:9/api/',
      port: 0,
      databaseUrl: ':memory:',
      logLevel: 'error',
    },
    store,
  });
  const declared = declaredSurfaces().map(key).sort();
  const listened = registry.surfaces.map(key).sort();

  it('declares something of every kind (the comparison is not vacuous)', () => {
    for (const kind of ['command', 'global_shortcut', 'message_shortcut', 'function', 'event']) {
      expect(declared.some((d) => d.startsWith(`${kind}:`))).toBe(true);
    }
  });

  it('every command, shortcut, function and event in the manifest has a listener', () => {
    expect(declared.filter((d) => !listened.includes(d))).toEqual([]);
  });

  it('every registered listener is declared in the manifest', () => {
    expect(listened.filter((l) => !declared.includes(l))).toEqual([]);
  });

  it('complete_task reads the required person input the manifest declares (a user id)', () => {
    const m = loadManifest() as { functions: Record<string, { input_parameters: Record<string, { type: string; is_required?: boolean }> }> };
    expect(m.functions[FUNCTION.completeTask]?.input_parameters[COMPLETING_USER_INPUT]).toMatchObject({ type: 'slack#/types/user_id', is_required: true });
  });

  it('the registry refuses a second listener for the same surface', () => {
    expect(() => registry.command('/task', async () => {})).toThrow(/already has a listener/);
  });

  it('and for the same action or view id (routing is by exact id, so two would shadow each other)', () => {
    expect(() => registry.action(ACTION.taskComplete, async () => {})).toThrow(/block_actions task_complete\S* already has a listener/);
    expect(() => registry.view(VIEW.newTask, async () => {})).toThrow(/view_submission \S+ already has a listener/);
  });
});
