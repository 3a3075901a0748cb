CREATE TABLE `realtime_hub_stats` (
	`community_id` text PRIMARY KEY NOT NULL,
	`connections` integer NOT NULL,
	`stats` text NOT NULL,
	`reported_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `realtime_hub_stats_reported_idx` ON `realtime_hub_stats` (`reported_at`);--> statement-breakpoint
ALTER TABLE `sessions` ADD `last_seen_at` integer;--> statement-breakpoint
ALTER TABLE `sessions` ADD `ip` text;