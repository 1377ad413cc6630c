import { describe, expect, it } from 'vitest';
import {
  allowedParameterTypes,
  createManifestValidator,
  loadManifest,
  loadSchema,
  type JsonObject,
} from './loadSchema.js';

interface Parameter {
  type: string;
  title?: string;
  description?: string;
  is_required?: boolean;
  items?: { type: string };
  [key: string]: unknown;
}
type ParameterSet = Record<string, Parameter>;
interface FunctionDef {
  title: string;
  description: string;
  input_parameters: ParameterSet;
  output_parameters: ParameterSet;
}
interface Manifest {
  display_information: { name: string; description?: string; long_description?: string };
  features: {
    app_home: Record<string, boolean>;
    bot_user: { display_name: string; always_online?: boolean };
    slash_commands: Array<{
      command: string;
      url?: string;
      description: string;
      usage_hint?: string;
      should_escape?: boolean;
    }>;
    shortcuts: Array<{ name: string; type: string; callback_id: string; description: string }>;
  };
  functions: Record<string, FunctionDef>;
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string };
    org_deploy_enabled: boolean;
    socket_mode_enabled: boolean;
    token_rotation_enabled: boolean;
    function_runtime: string;
  };
}

const EVENTS_URL = 'https://tasklane.example.com/slack/events';
const schema = loadSchema();
const validate = createManifestValidator(schema);
const manifest = loadManifest() as unknown as Manifest;
const ALLOWED_TYPES = new Set(allowedParameterTypes(schema));

const fresh = (): Manifest => structuredClone(manifest);
const errorsOf = (candidate: unknown): string[] =>
  validate(candidate) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

/** Every type used by a parameter set, including array item types. */
function parameterTypeProblems(functions: Record<string, FunctionDef>): string[] {
  const problems: string[] = [];
  for (const [id, fn] of Object.entries(functions)) {
    for (const kind of ['input_parameters', 'output_parameters'] as const) {
      for (const [name, param] of Object.entries(fn[kind])) {
        const where = `${id}.${kind}.${name}`;
        if (!ALLOWED_TYPES.has(param.type)) problems.push(`${where}: type ${param.type}`);
        if (param.type === 'array') {
          const itemType = param.items?.type;
          if (itemType === undefined || !ALLOWED_TYPES.has(itemType)) {
            problems.push(`${where}: items.type ${String(itemType)}`);
          }
        }
        if (!param.title || !param.description) problems.push(`${where}: missing title/description`);
      }
    }
  }
  return problems;
}

/** [type, required] per parameter, as each step defines them. */
const EXPECTED_FUNCTIONS: Record<
  string,
  { title: string; inputs: Record<string, [string, boolean]>; outputs: Record<string, [string, boolean]> }
> = {
  request_approval: {
    title: 'Request approval',
    inputs: {
      approver: ['slack#/types/user_id', true],
      other_approvers: ['array', false],
      title: ['string', true],
      details: ['string', false],
      requester: ['slack#/types/user_id', false],
      remind_after_hours: ['integer', false],
      escalate_to: ['slack#/types/user_id', false],
      expire_after_hours: ['integer', false],
    },
    outputs: {
      approved: ['boolean', true],
      decided_by: ['slack#/types/user_id', false],
      comment: ['string', true],
      approval_id: ['string', true],
      outcome: ['string', true],
    },
  },
  create_task: {
    title: 'Create a task',
    inputs: {
      title: ['string', true],
      assignee: ['slack#/types/user_id', true],
      description: ['string', false],
      due_date: ['slack#/types/date', false],
      channel: ['slack#/types/channel_id', false],
      wait_for_completion: ['boolean', false],
    },
    outputs: {
      task_id: ['string', true],
      task_number: ['integer', true],
      completed_by: ['slack#/types/user_id', false],
      completed_at: ['slack#/types/timestamp', false],
    },
  },
  complete_task: {
    title: 'Complete a task',
    inputs: { task: ['string', true], completed_by_user: ['slack#/types/user_id', true] },
    outputs: { completed_by: ['slack#/types/user_id', true] },
  },
};

const shape = (params: ParameterSet): Record<string, [string, boolean]> =>
  Object.fromEntries(
    Object.entries(params).map(([name, p]) => [name, [p.type, p.is_required === true]]),
  );

