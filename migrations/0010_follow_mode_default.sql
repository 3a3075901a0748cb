PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_follows` (
	`community_id` text NOT NULL,
	`follower_user_id` text NOT NULL,
	`provider_user_id` text NOT NULL,
	`sizing_mode` text,
	`amount` real,
	`mode` text,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`community_id`, `follower_user_id`, `provider_user_id`)
);
--> statement-breakpoint
INSERT INTO `__new_follows`("community_id", "follower_user_id", "provider_user_id", "sizing_mode", "amount", "mode", "enabled", "created_at", "updated_at") SELECT "community_id", "follower_user_id", "provider_user_id", "sizing_mode", "amount", "mode", "enabled", "created_at", "updated_at" FROM `follows`;--> statement-breakpoint
DROP TABLE `follows`;--> statement-breakpoint
ALTER TABLE `__new_follows` RENAME TO `follows`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `follows_provider_idx` ON `follows` (`community_id`,`provider_user_id`,`enabled`);