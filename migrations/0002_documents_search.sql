-- Full-text search over documents (SQLite FTS5, available in D1). drizzle-kit cannot express
-- virtual tables or triggers, so this migration is written by hand. The index is an external-
-- content table: it stores only the index, and the triggers keep it in step with `documents`.
CREATE VIRTUAL TABLE `documents_fts` USING fts5(title, content, content='documents', content_rowid='id', tokenize='porter unicode61');
--> statement-breakpoint
CREATE TRIGGER `documents_fts_insert` AFTER INSERT ON `documents` BEGIN
  INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
END;
--> statement-breakpoint
CREATE TRIGGER `documents_fts_delete` AFTER DELETE ON `documents` BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);
END;
--> statement-breakpoint
CREATE TRIGGER `documents_fts_update` AFTER UPDATE OF title, content ON `documents` BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content);
  INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
END;
