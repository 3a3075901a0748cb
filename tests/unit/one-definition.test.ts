import { describe, expect, it } from "vitest";
import {
  ORDER_STATUSES,
  TERMINAL_STATUSES,
  UNSETTLED_STATUSES,
  WORKING_STATUSES,
} from "../../shared/orders/state-machine";
import { projectSources, withoutComments } from "../support/source-tree";

/**
 * Things the platform defines once, and the one module that defines each. A second copy is how definitions drift
 * apart (an "open" list without `queued`, a market clock that forgets daylight saving, a DM sent under another key
 * scheme), so a source scan fails on one.
 */
const HOMES = {
  orderStatuses: "shared/orders/state-machine.ts",
  newYorkClock: "shared/market/new-york.ts",
  notifyQueue: "platform/notifications/notify-queue.ts",
} as const;

/** Names declared (exported or not) in exactly one module. */
const DECLARED_ONCE = [
  "DOUBLE_POST_WINDOW_MS",
  "BrokerCapabilities",
  "PAPER_CAPABILITIES",
  "CONFIRM_TIMEOUT_MS",
  "directMessage",
] as const;

/** Base names no two modules share (each says what it is). */
const UNIQUE_FILE_NAMES = ["entitlements.ts", "new-york.ts", "notify-queue.ts"] as const;

const STATUS = new Set<string>(ORDER_STATUSES);

/** The state machine's named sets: written out inline elsewhere, a copy that will not follow a change to them. */
const NAMED_STATUS_SETS: Record<string, readonly string[]> = {
  ORDER_STATUSES,
  TERMINAL_STATUSES,
  UNSETTLED_STATUSES,
  WORKING_STATUSES,
};

