import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import WebSocket from "ws";

/**
 * The realtime bench's load client, in its own process like the browsers it
 * stands for: opens N WebSockets to a community's RealtimeHub (one member and
 * session cookie each), then records every delivery's latency. It measures
 * what the Socket.io peer's client measures, the same way: receive time minus
 * the publisher's `sentAt` (both `performance.timeOrigin + performance.now()`),
 * unique deliveries per (socket, event), duplicates, out-of-order deliveries
 * (by the event's index), and per event the time until its slowest socket
 * got it. Driven by bench/realtime.ts over IPC:
 *   -> {type:"clock", t}                  <- {type:"clock", ipcMs}
 *   -> {type:"connect", url, cookies}     <- {type:"ready", connect}
 *   -> {type:"warmup", expected, ...}     <- {type:"warmed", delivered}
 *   -> {type:"phase"}                     <- {type:"phase"}
 *   -> {type:"drain", expected, ...}      <- {type:"result", result}
 *   -> {type:"exit"}
 */

interface Config {
  n: number;
  m: number;
  connectTimeoutMs: number;
}

const config = JSON.parse(process.env.BENCH_CLIENT ?? "{}") as Config;
const { n, m } = config;
const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send?.(message);

const sockets: WebSocket[] = [];
const latencies = new Float64Array(n * m);
/** From the event's `at` (stamped by the Worker as the publish reached it) to receipt: the hub's part alone. */
const fromWorker = new Float64Array(n * m);
const seen = new Uint8Array(n * m);
const lastIndex = new Int32Array(n).fill(-1);
const eventSlowest = new Float64Array(m);
const eventCount = new Uint32Array(m);
let unique = 0;
let duplicates = 0;
let outOfOrder = 0;
let malformed = 0;
let disconnects = 0;
let warmupDelivered = 0;
let frameBytes = 0;
let lastArrivalAt = 0;
let lastMeasuredAt = 0;
/** WebSocket messages after the welcome, and of those the `batch` frames (several events each). */
let framesReceived = 0;
let batchFrames = 0;

interface Delivery {
  at?: unknown;
  data?: { seq?: unknown; sentAt?: unknown; warmup?: unknown };
}

/** A frame: one event, or a `batch` of events that each count as delivered when the frame arrives. */
function onFrame(i: number, raw: string): void {
  const t = now();
  let frame: Delivery & { type?: string; events?: unknown };
  try {
    frame = JSON.parse(raw) as Delivery & { type?: string; events?: unknown };
  } catch {
    malformed++;
    return;
  }
  if (frame.type === "welcome") return;
  framesReceived++;
  if (frame.type !== "batch") {
    onDelivery(i, frame, t, Buffer.byteLength(raw));
    return;
  }
  if (!Array.isArray(frame.events)) {
    malformed++;
    return;
  }
  batchFrames++;
  for (const event of frame.events as Delivery[]) onDelivery(i, event, t, 0);
}

function onDelivery(i: number, frame: Delivery, t: number, bytes: number): void {
  const index = frame.data?.seq;
  const sentAt = frame.data?.sentAt;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= m || typeof sentAt !== "number") {
    malformed++;
    return;
  }
  lastArrivalAt = t;
  if (frame.data?.warmup === true) {
    warmupDelivered++;
    return;
  }
  const k = i * m + index;
  if (seen[k]) {
    duplicates++;
    return;
  }
  seen[k] = 1;
  lastMeasuredAt = t;
  if (bytes > 0) frameBytes = bytes;
  const latency = t - sentAt;
  fromWorker[unique] = typeof frame.at === "number" ? t - frame.at : Number.NaN;
  latencies[unique++] = latency;
  if (latency > (eventSlowest[index] ?? 0)) eventSlowest[index] = latency;
  eventCount[index] = (eventCount[index] ?? 0) + 1;
  if (index < (lastIndex[i] ?? -1)) outOfOrder++;
  else lastIndex[i] = index;
}

function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function summarize(values: ArrayLike<number>) {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] ?? null) : null,
    mean: sorted.length ? sum / sorted.length : null,
  };
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

