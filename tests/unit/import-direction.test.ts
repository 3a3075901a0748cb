import { describe, expect, it } from "vitest";
import { projectSources, withoutComments } from "../support/source-tree";

/**
 * The source tree's layers and what each may import. `shared/` is pure domain code (no bindings); `platform/` is the
 * one binding-aware layer (D1 repositories, notifications, execution and billing services, the typed Durable Object
 * helpers); the Worker (`workers/`) and the Durable Objects (`durable-objects/`) build on both and never import each
 * other. Type-only imports count as imports.
 */
const LAYERS = ["workers", "durable-objects", "platform", "shared"] as const;
type Layer = (typeof LAYERS)[number];

const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  workers: ["workers", "platform", "shared"],
  "durable-objects": ["durable-objects", "platform", "shared"],
  platform: ["platform", "shared"],
  shared: ["shared"],
};

/** The only arrows outside the rule, by importing module and imported module. */
const ALLOWED_EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  {
    from: "workers/app.ts",
    to: "durable-objects/index.ts",
    why: "the Worker's entry module re-exports the Durable Object classes (wrapped for error tracking), as the runtime requires",
  },
];

/** The one module that turns a name into a Durable Object stub. */
const OBJECT_HELPERS = "platform/objects.ts";

/** Route modules: none imports another (shapes two routes share live in workers/http/schemas.ts). */
const ROUTES = "workers/http/routes/";

const SPECIFIER =
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

function layerOf(file: string): Layer | null {
  return LAYERS.find((layer) => file === layer || file.startsWith(`${layer}/`)) ?? null;
}

/** `dir/../x` resolved to a path from the repository root (no extension guessing: only the folder matters). */
function resolve(fromFile: string, specifier: string): string {
  const parts = fromFile.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** Matches `to` against a resolved specifier that may leave out `.ts` or `/index.ts`. */
const names = (resolved: string, to: string) =>
  [resolved, `${resolved}.ts`, `${resolved}/index.ts`].includes(to) || resolved === to.replace(/\.ts$/, "");

function importViolations(sources: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of Object.entries(sources)) {
    const from = layerOf(file);
    if (!from) continue;
    const code = withoutComments(source);
    for (const match of code.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2] ?? "";
      if (from === "shared" && specifier.startsWith("cloudflare:")) {
        problems.push(`${file}: imports ${specifier} (shared/ uses no bindings)`);
        continue;
      }
      if (!specifier.startsWith(".")) continue;
      const target = resolve(file, specifier);
      if (file.startsWith(ROUTES) && target.startsWith(ROUTES)) {
        problems.push(`${file}: imports ${target} (a route never imports another route; see workers/http/schemas.ts)`);
        continue;
      }
      const to = layerOf(target);
      if (!to || MAY_IMPORT[from].includes(to)) continue;
      if (ALLOWED_EXCEPTIONS.some((allowed) => allowed.from === file && names(target, allowed.to))) continue;
      problems.push(`${file}: imports ${target} (${from}/ may not import ${to}/)`);
    }
    if (from === "shared" && /\bEnv\b/.test(code)) problems.push(`${file}: names Env (shared/ uses no bindings)`);
    if (file !== OBJECT_HELPERS && /\.idFromName\s*\(|\.getByName\s*\(/.test(code)) {
      problems.push(`${file}: builds a Durable Object stub itself (use the helpers in ${OBJECT_HELPERS})`);
    }
  }
  return problems;
}

describe("one import direction", () => {
  it("Scenario: The source tree imports in one direction", () => {
    const sources = projectSources();
    for (const file of [
      "workers/app.ts",
      "durable-objects/community-executor.ts",
      OBJECT_HELPERS,
      "shared/errors.ts",
    ]) {
      expect(Object.keys(sources)).toContain(file);
    }
    expect(importViolations(sources)).toEqual([]);
  });

  it("Scenario: The import guard catches every forbidden arrow", () => {
    const sources = {
      "durable-objects/executor/leaky.ts": [
        'import { database } from "../../workers/db/client";',
        'import type { Database } from "../../platform/db/client";',
        "const later = await import('../../workers/queues/order-submissions');",
      ].join("\n"),
      "workers/http/routes/leaky.ts": [
        'import type { CommunityExecutor } from "../../../durable-objects/community-executor";',
        "// import { RateLimiter } from '../../../durable-objects/rate-limiter';",
        'import { forCommunity } from "../../../platform/db/tenant/for-community";',
        'import { OrderSchema } from "./community-orders";',
        'import { errorResponse } from "../schemas";',
      ].join("\n"),
      "platform/execution/leaky.ts": [
        'import type { CommunityExecutor } from "../../durable-objects";',
        'export { sendQueuedOrder } from "../../durable-objects/executor/order-flow";',
        'import { registerReady } from "../../workers/http/routes/ready";',
      ].join("\n"),
      "shared/risk/leaky.ts": [
        'import { database } from "../../platform/db/client";',
        'import { env } from "cloudflare:workers";',
        "export function quota(bindings: Env) { return bindings; }",
      ].join("\n"),
      "workers/app.ts": 'export { CommunityExecutor, RateLimiter, RealtimeHub } from "../durable-objects";',
      "workers/cron/leaky.ts": [
        'export { CommunityExecutor } from "../../durable-objects";',
        "const stub = env.COMMUNITY_EXECUTOR.get(env.COMMUNITY_EXECUTOR.idFromName(communityId));",
      ].join("\n"),
      "platform/objects.ts":
        "export const executorFor = (env: Env, id: string) => env.COMMUNITY_EXECUTOR.getByName(id);",
    };
    expect(importViolations(sources)).toEqual([
      "durable-objects/executor/leaky.ts: imports workers/db/client (durable-objects/ may not import workers/)",
      "durable-objects/executor/leaky.ts: imports workers/queues/order-submissions (durable-objects/ may not import workers/)",
      "workers/http/routes/leaky.ts: imports durable-objects/community-executor (workers/ may not import durable-objects/)",
      "workers/http/routes/leaky.ts: imports workers/http/routes/community-orders (a route never imports another route; see workers/http/schemas.ts)",
      "platform/execution/leaky.ts: imports durable-objects (platform/ may not import durable-objects/)",
      "platform/execution/leaky.ts: imports durable-objects/executor/order-flow (platform/ may not import durable-objects/)",
      "platform/execution/leaky.ts: imports workers/http/routes/ready (platform/ may not import workers/)",
      "shared/risk/leaky.ts: imports platform/db/client (shared/ may not import platform/)",
      "shared/risk/leaky.ts: imports cloudflare:workers (shared/ uses no bindings)",
      "shared/risk/leaky.ts: names Env (shared/ uses no bindings)",
      "workers/cron/leaky.ts: imports durable-objects (workers/ may not import durable-objects/)",
      "workers/cron/leaky.ts: builds a Durable Object stub itself (use the helpers in platform/objects.ts)",
    ]);
  });
});
