CREATE TABLE `service_email_domains` (
	`domain` text PRIMARY KEY NOT NULL,
	`created_by` integer,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
