import type { GlobalShortcut, SlackShortcutMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { InvalidInputError } from '../../errors.js';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { openModal, type ModalTrigger } from '../../slack/modals.js';
import { couldNotOpenText } from '../../slack/slackErrors.js';
import { teamIdOf, viewInput } from '../../slack/values.js';
import { MAX_APPROVERS, type ApprovalService } from './service.js';
import { REQUEST_INPUT, requestApprovalModal } from './views.js';

/** "Request approval" outside Workflow Builder: the shortcut opens a form, its submission asks the service. */

type SlackDeps = Pick<Services, 'client' | 'logger'>;

/**
 * Opens the Request approval form (the shortcut; the App Home's header button too).
 * Throws what views.open throws, e.g. `expired_trigger_id`.
 */
export async function openRequestApprovalModal({ client }: Pick<Services, 'client'>, trigger: ModalTrigger): Promise<void> {
  await openModal(client, trigger, requestApprovalModal(MAX_APPROVERS));
}

/** The Request approval shortcut: the form, or a DM saying why it could not open. */
export const handleRequestApprovalShortcut = (deps: SlackDeps) =>
  async function requestApprovalShortcut({ ack, shortcut }: Pick<SlackShortcutMiddlewareArgs<GlobalShortcut>, 'ack' | 'shortcut'>): Promise<void> {
    await ack();
    const userId = shortcut.user.id;
    try {
      await openRequestApprovalModal(deps, { triggerId: shortcut.trigger_id });
    } catch (err) {
      deps.logger.warn(`request approval shortcut (user ${userId}): could not open the modal: ${describeError(err)}`);
      await dm(deps, userId, couldNotOpenText('the Request approval form', err));
    }
  };

/**
 * The form's submission. Stored (with its cards in the outbox) before the ack: a request Slack
 * saw accepted is never lost. The requester hears from the outbox once the cards went out, or why
 * they could not; input the service refuses goes back onto the form.
 */
export const handleRequestApprovalSubmit = ({ approvals }: { approvals: ApprovalService }) =>
  async function requestApprovalSubmit({ ack, body, view }: Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>): Promise<void> {
    const values = view.state.values;
    const request = {
      approverIds: viewInput(values, REQUEST_INPUT.approvers.block, REQUEST_INPUT.approvers.action).selectedUsers() ?? [],
      title: viewInput(values, REQUEST_INPUT.title.block, REQUEST_INPUT.title.action).text() ?? '',
      details: viewInput(values, REQUEST_INPUT.details.block, REQUEST_INPUT.details.action).text() ?? '',
    };
    let errors: Record<string, string> | undefined;
    try {
      await approvals.requestApproval({ teamId: teamIdOf(body), requesterId: body.user.id, ...request });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      errors = requestErrors(err);
    }
    await ack(errors ? { response_action: 'errors', errors } : undefined);
  };

/** parseApprovalRequest's fields (approvers, title, details) keyed by the form's block ids. */
function requestErrors(err: InvalidInputError): Record<string, string> {
  const blocks: Record<string, string> = {
    approvers: REQUEST_INPUT.approvers.block,
    title: REQUEST_INPUT.title.block,
    details: REQUEST_INPUT.details.block,
  };
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(err.fields)) out[blocks[field] ?? REQUEST_INPUT.title.block] = message;
  return out;
}

async function dm({ client, logger }: SlackDeps, userId: string, text: string): Promise<void> {
  try {
    await client.chat.postMessage({ channel: userId, text });
  } catch (err) {
    logger.warn(`could not DM ${userId}: ${describeError(err)}`);
  }
}
