CREATE TABLE `task_search_shards` (
	`shard` integer PRIMARY KEY NOT NULL,
	`team_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `task_search_shards_team_id_unique` ON `task_search_shards` (`team_id`);--> statement-breakpoint
-- tasks.title_search is NOT NULL with no default, which SQLite cannot add to a table with rows:
-- the table is rebuilt, each title folded by tasklane_fold (foldForSearch, registered by
-- openStore before it migrates). Foreign keys are off around migrate() (see store/db.ts).
CREATE TABLE `__new_tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`team_id` text NOT NULL,
	`number` integer NOT NULL,
	`title` text NOT NULL,
	`title_search` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`priority` text DEFAULT 'normal' NOT NULL,
	`assignee_id` text NOT NULL,
	`creator_id` text NOT NULL,
	`due_date` text,
	`origin` text NOT NULL,
	`source_permalink` text,
	`channel_id` text,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`completed_by` text,
	`completed_at` integer,
	`function_execution_id` text,
	`step_state` text DEFAULT 'none' NOT NULL,
	`private` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_tasks`("id", "team_id", "number", "title", "title_search", "description", "status", "priority", "assignee_id", "creator_id", "due_date", "origin", "source_permalink", "channel_id", "created_at", "updated_at", "completed_by", "completed_at", "function_execution_id", "step_state", "private")
	SELECT "id", "team_id", "number", "title", tasklane_fold("title"), "description", "status", "priority", "assignee_id", "creator_id", "due_date", "origin", "source_permalink", "channel_id", "created_at", "updated_at", "completed_by", "completed_at", "function_execution_id", "step_state", "private" FROM `tasks`;--> statement-breakpoint
-- Task ids are never reused (AUTOINCREMENT; the audit log names them): the new table keeps the
-- old one's sequence, which may be above the highest id left after deletes.
INSERT INTO `sqlite_sequence`("name", "seq") SELECT '__new_tasks', 0 WHERE NOT EXISTS (SELECT 1 FROM `sqlite_sequence` WHERE "name" = '__new_tasks');--> statement-breakpoint
UPDATE `sqlite_sequence` SET "seq" = max("seq", coalesce((SELECT "seq" FROM `sqlite_sequence` WHERE "name" = 'tasks'), 0)) WHERE "name" = '__new_tasks';--> statement-breakpoint
DROP TABLE `tasks`;--> statement-breakpoint
ALTER TABLE `__new_tasks` RENAME TO `tasks`;--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_team_number_uq` ON `tasks` (`team_id`,`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_function_execution_uq` ON `tasks` (`function_execution_id`) WHERE "tasks"."function_execution_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `tasks_assignee_idx` ON `tasks` (`team_id`,`assignee_id`,`status`,`due_date`);--> statement-breakpoint
CREATE INDEX `tasks_creator_idx` ON `tasks` (`team_id`,`creator_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_team_status_idx` ON `tasks` (`team_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_team_completed_idx` ON `tasks` (`team_id`,`status`,`completed_at`);--> statement-breakpoint
CREATE INDEX `tasks_step_state_idx` ON `tasks` (`step_state`) WHERE "tasks"."step_state" IN ('waiting', 'completing');
