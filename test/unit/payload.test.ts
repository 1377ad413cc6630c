import { describe, expect, it } from 'vitest';
import { openModal, triggerArgument, triggerOf } from '../../src/slack/modals.js';
import { teamIdOf } from '../../src/slack/values.js';
import type { WebClient } from '@slack/web-api';
import { noticeModal } from '../../src/slack/views.js';

describe('teamIdOf', () => {
  it('reads team.id on block_actions, shortcuts and options', () => {
    expect(teamIdOf({ type: 'block_actions', team: { id: 'T1' }, user: { id: 'U1', team_id: 'T2' } })).toBe('T1');
    expect(teamIdOf({ type: 'shortcut', team: { id: 'T1' }, user: { id: 'U1' } })).toBe('T1');
    expect(teamIdOf({ type: 'block_suggestion', team: { id: 'T1' }, user: { id: 'U1', team_id: 'T1' } })).toBe('T1');
  });

  it('reads user.team_id when team is null (org-wide installs)', () => {
    expect(teamIdOf({ type: 'block_actions', team: null, user: { id: 'U1', team_id: 'T2' } })).toBe('T2');
  });

  it('reads view.team_id on a view submission without team or user team', () => {
    expect(teamIdOf({ type: 'view_submission', team: null, user: { id: 'U1' }, view: { team_id: 'T3' } })).toBe('T3');
  });

  it('reads the top-level team_id of commands, events and custom steps', () => {
    expect(teamIdOf({ command: '/task', team_id: 'T4', user_id: 'U1' })).toBe('T4');
    expect(teamIdOf({ type: 'event_callback', team_id: 'T5', event: { type: 'app_mention', user: 'U1' } })).toBe('T5');
  });

  it('reads events as Bolt does: the installation the event was delivered for, before team_id', () => {
    // A Slack Connect channel: the reaction happened in T9's workspace, delivered to our install in T1.
    const shared = { type: 'event_callback', team_id: 'T9', authorizations: [{ enterprise_id: null, team_id: 'T1', user_id: 'B1', is_bot: true }], event: { type: 'reaction_added' } };
    expect(teamIdOf(shared)).toBe('T1');
    // An org-wide install's authorization has no team: the event's own team_id.
    expect(teamIdOf({ ...shared, authorizations: [{ enterprise_id: 'E1', team_id: null }] })).toBe('T9');
    expect(teamIdOf({ ...shared, authorizations: [] })).toBe('T9');
  });

  it('reads a view submission from a Slack Connect channel as the installing workspace', () => {
    const submission = { type: 'view_submission', team: { id: 'T9' }, user: { id: 'U1', team_id: 'T9' }, view: { team_id: 'T9', app_installed_team_id: 'T1' } };
    expect(teamIdOf(submission)).toBe('T1');
    expect(teamIdOf({ ...submission, type: 'view_closed' })).toBe('T1');
    // A click inside that modal is read from team.id, as Bolt reads it.
    expect(teamIdOf({ ...submission, type: 'block_actions' })).toBe('T9');
  });

  it('is empty when the payload names no workspace, or names it with the wrong type', () => {
    expect(teamIdOf({ type: 'block_actions', user: { id: 'U1' } })).toBe('');
    expect(teamIdOf({ team: { id: 7 }, team_id: ['T1'] })).toBe('');
    expect(teamIdOf(null)).toBe('');
  });
});

describe('triggerOf and openModal', () => {
  it('reads a trigger id, and the interactivity pointer of a workflow message click', () => {
    expect(triggerOf({ trigger_id: 'tr1' })).toEqual({ triggerId: 'tr1' });
    expect(triggerOf({ trigger_id: '', interactivity: { interactivity_pointer: 'ip1' } })).toEqual({ interactivityPointer: 'ip1' });
    expect(triggerOf({})).toEqual({});
  });

  it('prefers the trigger id', () => {
    expect(triggerArgument({ triggerId: 'tr1', interactivityPointer: 'ip1' })).toEqual({ trigger_id: 'tr1' });
    expect(triggerArgument({ interactivityPointer: 'ip1' })).toEqual({ interactivity_pointer: 'ip1' });
    expect(triggerArgument({})).toBeUndefined();
  });

  it('opens with whichever the trigger has, and refuses without one', async () => {
    const calls: unknown[] = [];
    const client = { views: { open: async (args: unknown) => (calls.push(args), { ok: true }) } } as unknown as WebClient;
    const view = noticeModal('T', 'x');
    await openModal(client, { interactivityPointer: 'ip1' }, view);
    expect(calls).toEqual([{ interactivity_pointer: 'ip1', view }]);
    await expect(openModal(client, {}, view)).rejects.toThrow(/trigger/);
  });
});
