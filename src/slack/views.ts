import type { types } from '@slack/bolt';
import { BlockCollection, Blocks, Modal, type BlockBuilder } from 'slack-block-builder';
import { LIMIT, plain, truncate } from './mrkdwn.js';

/**
 * What every feature's views share. Views are built with slack-block-builder; its modal and home
 * objects fit Bolt's view types as they are, but its block objects are typed loosely (any
 * `type` string), so `blocks()` is the one place that tells TypeScript they are Bolt's blocks.
 */

/** Message blocks from builders; `undefined` and `false` leave a block out. */
export function blocks(...builders: (BlockBuilder | undefined | false)[]): types.KnownBlock[] {
  return BlockCollection(...builders.filter((b): b is BlockBuilder => Boolean(b))) as types.KnownBlock[];
}

/** A modal that only says something: why a click did nothing, or that a thing is gone. */
export function noticeModal(title: string, text: string): types.ModalView {
  return Modal({ title: plain(title, LIMIT.modalTitle), close: 'Close' })
    .blocks(Blocks.Section({ text: truncate(text, LIMIT.sectionText) }))
    .buildToObject();
}
