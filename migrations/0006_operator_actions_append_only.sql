-- The operator action log is append-only: a row is written before the call runs,
-- and its status may be set once, from NULL, when the call has answered. Nothing
-- else about a row can change, and no row can be removed.
CREATE TRIGGER `operator_actions_no_rewrite` BEFORE UPDATE ON `operator_actions`
WHEN OLD.`status` IS NOT NULL
  OR NEW.`id` IS NOT OLD.`id`
  OR NEW.`at` IS NOT OLD.`at`
  OR NEW.`token_fingerprint` IS NOT OLD.`token_fingerprint`
  OR NEW.`method` IS NOT OLD.`method`
  OR NEW.`path` IS NOT OLD.`path`
  OR NEW.`community_id` IS NOT OLD.`community_id`
  OR NEW.`request_id` IS NOT OLD.`request_id`
BEGIN
  SELECT RAISE(ABORT, 'operator_actions is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `operator_actions_no_delete` BEFORE DELETE ON `operator_actions`
BEGIN
  SELECT RAISE(ABORT, 'operator_actions is append-only');
END;
