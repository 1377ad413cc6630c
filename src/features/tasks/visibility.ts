import type { SlackUser } from '../../slack/users.js';
import type { TaskRow } from '../../store/schema.js';

/**
 * Who may see a task. One rule for every surface: lists and search apply it in SQL
 * (`visibleTo` in store/taskReads.ts, `VISIBLE` in store/dashboard.ts), single tasks through
 * TaskService.get/find, which call `maySee`. A task one may not see behaves as missing.
 */

/** A person looking at tasks: their workspace, and whether Slack calls them a guest. */
export interface Viewer {
  teamId: string;
  userId: string;
  guest: boolean;
}

type Seen = Pick<TaskRow, 'teamId' | 'private' | 'assigneeId' | 'creatorId'>;

/**
 * Its creator and its current assignee always see a task of their workspace. Anyone else sees
 * it only when it is not private (made from a private channel, group DM or DM) and they are a
 * member, not a guest.
 */
export function maySee(task: Seen, viewer: Viewer): boolean {
  if (task.teamId !== viewer.teamId) return false;
  if (isOwn(task, viewer.userId)) return true;
  return !task.private && !viewer.guest;
}

/** Whether `maySee` needs to know if the viewer is a guest: only for someone else's public task. */
export function hingesOnGuest(task: Seen, userId: string): boolean {
  return !task.private && !isOwn(task, userId);
}

function isOwn(task: Seen, userId: string): boolean {
  return task.assigneeId === userId || task.creatorId === userId;
}

/** What users.info found, as a guest flag. Someone Slack does not know is treated as a guest (fail safe). */
export function guestFrom(user: SlackUser | undefined): boolean {
  return user ? user.isGuest : true;
}

/**
 * Whether a conversation's messages are private, from `conversations.info`'s channel (or
 * undefined when Slack would not say): only a channel Slack calls public is not. A DM (`D…`) is
 * private without asking.
 */
export function isPrivateConversation(
  channelId: string,
  info: { is_private?: boolean; is_im?: boolean; is_mpim?: boolean; is_group?: boolean } | undefined,
): boolean {
  if (channelId.startsWith('D')) return true;
  if (!info) return true;
  return info.is_private !== false || info.is_im === true || info.is_mpim === true || info.is_group === true;
}
