CREATE TABLE `auth_events` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`event` text NOT NULL,
	`user_id` text,
	`session_id` text,
	`method` text,
	`reason` text,
	`ip` text,
	`user_agent` text,
	`country` text,
	`device` text,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `auth_events_user_idx` ON `auth_events` (`user_id`,`at`);--> statement-breakpoint
CREATE INDEX `auth_events_at_idx` ON `auth_events` (`at`);--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`id` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`browser_hash` text NOT NULL,
	`return_to` text NOT NULL,
	`user_id` text,
	`community_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `oauth_states_expires_idx` ON `oauth_states` (`expires_at`);--> statement-breakpoint
CREATE TABLE `one_time_links` (
	`id` text PRIMARY KEY NOT NULL,
	`purpose` text NOT NULL,
	`user_id` text NOT NULL,
	`community_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `one_time_links_expires_idx` ON `one_time_links` (`expires_at`);--> statement-breakpoint
CREATE TABLE `user_guilds` (
	`user_id` text NOT NULL,
	`guild_id` text NOT NULL,
	`refreshed_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `guild_id`)
);
