import type { FakeSlack } from './fakeSlack.js';

/** The sandbox's demo workspace: a few people in different time zones, public and private channels. */
export const SANDBOX_TEAM = 'T0SANDBOX';

export interface SandboxPerson {
  id: string;
  name: string;
  tz: string;
  /** A guest (restricted account) sees only the tasks they created or are assigned. */
  guest?: boolean;
  /** A workspace admin: sees the workspace's settings (App Home → Settings). */
  admin?: boolean;
}

export interface SandboxChannel {
  id: string;
  name: string;
  kind: 'channel' | 'group_dm' | 'dm';
  isPrivate: boolean;
  members: string[];
}

export const PEOPLE: SandboxPerson[] = [
  { id: 'U0ALICE', name: 'alice', tz: 'Europe/London', admin: true },
  { id: 'U0BOB', name: 'bob', tz: 'America/New_York' },
  { id: 'U0CHEN', name: 'chen', tz: 'Asia/Tokyo' },
  { id: 'U0DANA', name: 'dana', tz: 'America/Los_Angeles', guest: true },
];

/** Direct messages between two people: the app is not in them (Slack will not describe them to it). */
const DMS: SandboxChannel[] = PEOPLE.flatMap((a, i) =>
  PEOPLE.slice(i + 1).map((b) => ({ id: `D0${a.name.toUpperCase()}${b.name.toUpperCase()}`, name: `${a.name}, ${b.name}`, kind: 'dm' as const, isPrivate: true, members: [a.id, b.id] })),
);

export const CHANNELS: SandboxChannel[] = [
  { id: 'C0GENERAL', name: 'general', kind: 'channel', isPrivate: false, members: ['U0ALICE', 'U0BOB', 'U0CHEN', 'U0DANA'] },
  { id: 'C0LAUNCH', name: 'launch-plans', kind: 'channel', isPrivate: true, members: ['U0ALICE', 'U0BOB'] },
  { id: 'G0TRIO', name: 'alice, bob, chen', kind: 'group_dm', isPrivate: true, members: ['U0ALICE', 'U0BOB', 'U0CHEN'] },
  ...DMS,
];

/** Adds the people and channels to the emulator, with a first message so channels are not empty. */
export function seedWorkspace(fake: FakeSlack): void {
  for (const p of PEOPLE) fake.addUser({ id: p.id, teamId: SANDBOX_TEAM, name: p.name, tz: p.tz, ...(p.guest ? { guest: 'multi' as const } : {}), ...(p.admin ? { admin: 'admin' as const } : {}) });
  for (const c of CHANNELS) {
    if (c.kind === 'channel') fake.addChannel({ id: c.id, teamId: SANDBOX_TEAM, name: c.name, isPrivate: c.isPrivate, botIsMember: true });
    if (c.kind === 'group_dm') fake.addChannel({ id: c.id, teamId: SANDBOX_TEAM, name: 'mpdm-alice--bob--chen-1', isPrivate: true, isMpim: true, botIsMember: false });
  }
  fake.postAsUser({ channel: 'C0GENERAL', user: 'U0ALICE', text: 'Welcome to the Tasklane sandbox! Try `/task add Write the launch post @bob due friday`.' });
  fake.postAsUser({ channel: 'C0LAUNCH', user: 'U0BOB', text: 'Private channel: a task made from this message is visible only to its creator and assignee.' });
}

export function person(id: string): SandboxPerson | undefined {
  return PEOPLE.find((p) => p.id === id);
}
