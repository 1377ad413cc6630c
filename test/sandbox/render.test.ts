import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderBlock, renderBlocks, renderElement, renderMrkdwn, type RenderContext } from '../../src/sandbox/client/render.js';

const ctx: RenderContext = {
  userName: (id) => ({ U1: 'alice', U2: 'bob' })[id],
  channelName: (id) => ({ C1: 'general', G1: 'secret-plans' })[id],
  users: [
    { id: 'U1', name: 'alice' },
    { id: 'U2', name: 'bob' },
  ],
  channels: [{ id: 'C1', name: 'general' }],
  timeZone: 'UTC',
};

const md = (text: string) => renderMrkdwn(text, ctx);

describe('mrkdwn', () => {
  it.each([
    ['bold', '*done* now', '<b>done</b> now'],
    ['italic', 'really _soon_', 'really <i>soon</i>'],
    ['strike', '~old~ new', '<s>old</s> new'],
    ['inline code is not formatted inside', 'run `*x* <@U1>`', 'run <code>*x* &lt;@U1&gt;</code>'],
    ['code block', '```a\n*b*```', '<pre>a\n*b*</pre>'],
    ['quote', '&gt; quoted\nplain', '<blockquote>quoted</blockquote><br>plain'],
    ['user mention by name', 'for <@U1>', 'for <span class="mention" data-user="U1">@alice</span>'],
    ['unknown user falls back to the label', '<@U9|zed>', '<span class="mention" data-user="U9">@zed</span>'],
    ['channel mention', 'in <#C1>', 'in <span class="mention channel">#general</span>'],
    ['link with a label', '<https://example.com/a?b=1&amp;c=2|the doc>', '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the doc</a>'],
    ['bare link', '<https://example.com>', '<a href="https://example.com" target="_blank" rel="noopener noreferrer">https://example.com</a>'],
    ['a javascript: link is only text', '<javascript:alert(1)|click>', 'click'],
    ['broadcast', '<!here> look', '<span class="mention broadcast">@here</span> look'],
    ['escaped entities show as characters', 'a &lt;b&gt; &amp; c', 'a &lt;b&gt; &amp; c'],
    ['emoji shortcodes', ':white_check_mark: Done', '✅ Done'],
    ['unknown shortcodes stay', ':not_an_emoji:', ':not_an_emoji:'],
    ['bold around a mention', '*<@U2>*', '<b><span class="mention" data-user="U2">@bob</span></b>'],
    ['strike inside bold', '*~#5 Old title~*', '<b><s>#5 Old title</s></b>'],
    ['snake_case words are not italic', 'see my_var_name here', 'see my_var_name here'],
  ])('%s', (_name, input, html) => {
    expect(md(input)).toBe(html);
  });

  it('dates in the reader’s time zone, with the fallback when the format cannot be read', () => {
    expect(md('<!date^1700000000^{date_short_pretty} at {time}|Nov 14>')).toBe('<time datetime="2023-11-14T22:13:20.000Z">Nov 14, 2023 at 10:13 PM</time>');
    expect(renderMrkdwn('<!date^1700000000^{date_num}|x>', { ...ctx, timeZone: 'Asia/Tokyo' })).toContain('11/15/2023');
    expect(md('<!date^soon^{date}|the fallback>')).toBe('the fallback');
  });

  it('hostile text renders as text: no tag, attribute or link comes from it', () => {
    expect(md('<script>alert(1)</script>')).not.toContain('<script');
    expect(md('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md('<!channel>')).toBe('<span class="mention broadcast">@channel</span>');
    expect(md('&lt;!channel&gt;')).toBe('&lt;!channel&gt;');
    expect(md('<https://x.com" onmouseover="alert(1)|x>')).toBe('<a href="https://x.com&quot; onmouseover=&quot;alert(1)" target="_blank" rel="noopener noreferrer">x</a>');
    expect(md('<@U1|"><img src=x onerror=alert(1)>')).not.toContain('<img');
    expect(md('\uE0000\uE001')).toBe('0'); // placeholders cannot be forged
  });
});

describe('blocks and elements', () => {
  it('header, divider, section with fields and a button accessory', () => {
    const html = renderBlocks(
      [
        { type: 'header', text: { type: 'plain_text', text: 'Tasks <b>' } },
        { type: 'divider' },
        {
          type: 'section',
          block_id: 's1',
          text: { type: 'mrkdwn', text: '*#1* Ship it' },
          fields: [{ type: 'mrkdwn', text: '*Due*' }, { type: 'plain_text', text: 'Friday' }],
          accessory: { type: 'button', action_id: 'task_complete', value: '17', style: 'primary', text: { type: 'plain_text', text: 'Complete' } },
        },
      ],
      ctx,
    );
    expect(html).toContain('<h3>Tasks &lt;b&gt;</h3>');
    expect(html).toContain('<hr>');
    expect(html).toContain('<b>#1</b> Ship it');
    expect(html).toContain('<div class="field"><b>Due</b></div><div class="field">Friday</div>');
    expect(html).toContain('<button type="button" class="btn btn-primary" data-type="button" data-action-id="task_complete" data-block-id="s1" data-value="17">Complete</button>');
  });

  it('context and actions with every interactive element Tasklane uses', () => {
    const html = renderBlocks(
      [
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'by <@U1>' }, { type: 'plain_text', text: 'today' }] },
        {
          type: 'actions',
          block_id: 'a1',
          elements: [
            { type: 'button', action_id: 'b', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: '3' },
            { type: 'overflow', action_id: 'o', options: [{ text: { type: 'plain_text', text: 'Edit' }, value: 'edit:3' }] },
            { type: 'static_select', action_id: 'f', initial_option: { text: { type: 'plain_text', text: 'All' }, value: 'all' }, options: [{ text: { type: 'plain_text', text: 'Mine' }, value: 'mine' }, { text: { type: 'plain_text', text: 'All' }, value: 'all' }] },
            { type: 'external_select', action_id: 'q', min_query_length: 1, placeholder: { type: 'plain_text', text: 'Search tasks' } },
          ],
        },
      ],
      ctx,
    );
    expect(html).toContain('<span>by <span class="mention" data-user="U1">@alice</span></span><span>today</span>');
    expect(html).toContain('class="btn btn-danger"');
    expect(html).toContain('<option value="edit:3">Edit</option>');
    expect(html).toContain('<option value="all" selected="selected">All</option>');
    expect(html).toContain('data-type="external_select" data-action-id="q" data-block-id="a1"');
    expect(html).toContain('placeholder="Search tasks" data-min-query-length="1"');
  });

  it('input blocks: text (single and multiline), people, channels, dates; optional, hint and an error slot', () => {
    const input = (element: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      renderBlock({ type: 'input', block_id: 'b', label: { type: 'plain_text', text: 'Label' }, element: { action_id: 'a', ...element }, ...extra }, ctx);
    expect(input({ type: 'plain_text_input', initial_value: 'x"y', max_length: 150 })).toContain('<input type="text" data-type="plain_text_input" data-action-id="a" data-block-id="b" data-input="1" maxlength="150" value="x&quot;y">');
    expect(input({ type: 'plain_text_input', multiline: true, initial_value: '</textarea><script>' })).toContain('<textarea data-type="plain_text_input" data-action-id="a" data-block-id="b" data-input="1">&lt;/textarea&gt;&lt;script&gt;</textarea>');
    expect(input({ type: 'users_select', initial_user: 'U2' })).toContain('<option value="U2" selected="selected">bob</option>');
    expect(input({ type: 'multi_users_select', initial_users: ['U1', 'U2'] })).toMatch(/<select multiple[^>]*>.*U1" selected.*U2" selected/);
    expect(input({ type: 'conversations_select' })).toContain('<option value="C1">#general</option>');
    expect(input({ type: 'datepicker', initial_date: '2030-01-02' })).toContain('<input type="date" data-type="datepicker" data-action-id="a" data-block-id="b" data-input="1" value="2030-01-02">');
    const optional = input({ type: 'plain_text_input' }, { optional: true, hint: { type: 'plain_text', text: 'A hint' } });
    expect(optional).toContain('(optional)');
    expect(optional).toContain('<div class="hint">A hint</div>');
    expect(optional).toContain('<div class="input-error" role="alert"></div>');
  });

  it('an unknown block or element shows a visible placeholder, never nothing', () => {
    expect(renderBlock({ type: 'rich_text', elements: [] }, ctx)).toContain('Unsupported block: <code>rich_text</code>');
    expect(renderElement({ type: 'radio_buttons', action_id: 'x' }, 'b', ctx)).toContain('Unsupported element: <code>radio_buttons</code>');
    expect(renderBlock({ type: '<img src=x onerror=alert(1)>' }, ctx)).toContain('<code>&lt;img src=x onerror=alert(1)&gt;</code>');
    expect(renderBlock(null, ctx)).toContain('Unsupported block');
  });
});

