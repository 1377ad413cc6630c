-- Title search index (src/store/searchText.ts folds, src/store/search.ts queries). FTS5 with the
-- trigram tokenizer over tasks.title_search, contentless (the text is in tasks), detail=none
-- (a query only asks which rows hold its trigrams; the join checks the substring itself).
-- A task's rowid is (shard << 32) | number, the shard being its workspace's small number
-- (task_search_shards): one workspace's tasks form one rowid range, read newest first, so a
-- search costs what its workspace holds, not what the store holds.
-- A drizzle-kit table rebuild of `tasks` drops these triggers: such a migration must create them again.
CREATE VIRTUAL TABLE `tasks_fts` USING fts5(title_search, content='', contentless_delete=1, detail='none', tokenize='trigram');--> statement-breakpoint
CREATE TRIGGER `tasks_search_insert` AFTER INSERT ON `tasks` BEGIN
  INSERT INTO `task_search_shards` (`team_id`) SELECT NEW.`team_id` WHERE NOT EXISTS (SELECT 1 FROM `task_search_shards` WHERE `team_id` = NEW.`team_id`);
  INSERT INTO `tasks_fts` (rowid, `title_search`) VALUES (((SELECT `shard` FROM `task_search_shards` WHERE `team_id` = NEW.`team_id`) << 32) | NEW.`number`, NEW.`title_search`);
END;--> statement-breakpoint
CREATE TRIGGER `tasks_search_delete` AFTER DELETE ON `tasks` BEGIN
  DELETE FROM `tasks_fts` WHERE rowid = ((SELECT `shard` FROM `task_search_shards` WHERE `team_id` = OLD.`team_id`) << 32) | OLD.`number`;
END;--> statement-breakpoint
CREATE TRIGGER `tasks_search_update` AFTER UPDATE OF `title_search`, `team_id`, `number` ON `tasks`
WHEN OLD.`title_search` IS NOT NEW.`title_search` OR OLD.`team_id` IS NOT NEW.`team_id` OR OLD.`number` IS NOT NEW.`number` BEGIN
  DELETE FROM `tasks_fts` WHERE rowid = ((SELECT `shard` FROM `task_search_shards` WHERE `team_id` = OLD.`team_id`) << 32) | OLD.`number`;
  INSERT INTO `task_search_shards` (`team_id`) SELECT NEW.`team_id` WHERE NOT EXISTS (SELECT 1 FROM `task_search_shards` WHERE `team_id` = NEW.`team_id`);
  INSERT INTO `tasks_fts` (rowid, `title_search`) VALUES (((SELECT `shard` FROM `task_search_shards` WHERE `team_id` = NEW.`team_id`) << 32) | NEW.`number`, NEW.`title_search`);
END;--> statement-breakpoint
INSERT INTO `task_search_shards` (`team_id`) SELECT DISTINCT `team_id` FROM `tasks` ORDER BY `team_id`;--> statement-breakpoint
-- In rowid order: FTS5 writes a segment whenever a rowid is not above the last one.
INSERT INTO `tasks_fts` (rowid, `title_search`)
  SELECT (s.`shard` << 32) | t.`number`, t.`title_search` FROM `tasks` t JOIN `task_search_shards` s ON s.`team_id` = t.`team_id` ORDER BY 1;--> statement-breakpoint
INSERT INTO `tasks_fts` (`tasks_fts`) VALUES ('optimize');
