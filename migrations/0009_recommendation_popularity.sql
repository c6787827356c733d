-- Live popularity per (owner, item), kept exact by triggers on rec_interactions, so a
-- recommendation reads the top items through an index instead of grouping every interaction
-- (src/recommendations/store.ts). Triggers run inside the statement that changes
-- rec_interactions, hence in the same D1 transaction: the totals can never disagree with the rows.
-- An insert skipped by ON CONFLICT DO NOTHING (a retried event_id) fires no trigger. A cascade
-- delete (an account removed) fires the DELETE trigger for each of its rows. An item whose last
-- interaction goes loses its row, so no floating-point residue of a sum outlives its terms.
CREATE TABLE `rec_item_popularity` (
	`owner_id` integer NOT NULL,
	`item_key` text NOT NULL,
	`total` real DEFAULT 0 NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`owner_id`, `item_key`),
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `rec_item_popularity_rank_idx` ON `rec_item_popularity` (`owner_id`,"total" desc,`item_key`);--> statement-breakpoint
CREATE INDEX `rec_items_updated_idx` ON `rec_items` (`owner_id`,`updated_at`);--> statement-breakpoint
CREATE TRIGGER `rec_item_popularity_after_insert` AFTER INSERT ON `rec_interactions`
BEGIN
  INSERT INTO `rec_item_popularity` (`owner_id`, `item_key`, `total`, `count`) VALUES (NEW.`owner_id`, NEW.`item_key`, NEW.`weight`, 1)
  ON CONFLICT (`owner_id`, `item_key`) DO UPDATE SET `total` = `total` + excluded.`total`, `count` = `count` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `rec_item_popularity_after_delete` AFTER DELETE ON `rec_interactions`
BEGIN
  UPDATE `rec_item_popularity` SET `total` = `total` - OLD.`weight`, `count` = `count` - 1
  WHERE `owner_id` = OLD.`owner_id` AND `item_key` = OLD.`item_key`;
  DELETE FROM `rec_item_popularity` WHERE `owner_id` = OLD.`owner_id` AND `item_key` = OLD.`item_key` AND `count` <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER `rec_item_popularity_after_update` AFTER UPDATE OF `owner_id`, `item_key`, `weight` ON `rec_interactions`
BEGIN
  UPDATE `rec_item_popularity` SET `total` = `total` - OLD.`weight`, `count` = `count` - 1
  WHERE `owner_id` = OLD.`owner_id` AND `item_key` = OLD.`item_key`;
  DELETE FROM `rec_item_popularity` WHERE `owner_id` = OLD.`owner_id` AND `item_key` = OLD.`item_key` AND `count` <= 0;
  INSERT INTO `rec_item_popularity` (`owner_id`, `item_key`, `total`, `count`) VALUES (NEW.`owner_id`, NEW.`item_key`, NEW.`weight`, 1)
  ON CONFLICT (`owner_id`, `item_key`) DO UPDATE SET `total` = `total` + excluded.`total`, `count` = `count` + 1;
END;
--> statement-breakpoint
-- Backfill from the interactions stored before this migration (the triggers count later ones).
INSERT INTO `rec_item_popularity` (`owner_id`, `item_key`, `total`, `count`)
SELECT `owner_id`, `item_key`, sum(`weight`), count(*) FROM `rec_interactions` GROUP BY `owner_id`, `item_key`;