describe('no HTML injection from any text (property)', () => {
  const ALLOWED_TAGS = new Set(['div', 'span', 'h3', 'hr', 'b', 'i', 's', 'code', 'pre', 'blockquote', 'br', 'a', 'time', 'button', 'select', 'option', 'input', 'textarea', 'label', 'img']);
  const ALLOWED_ATTRS = new Set(['class', 'href', 'target', 'rel', 'datetime', 'type', 'value', 'selected', 'multiple', 'placeholder', 'maxlength', 'autocomplete', 'role', 'aria-label', 'src', 'alt']);

  /** Every tag and attribute in `html`, read as a browser's tokenizer would at its simplest. */
  function markup(html: string): { tags: string[]; attrs: string[] } {
    const tags: string[] = [];
    const attrs: string[] = [];
    for (const m of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>/g)) {
      tags.push((m[1] as string).toLowerCase());
      for (const a of (m[2] ?? '').matchAll(/\s+([^\s=>]+)(?:="[^"]*")?/g)) attrs.push((a[1] as string).toLowerCase());
    }
    return { tags, attrs };
  }

  it('whatever the text in a block, only the renderer’s own tags and attributes appear, and every "<" belongs to one', () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onfocus='x", '<!channel>', '&lt;', '<https://x|<b>>', '`<i>`', '*<@U1|"x>*', '\uE0000\uE001', '<javascript:x|y>'),
      fc.array(fc.constantFrom('<', '>', '&', '"', "'", '*', '_', '~', '`', '|', '@', '#', '!', 'U1', 'a', ' ', '\n', 'lt;', 'gt;', 'amp;', '\uE000', '\uE001', 'https://'), { maxLength: 30 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(hostile, hostile, (text, value) => {
        const blocks = [
          { type: 'header', text: { type: 'plain_text', text } },
          { type: 'section', block_id: value, text: { type: 'mrkdwn', text }, fields: [{ type: 'mrkdwn', text: value }], accessory: { type: 'button', action_id: value, value, text: { type: 'plain_text', text } } },
          { type: 'context', elements: [{ type: 'mrkdwn', text }] },
          { type: 'actions', elements: [{ type: 'static_select', action_id: text, options: [{ text: { type: 'plain_text', text }, value }] }, { type: 'overflow', options: [{ text: { type: 'mrkdwn', text }, value }] }] },
          { type: 'input', block_id: text, label: { type: 'plain_text', text }, element: { type: 'plain_text_input', action_id: value, initial_value: text, placeholder: { type: 'plain_text', text: value } } },
          { type: text },
        ];
        const html = renderBlocks(blocks, ctx);
        const { tags, attrs } = markup(html);
        for (const t of tags) expect(ALLOWED_TAGS.has(t), `tag <${t}> in ${html}`).toBe(true);
        for (const a of attrs) expect(ALLOWED_ATTRS.has(a) || a.startsWith('data-'), `attribute ${a} in ${html}`).toBe(true);
        // Every "<" in the output starts one of those tags: none is left over from the text.
        const stripped = html.replace(/<\/?([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>/g, '');
        expect(stripped, html).not.toContain('<');
        expect(html).not.toMatch(/href="(?!https?:|mailto:)/i);
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkboxes (the Settings modal)', () => {
  it('one box per option, ticked as initial_options say, labels escaped', () => {
    const el = {
      type: 'checkboxes',
      action_id: 'enabled',
      options: [
        { text: { type: 'plain_text', text: 'Remind <me>' }, value: 'on' },
        { text: { type: 'plain_text', text: 'Other' }, value: 'other' },
      ],
      initial_options: [{ text: { type: 'plain_text', text: 'Remind <me>' }, value: 'on' }],
    };
    const html = renderElement(el, 'settings_reminders', ctx, true);
    expect(html).toContain('data-type="checkboxes"');
    expect(html).toContain('data-input="1"');
    expect(html.match(/type="checkbox"/g)).toHaveLength(2);
    expect(html).toMatch(/value="on"[^>]*checked="checked"/);
    expect(html).not.toMatch(/value="other"[^>]*checked/);
    expect(html).not.toContain('<me>');
  });
});
