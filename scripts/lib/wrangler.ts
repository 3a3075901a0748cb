import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Running wrangler from Node scripts. Wrangler 4 needs Node 22: the repo brings
 * it as the `node` devDependency, and npm scripts run it. Spawning
 * node_modules/.bin/wrangler would pick the system Node from its shebang, so we
 * run wrangler's bin JS with a Node >= 22 binary instead.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Keeps wrangler off the network: no metrics, no Request.cf fetch. */
export const OFFLINE_ENV: Readonly<Record<string, string>> = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

const majorOf = (version: string) => Number.parseInt(version.replace(/^v/, "").split(".")[0] ?? "0", 10);

/** A Node >= 22 binary: this process's own if new enough, else the repo's `node` devDependency. */
function node22(): string {
  if (majorOf(process.versions.node) >= 22) return process.execPath;
  const bundled = join(REPO_ROOT, "node_modules", "node", "bin", "node");
  if (existsSync(bundled)) return bundled;
  throw new Error(
    `wrangler needs Node >= 22 and this is Node ${process.versions.node}; run through npm (npm start) after npm install, which brings Node 22.`,
  );
}

/** Absolute path of wrangler's bin script. */
function wranglerBin(): string {
  const pkgPath = join(REPO_ROOT, "node_modules", "wrangler", "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { bin: Record<string, string> };
  const bin = pkg.bin.wrangler;
  if (!bin) throw new Error("wrangler's package.json names no `wrangler` bin");
  return join(dirname(pkgPath), bin);
}

export interface WranglerOptions {
  env?: Record<string, string | undefined>;
  /** Where wrangler's output goes: inherited (default), or collected and returned. */
  capture?: boolean;
}

export interface WranglerResult {
  code: number;
  output: string;
}

/** Spawns `wrangler <args>` (long-running commands such as `dev`). */
export function spawnWrangler(args: string[], options: SpawnOptions & { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(node22(), [wranglerBin(), ...args], {
    cwd: REPO_ROOT,
    ...options,
    env: { ...process.env, ...OFFLINE_ENV, ...options.env },
  });
}

/** Runs a one-shot, non-interactive wrangler command (CI=true skips confirmation prompts). */
function runWrangler(args: string[], options: WranglerOptions = {}): Promise<WranglerResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnWrangler(args, {
      env: { CI: "true", ...options.env } as NodeJS.ProcessEnv,
      stdio: options.capture ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** Like runWrangler, but throws (with the captured output) unless the command succeeds. */
export async function runWranglerOrThrow(args: string[], options: WranglerOptions = {}): Promise<WranglerResult> {
  const result = await runWrangler(args, options);
  if (result.code !== 0) {
    const detail = options.capture ? `\n${result.output.trim()}` : "";
    throw new Error(`wrangler ${args.join(" ")} exited with ${result.code}${detail}`);
  }
  return result;
}

/** Applies the D1 migrations of binding DB to the local database (optionally in another persist dir). */
export function applyLocalMigrations(options: WranglerOptions & { persistTo?: string } = {}): Promise<WranglerResult> {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  return runWranglerOrThrow(args, options);
}

/** Polls `url` until it answers 2xx; fails early if `child` exits first. */
export async function waitForHttp(
  url: string,
  options: { timeoutMs?: number; intervalMs?: number; child?: ChildProcess; expectStatus?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let exited: string | null = null;
  const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
    exited = `exited (${signal ?? code}) before ${url} answered`;
  };
  options.child?.once("exit", onExit);
  try {
    let lastError = "no answer yet";
    while (Date.now() < deadline) {
      if (exited) throw new Error(`wrangler ${exited}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (options.expectStatus === undefined ? response.ok : response.status === options.expectStatus) return;
        lastError = `status ${response.status}`;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
    }
    throw new Error(`${url} did not answer within ${options.timeoutMs ?? 60_000} ms (${lastError})`);
  } finally {
    options.child?.off("exit", onExit);
  }
}

/** A TCP port that is free on `host` right now (the OS picks it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolvePromise(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** True when nothing listens on `port` (checked on the IPv4 wildcard and loopback). */
export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolvePromise(false));
    server.listen(port, host, () => server.close(() => resolvePromise(true)));
  });
}
