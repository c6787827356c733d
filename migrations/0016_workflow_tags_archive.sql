CREATE TABLE `workflow_tags` (
	`workflow_id` integer NOT NULL,
	`tag` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	PRIMARY KEY(`workflow_id`, `tag`),
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `workflow_tags_tag_idx` ON `workflow_tags` (`tag`,`workflow_id`);--> statement-breakpoint
ALTER TABLE `workflows` ADD `archived_at` integer;