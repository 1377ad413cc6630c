CREATE TABLE "user_settings" (
	"team_id" text NOT NULL,
	"user_id" text NOT NULL,
	"reminders_enabled" boolean DEFAULT true NOT NULL,
	"reminder_hour" integer DEFAULT 9 NOT NULL,
	"updated_at" bigint DEFAULT (floor(extract(epoch from statement_timestamp()) * 1000))::bigint NOT NULL,
	CONSTRAINT "user_settings_team_id_user_id_pk" PRIMARY KEY("team_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "workspace_settings" (
	"team_id" text PRIMARY KEY NOT NULL,
	"audit_webhook_url" text,
	"updated_by" text NOT NULL,
	"updated_at" bigint DEFAULT (floor(extract(epoch from statement_timestamp()) * 1000))::bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "approval_approvers" ADD COLUMN "escalated" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "remind_after_hours" integer;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "escalate_to" text;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "expire_after_hours" integer;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "reminders_sent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "repeat_rule" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "series_id" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_series_due_uq" ON "tasks" USING btree ("series_id","due_date") WHERE "tasks"."series_id" IS NOT NULL;