import type { FakeSlack } from './fakeSlack.js';

/** The sandbox's demo workspace: a few people in different time zones, public and private channels. */
export const SANDBOX_TEAM = 'T0SANDBOX';

export interface SandboxPerson {
  id: string;
  name: string;
  tz: string;
  /** A guest (restricted account) sees only the tasks they created or are assigned. */
  guest?: boolean;
}

export interface SandboxChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  members: string[];
}

export const PEOPLE: SandboxPerson[] = [
  { id: 'U0ALICE', name: 'alice', tz: 'Europe/London' },
  { id: 'U0BOB', name: 'bob', tz: 'America/New_York' },
  { id: 'U0CHEN', name: 'chen', tz: 'Asia/Tokyo' },
  { id: 'U0DANA', name: 'dana', tz: 'America/Los_Angeles', guest: true },
];

export const CHANNELS: SandboxChannel[] = [
  { id: 'C0GENERAL', name: 'general', isPrivate: false, members: ['U0ALICE', 'U0BOB', 'U0CHEN', 'U0DANA'] },
  { id: 'C0LAUNCH', name: 'launch-plans', isPrivate: true, members: ['U0ALICE', 'U0BOB'] },
];

/** Adds the people and channels to the emulator, with a first message so channels are not empty. */
export function seedWorkspace(fake: FakeSlack): void {
  for (const p of PEOPLE) fake.addUser({ id: p.id, teamId: SANDBOX_TEAM, name: p.name, tz: p.tz });
  for (const c of CHANNELS) fake.addChannel({ id: c.id, teamId: SANDBOX_TEAM, name: c.name, isPrivate: c.isPrivate, botIsMember: true });
  fake.postAsUser({ channel: 'C0GENERAL', user: 'U0ALICE', text: 'Welcome to the Tasklane sandbox! Try `/task add Write the launch post @bob due friday`.' });
  fake.postAsUser({ channel: 'C0LAUNCH', user: 'U0BOB', text: 'Private channel: a task made from this message is visible only to its creator and assignee.' });
}

export function person(id: string): SandboxPerson | undefined {
  return PEOPLE.find((p) => p.id === id);
}
