CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`team_id` text NOT NULL,
	`kind` text NOT NULL,
	`target` text NOT NULL,
	`payload` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`generation` integer DEFAULT 0 NOT NULL,
	`spacing_ms` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`uncertain` integer DEFAULT false NOT NULL,
	`last_error` text,
	`result` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_key_uq` ON `outbox` (`key`);--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`next_attempt_at`) WHERE "outbox"."state" = 'pending';--> statement-breakpoint
CREATE INDEX `outbox_lease_idx` ON `outbox` (`lease_until`) WHERE "outbox"."state" = 'pending' AND "outbox"."lease_until" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_done_idx` ON `outbox` (`updated_at`) WHERE "outbox"."state" <> 'pending';--> statement-breakpoint
ALTER TABLE `processed_deliveries` ADD `state` text DEFAULT 'done' NOT NULL;--> statement-breakpoint
ALTER TABLE `processed_deliveries` ADD `claimed_at` integer;--> statement-breakpoint
ALTER TABLE `processed_deliveries` ADD `attempts` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `processed_deliveries` ADD `body` text;--> statement-breakpoint
CREATE INDEX `processed_deliveries_handling_idx` ON `processed_deliveries` (`claimed_at`) WHERE "processed_deliveries"."state" = 'handling';