CREATE TABLE `notification_deliveries` (
	`key` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`sent_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `notification_deliveries_sent_idx` ON `notification_deliveries` (`sent_at`);