/** The named sets an inline list of statuses (a TypeScript array or an SQL `in (...)`) repeats. */
function inlineNamedSets(code: string): string[] {
  const found: string[] = [];
  for (const match of code.matchAll(/\[([^[\]]*)\]|\bin\s*\(([^()]*)\)/g)) {
    const items = (match[1] ?? match[2] ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
    const statuses = items.map((item) => /^["']([a-z_]+)["']$/.exec(item)?.[1]);
    if (items.length < 2 || !statuses.every((status) => status !== undefined && STATUS.has(status))) continue;
    const listed = new Set(statuses);
    for (const [name, set] of Object.entries(NAMED_STATUS_SETS)) {
      if (set.length === listed.size && set.every((status) => listed.has(status))) found.push(name);
    }
  }
  return found;
}

/** A constant initialised with a list of two or more order statuses and nothing else (an array or a Set). */
function declaresStatusList(code: string): boolean {
  for (const match of code.matchAll(
    /\b(?:const|let|var)\s+\w+\s*(?::[^=]+)?=\s*(?:new\s+Set(?:<[^>]*>)?\(\s*)?\[([^\]]*)\]/g,
  )) {
    const items = (match[1] ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
    const literals = items.map((item) => /^["']([a-z_]+)["']$/.exec(item)?.[1]);
    if (items.length >= 2 && literals.every((literal) => literal !== undefined && STATUS.has(literal))) return true;
  }
  return false;
}

/** A declaration of `name` (not a use, not an import): a constant, a function, a class, an interface or a type. */
function declares(code: string, name: string): boolean {
  return [
    `\\b(?:const|let|var)\\s+${name}\\s*(?::[^=;]+)?=`,
    `\\bfunction\\s+${name}\\s*[<(]`,
    `\\b(?:class|interface)\\s+${name}\\b[^;{]*\\{`,
    `\\btype\\s+${name}\\s*(?:<[^>]*>)?\\s*=`,
  ].some((pattern) => new RegExp(pattern).test(code));
}

function duplicateDefinitions(sources: Record<string, string>): string[] {
  const problems: string[] = [];
  const declaredIn = new Map<string, string[]>(DECLARED_ONCE.map((name) => [name, []]));
  const byBaseName = new Map<string, string[]>(UNIQUE_FILE_NAMES.map((name) => [name, []]));
  for (const [file, source] of Object.entries(sources)) {
    const code = withoutComments(source);
    if (file !== HOMES.orderStatuses && declaresStatusList(code)) {
      problems.push(`${file}: declares a list of order statuses (use ${HOMES.orderStatuses})`);
    }
    if (file !== HOMES.orderStatuses) {
      for (const name of inlineNamedSets(code)) {
        problems.push(`${file}: writes out ${name} inline (import it from ${HOMES.orderStatuses})`);
      }
    }
    if (file !== HOMES.newYorkClock && /America\/New_York/.test(code)) {
      problems.push(`${file}: reads New York time itself (use ${HOMES.newYorkClock})`);
    }
    if (file !== HOMES.notifyQueue && /\bkind:\s*["']dm["']/.test(code)) {
      problems.push(`${file}: builds a direct message itself (use directMessage in ${HOMES.notifyQueue})`);
    }
    if (file !== HOMES.notifyQueue && /\bNOTIFY_QUEUE\s*\.\s*send(?:Batch)?\s*\(/.test(code)) {
      problems.push(`${file}: sends to NOTIFY_QUEUE itself (use the producers in ${HOMES.notifyQueue})`);
    }
    for (const name of DECLARED_ONCE) if (declares(code, name)) declaredIn.get(name)?.push(file);
    byBaseName.get(file.split("/").pop() ?? "")?.push(file);
  }
  for (const [name, files] of declaredIn) {
    if (files.length > 1) problems.push(`${name} is declared in ${files.length} modules: ${files.join(", ")}`);
  }
  for (const [name, files] of byBaseName) {
    if (files.length > 1) problems.push(`${files.length} modules are named ${name}: ${files.join(", ")}`);
  }
  return problems;
}

describe("one definition of each thing", () => {
  it("Scenario: Each shared definition lives in one module", () => {
    const sources = projectSources();
    for (const file of Object.values(HOMES)) expect(Object.keys(sources)).toContain(file);
    expect(duplicateDefinitions(sources)).toEqual([]);
  });

  it("Scenario: The definition guard catches a second copy", () => {
    const sources = {
      [HOMES.orderStatuses]: 'export const ORDER_STATUSES = ["queued", "submitted"] as const;',
      [HOMES.newYorkClock]: 'const NEW_YORK = { timeZone: "America/New_York" };',
      [HOMES.notifyQueue]: 'await env.NOTIFY_QUEUE.send({ kind: "dm", key });\nexport function directMessage() {}',
      "durable-objects/executor/order-flow.ts": [
        'const TERMINAL = new Set(["filled", "canceled", "rejected", "expired", "failed"]);',
        'const from: OrderStatus[] = ["queued"];',
        'await transition(order.id, { from: ["queued", "submitted", "partially_filled"], to: "canceled" });',
        'if (["submitted", "partially_filled", "filled"].includes(found.status)) return found;',
        '// const OPEN = ["submitted", "partially_filled"];',
        'const LEGS = ["entry", "stop"];',
      ].join("\n"),
      "platform/db/tenant/execution.ts": [
        'export const OPEN_ORDER_STATUSES: readonly OrderStatus[] = ["submitted", "partially_filled"];',
        "const due = sql`status in ('partially_filled', 'submitted') or status = 'failed'`;",
      ].join("\n"),
      "durable-objects/executor/fan-out.ts":
        'const CLOCK = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York" });',
      "workers/billing/notify.ts": [
        'const dm = { kind: "dm", key: input.key };',
        "await ctx.env.NOTIFY_QUEUE.send(dm);",
      ].join("\n"),
      "durable-objects/executor/local-state.ts": "export const DOUBLE_POST_WINDOW_MS = 5_000;",
      "shared/execution/signal-gate.ts": "export const DOUBLE_POST_WINDOW_MS = 5_000;",
      "shared/billing/entitlements.ts": "export function entitlements() {}",
      "platform/billing/entitlements.ts": "export async function loadEntitlements() {}",
    };
    expect(duplicateDefinitions(sources)).toEqual([
      "durable-objects/executor/order-flow.ts: declares a list of order statuses (use shared/orders/state-machine.ts)",
      "durable-objects/executor/order-flow.ts: writes out TERMINAL_STATUSES inline (import it from shared/orders/state-machine.ts)",
      "durable-objects/executor/order-flow.ts: writes out UNSETTLED_STATUSES inline (import it from shared/orders/state-machine.ts)",
      "platform/db/tenant/execution.ts: declares a list of order statuses (use shared/orders/state-machine.ts)",
      "platform/db/tenant/execution.ts: writes out WORKING_STATUSES inline (import it from shared/orders/state-machine.ts)",
      "platform/db/tenant/execution.ts: writes out WORKING_STATUSES inline (import it from shared/orders/state-machine.ts)",
      "durable-objects/executor/fan-out.ts: reads New York time itself (use shared/market/new-york.ts)",
      "workers/billing/notify.ts: builds a direct message itself (use directMessage in platform/notifications/notify-queue.ts)",
      "workers/billing/notify.ts: sends to NOTIFY_QUEUE itself (use the producers in platform/notifications/notify-queue.ts)",
      "DOUBLE_POST_WINDOW_MS is declared in 2 modules: durable-objects/executor/local-state.ts, shared/execution/signal-gate.ts",
      "2 modules are named entitlements.ts: shared/billing/entitlements.ts, platform/billing/entitlements.ts",
    ]);
  });
});
