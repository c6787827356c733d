CREATE TABLE `error_groups` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`fingerprint` text NOT NULL,
	`name` text NOT NULL,
	`message` text NOT NULL,
	`route` text NOT NULL,
	`count` integer DEFAULT 1 NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`sample_request_id` text NOT NULL,
	`sample_message` text NOT NULL,
	`sample_stack` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `error_groups_fingerprint_unique` ON `error_groups` (`fingerprint`);--> statement-breakpoint
CREATE INDEX `error_groups_last_seen` ON `error_groups` (`last_seen`);--> statement-breakpoint
CREATE TABLE `run_trace_links` (
	`run_id` integer PRIMARY KEY NOT NULL,
	`trace_id` text NOT NULL,
	`span_id` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
