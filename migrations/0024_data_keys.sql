CREATE TABLE `data_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`state` text NOT NULL,
	`wrapped_key` text NOT NULL,
	`master_key_id` text NOT NULL,
	`retired_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `data_keys_active_scope_uq` ON `data_keys` (`scope`) WHERE "data_keys"."state" = 'active';--> statement-breakpoint
CREATE INDEX `data_keys_scope_idx` ON `data_keys` (`scope`);--> statement-breakpoint
CREATE INDEX `data_keys_master_key_idx` ON `data_keys` (`master_key_id`);