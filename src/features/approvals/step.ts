import type { SlackEventMiddlewareArgs } from '@slack/bolt';
import { teamIdOf } from '../../slack/values.js';
import type { ApprovalService } from './service.js';

type StepArgs = Pick<SlackEventMiddlewareArgs<'function_executed'>, 'event' | 'body' | 'ack'> & { client: { token?: string } };

/**
 * The `request_approval` custom step. Slack hears "received" only once the execution and its
 * cards are recorded (a local store write): a crash before that makes Slack redeliver it,
 * instead of a workflow waiting forever.
 */
export const handleRequestApprovalStep = ({ approvals }: { approvals: ApprovalService }) =>
  async function requestApprovalStep({ event, body, client, ack }: StepArgs): Promise<void> {
    await approvals.requestFromWorkflow({
      teamId: teamIdOf(body),
      functionExecutionId: event.function_execution_id,
      workflowExecutionId: event.workflow_execution_id,
      inputs: event.inputs as Record<string, unknown>,
      workflowToken: client.token,
    });
    await ack?.();
  };
