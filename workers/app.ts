import * as objects from "../durable-objects";
import { dispatchScheduled } from "./cron";
import { createApp } from "./http/app";
import { trackDurableObject, withErrorTracking } from "./observability/error-tracking";
import { dispatchQueue } from "./queues";

// Each Durable Object class under its own name (wrangler.toml's class_name), tracked when SENTRY_DSN is set.
export const CommunityExecutor = trackDurableObject(objects.CommunityExecutor);
export type CommunityExecutor = objects.CommunityExecutor;
export const RealtimeHub = trackDurableObject(objects.RealtimeHub);
export type RealtimeHub = objects.RealtimeHub;
export const RateLimiter = trackDurableObject(objects.RateLimiter);
export type RateLimiter = objects.RateLimiter;
export const DiscordGateway = trackDurableObject(objects.DiscordGateway);
export type DiscordGateway = objects.DiscordGateway;

const app = createApp();

export default withErrorTracking({
  fetch: app.fetch,
  queue: dispatchQueue,
  scheduled: dispatchScheduled,
}) satisfies ExportedHandler<Env>;
