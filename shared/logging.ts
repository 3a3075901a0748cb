/**
 * Structured logging: one JSON object per line, so `wrangler tail --format json`
 * can be filtered with jq. Secrets are redacted by key name before serialising.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogFields {
  requestId?: string;
  communityId?: string;
  userId?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  [key: string]: unknown;
}

export type LogSink = (line: string, level: LogLevel) => void;

const SENSITIVE_KEY =
  /(token|secret|authorization|password|passphrase|signature|cookie|api[-_]?key|private[-_]?key|master[-_]?key|credential)/i;
const SENSITIVE_EXACT_KEY = /^(code|otp|totp|pin)$/i;
export const REDACTED = "[redacted]";

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key) || SENSITIVE_EXACT_KEY.test(key);
}

/** URL paths that carry a credential: Discord's interaction webhook tokens and signal webhook keys. */
const SECRET_PATH_SEGMENTS: readonly RegExp[] = [
  /(\/webhooks\/\d+\/)[A-Za-z0-9._-]+/g,
  /(\/webhooks\/signals\/)[^/?#\s"]+/g,
];

/** `text` with every credential that sits in a URL path replaced (for access logs and error reports). */
export function redactSecretPaths(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATH_SEGMENTS) out = out.replace(pattern, `$1${REDACTED}`);
  return out;
}

/**
 * Deep copy with every sensitive key's value replaced. Errors become {name,
 * message}. `scrubText`, when given, also rewrites every string (credentials
 * inside text, such as a signed link's query).
 */
export function redact(value: unknown, depth = 0, scrubText?: (text: string) => string): unknown {
  if (depth > 8) return "[depth]";
  if (typeof value === "string") return scrubText ? scrubText(value) : value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1, scrubText) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, scrubText));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) ? REDACTED : redact(inner, depth + 1, scrubText);
    }
    return out;
  }
  return value;
}

const defaultSink: LogSink = (line, level) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

export class Logger {
  constructor(
    private readonly fields: LogFields = {},
    private readonly sink: LogSink = defaultSink,
  ) {}

  child(fields: LogFields): Logger {
    return new Logger({ ...this.fields, ...fields }, this.sink);
  }

  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    const entry = redact({ level, msg, time: new Date().toISOString(), ...this.fields, ...fields });
    this.sink(JSON.stringify(entry), level);
    if (level === "error" && errorListeners.size > 0) notifyErrorListeners(msg, { ...this.fields, ...fields });
  }
}

export const rootLogger = new Logger();

/**
 * Receives every error-level event with its raw fields (before redaction, so an Error keeps its stack): the error
 * tracker listens here, so whatever is logged as an error is also tracked. A listener redacts what it sends.
 */
export type ErrorListener = (msg: string, fields: LogFields) => void;

const errorListeners = new Set<ErrorListener>();

export function onErrorLogged(listener: ErrorListener): void {
  errorListeners.add(listener);
}

function notifyErrorListeners(msg: string, fields: LogFields): void {
  for (const listener of errorListeners) {
    try {
      listener(msg, fields);
    } catch {
      // Tracking must never break logging, nor the work that logs.
    }
  }
}
