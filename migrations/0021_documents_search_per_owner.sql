-- Full-text search scoped per owner inside the index (issue 27). The FTS5 index gains a first
-- column, owner_id, holding each document's owner as one token, and a search matches
-- `{owner_id} : "<owner>" AND {title content} : (<the user's terms>)`: FTS5 intersects the
-- owner's doclist with the terms' doclists, seeking past other owners' postings instead of reading
-- them, so a page no longer walks every tenant's matches. The column is named as the content
-- table's column, so `rebuild` and external-content reads take it from `documents.owner_id`.
-- Written by hand: drizzle-kit cannot express virtual tables or triggers (see 0002).
DROP TRIGGER `documents_fts_insert`;
--> statement-breakpoint
DROP TRIGGER `documents_fts_delete`;
--> statement-breakpoint
DROP TRIGGER `documents_fts_update`;
--> statement-breakpoint
DROP TABLE `documents_fts`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `documents_fts` USING fts5(owner_id, title, content, content='documents', content_rowid='id', tokenize='porter unicode61');
--> statement-breakpoint
-- Every existing document, read again from `documents` (nothing is copied from the old index).
INSERT INTO documents_fts(documents_fts) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `documents_fts_insert` AFTER INSERT ON `documents` BEGIN
  INSERT INTO documents_fts(rowid, owner_id, title, content) VALUES (new.id, new.owner_id, new.title, new.content);
END;
--> statement-breakpoint
CREATE TRIGGER `documents_fts_delete` AFTER DELETE ON `documents` BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, owner_id, title, content) VALUES ('delete', old.id, old.owner_id, old.title, old.content);
END;
--> statement-breakpoint
CREATE TRIGGER `documents_fts_update` AFTER UPDATE OF owner_id, title, content ON `documents` BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, owner_id, title, content) VALUES ('delete', old.id, old.owner_id, old.title, old.content);
  INSERT INTO documents_fts(rowid, owner_id, title, content) VALUES (new.id, new.owner_id, new.title, new.content);
END;
