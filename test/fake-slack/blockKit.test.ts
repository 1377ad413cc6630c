import { describe, expect, it } from 'vitest';
import { chatBlocksError, validateBlocks, validateMessage, validateView, viewsArgumentsError } from '../../src/sandbox/blockKit.js';

const pt = (text: string) => ({ type: 'plain_text', text });
const md = (text: string) => ({ type: 'mrkdwn', text });
const button = (action_id: string, text = 'Go', value?: string) => ({ type: 'button', action_id, text: pt(text), ...(value !== undefined ? { value } : {}) });
const opt = (text: string, value: string) => ({ text: pt(text), value });
const pointers = (blocks: unknown[]) => validateMessage({ blocks }).map((i) => `${i.message} @ ${i.pointer}`);

describe('blockKit validation', () => {
  it('accepts a realistic message', () => {
    expect(
      validateMessage({
        blocks: [
          { type: 'header', text: pt('Task') },
          { type: 'section', block_id: 's1', text: md('*x*'), fields: [md('a'), md('b')], accessory: { type: 'overflow', action_id: 'o', options: [opt('A', 'a')] } },
          { type: 'divider' },
          { type: 'context', elements: [md('ctx'), { type: 'image', image_url: 'https://x/y.png', alt_text: 'y' }] },
          { type: 'actions', block_id: 'a1', elements: [button('approve', 'Approve', 'v'), button('reject')] },
          { type: 'rich_text', elements: [] },
          { type: 'image', image_url: 'https://x/y.png', alt_text: 'y' },
        ],
      }),
    ).toEqual([]);
  });

  it('checks text lengths and types', () => {
    expect(pointers([{ type: 'section', text: md('x'.repeat(3001)) }])).toEqual(['must be less than 3001 characters @ /blocks/0/text/text']);
    expect(pointers([{ type: 'section', fields: Array.from({ length: 11 }, () => md('f')) }])).toEqual(['must provide no more than 10 items @ /blocks/0/fields']);
    expect(pointers([{ type: 'section', fields: [md('x'.repeat(2001))] }])).toEqual(['must be less than 2001 characters @ /blocks/0/fields/0/text']);
    expect(pointers([{ type: 'header', text: pt('x'.repeat(151)) }])).toEqual(['must be less than 151 characters @ /blocks/0/text/text']);
    expect(pointers([{ type: 'header', text: md('x') }])).toEqual(['must be a valid enum value @ /blocks/0/text/type']);
    expect(pointers([{ type: 'section', text: md('') }])).toEqual(['must be more than 0 characters @ /blocks/0/text/text']);
    expect(pointers([{ type: 'section' }])).toEqual(['must provide either text or fields @ /blocks/0']);
    expect(pointers([{ type: 'table' }])).toEqual(['must be a valid enum value @ /blocks/0/type']);
  });

  it('checks buttons, ids, options and element counts', () => {
    expect(pointers([{ type: 'actions', elements: [button('a', 'x'.repeat(76))] }])).toEqual(['must be less than 76 characters @ /blocks/0/elements/0/text/text']);
    expect(pointers([{ type: 'actions', elements: [button('a', 'ok', 'v'.repeat(2001))] }])).toEqual(['must be less than 2001 characters @ /blocks/0/elements/0/value']);
    expect(pointers([{ type: 'actions', elements: [button('a'.repeat(256))] }])).toEqual(['must be less than 256 characters @ /blocks/0/elements/0/action_id']);
    expect(pointers([{ type: 'divider', block_id: 'b'.repeat(256) }])).toEqual(['must be less than 256 characters @ /blocks/0/block_id']);
    expect(pointers([{ type: 'divider', block_id: 'd' }, { type: 'divider', block_id: 'd' }])).toEqual(['duplicate block_id: d @ /blocks/1/block_id']);
    expect(pointers([{ type: 'actions', elements: [button('same'), button('same')] }])).toEqual(['duplicate action_id: same @ /blocks/0/elements/1/action_id']);
    expect(pointers([{ type: 'actions', elements: [button('a')] }, { type: 'actions', elements: [button('a')] }])).toEqual([]);
    expect(pointers([{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) }])).toEqual([
      'must provide no more than 25 items @ /blocks/0/elements',
    ]);
    expect(pointers([{ type: 'context', elements: Array.from({ length: 11 }, () => md('c')) }])).toEqual(['must provide no more than 10 items @ /blocks/0/elements']);
    const sel = (options: unknown[]) => [{ type: 'actions', elements: [{ type: 'static_select', action_id: 's', placeholder: pt('p'), options }] }];
    expect(pointers(sel(Array.from({ length: 101 }, (_, i) => opt(`o${i}`, `v${i}`))))).toEqual(['must provide no more than 100 items @ /blocks/0/elements/0/options']);
    expect(pointers(sel([opt('x'.repeat(76), 'v')]))).toEqual(['must be less than 76 characters @ /blocks/0/elements/0/options/0/text/text']);
    expect(pointers(sel([opt('t', 'v'.repeat(151))]))).toEqual(['must be less than 151 characters @ /blocks/0/elements/0/options/0/value']);
    const overflow = (n: number) => [{ type: 'section', text: md('x'), accessory: { type: 'overflow', action_id: 'o', options: Array.from({ length: n }, (_, i) => opt(`o${i}`, `v${i}`)) } }];
    expect(pointers(overflow(6))).toEqual(['must provide no more than 5 items @ /blocks/0/accessory/options']);
    expect(pointers(overflow(0))).toEqual(['must provide at least 1 items @ /blocks/0/accessory/options']);
    expect(pointers(overflow(5))).toEqual([]);
  });

  it('checks input blocks', () => {
    const input = (extra: Record<string, unknown>) => [{ type: 'input', block_id: 'i', ...extra }];
    expect(pointers(input({ element: { type: 'plain_text_input', action_id: 'v' } }))).toEqual(['missing required field: text @ /blocks/0/label']);
    expect(pointers(input({ label: pt('L') }))).toEqual(['missing required field: element @ /blocks/0/element']);
    expect(pointers(input({ label: pt('x'.repeat(2001)), element: { type: 'plain_text_input', action_id: 'v' } }))).toEqual([
      'must be less than 2001 characters @ /blocks/0/label/text',
    ]);
    expect(pointers(input({ label: pt('L'), hint: pt('x'.repeat(2001)), element: { type: 'plain_text_input', action_id: 'v' } }))).toEqual([
      'must be less than 2001 characters @ /blocks/0/hint/text',
    ]);
    expect(pointers(input({ label: pt('L'), element: { type: 'plain_text_input', action_id: 'v', max_length: 3001 } }))).toEqual([
      'must be less than 3001 @ /blocks/0/element/max_length',
    ]);
    expect(pointers(input({ label: pt('L'), element: { type: 'plain_text_input', action_id: 'v', max_length: 3000, multiline: true } }))).toEqual([]);
    expect(pointers([{ type: 'actions', elements: [{ type: 'plain_text_input', action_id: 'v' }] }])).toEqual(['must be a valid enum value @ /blocks/0/elements/0/type']);
  });

  it('checks views', () => {
    const ok = { type: 'modal', callback_id: 'cb', title: pt('Title'), submit: pt('Save'), blocks: [{ type: 'input', block_id: 'i', label: pt('L'), element: { type: 'plain_text_input', action_id: 'v' } }] };
    expect(validateView(ok)).toEqual({ ok: true });
    const issues = (v: unknown) => {
      const r = validateView(v);
      return r.ok || r.tooLarge ? r : r.issues.map((i) => `${i.message} @ ${i.pointer}`);
    };
    expect(issues({ ...ok, title: pt('x'.repeat(25)) })).toEqual(['must be less than 25 characters @ /view/title/text']);
    expect(issues({ ...ok, submit: pt('x'.repeat(25)) })).toEqual(['must be less than 25 characters @ /view/submit/text']);
    expect(issues({ ...ok, close: pt('x'.repeat(25)) })).toEqual(['must be less than 25 characters @ /view/close/text']);
    expect(issues({ ...ok, private_metadata: 'x'.repeat(3001) })).toEqual(['must be less than 3001 characters @ /view/private_metadata']);
    expect(issues({ ...ok, callback_id: 'x'.repeat(256) })).toEqual(['must be less than 256 characters @ /view/callback_id']);
    expect(issues({ ...ok, submit: undefined })).toEqual(['must provide submit when using input blocks @ /view/submit']);
    expect(validateView({ type: 'home', blocks: Array.from({ length: 100 }, () => ({ type: 'section', text: md('x'.repeat(2700)) })) })).toEqual({ ok: false, tooLarge: true });
    expect(validateView({ type: 'home', blocks: [] }, 'modal')).toMatchObject({ ok: false, tooLarge: false });
  });

  it('formats errors like Slack', () => {
    const issues = validateBlocks([{ type: 'section', text: md('x'.repeat(3001)) }], { maxBlocks: 50, base: '/blocks' });
    expect(chatBlocksError(issues)).toMatchObject({ ok: false, error: 'invalid_blocks', errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] });
    const viewIssues = validateBlocks([{ type: 'section', text: md('x'.repeat(3001)) }], { maxBlocks: 100, base: '/view/blocks' });
    expect(viewsArgumentsError(viewIssues)).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]'] },
    });
  });
});
