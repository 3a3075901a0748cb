import { z } from "zod";
import { PlanOverridesSchema, ProviderPriceIdsSchema } from "./billing/plans";

/**
 * One schema for every var and secret (docs/architecture.md §3). `loadConfig` is the only
 * reader of raw env strings; everything else receives the parsed `AppConfig`.
 */

const httpUrl = z.url({ protocol: /^https?$/ });
const url = (fallback: string) => httpUrl.default(fallback);
const optionalSecret = z.string().min(1).optional();
/** `https://<public key>@<host>/<project id>`, as Sentry shows it in a project's Client Keys. */
const sentryDsn = z.url({ protocol: /^https?$/ }).refine((value) => {
  // zod runs refinements after a failed check too: only a parsable URL can be a DSN.
  const dsn = URL.canParse(value) ? new URL(value) : null;
  return dsn !== null && dsn.username !== "" && /\/\d+$/.test(dsn.pathname);
}, "must be a Sentry DSN: https://<public key>@<host>/<project id>");
const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters (an Ed25519 public key)");
const base64Key32 = z
  .string()
  .refine((value) => decodedLength(value) === 32, "must be the base64 encoding of exactly 32 bytes");
const retiredKeys = z
  .string()
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON object mapping key ids to base64 keys" });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1), base64Key32));
const OPS_TOKEN_RULE = "must be one or more tokens of at least 32 characters, separated by commas";
const opsTokens = z
  .string()
  .transform((raw) => raw.split(",").map((token) => token.trim()))
  .pipe(z.array(z.string().min(32, OPS_TOKEN_RULE)).min(1, OPS_TOKEN_RULE).max(5, "lists at most 5 tokens"));
