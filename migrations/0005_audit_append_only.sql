-- audit_log is append-only (src/audit/chain.ts). The application inserts entries with hash NULL;
-- the AuditChain object then sets prev_hash and hash exactly once. Nothing else may change or
-- remove an entry, except retention, which first records a checkpoint covering what it removes.
-- These triggers stop bugs and ordinary SQL from rewriting history; someone who can drop them can
-- still tamper, which the hash chain and the anchor kept outside D1 then reveal.
CREATE TRIGGER `audit_log_append_only_update` BEFORE UPDATE ON `audit_log`
WHEN OLD.hash IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at
  OR NEW.actor_user_id IS NOT OLD.actor_user_id OR NEW.actor_api_key_id IS NOT OLD.actor_api_key_id
  OR NEW.action IS NOT OLD.action OR NEW.outcome IS NOT OLD.outcome
  OR NEW.target_type IS NOT OLD.target_type OR NEW.target_id IS NOT OLD.target_id
  OR NEW.request_id IS NOT OLD.request_id OR NEW.ip IS NOT OLD.ip
  OR NEW.user_agent IS NOT OLD.user_agent OR NEW.details IS NOT OLD.details
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: only an unsealed entry may be sealed');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_log_append_only_delete` BEFORE DELETE ON `audit_log`
WHEN NOT EXISTS (SELECT 1 FROM `audit_checkpoints` WHERE `upto_id` >= OLD.id)
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries are removed only behind a retention checkpoint');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_checkpoints_append_only_update` BEFORE UPDATE ON `audit_checkpoints`
BEGIN
  SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_checkpoints_append_only_delete` BEFORE DELETE ON `audit_checkpoints`
BEGIN
  SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
