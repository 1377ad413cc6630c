CREATE TABLE `user_settings` (
	`team_id` text NOT NULL,
	`user_id` text NOT NULL,
	`reminders_enabled` integer DEFAULT true NOT NULL,
	`reminder_hour` integer DEFAULT 9 NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	PRIMARY KEY(`team_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `workspace_settings` (
	`team_id` text PRIMARY KEY NOT NULL,
	`audit_webhook_url` text,
	`updated_by` text NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `approval_approvers` ADD `escalated` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `approvals` ADD `remind_after_hours` integer;--> statement-breakpoint
ALTER TABLE `approvals` ADD `escalate_to` text;--> statement-breakpoint
ALTER TABLE `approvals` ADD `expire_after_hours` integer;--> statement-breakpoint
ALTER TABLE `approvals` ADD `reminders_sent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `repeat_rule` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `series_id` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_series_due_uq` ON `tasks` (`series_id`,`due_date`) WHERE "tasks"."series_id" IS NOT NULL;