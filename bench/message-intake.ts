import { printWorkerdBench } from "./lib/workerd-vitest";

/**
 * Message intake (issue 16, docs/architecture.md §10: a Gateway MESSAGE_CREATE to
 * `signal.accepted`, p99 under 50 ms serially), inside workerd: runs
 * bench/workerd/message-intake.bench-test.ts and prints one JSON line with its
 * figures, the CPU count and the load average. Knobs: BENCH_INTAKE_MESSAGES
 * (200), BENCH_INTAKE_FOLLOWERS (10), BENCH_ENGINE_LOGS=1.
 */
printWorkerdBench({
  bench: "message-intake",
  file: "bench/workerd/message-intake.bench-test.ts",
  figuresName: "messageIntake",
  where: "workerd via @cloudflare/vitest-plugin (miniflare: local D1, Durable Objects, Queues; fake Discord Gateway)",
}).catch((error: unknown) => {
  console.error(`[message-intake] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
