import { generateKeyPairSync, type JsonWebKey, randomBytes } from "node:crypto";
import { loadConfig } from "../../shared/config.ts";

/**
 * Local secrets for `npm start` and the benchmarks (docs/architecture.md §3). Pure: no file
 * or network I/O, only randomness. The caller decides where the values go and
 * must never print them.
 */

/** A fixed, fake snowflake: the local stand-in for the Discord application. */
const LOCAL_DISCORD_APPLICATION_ID = "100000000000000001";

interface DiscordSigningKey {
  /** Hex of the raw 32-byte Ed25519 public key; equals DISCORD_PUBLIC_KEY. */
  publicKeyHex: string;
  /** Hex of the raw 32-byte Ed25519 private key (the seed). */
  privateKeyHex: string;
  /** The same private key as a JWK (`{"kty":"OKP","crv":"Ed25519","x","d"}`), for WebCrypto's importKey. */
  privateKeyJwk: JsonWebKey;
}

/** What `.dev.keys.json` holds: keys whose public half lives in `.dev.vars`. */
interface DevKeys {
  createdAt: string;
  note: string;
  discord: DiscordSigningKey;
}

export interface DevSecrets {
  vars: Record<string, string>;
  keys: DevKeys;
}

export interface DevVarsOptions {
  environment?: "development" | "test";
  publicBaseUrl?: string;
  now?: Date;
}

const randomToken = (bytes: number) => randomBytes(bytes).toString("base64url");
const randomHex = (bytes: number) => randomBytes(bytes).toString("hex");

function generateDiscordSigningKey(): DiscordSigningKey {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string" || typeof jwk.d !== "string") throw new Error("Ed25519 JWK export lacks x or d");
  return {
    publicKeyHex: Buffer.from(jwk.x, "base64url").toString("hex"),
    privateKeyHex: Buffer.from(jwk.d, "base64url").toString("hex"),
    privateKeyJwk: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
  };
}

/** Fresh local vars and secrets, plus the private keys that match them. */
export function generateDevSecrets(options: DevVarsOptions = {}): DevSecrets {
  const now = options.now ?? new Date();
  const discord = generateDiscordSigningKey();
  const vars: Record<string, string> = {
    ENVIRONMENT: options.environment ?? "development",
    PUBLIC_BASE_URL: options.publicBaseUrl ?? "http://localhost:8787",
    DISCORD_APPLICATION_ID: LOCAL_DISCORD_APPLICATION_ID,
    DISCORD_CLIENT_ID: LOCAL_DISCORD_APPLICATION_ID,
    DISCORD_PUBLIC_KEY: discord.publicKeyHex,
    DISCORD_CLIENT_SECRET: `local-${randomToken(24)}`,
    DISCORD_BOT_TOKEN: `local-${randomToken(36)}`,
    SESSION_SECRET: randomToken(48),
    MASTER_KEY: randomBytes(32).toString("base64"),
    MASTER_KEY_ID: `local-${now.toISOString().slice(0, 10).replaceAll("-", "")}`,
    OPS_TOKEN: randomHex(32),
    BILLING_PROVIDER: "stripe",
    STRIPE_SECRET_KEY: `sk_test_local${randomHex(24)}`,
    STRIPE_WEBHOOK_SECRET: `whsec_local${randomHex(24)}`,
    // The embedded default has no market data: paper fills use the seeded walk (production refuses it).
    QUOTE_FEED: "deterministic",
  };
  const keys: DevKeys = {
    createdAt: now.toISOString(),
    note: "Local development keys only. discord.publicKeyHex is DISCORD_PUBLIC_KEY in .dev.vars; sign fake interactions with the private key.",
    discord,
  };
  return { vars, keys };
}

/**
 * What `npm start` writes on a machine without `.dev.vars`: fresh vars for http://localhost:<port>, refused unless
 * the Worker's config accepts them as they are and as if deployed. The smoke test runs this too, so a config rule
 * that a fresh local run cannot meet fails CI, not a newcomer's first `npm start`.
 */
export function freshLocalSecrets(port: number): DevSecrets {
  const secrets = generateDevSecrets({ publicBaseUrl: `http://localhost:${port}` });
  const problems = devVarsProblems(secrets.vars, { complete: true });
  if (problems.length > 0) throw new Error(`generated vars fail shared/config.ts: ${problems.join("; ")}`);
  return secrets;
}

/**
 * Problems (variable names only, never values) that the Worker's own config
 * schema finds in `vars`. The vars are also checked as if in production, so a
 * generated set is complete, not merely well formed.
 */
export function devVarsProblems(vars: Record<string, string>, options: { complete?: boolean } = {}): string[] {
  const problems: string[] = [];
  const asIs = loadConfig(vars);
  if (!asIs.ok) for (const p of asIs.problems) problems.push(`${p.variable}: ${p.problem}`);
  if (options.complete) {
    // Judged as if deployed: the development-only quote feed swapped for the live one, and the local plain-http
    // address for an https one (production requires https; a local run is served over plain http).
    const publicHost = new URL(vars.PUBLIC_BASE_URL ?? "http://localhost").host;
    const asProduction = loadConfig({
      ...vars,
      ENVIRONMENT: "production",
      QUOTE_FEED: "live",
      PUBLIC_BASE_URL: `https://${publicHost}`,
    });
    if (!asProduction.ok) for (const p of asProduction.problems) problems.push(`${p.variable}: ${p.problem}`);
  }
  return [...new Set(problems)];
}

/** Renders vars in the dotenv format wrangler reads (`.dev.vars`, `--env-file`). */
export function formatDevVars(vars: Record<string, string>, header: string[] = []): string {
  const lines = header.map((line) => `# ${line}`);
  for (const [key, value] of Object.entries(vars)) {
    if (!/^[A-Za-z0-9_+/=.:-]*$/.test(value)) throw new Error(`${key} holds characters that need quoting`);
    lines.push(`${key}=${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Minimal dotenv reader for the files this module writes (KEY=value, # comments). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (!match?.[1]) continue;
    let value = (match[2] ?? "").trim();
    const quoted = /^(["'`])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? "";
    else value = value.replace(/\s+#.*$/, "");
    vars[match[1]] = value;
  }
  return vars;
}
