import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';

/** For a `describe` block: a new SQLite file store, migrated as in production, for each test. */
export function useSqliteFileStore(): { readonly store: Store } {
  let dir: string | undefined;
  let store: Store | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-store-'));
    store = openStore(join(dir, 'db.sqlite'));
  });
  afterEach(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get store() {
      if (store === undefined) throw new Error('useSqliteFileStore: read its store inside a test or hook');
      return store;
    },
  };
}
