CREATE TABLE `run_storage_purges` (
	`run_id` integer PRIMARY KEY NOT NULL,
	`deleted_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL
);
--> statement-breakpoint
-- Every way a run row goes (the owner's cleanup task, the owner's account deleted and its rows
-- cascading) leaves its run object's storage behind; this notes the run for the retention cron.
CREATE TRIGGER `runs_purge_storage` AFTER DELETE ON `runs` BEGIN
	INSERT OR IGNORE INTO `run_storage_purges` (`run_id`) VALUES (old.`id`);
END;
