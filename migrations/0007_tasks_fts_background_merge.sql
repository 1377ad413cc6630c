-- The search index's segments are merged by the store's maintenance thread (src/store/maintenance.ts)
-- in small steps, not inside the commit that adds a task: FTS5's automatic merge did a burst of
-- work (15–45 ms in the 1,000,000-task store) in one insert out of every few dozen, on the
-- request's thread. With automerge off, a write merges only in a crisis (32 segments on one
-- level: the maintenance thread is not keeping up). The index starts merged.
INSERT INTO `tasks_fts` (`tasks_fts`, `rank`) VALUES ('automerge', 0);--> statement-breakpoint
INSERT INTO `tasks_fts` (`tasks_fts`, `rank`) VALUES ('crisismerge', 32);--> statement-breakpoint
INSERT INTO `tasks_fts` (`tasks_fts`) VALUES ('optimize');
