import { availableParallelism, loadavg } from "node:os";
import { runWorkerdBench } from "./lib/workerd-vitest";

/**
 * Message intake (issue 16, docs/architecture.md §10: a Gateway MESSAGE_CREATE to
 * `signal.accepted`, p99 under 50 ms serially), inside workerd: runs
 * bench/workerd/message-intake.bench-test.ts and prints one JSON line with its
 * figures, the CPU count and the load average. Knobs: BENCH_INTAKE_MESSAGES
 * (200), BENCH_INTAKE_FOLLOWERS (10), BENCH_ENGINE_LOGS=1.
 */

const round2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const loadBefore = loadavg().map(round2);
  const started = performance.now();
  const { code, figures } = await runWorkerdBench(["bench/workerd/message-intake.bench-test.ts"], {}, "message-intake");
  if (code !== 0 || !figures.messageIntake) {
    console.error(`[message-intake] vitest exited ${code} without figures`);
    process.exitCode = 1;
  }
  console.log(
    JSON.stringify({
      bench: "message-intake",
      ...(figures.messageIntake as Record<string, unknown> | undefined),
      cpus: availableParallelism(),
      loadAverage: { before: loadBefore, after: loadavg().map(round2) },
      durationS: Math.round((performance.now() - started) / 1000),
      where:
        "workerd via @cloudflare/vitest-plugin (miniflare: local D1, Durable Objects, Queues; fake Discord Gateway)",
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`[message-intake] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
