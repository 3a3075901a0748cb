CREATE TABLE `interaction_receipts` (
	`id` text PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `interaction_receipts_received_idx` ON `interaction_receipts` (`received_at`);