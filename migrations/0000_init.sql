CREATE TABLE `approval_approvers` (
	`approval_id` integer NOT NULL,
	`team_id` text NOT NULL,
	`user_id` text NOT NULL,
	`channel_id` text,
	`message_ts` text,
	PRIMARY KEY(`approval_id`, `user_id`),
	FOREIGN KEY (`approval_id`) REFERENCES `approvals`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `approval_approvers_user_idx` ON `approval_approvers` (`team_id`,`user_id`,`approval_id`);--> statement-breakpoint
CREATE TABLE `approvals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`team_id` text NOT NULL,
	`title` text NOT NULL,
	`details` text DEFAULT '' NOT NULL,
	`requester_id` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`decided_by` text,
	`comment` text,
	`decided_at` integer,
	`failure_reason` text,
	`origin` text NOT NULL,
	`function_execution_id` text,
	`workflow_execution_id` text,
	`step_state` text DEFAULT 'none' NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `approvals_function_execution_uq` ON `approvals` (`function_execution_id`);--> statement-breakpoint
CREATE INDEX `approvals_team_status_idx` ON `approvals` (`team_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `approvals_step_state_idx` ON `approvals` (`step_state`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`team_id` text NOT NULL,
	`actor_id` text NOT NULL,
	`entity` text NOT NULL,
	`entity_id` integer NOT NULL,
	`action` text NOT NULL,
	`detail` text,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_entity_idx` ON `audit_log` (`entity`,`entity_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `home_state` (
	`team_id` text NOT NULL,
	`user_id` text NOT NULL,
	`filter` text DEFAULT 'assigned' NOT NULL,
	`page` integer DEFAULT 0 NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	PRIMARY KEY(`team_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `processed_deliveries` (
	`key` text PRIMARY KEY NOT NULL,
	`team_id` text NOT NULL,
	`received_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `processed_deliveries_received_idx` ON `processed_deliveries` (`received_at`);--> statement-breakpoint
CREATE TABLE `task_comments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` integer NOT NULL,
	`team_id` text NOT NULL,
	`user_id` text NOT NULL,
	`text` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_comments_task_idx` ON `task_comments` (`task_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `task_messages` (
	`task_id` integer NOT NULL,
	`team_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`ts` text NOT NULL,
	`kind` text NOT NULL,
	PRIMARY KEY(`channel_id`, `ts`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_messages_task_idx` ON `task_messages` (`task_id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`team_id` text NOT NULL,
	`number` integer NOT NULL,
	`title` text NOT NULL,
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
	`step_state` text DEFAULT 'none' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_team_number_uq` ON `tasks` (`team_id`,`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_function_execution_uq` ON `tasks` (`function_execution_id`);--> statement-breakpoint
CREATE INDEX `tasks_assignee_idx` ON `tasks` (`team_id`,`assignee_id`,`status`,`due_date`);--> statement-breakpoint
CREATE INDEX `tasks_creator_idx` ON `tasks` (`team_id`,`creator_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_team_status_idx` ON `tasks` (`team_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_team_completed_idx` ON `tasks` (`team_id`,`status`,`completed_at`);--> statement-breakpoint
CREATE INDEX `tasks_step_state_idx` ON `tasks` (`step_state`);--> statement-breakpoint
CREATE TABLE `team_counters` (
	`team_id` text PRIMARY KEY NOT NULL,
	`last_task_number` integer DEFAULT 0 NOT NULL
);
