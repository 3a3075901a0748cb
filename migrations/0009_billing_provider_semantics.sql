CREATE TABLE `billing_link_claims` (
	`jti` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`claimed_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `billing_link_claims_expires_idx` ON `billing_link_claims` (`expires_at`);--> statement-breakpoint
CREATE TABLE `delivery_failures` (
	`queue` text NOT NULL,
	`body_digest` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`queue`, `body_digest`)
);
--> statement-breakpoint
CREATE INDEX `delivery_failures_updated_idx` ON `delivery_failures` (`updated_at`);--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `cancel_at` integer;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `ended_at` integer;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `outcome` text;