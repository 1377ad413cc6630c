// "Request approval" outside Workflow Builder, with fake dependencies: the global shortcut opens
// the form (or DMs why it could not), and the form's submission maps every field the service
// refuses onto its block. approvalHandlers.test.ts covers the submission's org-wide workspace,
// several field errors at once, and an unexpected failure.
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { handleRequestApprovalShortcut, handleRequestApprovalSubmit } from '../../src/features/approvals/requestForm.js';
import type { ApprovalService } from '../../src/features/approvals/service.js';
import { REQUEST_INPUT } from '../../src/features/approvals/views.js';
import { VIEW } from '../../src/slack/ids.js';
import { ANN, BOB, expectValidView } from './blocks.js';

const slackError = (code: string) => Object.assign(new Error(`An API error occurred: ${code}`), { code: 'slack_webapi_platform_error', data: { ok: false, error: code } });

describe('handleRequestApprovalShortcut', () => {
  function shortcut(opts: { open?: () => Promise<unknown>; postMessage?: () => Promise<unknown> } = {}) {
    const calls: string[] = [];
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const client = {
      views: { open: vi.fn(async () => (calls.push('open'), opts.open ? opts.open() : { ok: true })) },
      chat: { postMessage: vi.fn(opts.postMessage ?? (async () => ({ ok: true }))) },
    };
    const ack = vi.fn(async () => void calls.push('ack'));
    const payload = {
      type: 'shortcut',
      token: 'verification-token',
      action_ts: '1741608000.000100',
      team: { id: 'T1', domain: 't1' },
      user: { id: ANN, username: 'ann', name: 'ann', team_id: 'T1' },
      is_enterprise_install: false,
      enterprise: null,
      callback_id: 'request_approval',
      trigger_id: 'trigger-1',
    };
    const done = handleRequestApprovalShortcut({ client, logger } as never)({ ack, shortcut: payload, body: payload } as never);
    return { done, calls, client, logger, ack };
  }

  it('acks, then opens the Request approval form with the shortcut trigger', async () => {
    const r = shortcut();
    await r.done;
    expect(r.calls).toEqual(['ack', 'open']);
    expect(r.client.views.open).toHaveBeenCalledWith({ trigger_id: 'trigger-1', view: expect.objectContaining({ type: 'modal', callback_id: VIEW.requestApproval }) });
    const view = (r.client.views.open.mock.calls[0] as unknown as [{ view: unknown }])[0].view;
    expectValidView(view);
    expect(r.client.chat.postMessage).not.toHaveBeenCalled();
  });

  it('DMs the user why the form did not open, and logs it as a warning', async () => {
    const r = shortcut({ open: async () => Promise.reject(slackError('expired_trigger_id')) });
    await r.done;
    expect(r.ack).toHaveBeenCalledTimes(1);
    expect(r.client.chat.postMessage).toHaveBeenCalledWith({ channel: ANN, text: 'Slack took too long to open the Request approval form, so it did not open. Please try again.' });
    expect(r.logger.warn).toHaveBeenCalledWith(expect.stringContaining(`user ${ANN}`));
    expect(r.logger.error).not.toHaveBeenCalled();
  });

  it('does not throw when that DM cannot be sent either', async () => {
    const r = shortcut({ open: async () => Promise.reject(slackError('expired_trigger_id')), postMessage: async () => Promise.reject(slackError('ratelimited')) });
    await expect(r.done).resolves.toBeUndefined();
    expect(r.logger.warn).toHaveBeenCalledTimes(2);
    expect(r.logger.warn).toHaveBeenLastCalledWith(expect.stringContaining(`could not DM ${ANN}`));
  });
});

describe('handleRequestApprovalSubmit', () => {
  function submit(values: Record<string, unknown>, requestApproval: (...args: unknown[]) => Promise<unknown>) {
    const ack = vi.fn(async () => {});
    const request = vi.fn(requestApproval);
    const args = {
      ack,
      body: { type: 'view_submission', team: { id: 'T1', domain: 't1' }, user: { id: BOB, username: 'bob', name: 'bob', team_id: 'T1' }, view: { id: 'V1', team_id: 'T1' } },
      view: { id: 'V1', team_id: 'T1', callback_id: VIEW.requestApproval, private_metadata: '', state: { values } },
    } as never;
    return { done: handleRequestApprovalSubmit({ approvals: { requestApproval: request } as unknown as ApprovalService })(args), ack, request };
  }

  it('sends an empty form to the service as empty fields (the service says what is missing)', async () => {
    const r = submit({}, async () => ({}));
    await r.done;
    expect(r.request).toHaveBeenCalledWith({ teamId: 'T1', requesterId: BOB, approverIds: [], title: '', details: '' });
    expect(r.ack).toHaveBeenCalledWith(undefined);
  });

  it('puts a title error on the title block, and an error on a field the form does not have there too', async () => {
    for (const [fields, errors] of [
      [{ title: 'Say what needs approving.' }, { [REQUEST_INPUT.title.block]: 'Say what needs approving.' }],
      [{ requester: 'You cannot ask yourself.' }, { [REQUEST_INPUT.title.block]: 'You cannot ask yourself.' }],
    ] as const) {
      const r = submit(
        { [REQUEST_INPUT.approvers.block]: { [REQUEST_INPUT.approvers.action]: { type: 'multi_users_select', selected_users: [ANN] } } },
        async () => Promise.reject(new InvalidInputError('bad', fields)),
      );
      await r.done;
      expect(r.ack).toHaveBeenCalledTimes(1);
      expect(r.ack).toHaveBeenCalledWith({ response_action: 'errors', errors });
    }
  });
});
