ALTER TABLE `tasks` ADD `request_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_request_key_uq` ON `tasks` (`team_id`,`request_key`) WHERE "tasks"."request_key" IS NOT NULL;