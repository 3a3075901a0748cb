/** Polar product ids are UUIDs (its OpenAPI `Product.id` is `uuid4`); one product per plan and interval. */
export const POLAR_PRODUCTS = {
  "community.professional.month": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d01",
  "community.professional.year": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d02",
  "community.enterprise.month": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d03",
  "community.enterprise.year": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d04",
  "trader.basic.month": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d05",
  "trader.pro.month": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d06",
  "trader.premium.month": "5e0c1a27-7d3b-4c59-9a57-0a1c2b3c4d07",
} as const;

/**
 * Vars and secrets the test Worker runs with (vitest.config.ts binds them).
 * Test-only values: none of them protects anything real.
 */
export const TEST_VARS = {
  ENVIRONMENT: "test",
  PUBLIC_BASE_URL: "http://localhost:8787",
  DISCORD_PUBLIC_KEY: "becc5e23a3292502ba10d43bd76dee5c198d3c5ab9d45725f15eeaeb453999eb",
  DISCORD_APPLICATION_ID: "100000000000000001",
  DISCORD_CLIENT_ID: "100000000000000001",
  DISCORD_CLIENT_SECRET: "test-discord-client-secret",
  DISCORD_BOT_TOKEN: "test-discord-bot-token",
  SESSION_SECRET: "test-session-secret-test-session-secret-0123",
  MASTER_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  MASTER_KEY_ID: "test-1",
  OPS_TOKEN: "test-ops-token-0123456789abcdef0123456789",
  BILLING_PROVIDER: "stripe",
  STRIPE_SECRET_KEY: "sk_test_0000000000000000000000",
  STRIPE_WEBHOOK_SECRET: "whsec_test0000000000000000000000",
  STRIPE_PRICE_IDS: JSON.stringify({
    "community.professional.month": "price_test_pro_month",
    "community.professional.year": "price_test_pro_year",
    "community.enterprise.month": "price_test_ent_month",
    "community.enterprise.year": "price_test_ent_year",
    "trader.basic.month": "price_test_basic_month",
    "trader.pro.month": "price_test_traderpro_month",
    "trader.premium.month": "price_test_premium_month",
  }),
  POLAR_PRODUCT_IDS: JSON.stringify(POLAR_PRODUCTS),
  /** Prices in tests come from the seeded walk (production refuses it). */
  QUOTE_FEED: "deterministic",
} as const;

/** The Ed25519 private key (hex seed) matching DISCORD_PUBLIC_KEY, so tests sign interactions as Discord does. */
export const TEST_DISCORD_PRIVATE_KEY_HEX = "7a6357116128b41969966c980188b98b85f3f86aedf6965c7b3a13bd64b1c54c";
