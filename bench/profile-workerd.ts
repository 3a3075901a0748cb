import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { freePort } from "../scripts/lib/wrangler.ts";
import { runProfiledBench } from "./lib/profiled-run";

/**
 * Where a workerd bench spends its slow operations: runs one bench file (bench/workerd/*.bench-test.ts) under
 * `vitest --inspect` with BENCH_PROFILE=1, samples the CPU of the isolate that runs the Worker, its Durable Objects,
 * its queue consumers and the bench itself while the measured part runs (`profileStarts` … `profileEnds` in the
 * file), and prints, for each span over the threshold, what that thread did meanwhile: busy and idle time, the
 * functions that used the most of it and the stacks they ran in. Then the same for the whole run, garbage
 * collection's pauses (the longest ones) and the isolate's heap, and the path of the saved `.cpuprofile` (Chrome
 * DevTools opens it).
 *
 * D1 and the queue brokers run in isolates of their own on the same workerd thread: the time they take shows as
 * gaps between samples (a sample's weight is the time since the previous one), not as their functions.
 * The profiler slows what it measures (about a fifth at the default interval): compare spans with each other, not
 * with a run without it.
 *
 * `npx tsx bench/profile-workerd.ts [file] [--over=<ms>] [--interval=<µs>]`; the file's own knobs pass through the
 * environment (e.g. BENCH_WEBHOOK_SIGNALS). Default file: the webhook intake bench, spans over 60 ms.
 */

interface Span {
  label: string;
  from: number;
  to: number;
}
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) =>
  Number(args.find((arg) => arg.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const file = args.find((arg) => !arg.startsWith("--")) ?? "bench/workerd/webhook-signal.bench-test.ts";
const overMs = option("over", 60);
const intervalUs = option("interval", 250);
const log = (message: string) => console.error(`[profile] ${message}`);

/** The Chrome DevTools protocol on one inspector target: calls answered by id. */
async function inspect(url: string) {
  const socket = new WebSocket(url);
  await new Promise((open, fail) => socket.once("open", open).once("error", fail));
  let next = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  return {
    call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      next += 1;
      const id = next;
      return new Promise<T>((answer) => {
        waiting.set(id, (result) => answer(result as T));
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

/** The runner isolate's target: the one that hosts the Worker, its objects and the bench file. */
async function runnerTarget(port: number): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    title?: string;
    webSocketDebuggerUrl: string;
  }[];
  const runner = targets.find((target) => target.title?.includes("vitest-plugin-runner"));
  if (!runner) throw new Error(`no runner isolate among ${targets.map((target) => target.title).join(", ")}`);
  return runner.webSocketDebuggerUrl;
}

const frameName = (node: ProfileNode) =>
  `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").pop() ?? ""}:${node.callFrame.lineNumber + 1}`;

/** Busy time by function and by the stack it ran in, for the samples taken between two wall-clock times. */
function explain(profile: Profile, startedAtWall: number, from: number, to: number) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const bySelf = new Map<string, number>();
  const byStack = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const weight = profile.timeDeltas[i] ?? 0;
    at += weight;
    const wall = startedAtWall + (at - profile.startTime) / 1000;
    if (wall < from || wall > to) return;
    const node = nodes.get(id);
    if (!node) return;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += weight;
      return;
    }
    busyUs += weight;
    bySelf.set(frameName(node), (bySelf.get(frameName(node)) ?? 0) + weight);
    const chain: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = nodes.get(cur);
      if (frame && frame.callFrame.functionName !== "(root)") chain.push(frameName(frame).split(" ")[0] ?? "");
    }
    const stack = chain.reverse().slice(0, 8).join(" > ");
    byStack.set(stack, (byStack.get(stack) ?? 0) + weight);
  });
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, bySelf, byStack };
}

/**
 * Garbage collection's pauses: runs of consecutive samples in the collector, longest first. A pause stops every
 * isolate's work on the thread, so one that falls on an operation in flight adds all of its length to it.
 */
