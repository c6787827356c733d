CREATE TABLE `schedule_fires` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`schedule_id` integer NOT NULL,
	`owner_id` integer NOT NULL,
	`manual` integer DEFAULT false NOT NULL,
	`fire_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	`fired_at` integer NOT NULL,
	`source` text NOT NULL,
	`outcome` text NOT NULL,
	`detail` text,
	FOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedule_fires_unique` ON `schedule_fires` (`schedule_id`,`manual`,`fire_at`);--> statement-breakpoint
CREATE INDEX `schedule_fires_schedule_idx` ON `schedule_fires` (`schedule_id`,`id`);--> statement-breakpoint
CREATE INDEX `schedule_fires_owner_idx` ON `schedule_fires` (`owner_id`,`fired_at`);--> statement-breakpoint
CREATE TABLE `schedules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`kind` text NOT NULL,
	`cron_expression` text,
	`every_seconds` integer,
	`anchor_at` integer,
	`spec` text NOT NULL,
	`timezone` text NOT NULL,
	`target` text,
	`overlap` text NOT NULL,
	`jitter_seconds` integer DEFAULT 0 NOT NULL,
	`catch_up_seconds` integer NOT NULL,
	`max_retries` integer NOT NULL,
	`pause_after_failures` integer,
	`state` text NOT NULL,
	`paused_reason` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`next_fire_at` integer,
	`next_run_at` integer,
	`last_fire_at` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `schedules_owner_idx` ON `schedules` (`owner_id`,`id`);--> statement-breakpoint
CREATE INDEX `schedules_due_idx` ON `schedules` (`state`,`next_run_at`);--> statement-breakpoint
CREATE TABLE `task_attempts` (
	`task_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer NOT NULL,
	`error` text,
	`retry_delay_seconds` integer,
	PRIMARY KEY(`task_id`, `attempt`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `task_effects` (
	`task_id` integer NOT NULL,
	`effect` text NOT NULL,
	`at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`detail` text,
	PRIMARY KEY(`task_id`, `effect`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`task_type` text NOT NULL,
	`priority` text NOT NULL,
	`status` text NOT NULL,
	`payload` text NOT NULL,
	`result` text,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_retries` integer NOT NULL,
	`timeout_seconds` integer NOT NULL,
	`delay_seconds` integer DEFAULT 0 NOT NULL,
	`idempotency_key` text,
	`run_after` integer NOT NULL,
	`dispatch_seq` integer,
	`run_id` integer,
	`watch_seq` integer DEFAULT 0 NOT NULL,
	`schedule_id` integer,
	`schedule_fire_id` integer,
	`lease_until` integer,
	`next_retry_at` integer,
	`deadline_at` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`first_started_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_idempotency_unique` ON `tasks` (`owner_id`,`idempotency_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_schedule_fire_unique` ON `tasks` (`schedule_fire_id`);--> statement-breakpoint
CREATE INDEX `tasks_owner_idx` ON `tasks` (`owner_id`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_status_idx` ON `tasks` (`status`,`lease_until`);--> statement-breakpoint
CREATE INDEX `tasks_schedule_idx` ON `tasks` (`schedule_id`,`status`);--> statement-breakpoint
CREATE INDEX `tasks_finished_idx` ON `tasks` (`finished_at`);--> statement-breakpoint
CREATE TABLE `webhook_secrets` (
	`user_id` integer PRIMARY KEY NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
