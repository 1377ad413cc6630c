import type { types } from '@slack/bolt';
import { Bits, Blocks, Elements, Surfaces, type BlockBuilder } from 'slack-block-builder';
import { VIEW } from '../../slack/ids.js';
import type { UserSettings } from '../../store/settings.js';

/**
 * App Home → Settings (pure): reminders on/off and their hour for everyone; for a workspace admin
 * also the audit feed's webhook URL. The submission reads the fields by these ids.
 */
export const SETTINGS_INPUT = {
  reminders: { block: 'settings_reminders', action: 'enabled' },
  hour: { block: 'settings_hour', action: 'hour' },
  auditWebhook: { block: 'settings_audit_webhook', action: 'url' },
} as const;

/** The one checkbox's value: reminders on. */
export const REMINDERS_ON = 'on';

export function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

export interface SettingsModalInput {
  settings: UserSettings;
  /** Shows the workspace's audit webhook field (a workspace admin or owner). */
  admin: boolean;
  /** The webhook URL stored now (admins only). */
  auditWebhookUrl?: string | null;
}

export function settingsModal({ settings, admin, auditWebhookUrl }: SettingsModalInput): types.ModalView {
  const on = Bits.Option({ text: 'Send me due-date reminders and overdue nudges', value: REMINDERS_ON });
  const checkbox = Elements.Checkboxes({ actionId: SETTINGS_INPUT.reminders.action }).options(on);
  if (settings.remindersEnabled) checkbox.initialOptions(Bits.Option({ text: 'Send me due-date reminders and overdue nudges', value: REMINDERS_ON }));
  const hours = Array.from({ length: 24 }, (_, h) => Bits.Option({ text: hourLabel(h), value: String(h) }));
  const out: BlockBuilder[] = [
    Blocks.Input({ label: 'Reminders', blockId: SETTINGS_INPUT.reminders.block }).optional(true).element(checkbox),
    Blocks.Input({ label: 'Remind me at', blockId: SETTINGS_INPUT.hour.block, hint: 'In your Slack time zone, on the due day and on each working day a task is overdue (3 times at most).' }).element(
      Elements.StaticSelect({ actionId: SETTINGS_INPUT.hour.action }).options(hours).initialOption(Bits.Option({ text: hourLabel(settings.reminderHour), value: String(settings.reminderHour) })),
    ),
  ];
  if (admin) {
    const url = Elements.TextInput({ actionId: SETTINGS_INPUT.auditWebhook.action, placeholder: 'https://hooks.slack.com/services/…' });
    if (auditWebhookUrl) url.initialValue(auditWebhookUrl);
    out.push(
      Blocks.Divider(),
      Blocks.Input({ label: 'Audit feed webhook URL', blockId: SETTINGS_INPUT.auditWebhook.block, hint: 'Workspace admins only. A Slack incoming webhook; leave empty for none.' }).optional(true).element(url),
    );
  }
  return Surfaces.Modal({ title: 'Settings', submit: 'Save', close: 'Cancel', callbackId: VIEW.settings }).blocks(out).buildToObject();
}
