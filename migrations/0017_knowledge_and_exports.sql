CREATE TABLE `export_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`scope` text NOT NULL,
	`document_id` integer,
	`workflow_id` integer,
	`run_id` integer,
	`format` text NOT NULL,
	`status` text NOT NULL,
	`task_id` integer,
	`title` text NOT NULL,
	`filename` text NOT NULL,
	`object_key` text,
	`bytes` integer,
	`error` text,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `export_jobs_owner_idx` ON `export_jobs` (`owner_id`,`id`);--> statement-breakpoint
CREATE TABLE `knowledge_bases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`embedding` text NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `knowledge_bases_owner_idx` ON `knowledge_bases` (`owner_id`,`id`);--> statement-breakpoint
CREATE TABLE `knowledge_chunks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`base_id` integer NOT NULL,
	`ordinal` integer NOT NULL,
	`heading` text,
	`text` text NOT NULL,
	`start_offset` integer NOT NULL,
	`end_offset` integer NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `knowledge_sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `knowledge_chunks_source_ordinal` ON `knowledge_chunks` (`source_id`,`ordinal`);--> statement-breakpoint
CREATE INDEX `knowledge_chunks_base_idx` ON `knowledge_chunks` (`base_id`);--> statement-breakpoint
CREATE TABLE `knowledge_sources` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`base_id` integer NOT NULL,
	`owner_id` integer NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`title` text NOT NULL,
	`content` text NOT NULL,
	`document_id` integer,
	`document_version` integer,
	`filename` text,
	`media_type` text,
	`bytes` integer,
	`chunk_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer DEFAULT (cast((julianday('now') - 2440587.5) * 86400000 as integer)) NOT NULL,
	FOREIGN KEY (`base_id`) REFERENCES `knowledge_bases`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `knowledge_sources_base_idx` ON `knowledge_sources` (`base_id`,`id`);--> statement-breakpoint
CREATE TABLE `knowledge_vectors` (
	`chunk_id` integer PRIMARY KEY NOT NULL,
	`base_id` integer NOT NULL,
	`vector` blob NOT NULL,
	FOREIGN KEY (`chunk_id`) REFERENCES `knowledge_chunks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `knowledge_vectors_base_idx` ON `knowledge_vectors` (`base_id`);--> statement-breakpoint
-- Written by hand (drizzle-kit cannot express virtual tables or triggers), as in 0002: full-text
-- search over knowledge-base chunks, the keyword half of hybrid search. An external-content FTS5
-- table holding only the index; the triggers keep it in step with knowledge_chunks, including
-- rows removed by the ON DELETE CASCADE from a deleted source or base.
CREATE VIRTUAL TABLE `knowledge_chunks_fts` USING fts5(heading, text, content='knowledge_chunks', content_rowid='id', tokenize='porter unicode61');
--> statement-breakpoint
CREATE TRIGGER `knowledge_chunks_fts_insert` AFTER INSERT ON `knowledge_chunks` BEGIN
  INSERT INTO knowledge_chunks_fts(rowid, heading, text) VALUES (new.id, new.heading, new.text);
END;
--> statement-breakpoint
CREATE TRIGGER `knowledge_chunks_fts_delete` AFTER DELETE ON `knowledge_chunks` BEGIN
  INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
END;
--> statement-breakpoint
CREATE TRIGGER `knowledge_chunks_fts_update` AFTER UPDATE OF heading, text ON `knowledge_chunks` BEGIN
  INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
  INSERT INTO knowledge_chunks_fts(rowid, heading, text) VALUES (new.id, new.heading, new.text);
END;
