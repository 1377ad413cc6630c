import { InvalidInputError } from '../../errors.js';
import { trimInput } from '../../slack/inputText.js';
import { ForeignExecutionError, type Approval } from '../../store/approvals.js';
import type { ApprovalContext } from './context.js';
import { cardKey } from './effects.js';

/**
 * Requesting an approval: the `request_approval` step and the shortcut's form. What a request
 * needs is checked here, whatever the surface; the approval and a card per approver are recorded
 * in one transaction.
 */

export const MAX_APPROVERS = 25;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface ApprovalRequestInput {
  approverIds: string[];
  title: string;
  details: string;
  requesterId: string | null;
}

/**
 * Validates what a request needs, from any surface. Approvers are de-duplicated (first one
 * keeps its place). Throws InvalidInputError whose `fields` are keyed approvers/title/details.
 */
export function parseApprovalRequest(input: {
  approverIds: readonly unknown[];
  title: unknown;
  details?: unknown;
  requesterId?: unknown;
}): ApprovalRequestInput {
  const fields: Record<string, string> = {};
  const approverIds = [...new Set(input.approverIds.filter((v) => v !== undefined && v !== null && v !== ''))];
  const badIds = approverIds.filter((v) => typeof v !== 'string' || !USER_ID.test(v));
  if (approverIds.length === 0) fields.approvers = 'Choose at least one approver.';
  else if (badIds.length > 0) fields.approvers = `These are not Slack user ids: ${badIds.map((v) => JSON.stringify(v)).join(', ')}.`;
  else if (approverIds.length > MAX_APPROVERS) fields.approvers = `Choose at most ${MAX_APPROVERS} approvers (there are ${approverIds.length}).`;

  const title = typeof input.title === 'string' ? trimInput(input.title) : '';
  if (title === '') fields.title = 'Give the request a title.';

  let details = '';
  if (input.details !== undefined && input.details !== null) {
    if (typeof input.details !== 'string') fields.details = 'Details must be text.';
    else details = trimInput(input.details);
  }

  let requesterId: string | null = null;
  if (input.requesterId !== undefined && input.requesterId !== null && input.requesterId !== '') {
    if (typeof input.requesterId !== 'string' || !USER_ID.test(input.requesterId)) {
      fields.requester = `The requester is not a Slack user id: ${JSON.stringify(input.requesterId)}.`;
    } else requesterId = input.requesterId;
  }

  const problems = Object.values(fields);
  if (problems.length > 0) throw new InvalidInputError(problems.join(' '), fields);
  return { approverIds: approverIds as string[], title, details, requesterId };
}

/** Chasing a request (the step's optional inputs): reminders, escalation, expiry. */
export interface ChaseInput {
  remindAfterHours: number | null;
  escalateTo: string | null;
  expireAfterHours: number | null;
}

/** The longest interval the step takes: a year. */
export const MAX_HOURS = 8760;

/**
 * A whole number of hours in 1..MAX_HOURS, or null when not given. Slack sends an `integer` input
 * as a number; a numeral in a string is taken too.
 */
function parseHours(raw: unknown, label: string, fields: Record<string, string>, field: string): number | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOURS) {
    fields[field] = `The "${label}" input must be a whole number of hours from 1 to ${MAX_HOURS} (got ${JSON.stringify(raw)}).`;
    return null;
  }
  return n;
}

/** The step's chasing inputs; problems go into `fields` (keyed remind/escalate/expire). */
export function parseChaseInputs(inputs: Record<string, unknown>, fields: Record<string, string>): ChaseInput {
  const remindAfterHours = parseHours(inputs['remind_after_hours'], 'Remind after (hours)', fields, 'remind');
  const expireAfterHours = parseHours(inputs['expire_after_hours'], 'Expire after (hours)', fields, 'expire');
  let escalateTo: string | null = null;
  const rawEscalate = inputs['escalate_to'];
  if (rawEscalate !== undefined && rawEscalate !== null && rawEscalate !== '') {
    if (typeof rawEscalate !== 'string' || !USER_ID.test(rawEscalate)) fields.escalate = `"Escalate to" is not a Slack user id: ${JSON.stringify(rawEscalate)}.`;
    else if (inputs['remind_after_hours'] === undefined || inputs['remind_after_hours'] === null || inputs['remind_after_hours'] === '') {
      fields.escalate = 'The "Escalate to" input needs "Remind after (hours)": the person is added with the first reminder.';
    } else escalateTo = rawEscalate;
  }
  return { remindAfterHours, escalateTo, expireAfterHours };
}

/** The `request_approval` step's inputs (manifest `input_parameters`) as a request; errors worded for the step. */
export function parseStepInputs(inputs: Record<string, unknown>): ApprovalRequestInput & ChaseInput {
  const approver = inputs['approver'];
  const others = inputs['other_approvers'];
  const otherIds: unknown[] = others === undefined || others === null ? [] : Array.isArray(others) ? others : [others];
  const missingApprover = approver === undefined || approver === null || approver === '';
  let parsed: ApprovalRequestInput | undefined;
  let fields: Record<string, string> = {};
  try {
    parsed = parseApprovalRequest({ approverIds: [approver, ...otherIds], title: inputs['title'], details: inputs['details'], requesterId: inputs['requester'] });
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    fields = { ...err.fields };
  }
  if (missingApprover) fields.approvers = 'The "Approver" input is required.';
  if (fields.title) fields.title = 'The "Title" input is required and cannot be blank.';
  const chase = parseChaseInputs(inputs, fields);
  const problems = Object.values(fields);
  if (problems.length > 0 || !parsed) throw new InvalidInputError(problems.join(' '), fields);
  return { ...parsed, ...chase };
}

