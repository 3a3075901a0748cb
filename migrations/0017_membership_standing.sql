ALTER TABLE `communities` ADD `suspended_at` integer;--> statement-breakpoint
ALTER TABLE `communities` ADD `suspended_reason` text;--> statement-breakpoint
ALTER TABLE `communities` ADD `bot_left_at` integer;--> statement-breakpoint
ALTER TABLE `memberships` ADD `discord_role_ids` text;--> statement-breakpoint
ALTER TABLE `memberships` ADD `roles_seen_at` integer;--> statement-breakpoint
ALTER TABLE `memberships` ADD `suspended_at` integer;--> statement-breakpoint
ALTER TABLE `memberships` ADD `suspended_reason` text;--> statement-breakpoint
ALTER TABLE `memberships` ADD `suspended_by` text;