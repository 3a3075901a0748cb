export { CommunityExecutor } from "./community-executor";
export { DiscordGateway } from "./discord-gateway";
export { RateLimiter } from "./rate-limiter";
export { RealtimeHub } from "./realtime-hub";
