// Approvals' listeners with fake dependencies: a payload in, what they ack, tell and call out.
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError, NotAllowedError } from '../../src/errors.js';
import { handleApproveClick, handleRejectClick, handleRejectReasonSubmit } from '../../src/features/approvals/decisions.js';
import { handleRequestApprovalSubmit } from '../../src/features/approvals/requestForm.js';
import { ApprovalClosedError, type ApprovalService } from '../../src/features/approvals/service.js';
import { INPUT, REQUEST_INPUT, alreadyDecidedPlain } from '../../src/features/approvals/views.js';
import { ANN, BOB, NOW, approval } from './blocks.js';

const decided = approval({ status: 'approved', decidedBy: BOB, decidedAt: NOW });

function fakes(approvals: Partial<Record<keyof ApprovalService, unknown>>) {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const client = { views: { open: vi.fn(async () => ({ ok: true })) }, chat: { postEphemeral: vi.fn(async () => ({ ok: true })), postMessage: vi.fn(async () => ({ ok: true })) } };
  return { approvals: approvals as unknown as ApprovalService, logger, client, deps: { approvals: approvals as unknown as ApprovalService, logger, client } as never };
}

/** A click on a card's button in a DM (a response_url), or on the App Home (neither channel nor response_url). */
function click(surface: 'message' | 'home') {
  const body = {
    type: 'block_actions',
    team: { id: 'T1' },
    user: { id: ANN, team_id: 'T1' },
    trigger_id: 'trigger-1',
    container: surface === 'message' ? { type: 'message', channel_id: 'D1' } : { type: 'view' },
    ...(surface === 'message' ? { channel: { id: 'D1' }, response_url: 'https://hooks.example/1' } : {}),
  };
  return { body, action: { type: 'button', action_id: 'approval_approve', value: '42' } } as never;
}

