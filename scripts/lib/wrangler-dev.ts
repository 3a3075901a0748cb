import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedLocal } from "../seed.ts";
import { formatDevVars, generateDevSecrets } from "./dev-vars.ts";
import { applyLocalMigrations, freePort, spawnWrangler, waitForHttp } from "./wrangler.ts";

/**
 * A private `wrangler dev` for a benchmark or the smoke check: its own free port on 127.0.0.1,
 * its own temporary persist dir (migrated, empty), and its own generated vars
 * (passed with --env-file, so the repo's .dev.vars is neither read nor needed).
 * Wrangler's output goes to a log file in the temp dir (BENCH_VERBOSE=1 streams
 * it to stderr); the log's tail is printed if start-up fails.
 */

export interface DevServer {
  baseUrl: string;
  /** Generated vars the Worker runs with (OPS_TOKEN, DISCORD_PUBLIC_KEY, …). Never print them. */
  vars: Record<string, string>;
  /** Matching private keys (e.g. the Ed25519 key for signing interactions). */
  keys: ReturnType<typeof generateDevSecrets>["keys"];
  /** The wrangler process, leader of the process group that holds workerd (for a bench's memory and CPU figures). */
  pid: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** Extra or overriding vars (e.g. fake outbound base URLs). */
  vars?: Record<string, string>;
  /** Generated vars to leave out (e.g. a required secret, to see production refuse to run). */
  omitVars?: string[];
  /** Seed the demo community into the fresh database before starting. */
  seed?: boolean;
  /** Use (and keep) this persist dir instead of a temporary one: the caller owns it and its data. */
  persistTo?: string;
  /** The /health status that means "up" (503 for a deliberately misconfigured production run). */
  readyStatus?: number;
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

const log = (message: string) => console.error(`[wrangler-dev] ${message}`);

export async function startWranglerDev(options: DevServerOptions = {}): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), "dte-bench-"));
  const persistTo = options.persistTo ?? join(dir, "state");
  const envFile = join(dir, "bench.env");
  const logFile = join(dir, "wrangler.log");
  const port = await freePort();
  const inspectorPort = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  const { vars: generated, keys } = generateDevSecrets({ publicBaseUrl: baseUrl });
  const vars: Record<string, string> = { ...generated, ...options.vars };
  for (const name of options.omitVars ?? []) delete vars[name];
  writeFileSync(envFile, formatDevVars(vars), { mode: 0o600 });

  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  const started = performance.now();
  try {
    await applyLocalMigrations({ persistTo, capture: true });
    if (options.seed) await seedLocal({ persistTo, quiet: true });
  } catch (error) {
    cleanupDir();
    throw error;
  }

  const verbose = process.env.BENCH_VERBOSE === "1";
  const out = createWriteStream(logFile);
  const child = spawnWrangler(
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      "--live-reload=false",
      ...(options.extraArgs ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      // Output can still arrive after stop() closed the log (the pipe drains late): drop it, never crash on it.
      if (!out.writableEnded) out.write(chunk);
      if (verbose) process.stderr.write(chunk);
    });
  }

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      const finish = () => {
        process.off("exit", killNow);
        process.off("SIGINT", interrupted);
        process.off("SIGTERM", interrupted);
        out.end();
        cleanupDir();
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return finish();
      const timer = setTimeout(() => killGroup("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(timer);
        killGroup("SIGKILL"); // anything wrangler left behind in its process group (workerd)
        finish();
      });
      child.kill("SIGTERM");
    });
    return stopped;
  };
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const killNow = () => killGroup("SIGKILL");
  const interrupted = (signal: NodeJS.Signals) => {
    killNow();
    cleanupDir();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killNow);
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  try {
    await waitForHttp(`${baseUrl}/health`, {
      child,
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      expectStatus: options.readyStatus,
    });
  } catch (error) {
    const tail = safeTail(logFile);
    await stop();
    throw new Error(`${error instanceof Error ? error.message : error}\n--- wrangler log (tail) ---\n${tail}`);
  }
  log(`ready at ${baseUrl} in ${Math.round(performance.now() - started)} ms (persist dir ${persistTo})`);
  return { baseUrl, vars, keys, pid: child.pid ?? 0, stop };
}

function safeTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
