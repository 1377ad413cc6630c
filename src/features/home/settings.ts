import type { BlockAction, ButtonAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { describeError } from '../../runtime.js';
import type { Services } from '../../services.js';
import { trimInput } from '../../slack/inputText.js';
import { openModal } from '../../slack/modals.js';
import { objectOf, teamIdOf, viewInput } from '../../slack/values.js';
import type { Stores } from '../../store/engine.js';
import type { HomeStatePrefsStore } from '../../store/homeStateStore.js';
import type { SettingsStore } from '../../store/settings.js';
import { auditWebhookUrlProblem } from '../audit/feed.js';
import { LOOKUP_BUDGET_MS } from '../tasks/taskForm.js';
import { homePublishEffect } from './effects.js';
import { REMINDERS_ON, SETTINGS_INPUT, settingsModal } from './settingsViews.js';

/**
 * App Home → Settings: each person's reminders (on/off, hour), and for workspace admins (Slack's
 * `is_admin` / `is_owner`) the audit feed's webhook URL. Whether someone is an admin is asked of
 * Slack both when the modal opens (to show the field) and when it is submitted (a forged field
 * from anyone else is ignored, never saved).
 */

/** `transaction`: the store's (`Stores.transaction`), so a person's and the workspace's settings are saved together. */
export type SettingsDeps = { settings: SettingsStore; homeState: HomeStatePrefsStore; transaction: Stores['transaction'] } & Pick<
  Services,
  'client' | 'logger' | 'users' | 'now' | 'outbox' | 'config'
>;

/** The Home's Settings button: the modal, with the admin field for admins. */
export const handleHomeSettings = (deps: SettingsDeps) =>
  async function homeSettings({ ack, body }: Pick<SlackActionMiddlewareArgs<BlockAction<ButtonAction>>, 'ack' | 'body'>): Promise<void> {
    await ack();
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    if (!body.trigger_id) return;
    try {
      // The trigger id lasts 3 s: Slack's answer on who is an admin is waited for only so long.
      const [settings, me] = await Promise.all([deps.settings.user(teamId, userId), deps.users.getWithin(userId, LOOKUP_BUDGET_MS)]);
      const admin = me.found && me.user?.isAdmin === true && me.user.teamId === teamId;
      const workspace = admin ? await deps.settings.workspace(teamId) : undefined;
      await openModal(deps.client, { triggerId: body.trigger_id }, settingsModal({ settings, admin, auditWebhookUrl: workspace?.auditWebhookUrl ?? null }));
    } catch (err) {
      deps.logger.warn(`home: could not open Settings for ${userId} (team ${teamId}): ${describeError(err)}`);
    }
  };

/** The Settings modal's submission: saved, then the Home redrawn. */
export const handleSettingsSubmit = (deps: SettingsDeps) =>
  async function settingsSubmit({ ack, body, view }: Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>): Promise<void> {
    const teamId = teamIdOf(body);
    const userId = body.user.id;
    const values = view.state.values as unknown;
    const checked = objectOf(objectOf(objectOf(values)?.[SETTINGS_INPUT.reminders.block])?.[SETTINGS_INPUT.reminders.action])?.['selected_options'];
    const remindersEnabled = Array.isArray(checked) && checked.some((o) => objectOf(o)?.['value'] === REMINDERS_ON);
    const hourText = viewInput(values, SETTINGS_INPUT.hour.block, SETTINGS_INPUT.hour.action).selectedOption();
    const reminderHour = Number(hourText);
    if (hourText === undefined || !/^\d{1,2}$/.test(hourText) || reminderHour > 23) {
      await ack({ response_action: 'errors', errors: { [SETTINGS_INPUT.hour.block]: 'Pick an hour between 00:00 and 23:00.' } });
      return;
    }

    // The audit webhook: only from an admin of this workspace (asked of Slack, never of the payload).
    const webhookBlock = objectOf(values)?.[SETTINGS_INPUT.auditWebhook.block];
    let auditWebhookUrl: string | null | undefined;
    if (webhookBlock !== undefined) {
      const me = await deps.users.getWithin(userId, LOOKUP_BUDGET_MS);
      if (!me.found) {
        await ack({ response_action: 'errors', errors: { [SETTINGS_INPUT.auditWebhook.block]: 'Slack did not tell me in time whether you are a workspace admin; please try again.' } });
        return;
      }
      if (me.user?.isAdmin === true && me.user.teamId === teamId) {
        const text = trimInput(viewInput(values, SETTINGS_INPUT.auditWebhook.block, SETTINGS_INPUT.auditWebhook.action).text() ?? '');
        const problem = text === '' ? undefined : auditWebhookUrlProblem(text, deps.config.slackApiUrl);
        if (problem) {
          await ack({ response_action: 'errors', errors: { [SETTINGS_INPUT.auditWebhook.block]: problem } });
          return;
        }
        auditWebhookUrl = text === '' ? null : text;
      } else {
        deps.logger.warn(`home: ${userId} (team ${teamId}) is not a workspace admin: the audit webhook in their Settings submission was ignored`);
      }
    }

    const now = deps.now();
    try {
      // One form, one save: the reminders and the webhook are stored together or not at all.
      await deps.transaction(async ({ settings }) => {
        await settings.saveUser(teamId, userId, { remindersEnabled, reminderHour }, now);
        if (auditWebhookUrl !== undefined) await settings.saveWorkspace(teamId, { auditWebhookUrl }, userId, now);
      });
    } catch (err) {
      deps.logger.error(`home: saving the settings of ${userId} (team ${teamId}) failed: ${describeError(err)}`);
      await ack({ response_action: 'errors', errors: { [SETTINGS_INPUT.hour.block]: 'Your settings could not be saved just now; please try again.' } });
      return;
    }
    await ack();
    await deps.homeState.touch(teamId, userId, now, [homePublishEffect(teamId, userId)]);
    deps.outbox.kick();
  };
