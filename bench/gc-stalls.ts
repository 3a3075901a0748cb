import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runProfiledBench } from "./lib/profiled-run";

/**
 * What stops workerd's one thread during a workerd bench (not a bench; needs Linux `perf`, Debian's linux-perf):
 * runs one bench file (default: the webhook intake's) with BENCH_PROFILE=1, samples the whole workerd process with
 * `perf record` on the wall clock while the measured part runs (`profileStarts` … `profileEnds` in the file), and
 * prints the thread's collector stalls: stretches of 20 ms or more in which its samples are mostly V8's and cppgc's
 * garbage collection, the destructors of the runtime's objects and the allocator returning their memory. Then which
 * of the file's operations (spans) overlapped one, against those that did not, and for each slow one what the thread
 * ran meanwhile: the innermost JavaScript function of each sample (workerd runs with V8's `--perf-basic-prof`, so
 * perf can name them) and the native leaf. Unlike `profile-workerd.ts` (the inspector, one isolate's JavaScript),
 * this sees every isolate on the thread (D1's and the queue brokers' too) and the runtime's native code, and perf
 * slows the run far less.
 *
 * `npx tsx bench/gc-stalls.ts [file] [--over=<ms>]`; the file's own knobs pass through the environment.
 */

interface Span {
  label: string;
  from: number;
  to: number;
}
interface Sample {
  thread: number;
  atMs: number;
  /** The leaf frame's symbol. */
  symbol: string;
  /** The innermost JavaScript function on the stack (V8's perf map names them `JS:<name> <file>:<line>`), if any. */
  script: string | null;
}
interface Stall {
  fromMs: number;
  toMs: number;
  collectorShare: number;
}

const args = process.argv.slice(2);
const file = args.find((arg) => !arg.startsWith("--")) ?? "bench/workerd/webhook-signal.bench-test.ts";
const overMs = Number(args.find((arg) => arg.startsWith("--over="))?.split("=")[1] ?? 50);
const SAMPLE_HZ = 2_000;
/** A stall: collector samples with gaps of at most this many others between them, over this long, mostly collector. */
const MAX_GAP_SAMPLES = 4;
const MIN_STALL_MS = 20;
const MIN_COLLECTOR_SHARE = 0.5;
const log = (message: string) => console.error(`[gc-stalls] ${message}`);

/** Garbage collection and what it sets off: marking and sweeping, finalizers and destructors, memory handed back. */
const COLLECTOR =
  /v8::internal::(Heap|MarkCompact|Marking|MainMarking|Scaveng|Sweep|Evacuat|GlobalHandles|IncrementalMarking|MemoryAllocator|PagedSpace|LargeObject|ConcurrentMarking|WeakObjects)|cppgc::|::~|Dispose|detachFromShim|HeapTracer|tcmalloc|TCMalloc/;

