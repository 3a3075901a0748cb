ALTER TABLE `communities` ADD `deleted_at` integer;--> statement-breakpoint
ALTER TABLE `communities` ADD `deleted_by` text;