CREATE TABLE `cost_budgets` (
	`user_id` integer PRIMARY KEY NOT NULL,
	`monthly_usd` real NOT NULL,
	`ceiling_usd` real,
	`updated_by` integer,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`updated_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE TABLE `model_prices` (
	`provider` text NOT NULL,
	`model` text NOT NULL,
	`input_per_mtok` real NOT NULL,
	`output_per_mtok` real NOT NULL,
	`updated_by` integer,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	PRIMARY KEY(`provider`, `model`),
	FOREIGN KEY (`updated_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
ALTER TABLE `node_attempts` ADD `cost_usd` real;--> statement-breakpoint
ALTER TABLE `run_nodes` ADD `cost_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `forked_from_run_id` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `forked_from_node` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `fork_overrides` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `cost_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `budget` text;--> statement-breakpoint
CREATE INDEX `runs_forked_from_idx` ON `runs` (`forked_from_run_id`);--> statement-breakpoint
CREATE INDEX `runs_owner_created_idx` ON `runs` (`owner_id`,`created_at`);