CREATE TABLE `trader_plan_grants` (
	`user_id` text PRIMARY KEY NOT NULL,
	`plan` text NOT NULL,
	`until` integer NOT NULL,
	`reason` text NOT NULL,
	`granted_by` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `trader_plan_grants_until_idx` ON `trader_plan_grants` (`until`);--> statement-breakpoint
ALTER TABLE `operator_actions` ADD `reason` text;--> statement-breakpoint
-- The operator action log stays append-only with its new column: a reason may be set once, from NULL, while the
-- call has not answered; after the answer nothing changes.
DROP TRIGGER `operator_actions_no_rewrite`;--> statement-breakpoint
CREATE TRIGGER `operator_actions_no_rewrite` BEFORE UPDATE ON `operator_actions`
WHEN OLD.`status` IS NOT NULL
  OR NEW.`id` IS NOT OLD.`id`
  OR NEW.`at` IS NOT OLD.`at`
  OR NEW.`token_fingerprint` IS NOT OLD.`token_fingerprint`
  OR NEW.`method` IS NOT OLD.`method`
  OR NEW.`path` IS NOT OLD.`path`
  OR NEW.`community_id` IS NOT OLD.`community_id`
  OR NEW.`request_id` IS NOT OLD.`request_id`
  OR (OLD.`reason` IS NOT NULL AND NEW.`reason` IS NOT OLD.`reason`)
BEGIN
  SELECT RAISE(ABORT, 'operator_actions is append-only');
END;