function workerdPid(): number {
  const out = execFileSync("pgrep", ["-n", "-f", "bin/workerd serve"], { encoding: "utf8" }).trim();
  const pid = Number(out.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error("no workerd process found");
  return pid;
}

/**
 * `perf script` samples on the wall clock (perf record -k CLOCK_REALTIME -g): a `<tid> <seconds>:` line, then one
 * line per frame, leaf first. V8's perf map (`--perf-basic-prof`) names the JavaScript frames.
 */
async function readSamples(perfData: string): Promise<Sample[]> {
  const script = spawn("perf", ["script", "-i", perfData, "-F", "tid,time,ip,sym", "--max-stack", "32"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const samples: Sample[] = [];
  let current: Sample | null = null;
  for await (const line of createInterface({ input: script.stdout })) {
    const header = /^\s*(\d+)\s+([\d.]+):\s*(?:[0-9a-f]+\s+(.*))?$/.exec(line);
    if (header) {
      current = { thread: Number(header[1]), atMs: Number(header[2]) * 1000, symbol: header[3] ?? "", script: null };
      samples.push(current);
      continue;
    }
    const frame = /^\s+[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?(?:\s+\(.*\))?$/.exec(line);
    if (!frame || !current) continue;
    const symbol = frame[1] ?? "";
    if (current.symbol === "") current.symbol = symbol;
    if (current.script === null && symbol.startsWith("JS:")) current.script = symbol.slice(3).replace(/^[~*^+]+/, "");
  }
  return samples;
}

/** Runs of collector samples on the main thread (its id is the process id), as `MAX_GAP_SAMPLES` allows. */
function collectorStalls(samples: readonly Sample[], mainThread: number): Stall[] {
  const stalls: Stall[] = [];
  let run: { from: number; to: number; collector: number; all: number } | null = null;
  let gap = 0;
  const close = () => {
    if (!run) return;
    const share = run.collector / run.all;
    if (run.to - run.from >= MIN_STALL_MS && share >= MIN_COLLECTOR_SHARE) {
      stalls.push({ fromMs: run.from, toMs: run.to, collectorShare: share });
    }
    run = null;
  };
  for (const sample of samples) {
    if (sample.thread !== mainThread) continue;
    const collecting = COLLECTOR.test(sample.symbol);
    if (collecting) {
      run ??= { from: sample.atMs, to: sample.atMs, collector: 0, all: 0 };
      run.to = sample.atMs;
      run.collector += 1;
      run.all += 1 + gap;
      gap = 0;
    } else if (run) {
      gap += 1;
      if (gap > MAX_GAP_SAMPLES) {
        close();
        gap = 0;
      }
    }
  }
  close();
  return stalls;
}

/** The symbols with the most samples, heaviest first. */
function heaviest(samples: readonly Sample[], count: number): [string, number][] {
  const bySymbol = new Map<string, number>();
  for (const { symbol } of samples) bySymbol.set(symbol.slice(0, 110), (bySymbol.get(symbol.slice(0, 110)) ?? 0) + 1);
  return [...bySymbol].sort((a, b) => b[1] - a[1]).slice(0, count);
}

const overlaps = (span: Span, stall: Stall) => stall.fromMs < span.to && stall.toMs > span.from;
const ms = (value: number) => `${value.toFixed(0)} ms`;

function report(spans: readonly Span[], samples: readonly Sample[], mainThread: number): void {
  const from = Math.min(...spans.map((span) => span.from));
  const to = Math.max(...spans.map((span) => span.to));
  const measured = samples.filter((sample) => sample.atMs >= from && sample.atMs <= to);
  const main = measured.filter((sample) => sample.thread === mainThread);
  const stalls = collectorStalls(measured, mainThread);
  const lengths = stalls.map((stall) => stall.toMs - stall.fromMs).sort((a, b) => b - a);
  const collectorShare = main.filter((sample) => COLLECTOR.test(sample.symbol)).length / Math.max(main.length, 1);
  console.log(
    `measured part ${((to - from) / 1000).toFixed(1)} s: main thread busy ${ms((main.length / SAMPLE_HZ) * 1000)}, ` +
      `${(collectorShare * 100).toFixed(1)}% of it collecting`,
  );
  console.log(
    `collector stalls of ${MIN_STALL_MS} ms or longer: ${stalls.length} (${lengths.filter((l) => l >= 50).length} of 50 ms or longer), ` +
      `${ms(lengths.reduce((sum, l) => sum + l, 0))} in all; longest ${lengths.slice(0, 12).map(ms).join(", ")}`,
  );
  const slow = spans.filter((span) => span.to - span.from > overMs);
  const hit = spans.filter((span) => stalls.some((stall) => overlaps(span, stall)));
  console.log(
    `${spans.length} operations, ${slow.length} over ${overMs} ms; ${hit.length} overlapped a stall, ` +
      `${slow.filter((span) => hit.includes(span)).length} of the ${slow.length} slow ones`,
  );
  for (const span of slow) {
    const during = stalls.filter((stall) => overlaps(span, stall));
    const stalled = during.reduce(
      (sum, stall) => sum + Math.min(stall.toMs, span.to) - Math.max(stall.fromMs, span.from),
      0,
    );
    const inside = measured.filter((sample) => sample.atMs >= span.from && sample.atMs <= span.to);
    const onMain = inside.filter((sample) => sample.thread === mainThread);
    console.log(
      `  ${span.label}: ${ms(span.to - span.from)}, of it in collector stalls ${ms(stalled)}; main thread busy ` +
        `${ms((onMain.length / SAMPLE_HZ) * 1000)}, other threads ${ms(((inside.length - onMain.length) / SAMPLE_HZ) * 1000)}`,
    );
    const inScript = onMain.flatMap((sample) => (sample.script ? [{ ...sample, symbol: sample.script }] : []));
    for (const [script, count] of heaviest(inScript, 6)) {
      console.log(`      ${ms((count / SAMPLE_HZ) * 1000).padStart(7)}  in ${script}`);
    }
    for (const [symbol, count] of heaviest(onMain, 6))
      console.log(`      ${ms((count / SAMPLE_HZ) * 1000).padStart(7)}  ${symbol}`);
  }
}

function stopPerf(perf: ChildProcess): Promise<void> {
  return new Promise((done) => {
    perf.once("exit", () => done());
    perf.kill("SIGINT");
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "gc-stalls-"));
  const perfData = join(dir, "perf.data");
  let perf: ChildProcess | null = null;
  let mainThread = 0;
  // V8 writes /tmp/perf-<pid>.map, so perf names the JavaScript functions it samples.
  const code = await runProfiledBench(
    file,
    [],
    { MINIFLARE_WORKERD_V8_FLAGS: "--perf-basic-prof" },
    async (line) => {
      if (line.includes("BENCH_PROFILE_START")) {
        mainThread = workerdPid();
        perf = spawn(
          "perf",
          ["record", "-g", "-F", String(SAMPLE_HZ), "-k", "CLOCK_REALTIME", "-p", String(mainThread), "-o", perfData],
          { stdio: "ignore" },
        );
        log(`perf sampling workerd ${mainThread} at ${SAMPLE_HZ} Hz`);
        return true;
      }
      const marker = "BENCH_PROFILE_SPANS ";
      if (!line.includes(marker) || !perf) return false;
      const spans = JSON.parse(line.slice(line.indexOf(marker) + marker.length)) as Span[];
      await stopPerf(perf);
      report(spans, await readSamples(perfData), mainThread);
      return true;
    },
    log,
  );
  rmSync(dir, { recursive: true, force: true });
  if (mainThread) rmSync(`/tmp/perf-${mainThread}.map`, { force: true });
  process.exit(code);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