describe('handleApproveClick', () => {
  it('decides, then acks once and tells nobody', async () => {
    const decide = vi.fn(async () => ({}));
    const { deps } = fakes({ decide });
    const ack = vi.fn(async () => {});
    const respond = vi.fn(async () => {});
    await handleApproveClick(deps)({ ...(click('message') as object), ack, respond } as never);
    expect(decide).toHaveBeenCalledWith(expect.objectContaining({ teamId: 'T1', userId: ANN, approvalId: 42, outcome: 'approved', comment: '' }));
    expect(ack).toHaveBeenCalledTimes(1);
    expect(respond).not.toHaveBeenCalled();
  });

  it('acks once, then tells a refused clicker why under the card', async () => {
    const decide = vi.fn(async () => Promise.reject(new NotAllowedError('not an approver', 'Only approvers may decide.')));
    const { deps, logger } = fakes({ decide });
    const order: string[] = [];
    const ack = vi.fn(async () => void order.push('ack'));
    const respond = vi.fn(async () => void order.push('respond'));
    await handleApproveClick(deps)({ ...(click('message') as object), ack, respond } as never);
    expect(order).toEqual(['ack', 'respond']);
    expect(respond).toHaveBeenCalledWith({ response_type: 'ephemeral', replace_original: false, text: 'Only approvers may decide.' });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('on the App Home (no channel, no response_url) explains in a modal, and logs an unexpected failure', async () => {
    const decide = vi.fn(async () => Promise.reject(new Error('disk full')));
    const { deps, logger, client } = fakes({ decide });
    const ack = vi.fn(async () => {});
    await handleApproveClick(deps)({ ...(click('home') as object), ack, respond: vi.fn() } as never);
    expect(ack).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1' }));
  });
});

describe('handleRejectClick', () => {
  it('opens the reason form with the click trigger for an approval the user may decide', async () => {
    const decidable = vi.fn(async () => approval());
    const { deps, client } = fakes({ decidable });
    const ack = vi.fn(async () => {});
    await handleRejectClick(deps)({ ...(click('message') as object), ack, respond: vi.fn() } as never);
    expect(ack).toHaveBeenCalledTimes(1);
    expect(decidable).toHaveBeenCalledWith('T1', 42, ANN);
    expect(client.views.open).toHaveBeenCalledTimes(1);
    expect(client.views.open).toHaveBeenCalledWith(expect.objectContaining({ trigger_id: 'trigger-1', view: expect.objectContaining({ type: 'modal' }) }));
  });
});

describe('handleRejectReasonSubmit', () => {
  const submit = (reason: string) =>
    ({
      body: { type: 'view_submission', team: { id: 'T1' }, user: { id: ANN, team_id: 'T1' } },
      view: { private_metadata: JSON.stringify({ approvalId: 42 }), state: { values: { [INPUT.reason.block]: { [INPUT.reason.action]: { type: 'plain_text_input', value: reason } } } } },
    }) as never;

  it('records the rejection with its reason and closes the form (an empty ack)', async () => {
    const decide = vi.fn(async () => ({}));
    const { deps } = fakes({ decide });
    const ack = vi.fn(async () => {});
    await handleRejectReasonSubmit(deps)({ ...(submit('Too expensive') as object), ack } as never);
    expect(decide).toHaveBeenCalledWith({ teamId: 'T1', approvalId: 42, userId: ANN, outcome: 'rejected', comment: 'Too expensive' });
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack).toHaveBeenCalledWith(undefined);
  });

  it('puts a refusal on the reason input: invalid input, already decided, not an approver', async () => {
    for (const [err, text] of [
      [new InvalidInputError('no reason', { [INPUT.reason.action]: 'Say why.' }), 'Say why.'],
      [new ApprovalClosedError(decided), alreadyDecidedPlain(decided)],
      [new NotAllowedError('not an approver'), 'Only the approvers of this request can decide on it.'],
    ] as const) {
      const { deps } = fakes({ decide: vi.fn(async () => Promise.reject(err)) });
      const ack = vi.fn(async () => {});
      await handleRejectReasonSubmit(deps)({ ...(submit('') as object), ack } as never);
      expect(ack).toHaveBeenCalledTimes(1);
      expect(ack).toHaveBeenCalledWith({ response_action: 'errors', errors: { [INPUT.reason.block]: text } });
    }
  });
});

describe('handleRequestApprovalSubmit', () => {
  const submit = {
    body: { type: 'view_submission', team: null, user: { id: BOB, team_id: 'T9' } },
    view: {
      state: {
        values: {
          [REQUEST_INPUT.approvers.block]: { [REQUEST_INPUT.approvers.action]: { type: 'multi_users_select', selected_users: [ANN] } },
          [REQUEST_INPUT.title.block]: { [REQUEST_INPUT.title.action]: { type: 'plain_text_input', value: 'Budget' } },
          [REQUEST_INPUT.details.block]: { [REQUEST_INPUT.details.action]: { type: 'plain_text_input', value: null } },
        },
      },
    },
  };

  it('stores the request for the workspace of an org-wide install, then acks once', async () => {
    const requestApproval = vi.fn(async () => ({}));
    const { deps } = fakes({ requestApproval });
    const ack = vi.fn(async () => {});
    await handleRequestApprovalSubmit(deps)({ ...submit, ack } as never);
    expect(requestApproval).toHaveBeenCalledWith({ teamId: 'T9', requesterId: BOB, approverIds: [ANN], title: 'Budget', details: '' });
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack).toHaveBeenCalledWith(undefined);
  });

  it('puts each invalid field on its block', async () => {
    const err = new InvalidInputError('bad', { approvers: 'Pick someone else.', details: 'Too long.' });
    const { deps } = fakes({ requestApproval: vi.fn(async () => Promise.reject(err)) });
    const ack = vi.fn(async () => {});
    await handleRequestApprovalSubmit(deps)({ ...submit, ack } as never);
    expect(ack).toHaveBeenCalledWith({
      response_action: 'errors',
      errors: { [REQUEST_INPUT.approvers.block]: 'Pick someone else.', [REQUEST_INPUT.details.block]: 'Too long.' },
    });
  });

  it('lets an unexpected failure through unacknowledged (the app-wide handler answers it)', async () => {
    const { deps } = fakes({ requestApproval: vi.fn(async () => Promise.reject(new Error('disk full'))) });
    const ack = vi.fn(async () => {});
    await expect(handleRequestApprovalSubmit(deps)({ ...submit, ack } as never)).rejects.toThrow('disk full');
    expect(ack).not.toHaveBeenCalled();
  });
});
