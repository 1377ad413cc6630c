CREATE TABLE `job_runs` (
	`name` text PRIMARY KEY NOT NULL,
	`next_run_at` integer NOT NULL,
	`owner` text NOT NULL,
	`ran_at` integer NOT NULL
);
