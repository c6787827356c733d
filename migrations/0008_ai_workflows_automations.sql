CREATE TABLE `ai_workflows` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`workflow_id` integer NOT NULL,
	`template` text NOT NULL,
	`workflow_type` text NOT NULL,
	`provider` text NOT NULL,
	`model` text,
	`input_data` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ai_workflows_workflow_unique` ON `ai_workflows` (`workflow_id`);--> statement-breakpoint
CREATE INDEX `ai_workflows_owner_idx` ON `ai_workflows` (`owner_id`,`id`);--> statement-breakpoint
CREATE TABLE `automation_action_results` (
	`execution_id` integer NOT NULL,
	`action_index` integer NOT NULL,
	`action_type` text NOT NULL,
	`status` text NOT NULL,
	`output` text,
	`error` text,
	`effect_ref` text,
	`started_at` integer NOT NULL,
	`duration_ms` integer,
	PRIMARY KEY(`execution_id`, `action_index`),
	FOREIGN KEY (`execution_id`) REFERENCES `automation_executions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `automation_action_results_effect_idx` ON `automation_action_results` (`effect_ref`);--> statement-breakpoint
CREATE TABLE `automation_executions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`automation_id` integer NOT NULL,
	`owner_id` integer NOT NULL,
	`event_id` text NOT NULL,
	`status` text NOT NULL,
	`trigger_data` text NOT NULL,
	`context` text NOT NULL,
	`depth` integer DEFAULT 0 NOT NULL,
	`origin_automation_id` integer,
	`task_id` integer,
	`decision` text,
	`error` text,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`automation_id`) REFERENCES `automations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `automation_executions_event_unique` ON `automation_executions` (`automation_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `automation_executions_owner_idx` ON `automation_executions` (`owner_id`,`id`);--> statement-breakpoint
CREATE TABLE `automations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`trigger_type` text NOT NULL,
	`trigger` text NOT NULL,
	`actions` text NOT NULL,
	`ai_decision_making` integer DEFAULT false NOT NULL,
	`learning_enabled` integer DEFAULT false NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`webhook_secret` text,
	`schedule_id` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `automations_owner_idx` ON `automations` (`owner_id`,`trigger_type`);