declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** The fake Discord auxiliary worker (vitest.config.ts): GET /gateway/bot and the Gateway WebSocket. */
    FAKE_DISCORD: Service<typeof import("./fake-discord/worker").default>;
  }
}
