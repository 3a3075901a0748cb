CREATE TABLE `billing_customers` (
	`id` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`provider_customer_id` text NOT NULL,
	`subject` text NOT NULL,
	`community_id` text,
	`user_id` text,
	`email` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_customers_provider_uq` ON `billing_customers` (`provider`,`provider_customer_id`);--> statement-breakpoint
CREATE INDEX `billing_customers_subject_idx` ON `billing_customers` (`subject`,`community_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `broker_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`community_id` text NOT NULL,
	`user_id` text NOT NULL,
	`broker` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`status_reason` text,
	`account_id` text,
	`is_paper` integer DEFAULT false NOT NULL,
	`credentials` text,
	`key_version` integer,
	`expires_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `broker_connections_user_idx` ON `broker_connections` (`community_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `fills` (
	`id` text PRIMARY KEY NOT NULL,
	`community_id` text NOT NULL,
	`order_id` text NOT NULL,
	`user_id` text NOT NULL,
	`execution_id` text NOT NULL,
	`quantity` real NOT NULL,
	`price` real NOT NULL,
	`quote_source` text,
	`quote_timestamp` integer,
	`delayed` integer DEFAULT false NOT NULL,
	`filled_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fills_order_execution_uq` ON `fills` (`order_id`,`execution_id`);--> statement-breakpoint
CREATE INDEX `fills_community_user_idx` ON `fills` (`community_id`,`user_id`,`filled_at`);--> statement-breakpoint
CREATE TABLE `follows` (
	`community_id` text NOT NULL,
	`follower_user_id` text NOT NULL,
	`provider_user_id` text NOT NULL,
	`sizing_mode` text,
	`amount` real,
	`mode` text DEFAULT 'auto' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`community_id`, `follower_user_id`, `provider_user_id`)
);
--> statement-breakpoint
CREATE INDEX `follows_provider_idx` ON `follows` (`community_id`,`provider_user_id`,`enabled`);--> statement-breakpoint
CREATE TABLE `order_events` (
	`id` text PRIMARY KEY NOT NULL,
	`community_id` text NOT NULL,
	`order_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`cause` text NOT NULL,
	`data` text DEFAULT '{}' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `order_events_order_idx` ON `order_events` (`community_id`,`order_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`community_id` text NOT NULL,
	`signal_id` text,
	`user_id` text NOT NULL,
	`account_ref` text NOT NULL,
	`broker` text NOT NULL,
	`client_order_id` text NOT NULL,
	`broker_order_id` text,
	`leg` text DEFAULT 'entry' NOT NULL,
	`parent_order_id` text,
	`symbol` text NOT NULL,
	`asset_class` text NOT NULL,
	`intent` text NOT NULL,
	`side` text NOT NULL,
	`order_type` text NOT NULL,
	`quantity` real NOT NULL,
	`limit_price` real,
	`stop_price` real,
	`status` text DEFAULT 'queued' NOT NULL,
	`status_reason` text,
	`filled_quantity` real DEFAULT 0 NOT NULL,
	`average_fill_price` real,
	`attempts` integer DEFAULT 0 NOT NULL,
	`submitted_at` integer,
	`next_check_at` integer,
	`stale_flagged_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_client_order_id_unique` ON `orders` (`client_order_id`);--> statement-breakpoint
CREATE INDEX `orders_community_status_idx` ON `orders` (`community_id`,`status`);--> statement-breakpoint
CREATE INDEX `orders_community_user_idx` ON `orders` (`community_id`,`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `orders_signal_idx` ON `orders` (`community_id`,`signal_id`);--> statement-breakpoint
CREATE INDEX `orders_open_idx` ON `orders` (`status`,`next_check_at`);--> statement-breakpoint
CREATE TABLE `positions` (
	`community_id` text NOT NULL,
	`user_id` text NOT NULL,
	`account_ref` text NOT NULL,
	`symbol` text NOT NULL,
	`asset_class` text NOT NULL,
	`quantity` real NOT NULL,
	`average_price` real NOT NULL,
	`realized_pnl` real DEFAULT 0 NOT NULL,
	`unrealized_pnl` real,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`community_id`, `user_id`, `account_ref`, `symbol`)
);
--> statement-breakpoint
CREATE TABLE `reconciliation_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`checked` integer DEFAULT 0 NOT NULL,
	`updated` integer DEFAULT 0 NOT NULL,
	`stale` integer DEFAULT 0 NOT NULL,
	`adopted` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`details` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reconciliation_runs_started_idx` ON `reconciliation_runs` (`started_at`);--> statement-breakpoint
CREATE TABLE `risk_profiles` (
	`community_id` text NOT NULL,
	`user_id` text NOT NULL,
	`trading_mode` text DEFAULT 'paper' NOT NULL,
	`settings` text DEFAULT '{}' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`community_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `signal_providers` (
	`community_id` text NOT NULL,
	`user_id` text NOT NULL,
	`added_by` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`community_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `signals` (
	`id` text PRIMARY KEY NOT NULL,
	`community_id` text NOT NULL,
	`provider_user_id` text NOT NULL,
	`source` text NOT NULL,
	`source_id` text NOT NULL,
	`source_timestamp` integer NOT NULL,
	`channel_id` text,
	`raw_text` text,
	`normalized` text NOT NULL,
	`status` text DEFAULT 'received' NOT NULL,
	`status_reason` text,
	`summary` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signals_community_source_uq` ON `signals` (`community_id`,`source_id`);--> statement-breakpoint
CREATE INDEX `signals_community_created_idx` ON `signals` (`community_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`provider_subscription_id` text NOT NULL,
	`subject` text NOT NULL,
	`community_id` text,
	`user_id` text,
	`customer_id` text NOT NULL,
	`plan` text NOT NULL,
	`interval` text,
	`status` text NOT NULL,
	`current_period_end` integer,
	`cancel_at_period_end` integer DEFAULT false NOT NULL,
	`trial_end` integer,
	`past_due_since` integer,
	`pending_plan` text,
	`last_event_at` integer NOT NULL,
	`notices` text DEFAULT '{}' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscriptions_provider_uq` ON `subscriptions` (`provider`,`provider_subscription_id`);--> statement-breakpoint
CREATE INDEX `subscriptions_subject_idx` ON `subscriptions` (`subject`,`community_id`,`user_id`);