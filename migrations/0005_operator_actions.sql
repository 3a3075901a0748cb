CREATE TABLE `operator_actions` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`token_fingerprint` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`community_id` text,
	`request_id` text NOT NULL,
	`status` integer
);
--> statement-breakpoint
CREATE INDEX `operator_actions_at_idx` ON `operator_actions` (`at`);--> statement-breakpoint
CREATE INDEX `operator_actions_community_idx` ON `operator_actions` (`community_id`,`at`);