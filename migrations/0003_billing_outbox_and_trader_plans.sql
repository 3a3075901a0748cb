CREATE TABLE `trader_plans` (
	`user_id` text PRIMARY KEY NOT NULL,
	`plan` text DEFAULT 'free' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `payload` text;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `enqueued_at` integer;--> statement-breakpoint
CREATE INDEX `webhook_events_outbox_idx` ON `webhook_events` (`enqueued_at`,`received_at`);