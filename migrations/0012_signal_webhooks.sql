CREATE TABLE `signal_webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`community_id` text NOT NULL,
	`provider_user_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`sealed_secret` text NOT NULL,
	`created_by` text,
	`rotated_at` integer,
	`revoked_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signal_webhooks_key_hash_uq` ON `signal_webhooks` (`key_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `signal_webhooks_active_provider_uq` ON `signal_webhooks` (`community_id`,`provider_user_id`) WHERE "signal_webhooks"."revoked_at" is null;