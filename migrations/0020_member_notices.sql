CREATE TABLE `member_notices` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`community_id` text,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`read_at` integer,
	`delivery_status` text DEFAULT 'pending' NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `member_notices_key_unique` ON `member_notices` (`key`);--> statement-breakpoint
CREATE INDEX `member_notices_user_idx` ON `member_notices` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `member_notices_created_idx` ON `member_notices` (`created_at`);--> statement-breakpoint
CREATE TABLE `notification_preferences` (
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`dm` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `kind`)
);
