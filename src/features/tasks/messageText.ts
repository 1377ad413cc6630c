import { isBlank, trimInput } from '../../slack/inputText.js';
import { truncate } from '../../slack/mrkdwn.js';
import { DESCRIPTION_MAX, TITLE_MAX } from './limits.js';

/**
 * "Make a task" prefill, pure: a Slack message's text (mrkdwn, with `<…>` references and
 * `&amp;`-style entities) becomes a title (its first non-blank line) and a description (the
 * rest), as plain text a person would have typed, each cut to its limit with an ellipsis.
 */
export function taskFieldsFromMessage(text: string | undefined): { title: string; description: string } {
  const lines = slackToPlain(text ?? '').split('\n');
  const first = lines.findIndex((l) => !isBlank(l));
  if (first === -1) return { title: '', description: '' };
  return {
    title: truncate(trimInput(lines[first] as string), TITLE_MAX),
    description: truncate(trimInput(lines.slice(first + 1).join('\n')), DESCRIPTION_MAX),
  };
}

/** Slack's message markup as plain text: `<@U1|ann>` → `@ann`, `<url|label>` → `label (url)`, `&lt;` → `<`. */
export function slackToPlain(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_whole, inner: string) => {
      const bar = inner.indexOf('|');
      const target = bar === -1 ? inner : inner.slice(0, bar);
      const label = bar === -1 ? '' : inner.slice(bar + 1);
      if (target.startsWith('@')) return `@${label || target.slice(1)}`;
      if (target.startsWith('#')) return `#${label || target.slice(1)}`;
      if (target.startsWith('!subteam^')) return label || '@group';
      if (target.startsWith('!date^')) return label;
      if (target.startsWith('!')) return `@${target.slice(1)}`;
      if (target.startsWith('mailto:')) return label || target.slice('mailto:'.length);
      return label && label !== target ? `${label} (${target})` : target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
