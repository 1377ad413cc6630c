/**
 * User text in Slack messages. Everything a user typed goes through `escapeMrkdwn` before it is
 * placed in a mrkdwn text object: `&`, `<` and `>` become entities, so `<!channel>`,
 * `<@U123>` and `<https://x|y>` render as text instead of pinging or forging a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ELLIPSIS = '…';

/**
 * Cuts `text` to at most `max` characters (UTF-16 units, as Slack counts), ending in an ellipsis
 * when cut. Never splits a surrogate pair or an escape entity made by `escapeMrkdwn`.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - ELLIPSIS.length));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && amp >= cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return cut + ELLIPSIS;
}

/** Escapes user text for mrkdwn, then fits it in `max` characters. */
export function userText(text: string, max: number): string {
  return truncate(escapeMrkdwn(text), max);
}

/** A plain_text field needs no escaping, only the length limit. */
export function plain(text: string, max: number): string {
  return truncate(text, max);
}

export const mention = (userId: string): string => `<@${userId}>`;

/** Slack renders the date in the reader's own time zone, with a fallback for old clients. */
export function slackDate(ms: number, format = '{date_short_pretty} at {time}'): string {
  const fallback = new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  return `<!date^${Math.floor(ms / 1000)}^${format}|${fallback}>`;
}

/** Block Kit limits in one place. */
export const LIMIT = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  field: 2000,
  header: 150,
  buttonText: 75,
  buttonValue: 2000,
  optionText: 75,
  optionValue: 150,
  staticOptions: 100,
  overflowOptions: 5,
  contextElements: 10,
  modalTitle: 24,
  privateMetadata: 3000,
  inputMax: 3000,
  messageText: 40000,
} as const;