export type WorkflowRequestResult =
  | { kind: 'sent'; approval: Approval }
  | { kind: 'duplicate'; approval: Approval }
  /** Another workspace's execution id: nothing recorded, nothing touched. */
  | { kind: 'busy' }
  | { kind: 'failed'; approval: Approval; error: string };

export interface WorkflowRequest {
  teamId: string;
  functionExecutionId: string;
  workflowExecutionId: string;
  inputs: Record<string, unknown>;
  /** The workflow token Bolt got with this execution: lent to the outbox for the cards (never stored). */
  workflowToken?: string;
}

/**
 * The `request_approval` step: records the approval keyed by its execution id, with a card for
 * every approver in the outbox (one transaction). Another delivery of the same execution
 * records nothing and sends nothing twice: each card is one outbox key. Invalid inputs fail the
 * step with a clear error and leave the approval `failed`. Only local store writes happen here:
 * the listener acknowledges Slack once this returns.
 */
export async function requestFromWorkflow(ctx: ApprovalContext, req: WorkflowRequest): Promise<WorkflowRequestResult> {
  const { teamId, functionExecutionId } = req;
  const log = ctx.svc.logger;
  let input: (ApprovalRequestInput & ChaseInput) | undefined;
  let invalid: InvalidInputError | undefined;
  try {
    input = parseStepInputs(req.inputs);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    invalid = err;
  }

  let recorded: { approval: Approval; created: boolean };
  try {
    recorded = await ctx.repo.create(
      {
        teamId,
        title: input?.title ?? (typeof req.inputs['title'] === 'string' ? req.inputs['title'] : ''),
        details: input?.details ?? '',
        requesterId: input?.requesterId ?? null,
        approverIds: input?.approverIds ?? [],
        origin: 'workflow',
        functionExecutionId,
        workflowExecutionId: req.workflowExecutionId,
        actorId: input?.requesterId ?? 'workflow',
        remindAfterHours: input?.remindAfterHours ?? null,
        escalateTo: input?.escalateTo ?? null,
        expireAfterHours: input?.expireAfterHours ?? null,
      },
      (approval) => (input ? ctx.effects.requested(approval, ctx.svc.now()) : []),
    );
  } catch (err) {
    if (!(err instanceof ForeignExecutionError)) throw err;
    // Never legitimately (Slack's ids are unique): acknowledged, and nothing of the other workspace touched.
    log.warn(`request_approval: ${err.message}; ignoring this delivery`);
    return { kind: 'busy' };
  }
  const { approval, created } = recorded;
  if (req.workflowToken) for (const p of approval.approvers) ctx.svc.outbox.lend(cardKey(approval, p.userId), req.workflowToken);
  if (!created) {
    log.info(`request_approval: execution ${functionExecutionId} (team ${teamId}) already recorded as approval ${approval.id}; its cards are in the outbox`);
    return { kind: 'duplicate', approval };
  }
  if (invalid || !input) {
    const error = `Tasklane could not request approval: ${invalid?.message ?? 'the inputs are invalid.'}`;
    log.warn(`request_approval: execution ${functionExecutionId} (team ${teamId}) has invalid inputs: ${invalid ? Object.keys(invalid.fields).join(', ') : '?'}`);
    await ctx.repo.markFailed(teamId, approval.id, error, 'workflow', (failed) => ctx.effects.failed(failed, ctx.svc.now()));
    ctx.svc.outbox.kick();
    return { kind: 'failed', approval: (await ctx.repo.get(teamId, approval.id)) ?? approval, error };
  }
  log.info(`approval ${approval.id} requested by workflow execution ${functionExecutionId} (team ${teamId}) from ${input.approverIds.join(', ')}`);
  ctx.svc.outbox.kick();
  return { kind: 'sent', approval };
}

/**
 * A request made outside Workflow Builder (the "Request approval" shortcut): no execution id,
 * cards sent with the bot token. Throws InvalidInputError (fields approvers/title/details) before
 * anything is stored. The requester hears from the outbox once every card went out ("sent"), or
 * that it was cancelled because an approver could not be reached.
 */
export async function requestApproval(
  ctx: ApprovalContext,
  req: { teamId: string; requesterId: string; approverIds: readonly string[]; title: string; details?: string },
): Promise<Approval> {
  const input = parseApprovalRequest({ ...req });
  const { approval } = await ctx.repo.create({ teamId: req.teamId, ...input, origin: 'shortcut', actorId: req.requesterId }, (a) => ctx.effects.requested(a, ctx.svc.now()));
  ctx.svc.logger.info(`approval ${approval.id} requested by ${req.requesterId} (team ${req.teamId}) from ${input.approverIds.join(', ')}`);
  ctx.svc.outbox.kick();
  return approval;
}