/** Opens every socket at once and waits for each one's `welcome` (the hub's answer once it is subscribed). */
async function connectAll(url: string, cookies: readonly string[]) {
  const setupMs: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  const t0 = now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    cookies.map(
      (cookie, i) =>
        new Promise<void>((resolve) => {
          const begin = now();
          let done = false;
          const finish = (ok: boolean, why = "") => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            if (ok) setupMs.push(now() - begin);
            else {
              failed++;
              errors[why] = (errors[why] ?? 0) + 1;
            }
            resolve();
          };
          const timer = setTimeout(() => finish(false, "timeout"), config.connectTimeoutMs);
          const ws = new WebSocket(url, { headers: { cookie }, perMessageDeflate: false });
          sockets[i] = ws;
          ws.on("message", (data: WebSocket.RawData) => {
            const text = data.toString();
            if (!done && text.includes('"type":"welcome"')) finish(true);
            else onFrame(i, text);
          });
          ws.on("unexpected-response", (_request, response) => finish(false, `http ${response.statusCode}`));
          ws.on("error", (error: Error) => finish(false, error.message));
          ws.on("close", () => {
            disconnects++;
            finish(false, "closed");
          });
        }),
    ),
  );
  const stats = summarize(setupMs);
  return {
    totalMs: now() - t0,
    connected: n - failed,
    failed,
    errors,
    perSocketP50Ms: stats.p50,
    perSocketP99Ms: stats.p99,
    perSocketMaxMs: stats.max,
    cpuMs: cpuMs(process.cpuUsage(cpu0)),
    rssBytes: process.memoryUsage().rss,
  };
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let phaseCpu: NodeJS.CpuUsage | null = null;

/** Resolves when count() reaches expected, or nothing arrived for idleMs, or capMs passed. */
function waitFor(count: () => number, expected: number, idleMs: number, capMs: number): Promise<void> {
  const start = now();
  return new Promise((resolve) => {
    const tick = () => {
      const t = now();
      if (count() >= expected || t - Math.max(lastArrivalAt, start) >= idleMs || t - start >= capMs) resolve();
      else setTimeout(tick, 10);
    };
    tick();
  });
}

async function drain(expected: number, idleMs: number, capMs: number) {
  await waitFor(() => unique, expected, idleMs, capMs);
  const complete: number[] = [];
  for (let s = 0; s < m; s++) if (eventCount[s] === n) complete.push(eventSlowest[s] ?? 0);
  const eventComplete = summarize(complete);
  loopDelay.disable();
  return {
    expected,
    delivered: unique,
    duplicates,
    outOfOrder,
    malformed,
    disconnects,
    frameBytes,
    framesReceived,
    batchFrames,
    lastDeliveryAt: lastMeasuredAt,
    latencyMs: summarize(latencies.subarray(0, unique)),
    fromWorkerMs: summarize(fromWorker.subarray(0, unique).filter((x) => !Number.isNaN(x))),
    eventsFullyDelivered: complete.length,
    eventCompleteMs: { p50: eventComplete.p50, p99: eventComplete.p99, max: eventComplete.max },
    cpuMs: phaseCpu ? cpuMs(process.cpuUsage(phaseCpu)) : null,
    rssBytes: process.memoryUsage().rss,
    loopDelayP99Ms: loopDelay.count ? loopDelay.percentile(99) / 1e6 : 0,
  };
}

/** What the client reports after the measured phase. */
export type DrainResult = Awaited<ReturnType<typeof drain>>;
/** What the client reports once every socket is open (or failed). */
export type ConnectResult = Awaited<ReturnType<typeof connectAll>>;

process.on("message", async (message: Record<string, unknown>) => {
  switch (message.type) {
    case "clock":
      send({ type: "clock", ipcMs: now() - Number(message.t) });
      return;
    case "connect":
      send({ type: "ready", connect: await connectAll(String(message.url), message.cookies as string[]) });
      return;
    case "warmup":
      await waitFor(() => warmupDelivered, Number(message.expected), Number(message.idleMs), Number(message.capMs));
      send({ type: "warmed", delivered: warmupDelivered });
      return;
    case "phase":
      phaseCpu = process.cpuUsage();
      framesReceived = 0;
      batchFrames = 0;
      loopDelay.reset();
      loopDelay.enable();
      send({ type: "phase" });
      return;
    case "drain":
      send({
        type: "result",
        result: await drain(Number(message.expected), Number(message.idleMs), Number(message.capMs)),
      });
      return;
    case "exit":
      for (const ws of sockets) ws?.terminate();
      process.exit(0);
  }
});

process.on("disconnect", () => process.exit(0));
send({ type: "hello", pid: process.pid });
