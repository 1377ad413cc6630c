import { describe, expect, it } from 'vitest';
import { approvalAuditEvent, auditWebhookUrlProblem, taskCompletedAuditEvent } from '../../src/features/audit/feed.js';

describe('audit feed lines', () => {
  const base = { id: 9, teamId: 'T1', title: 'Buy <!channel> & more', decidedBy: 'UANN', decidedAt: 1_700_000_000_000, requesterId: 'UBOB', comment: null, approvers: [] };

  it('says who decided what, when, escapes user text, and links to the decider’s card', () => {
    const e = approvalAuditEvent({ ...base, status: 'rejected', comment: 'Too <b>much</b>', approvers: [{ userId: 'UOTHER', channelId: 'D1', messageTs: '1.1' }, { userId: 'UANN', channelId: 'D2', messageTs: '2.2' }] });
    expect(e.key).toBe('approval:9:rejected');
    expect(e.text).toBe('❌ *Rejected*: “Buy &lt;!channel&gt; &amp; more” (approval 9) by <@UANN> on <!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC>. Requested by <@UBOB>. Reason: “Too &lt;b&gt;much&lt;/b&gt;”');
    expect(e.link).toEqual({ channel: 'D2', ts: '2.2' });
  });

  it('an expiry has no decider; a card not posted yet is no link', () => {
    const e = approvalAuditEvent({ ...base, status: 'expired', decidedBy: null, comment: 'No decision within 4 hours', approvers: [{ userId: 'UANN', channelId: null, messageTs: null }] });
    expect(e.text.startsWith('⌛ *Expired*: “Buy &lt;!channel&gt; &amp; more” (approval 9) on <!date^')).toBe(true);
    expect(e.link).toBeUndefined();
  });

  it('a completion is keyed by its time (a task reopened and completed again is a new event)', () => {
    const task = { id: 3, teamId: 'T1', number: 12, title: 'Ship', completedBy: 'UANN', completedAt: 5_000, assigneeId: 'UANN', creatorId: 'UBOT' };
    expect(taskCompletedAuditEvent(task).key).toBe('task:3:completed:5000');
    expect(taskCompletedAuditEvent({ ...task, completedAt: 6_000 }).key).toBe('task:3:completed:6000');
    expect(taskCompletedAuditEvent(task).link).toEqual({ taskId: 3 });
  });
});

describe('the webhook URL an admin may set', () => {
  it('accepts Slack incoming webhooks, and the emulator’s in the sandbox', () => {
    expect(auditWebhookUrlProblem('https://hooks.slack.com/services/T1/B2/abc', undefined)).toBeUndefined();
    expect(auditWebhookUrlProblem('http://127.0.0.1:4000/services/T1/B2/abc', 'http://127.0.0.1:4000/api/')).toBeUndefined();
  });

  it('refuses anything else with a reason', () => {
    expect(auditWebhookUrlProblem('not a url', undefined)).toMatch(/^That is not a URL/);
    expect(auditWebhookUrlProblem('http://hooks.slack.com/services/T1/B2/abc', undefined)).toMatch(/start with https:\/\/hooks.slack.com\/services/);
    expect(auditWebhookUrlProblem('https://evil.example/services/T1/B2/abc', undefined)).toMatch(/Only Slack incoming webhook URLs/);
    expect(auditWebhookUrlProblem('https://hooks.slack.com/workflows/T1/x', undefined)).toMatch(/Only Slack incoming webhook URLs/);
    expect(auditWebhookUrlProblem('http://127.0.0.1:9999/services/T1/B2/abc', 'http://127.0.0.1:4000/api/')).toMatch(/Only Slack/);
  });
});
