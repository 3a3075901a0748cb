import { spawn } from "node:child_process";

/**
 * Runs one workerd bench file with BENCH_PROFILE=1 (`profileStarts` and `profileEnds` in the file print
 * BENCH_PROFILE_START and BENCH_PROFILE_SPANS) and hands every output line to `handle`, in order. Lines it returns
 * false for are echoed when they are figures or progress. Resolves with vitest's exit code.
 */
export function runProfiledBench(
  file: string,
  vitestArgs: readonly string[],
  extraEnv: Record<string, string>,
  handle: (line: string) => Promise<boolean>,
  log: (message: string) => void,
): Promise<number> {
  const child = spawn("npx", ["vitest", "run", ...vitestArgs, "--config", "bench/workerd/vitest.config.ts", file], {
    env: { ...process.env, ...extraEnv, BENCH_PROFILE: "1", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // One chain, so a handler that awaits (attaching a profiler) never sees the next line before it is done.
  let handled: Promise<unknown> = Promise.resolve();
  let pending = "";
  const onData = (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      handled = handled
        .then(() => handle(line))
        .then((consumed) => {
          if (consumed) return;
          if (line.includes("BENCH_JSON")) console.error(line);
          else if (/BENCH_LOG|✓|×|FAIL|Error/.test(line)) console.error(line.slice(0, 300));
        })
        .catch((error: unknown) => log((error as Error).message));
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return new Promise<number>((done) =>
    child.on("exit", (exit) => {
      void handled.then(() => done(exit ?? 1));
    }),
  );
}
