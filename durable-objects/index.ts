export { CommunityExecutor } from "./community-executor";
export { RateLimiter } from "./rate-limiter";
export { RealtimeHub } from "./realtime-hub";
