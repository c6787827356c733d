CREATE TABLE `analytics_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`type` text NOT NULL,
	`user_id` integer,
	`workflow_id` integer,
	`at` integer NOT NULL,
	`properties` text,
	`dedupe_key` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `analytics_events_dedupe_unique` ON `analytics_events` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `analytics_events_at_idx` ON `analytics_events` (`at`);--> statement-breakpoint
CREATE INDEX `analytics_events_user_idx` ON `analytics_events` (`user_id`,`at`);--> statement-breakpoint
CREATE TABLE `ml_model_blobs` (
	`model_id` integer NOT NULL,
	`version` integer NOT NULL,
	`part` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`model_id`, `version`, `part`),
	FOREIGN KEY (`model_id`) REFERENCES `ml_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `ml_model_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_id` integer NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`parameters` text NOT NULL,
	`target_column` text,
	`test_size` real NOT NULL,
	`random_state` integer NOT NULL,
	`data_rows` integer NOT NULL,
	`encoding` text,
	`metrics` text,
	`split` text,
	`task_id` integer,
	`error` text,
	`created_by` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`model_id`) REFERENCES `ml_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ml_model_versions_unique` ON `ml_model_versions` (`model_id`,`version`);--> statement-breakpoint
CREATE UNIQUE INDEX `ml_model_versions_one_training` ON `ml_model_versions` (`model_id`) WHERE status = 'training';--> statement-breakpoint
CREATE TABLE `ml_models` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`model_type` text NOT NULL,
	`algorithm` text NOT NULL,
	`parameters` text NOT NULL,
	`active_version` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ml_models_owner_idx` ON `ml_models` (`owner_id`,`id`);--> statement-breakpoint
CREATE TABLE `ml_predictions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_id` integer NOT NULL,
	`version` integer NOT NULL,
	`user_id` integer,
	`row_count` integer NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `ml_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ml_predictions_model_idx` ON `ml_predictions` (`model_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `ml_training_chunks` (
	`model_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`row_count` integer NOT NULL,
	`rows` text NOT NULL,
	PRIMARY KEY(`model_id`, `seq`),
	FOREIGN KEY (`model_id`) REFERENCES `ml_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `notification_attempts` (
	`delivery_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`status` text NOT NULL,
	`retryable` integer DEFAULT false NOT NULL,
	`response_code` integer,
	`latency_ms` integer,
	`error` text,
	`at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	PRIMARY KEY(`delivery_id`, `attempt`),
	FOREIGN KEY (`delivery_id`) REFERENCES `notification_deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `notification_channels` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`scope_key` text NOT NULL,
	`owner_id` integer,
	`channel` text NOT NULL,
	`name` text NOT NULL,
	`settings` text NOT NULL,
	`secrets` text,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_channels_unique` ON `notification_channels` (`scope_key`,`channel`,`name`);--> statement-breakpoint
CREATE TABLE `notification_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`batch_id` text NOT NULL,
	`channel` text NOT NULL,
	`config_name` text NOT NULL,
	`recipient` text NOT NULL,
	`recipient_user_id` integer,
	`subscription_id` integer,
	`template_id` integer,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`data` text,
	`priority` text NOT NULL,
	`send_at` integer NOT NULL,
	`status` text NOT NULL,
	`skip_reason` text,
	`error` text,
	`provider_status` integer,
	`provider_message_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`task_id` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `notification_deliveries_owner_idx` ON `notification_deliveries` (`owner_id`,`id`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_recipient_idx` ON `notification_deliveries` (`owner_id`,`recipient`,`id`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_batch_idx` ON `notification_deliveries` (`batch_id`);--> statement-breakpoint
CREATE TABLE `notification_preferences` (
	`user_id` integer NOT NULL,
	`channel` text NOT NULL,
	`opted_out` integer NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	PRIMARY KEY(`user_id`, `channel`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `notification_templates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`channel` text NOT NULL,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`variables` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_templates_name_unique` ON `notification_templates` (`owner_id`,`name`);--> statement-breakpoint
CREATE TABLE `push_subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`endpoint` text NOT NULL,
	`p256dh` text NOT NULL,
	`auth` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `push_subscriptions_endpoint_unique` ON `push_subscriptions` (`user_id`,`endpoint`);--> statement-breakpoint
CREATE TABLE `rec_interactions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`user_key` text NOT NULL,
	`item_key` text NOT NULL,
	`type` text NOT NULL,
	`rating` real,
	`weight` real NOT NULL,
	`event_id` text,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `rec_interactions_user_idx` ON `rec_interactions` (`owner_id`,`user_key`);--> statement-breakpoint
CREATE INDEX `rec_interactions_item_idx` ON `rec_interactions` (`owner_id`,`item_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `rec_interactions_event_unique` ON `rec_interactions` (`owner_id`,`event_id`);--> statement-breakpoint
CREATE TABLE `rec_items` (
	`owner_id` integer NOT NULL,
	`item_key` text NOT NULL,
	`features` text NOT NULL,
	`content` text DEFAULT '' NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	PRIMARY KEY(`owner_id`, `item_key`),
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `rec_model_chunks` (
	`model_id` integer NOT NULL,
	`version` integer NOT NULL,
	`seq` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`model_id`, `version`, `seq`),
	FOREIGN KEY (`model_id`) REFERENCES `rec_models`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `rec_models` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`algorithm` text NOT NULL,
	`recommendation_type` text NOT NULL,
	`parameters` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`trained_at` integer,
	`training_summary` text,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `rec_models_owner_idx` ON `rec_models` (`owner_id`,`id`);