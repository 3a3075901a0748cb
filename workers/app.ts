import { dispatchScheduled } from "./cron";
import { createApp } from "./http/app";
import { dispatchQueue } from "./queues";

export { CommunityExecutor, DiscordGateway, RateLimiter, RealtimeHub } from "../durable-objects";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: dispatchQueue,
  scheduled: dispatchScheduled,
} satisfies ExportedHandler<Env>;
