/**
 * Values the fake Discord and the tests share. The worker's module exports
 * only its entrypoint and Durable Object class (workerd refuses anything else),
 * so shared constants live here and the bundle inlines them.
 */

/** The bot user READY reports: messages by this user are the watcher's own. */
export const FAKE_BOT_USER_ID = "900000000000000001";
