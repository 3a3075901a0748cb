import * as Sentry from "@sentry/cloudflare";
import { configSchema } from "../../shared/config";
import {
  isSensitiveKey,
  type LogFields,
  onErrorLogged,
  REDACTED,
  redact,
  redactSecretPaths,
} from "../../shared/logging";

/**
 * Error tracking with Sentry's Cloudflare SDK, on only when `SENTRY_DSN` is set: without it the SDK is never
 * entered, so nothing is sent and nothing is wrapped. Every error-level log line is also sent to the tracker, tagged
 * with its request id, community, route, queue, cron and job; thrown errors that escape an entry point or a Durable
 * Object method are captured by the SDK itself. Secrets are scrubbed from every event before it leaves.
 */

/** Log fields that become searchable tags (the rest go along as redacted extra data). */
const TAGGED_FIELDS = ["requestId", "communityId", "route", "queue", "cron", "job", "userId", "alert"] as const;

/** Each env's SENTRY_DSN as validated once (the runtime passes the same env object to every request). */
const dsnByEnv = new WeakMap<object, { dsn: string | undefined }>();

/** A valid SENTRY_DSN of this env, or undefined (unset or malformed: the config gate reports malformed ones). */
function sentryDsnOf(env: object): string | undefined {
  let known = dsnByEnv.get(env);
  if (!known) {
    const parsed = configSchema.shape.SENTRY_DSN.safeParse((env as Record<string, unknown>).SENTRY_DSN || undefined);
    known = { dsn: parsed.success ? parsed.data : undefined };
    dsnByEnv.set(env, known);
  }
  return known.dsn;
}

function trackingOptions(env: unknown): Sentry.CloudflareOptions {
  const vars = (env ?? {}) as Record<string, unknown>;
  const secrets = secretValuesOf(vars);
  return {
    dsn: sentryDsnOf(vars),
    environment: String(vars.ENVIRONMENT ?? "production"),
    // Errors only: no performance tracing, and none of the request's headers, cookies, query or body (the SDK
    // collects them all by default), nor who sent it.
    tracesSampleRate: 0,
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
    // Options come from this invocation's env, so each invocation builds its own client.
    cacheClient: false,
    beforeSend: (event) => scrubEvent(event, secrets),
    beforeBreadcrumb: (breadcrumb) => scrubEvent(breadcrumb, secrets),
  };
}

type Handler = Required<Pick<ExportedHandler<Env>, "fetch" | "queue" | "scheduled">>;

/** The Worker's entry points, tracked when this invocation's env has a DSN. */
export function withErrorTracking<H extends Handler>(handler: H): H {
  const tracked = Sentry.withSentry(trackingOptions, { ...handler }) as Handler;
  return {
    ...handler,
    fetch: (request, env, ctx) => (sentryDsnOf(env) ? tracked : handler).fetch(request, env, ctx),
    queue: (batch, env, ctx) => (sentryDsnOf(env) ? tracked : handler).queue(batch, env, ctx),
    scheduled: (controller, env, ctx) => (sentryDsnOf(env) ? tracked : handler).scheduled(controller, env, ctx),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a Durable Object class takes (ctx, env) and nothing else is known here
type DurableObjectClass = new (ctx: DurableObjectState, env: Env) => any;

/** A Durable Object class whose instances are tracked when their env has a DSN (Sentry's wrapper), plain otherwise. */
export function trackDurableObject<C extends DurableObjectClass>(objectClass: C): C {
  const tracked = Sentry.instrumentDurableObjectWithSentry(trackingOptions, objectClass);
  return new Proxy(objectClass, {
    construct(target, args, newTarget) {
      const [, env] = args as [DurableObjectState, Env];
      return Reflect.construct(sentryDsnOf(env) ? tracked : target, args, newTarget);
    },
  });
}

/** Sends an error-level log event to the tracker of the current invocation (a no-op outside a tracked one). */
function trackLoggedError(msg: string, fields: LogFields): void {
  if (!Sentry.isEnabled()) return;
  Sentry.withScope((scope) => {
    scope.setLevel("error");
    scope.setTag("log", msg);
    for (const key of TAGGED_FIELDS) {
      const value = fields[key];
      if (value !== undefined && value !== null) scope.setTag(key, String(value).slice(0, 200));
    }
    const { error, ...rest } = fields;
    scope.setExtras(redact(rest) as Record<string, unknown>);
    const thrown = asError(error);
    if (thrown) Sentry.captureException(thrown);
    else {
      if (error !== undefined) scope.setExtra("error", redact(error));
      Sentry.captureMessage(msg);
    }
  });
}

/** An Error, or the `{name, message, stack}` a log line carries for one (the HTTP error handler logs that shape). */
function asError(value: unknown): Error | null {
  if (value instanceof Error) return value;
  if (!value || typeof value !== "object") return null;
  const { name, message, stack } = value as Record<string, unknown>;
  if (typeof message !== "string") return null;
  const error = new Error(message);
  if (typeof name === "string") error.name = name;
  if (typeof stack === "string") error.stack = stack;
  return error;
}

onErrorLogged(trackLoggedError);

const MIN_SECRET_LENGTH = 8;

/** The values of every secret-looking variable, so they can be cut out of any text an event carries. */
function secretValuesOf(env: object): string[] {
  return Object.entries(env)
    .filter(([key, value]) => isSensitiveKey(key) && typeof value === "string" && value.length >= MIN_SECRET_LENGTH)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
}

const TEXT_PATTERNS: Array<[RegExp, string]> = [
  [/\b(Bearer|Bot|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // Query parameters that carry credentials.
  [/([?&](?:token|code|key|secret|signature|sig|password|access_token|api_key)=)[^&\s"]+/gi, `$1${REDACTED}`],
];

/** Redacts sensitive keys at every depth, then every secret value and token pattern in any text. */
function scrubEvent<T>(event: T, secrets: readonly string[]): T {
  return scrubValue(event, secrets, 0) as T;
}

function scrubValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (depth > 12) return value;
  if (typeof value === "string") return scrubText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) && typeof inner !== "object" ? REDACTED : scrubValue(inner, secrets, depth + 1);
    }
    return out;
  }
  return value;
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  // Discord interaction tokens and signal webhook keys live in the URL path.
  return redactSecretPaths(out);
}