function collectorPauses(profile: Profile): number[] {
  const collector = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === "(garbage collector)").map((node) => node.id),
  );
  const pauses: number[] = [];
  let pauseUs = 0;
  profile.samples.forEach((id, i) => {
    if (collector.has(id)) pauseUs += profile.timeDeltas[i] ?? 0;
    else if (pauseUs > 0) {
      pauses.push(pauseUs / 1000);
      pauseUs = 0;
    }
  });
  if (pauseUs > 0) pauses.push(pauseUs / 1000);
  return pauses.sort((a, b) => b - a);
}

/** The heaviest entries, one per line. */
function heaviest(weights: Map<string, number>, count: number): string {
  return [...weights]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => `      ${(us / 1000).toFixed(1).padStart(7)} ms  ${name}`)
    .join("\n");
}

/** One block of the report: what the isolate did between `from` and `to`. */
function report(title: string, profile: Profile, startedAtWall: number, from: number, to: number, count: number) {
  const { busyMs, idleMs, bySelf, byStack } = explain(profile, startedAtWall, from, to);
  console.log(`\n${title}; isolate busy ${busyMs.toFixed(1)} ms, idle ${idleMs.toFixed(1)} ms`);
  console.log(`   functions (own time):\n${heaviest(bySelf, count)}`);
  console.log(`   stacks (outermost 8 frames):\n${heaviest(byStack, Math.ceil(count / 2))}`);
}

async function main(): Promise<void> {
  const port = await freePort();
  let session: Awaited<ReturnType<typeof inspect>> | null = null;
  let startedAtWall = 0;
  let heapPoll: ReturnType<typeof setInterval> | undefined;
  const heapUsedMb: number[] = [];
  const handle = async (line: string): Promise<boolean> => {
    if (line.includes("BENCH_PROFILE_START")) {
      session = await inspect(await runnerTarget(port));
      await session.call("Profiler.enable");
      await session.call("Profiler.setSamplingInterval", { interval: intervalUs });
      await session.call("Profiler.start");
      startedAtWall = Date.now();
      const sampled = session;
      heapPoll = setInterval(() => {
        sampled
          .call<{ usedSize: number }>("Runtime.getHeapUsage")
          .then((usage) => heapUsedMb.push(usage.usedSize / 1e6))
          .catch(() => undefined);
      }, 5_000);
      log(`sampling every ${intervalUs} µs`);
      return true;
    }
    const marker = "BENCH_PROFILE_SPANS ";
    if (line.includes(marker) && session) {
      const spans = JSON.parse(line.slice(line.indexOf(marker) + marker.length)) as Span[];
      clearInterval(heapPoll);
      const { profile } = await session.call<{ profile: Profile }>("Profiler.stop");
      session.close();
      const saved = join(tmpdir(), `workerd-${Date.now()}.cpuprofile`);
      writeFileSync(saved, JSON.stringify(profile));
      const slow = spans.filter((span) => span.to - span.from > overMs);
      console.log(`${spans.length} spans, ${slow.length} over ${overMs} ms`);
      for (const span of slow) {
        report(`${span.label}: ${span.to - span.from} ms`, profile, startedAtWall, span.from, span.to, 8);
      }
      report("the whole measured part", profile, startedAtWall, -Infinity, Infinity, 20);
      const pauses = collectorPauses(profile);
      const long = pauses.filter((ms) => ms >= 20);
      console.log(
        `\ngarbage collection: ${pauses.reduce((sum, ms) => sum + ms, 0).toFixed(0)} ms in ${pauses.length} pauses, ` +
          `${long.length} of them 20 ms or longer: ${long.map((ms) => ms.toFixed(0)).join(", ")} ms`,
      );
      if (heapUsedMb.length > 0) {
        console.log(
          `heap used (every 5 s): ${Math.min(...heapUsedMb).toFixed(0)} to ${Math.max(...heapUsedMb).toFixed(0)} MB`,
        );
      }
      console.log(`\nprofile: ${saved}`);
      return true;
    }
    return false;
  };
  process.exit(await runProfiledBench(file, [`--inspect=127.0.0.1:${port}`], {}, handle, log));
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