describe('manifest.json against Slack manifest schema 1.0.0', () => {
  it('uses the draft the schema declares (draft-07, default Ajv)', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('is valid', () => {
    expect(errorsOf(manifest)).toEqual([]);
  });

  describe('the validator rejects broken copies (so the check is not vacuous)', () => {
    it('missing display_information.name', () => {
      const broken = fresh() as unknown as { display_information: JsonObject };
      delete broken.display_information.name;
      expect(errorsOf(broken)).toContainEqual(
        expect.stringContaining("must have required property 'name'"),
      );
    });

    it('a function parameter without a type', () => {
      const broken = fresh();
      delete (broken.functions.create_task!.input_parameters.title as Partial<Parameter>).type;
      expect(errorsOf(broken)).toContainEqual(
        expect.stringMatching(/^\/functions\/create_task\/input_parameters\/title .*'type'/),
      );
    });

    it('a shortcut callback_id over 255 characters', () => {
      const broken = fresh();
      broken.features.shortcuts[0]!.callback_id = 'x'.repeat(256);
      expect(errorsOf(broken)).toContainEqual(
        expect.stringContaining('/features/shortcuts/0/callback_id must NOT have more than 255'),
      );
    });

    it('an unknown settings key', () => {
      const broken = fresh() as unknown as { settings: JsonObject };
      broken.settings.function_runtimes = 'remote';
      expect(errorsOf(broken)).toContainEqual(
        expect.stringContaining('must NOT have additional properties'),
      );
    });
  });
});

describe('custom steps', () => {
  it('declares exactly the three steps with the specified parameters', () => {
    expect(Object.keys(manifest.functions).sort()).toEqual(
      Object.keys(EXPECTED_FUNCTIONS).sort(),
    );
    for (const [id, expected] of Object.entries(EXPECTED_FUNCTIONS)) {
      const fn = manifest.functions[id]!;
      expect(fn.title, id).toBe(expected.title);
      expect(fn.description.length, id).toBeGreaterThan(0);
      expect(shape(fn.input_parameters), `${id} inputs`).toEqual(expected.inputs);
      expect(shape(fn.output_parameters), `${id} outputs`).toEqual(expected.outputs);
    }
  });

  it('details the parameters that need more than a type', () => {
    const approval = manifest.functions.request_approval!.input_parameters;
    expect(approval.other_approvers!.items).toEqual({ type: 'slack#/types/user_id' });
    const create = manifest.functions.create_task!.input_parameters;
    expect(create.wait_for_completion!.default).toBe(false);
    const complete = manifest.functions.complete_task!.input_parameters;
    expect(complete.task!.description).toBe('Task id or number, e.g. 42 or #42');
    expect(complete.completed_by_user!.title).toBe('Completed by');
  });

  it('uses only parameter types Slack allows, each with a title and description', () => {
    expect(parameterTypeProblems(manifest.functions)).toEqual([]);
  });

  it('the type check rejects unknown types (the schema alone does not)', () => {
    const broken = fresh();
    broken.functions.complete_task!.output_parameters.completed_by!.type = 'slack#/types/person';
    broken.functions.request_approval!.input_parameters.other_approvers!.items = { type: 'user' };
    // Slack's 1.0.0 schema accepts any string as a top-level function parameter type…
    expect(errorsOf(broken)).toEqual([]);
    // …so this test's own check is what catches it.
    expect(parameterTypeProblems(broken.functions)).toEqual([
      'request_approval.input_parameters.other_approvers: items.type user',
      'complete_task.output_parameters.completed_by: type slack#/types/person',
    ]);
  });
});

describe('features', () => {
  it('/task escapes mentions and posts to the events URL', () => {
    expect(manifest.features.slash_commands).toHaveLength(1);
    const task = manifest.features.slash_commands[0]!;
    expect(task.command).toBe('/task');
    expect(task.should_escape).toBe(true);
    expect(task.url).toBe(EVENTS_URL);
    expect(task.usage_hint).toContain('add <title>');
  });

  it('declares the three shortcuts with short, described callback ids', () => {
    const shortcuts = manifest.features.shortcuts;
    expect(shortcuts.map((s) => [s.type, s.callback_id, s.name])).toEqual([
      ['global', 'create_task', 'New task'],
      ['global', 'request_approval', 'Request approval'],
      ['message', 'task_from_message', 'Make a task'],
    ]);
    for (const s of shortcuts) {
      expect(s.callback_id.length).toBeGreaterThan(0);
      expect(s.callback_id.length).toBeLessThanOrEqual(255);
      expect(s.description.length).toBeGreaterThan(0);
    }
  });

  it('enables the Home and a writable Messages tab, with an always-online bot', () => {
    expect(manifest.features.app_home).toEqual({
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: false,
    });
    expect(manifest.features.bot_user).toEqual({ display_name: 'Tasklane', always_online: true });
    expect(manifest.display_information.name).toBe('Tasklane');
  });
});

describe('settings and scopes', () => {
  it('runs functions remotely, org-deployable, over HTTP', () => {
    const s = manifest.settings;
    expect(s.function_runtime).toBe('remote');
    expect(s.org_deploy_enabled).toBe(true);
    expect(s.socket_mode_enabled).toBe(false);
    expect(s.token_rotation_enabled).toBe(false);
    expect(s.interactivity).toEqual({
      is_enabled: true,
      request_url: EVENTS_URL,
      message_menu_options_url: EVENTS_URL,
    });
    expect(s.event_subscriptions.request_url).toBe(EVENTS_URL);
  });

  it('subscribes to exactly the bot events the app handles', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual(
      ['app_home_opened', 'app_mention', 'function_executed', 'reaction_added'].sort(),
    );
  });

  it('asks for a minimal set of bot scopes', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      [
        'app_mentions:read', // app_mention event
        'chat:write', // DMs, task cards, message updates, thread replies
        'chat:write.public', // task cards in channels the bot has not joined
        'commands', // /task and the shortcuts
        'channels:read', // conversations.info: is a message's channel public (task visibility)
        'groups:read', // … or a private channel
        'im:read', // … or a DM
        'mpim:read', // … or a group DM
        'im:write', // open the DM with assignees/approvers
        'reactions:read', // reaction_added event
        'users:read', // reject bot/deactivated assignees
        // Read back Tasklane's own recent messages where it posted (DM, channel, private channel,
        // group DM thread) to find one whose delivery Slack confirmed too late: the outbox never
        // sends a message twice (src/outbox/sender.ts findPosted). Nothing else reads history:
        // reaction_added carries channel+ts, message shortcuts carry the message.
        'im:history',
        'channels:history',
        'groups:history',
        'mpim:history',
      ].sort(),
    );
    expect(manifest.oauth_config.scopes.bot.filter((s) => s.endsWith(':history')).sort()).toEqual(['channels:history', 'groups:history', 'im:history', 'mpim:history']);
  });
});
