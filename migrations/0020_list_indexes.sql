DROP INDEX `documents_parent_idx`;--> statement-breakpoint
CREATE INDEX `documents_owner_run_idx` ON `documents` (`owner_id`,`run_id`,`id`);--> statement-breakpoint
CREATE INDEX `documents_owner_workflow_idx` ON `documents` (`owner_id`,`workflow_id`,`id`);--> statement-breakpoint
CREATE INDEX `documents_owner_parent_idx` ON `documents` (`owner_id`,`parent_id`,`id`);--> statement-breakpoint
DROP INDEX `notification_deliveries_batch_idx`;--> statement-breakpoint
CREATE INDEX `notification_deliveries_channel_idx` ON `notification_deliveries` (`owner_id`,`channel`,`id`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_status_idx` ON `notification_deliveries` (`owner_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_batch_idx` ON `notification_deliveries` (`owner_id`,`batch_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_target_type_idx` ON `audit_log` (`target_type`,`id`);--> statement-breakpoint
CREATE INDEX `audit_outcome_idx` ON `audit_log` (`outcome`,`id`);--> statement-breakpoint
CREATE INDEX `automation_executions_automation_idx` ON `automation_executions` (`automation_id`,`id`);--> statement-breakpoint
CREATE INDEX `automations_owner_id_idx` ON `automations` (`owner_id`,`id`);--> statement-breakpoint
CREATE INDEX `ml_model_versions_model_idx` ON `ml_model_versions` (`model_id`,`id`);--> statement-breakpoint
CREATE INDEX `runs_owner_workflow_idx` ON `runs` (`owner_id`,`workflow_id`,`id`);--> statement-breakpoint
CREATE INDEX `security_events_user_idx` ON `security_events` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `security_events_ip_idx` ON `security_events` (`ip`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_owner_status_idx` ON `tasks` (`owner_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_owner_type_idx` ON `tasks` (`owner_id`,`task_type`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_owner_priority_idx` ON `tasks` (`owner_id`,`priority`,`id`);--> statement-breakpoint
CREATE INDEX `workflows_owner_updated_idx` ON `workflows` (`owner_id`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `workflows_owner_name_idx` ON `workflows` (`owner_id`,"name" COLLATE NOCASE,`id`);