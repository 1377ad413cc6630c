DROP INDEX `tasks_function_execution_uq`;--> statement-breakpoint
DROP INDEX `tasks_step_state_idx`;--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_function_execution_uq` ON `tasks` (`function_execution_id`) WHERE "tasks"."function_execution_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `tasks_step_state_idx` ON `tasks` (`step_state`) WHERE "tasks"."step_state" IN ('waiting', 'completing');