/** A var holding JSON (wrangler vars must be strings for the config gate to read them). */
const jsonVar = <T extends z.ZodType>(schema: T, what: string) =>
  z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: `must be JSON: ${what}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

export const ENVIRONMENTS = ["development", "test", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const configSchema = z.object({
  ENVIRONMENT: z.enum(ENVIRONMENTS),
  PUBLIC_BASE_URL: httpUrl.optional(),

  DISCORD_APPLICATION_ID: z
    .string()
    .regex(/^\d{17,20}$/, "must be a Discord snowflake")
    .optional(),
  DISCORD_PUBLIC_KEY: hex64.optional(),
  DISCORD_BOT_TOKEN: optionalSecret,
  DISCORD_CLIENT_ID: z
    .string()
    .regex(/^\d{17,20}$/, "must be a Discord snowflake")
    .optional(),
  DISCORD_CLIENT_SECRET: optionalSecret,

  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  MASTER_KEY: base64Key32.optional(),
  MASTER_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a short key id")
    .optional(),
  MASTER_KEYS_RETIRED: retiredKeys.optional(),
  /** One token, or several separated by commas while operators rotate (every listed token is accepted). */
  OPS_TOKEN: opsTokens.optional(),

  BILLING_PROVIDER: z.enum(["stripe", "polar"]).default("stripe"),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, "must be a Stripe secret key")
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+$/, "must start with whsec_")
    .optional(),
  POLAR_ACCESS_TOKEN: optionalSecret,
  POLAR_WEBHOOK_SECRET: optionalSecret,
  /** Stripe price ids by plan: {"community.professional.month":"price_…","trader.basic.month":"price_…"}. */
  STRIPE_PRICE_IDS: jsonVar(ProviderPriceIdsSchema, "plan keys to Stripe price ids").optional(),
  /** Polar product ids by plan (a Polar product is one plan at one interval), keyed like STRIPE_PRICE_IDS. */
  POLAR_PRODUCT_IDS: jsonVar(ProviderPriceIdsSchema, "plan keys to Polar product ids").optional(),
  /** Names, prices and limits that differ from the default plan table (shared/billing/plans.ts). */
  BILLING_PLAN_OVERRIDES: jsonVar(PlanOverridesSchema, "plan overrides").optional(),

  ALPACA_CLIENT_ID: optionalSecret,
  ALPACA_CLIENT_SECRET: optionalSecret,
  SCHWAB_CLIENT_ID: optionalSecret,
  SCHWAB_CLIENT_SECRET: optionalSecret,
  ETRADE_CONSUMER_KEY: optionalSecret,
  ETRADE_CONSUMER_SECRET: optionalSecret,
  IBKR_CLIENT_ID: optionalSecret,
  IBKR_CLIENT_SECRET: optionalSecret,
  COINBASE_CLIENT_ID: optionalSecret,
  COINBASE_CLIENT_SECRET: optionalSecret,
  BINANCE_API_KEY: optionalSecret,
  BINANCE_API_SECRET: optionalSecret,
  QUOTES_CRYPTO_API_KEY: optionalSecret,
  QUOTES_EQUITY_API_KEY: optionalSecret,
  QUOTES_EQUITY_API_SECRET: optionalSecret,

  DISCORD_API_BASE: url("https://discord.com/api/v10"),
  DISCORD_OAUTH_AUTHORIZE_URL: url("https://discord.com/oauth2/authorize"),
  ALPACA_API_BASE: url("https://api.alpaca.markets"),
  ALPACA_PAPER_API_BASE: url("https://paper-api.alpaca.markets"),
  ALPACA_OAUTH_BASE: url("https://app.alpaca.markets/oauth"),
  SCHWAB_API_BASE: url("https://api.schwabapi.com"),
  ETRADE_API_BASE: url("https://api.etrade.com"),
  IBKR_API_BASE: url("https://api.ibkr.com/v1/api"),
  COINBASE_API_BASE: url("https://api.coinbase.com"),
  BINANCE_API_BASE: url("https://api.binance.com"),
  STRIPE_API_BASE: url("https://api.stripe.com"),
  POLAR_API_BASE: url("https://api.polar.sh"),
  QUOTES_CRYPTO_API_BASE: url("https://api.exchange.coinbase.com"),
  QUOTES_EQUITY_API_BASE: url("https://data.alpaca.markets"),
  /** `deterministic`: a simulated price walk for development and tests only; production refuses it. */
  QUOTE_FEED: z.enum(["live", "deterministic"]).default("live"),
  /** Error tracking (Sentry); nothing is sent without it. */
  SENTRY_DSN: sentryDsn.optional(),
  /** The Discord Gateway watcher (DiscordGateway objects, kept running by the 5-minute cron); needs DISCORD_BOT_TOKEN. */
  GATEWAY_ENABLED: z
    .enum(["true", "false"], { message: 'must be "true" or "false"' })
    .default("false")
    .transform((value) => value === "true"),
});

export type AppConfig = z.infer<typeof configSchema>;
export type ConfigKey = keyof AppConfig;

/** Secrets production cannot run without, whatever the billing provider. */
const PRODUCTION_REQUIRED: readonly ConfigKey[] = [
  "PUBLIC_BASE_URL",
  "DISCORD_APPLICATION_ID",
  "DISCORD_PUBLIC_KEY",
  "DISCORD_BOT_TOKEN",
  "DISCORD_CLIENT_ID",
  "DISCORD_CLIENT_SECRET",
  "SESSION_SECRET",
  "MASTER_KEY",
  "MASTER_KEY_ID",
  "OPS_TOKEN",
];

const BILLING_REQUIRED: Record<AppConfig["BILLING_PROVIDER"], readonly ConfigKey[]> = {
  stripe: ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
  polar: ["POLAR_ACCESS_TOKEN", "POLAR_WEBHOOK_SECRET"],
};

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; problems: ConfigProblem[] };

const KNOWN_KEYS = new Set(Object.keys(configSchema.shape));

/** Every URL var: in production each one must be https (PUBLIC_BASE_URL and the outbound bases). */
const URL_KEYS = Object.keys(configSchema.shape).filter(
  (key) => key.endsWith("_URL") || key.endsWith("_BASE") || key === "SENTRY_DSN",
);

/**
 * Parses the raw env and reports every problem at once: malformed values,
 * then (in production) missing required secrets and URLs that are not https.
 * Problems name variables and never quote their values. Outside production,
 * missing secrets are allowed (features that need them answer 503 when used),
 * but a secret that is present must be well formed.
 */
export function loadConfig(rawEnv: Record<string, unknown>): ConfigResult {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rawEnv)) {
    if (!KNOWN_KEYS.has(key) || typeof value !== "string") continue;
    if (value.trim() === "") continue; // an empty var is a missing var
    input[key] = value;
  }

  const parsed = configSchema.safeParse(input);
  const problems: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "(env)"),
        problem: issue.code === "invalid_type" && issue.input === undefined ? "missing" : issue.message,
      }));

  if (input.ENVIRONMENT === "production") {
    const provider = input.BILLING_PROVIDER === "polar" ? "polar" : "stripe";
    const required = [...PRODUCTION_REQUIRED, ...BILLING_REQUIRED[provider]];
    for (const variable of required) {
      if (input[variable] === undefined) problems.push({ variable, problem: "missing" });
    }
    for (const variable of URL_KEYS) {
      const value = input[variable];
      if (typeof value === "string" && /^https?:/i.test(value) && !/^https:/i.test(value)) {
        problems.push({ variable, problem: "must be an https: URL in production" });
      }
    }
    if (input.QUOTE_FEED === "deterministic") {
      problems.push({ variable: "QUOTE_FEED", problem: "the deterministic feed is for development and tests only" });
    }
  }
  if (input.GATEWAY_ENABLED === "true" && input.DISCORD_BOT_TOKEN === undefined) {
    problems.push({ variable: "DISCORD_BOT_TOKEN", problem: "required when GATEWAY_ENABLED is true" });
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: dedupeByVariable(problems) };
  return { ok: true, config: parsed.data };
}

const cache = new WeakMap<object, ConfigResult>();

/** `loadConfig`, memoized per env object (one parse per isolate in practice). */
export function configFor(rawEnv: object): ConfigResult {
  let result = cache.get(rawEnv);
  if (!result) {
    result = loadConfig(rawEnv as Record<string, unknown>);
    cache.set(rawEnv, result);
  }
  return result;
}

function dedupeByVariable(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Map<string, ConfigProblem>();
  for (const problem of problems) if (!seen.has(problem.variable)) seen.set(problem.variable, problem);
  return [...seen.values()];
}

function decodedLength(value: string): number {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return -1;
  try {
    return atob(value).length;
  } catch {
    return -1;
  }
}
