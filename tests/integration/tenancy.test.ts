/// <reference types="vite/client" />
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { featureFlagDefinitions } from "../../platform/db/feature-flags";
import { upsertUser } from "../../platform/db/users";
import { TENANT_TABLES } from "../../shared/db/schema";
import { newCommunity } from "../support/communities";

const db = database(env.DB);

async function newUser() {
  return upsertUser(db, { discordId: crypto.randomUUID(), username: "member" });
}

/**
 * The two folders allowed to name tenant tables: the tenant repositories (every function scoped to one community)
 * and the cross-community queries (each listed below by name, with the reason it crosses communities).
 */
const TENANT_FOLDER = "platform/db/tenant/";
const CROSS_COMMUNITY_FOLDER = "platform/db/cross-community/";
const isTenantGateway = (file: string) => file.startsWith(TENANT_FOLDER) || file.startsWith(CROSS_COMMUNITY_FOLDER);

/**
 * Every function in the cross-community folder that takes a database without a community scope, by module. A
 * module of that folder missing here, an unlisted unscoped function, and a listed one that is gone all fail.
 */
const CROSS_COMMUNITY_QUERIES: Record<string, readonly string[]> = {
  /** Billing customers and subscriptions by provider id, before the community is known. */
  "platform/db/cross-community/billing-directory.ts": ["billingDirectory"],
  /** A community by id or guild id, and registering a guild (before any community scope exists). */
  "platform/db/cross-community/community-directory.ts": ["communityDirectory"],
  /** Every interaction starts from a guild id: its community and the member in it, in one round trip. */
  "platform/db/cross-community/guild-member.ts": ["guildMember"],
  /**
   * Sign-out closes a session's sockets in the hub of every community its member belongs to; a signed-in member's
   * dashboard lists their communities (and each one's audit records their sign-ins).
   */
  "platform/db/cross-community/member-communities.ts": ["communitiesOfMember", "listedCommunities"],
  /** Platform figures for operators (orders by status, dead letters). */
  "platform/db/cross-community/ops-metrics.ts": ["platformFigures"],
  /** A signal webhook request carries only its key: the webhook and its community, before any scope exists. */
  "platform/db/cross-community/signal-webhook-keys.ts": ["activeWebhookByKeyHash"],
  /** Secrets sealed before the credential vault: which communities the daily job must move to their data keys. */
  "platform/db/cross-community/master-sealed-secrets.ts": ["communitiesWithMasterSealedSecrets"],
  /**
   * A DM button carries only an order id, or for an offer over a position the signal's id and a digest: which
   * community (and member) it belongs to.
   */
  "platform/db/cross-community/order-owner.ts": ["orderOwner", "positionOfferCommunity"],
  /** A trader's own billing records for their data export: a trader plan belongs to no community. */
  "platform/db/cross-community/trader-billing.ts": ["traderBillingOf"],
  /** The reconciliation cron: which communities have open orders, and its own run log. */
  "platform/db/cross-community/reconciliation.ts": [
    "communitiesToReconcile",
    "startReconciliationRun",
    "finishReconciliationRun",
  ],
};

/**
 * Unscoped functions: none at all in the tenant folder, and in the cross-community folder only the listed ones
 * (a function is scoped when it takes a `TenantScope`, or a database together with a `communityId`).
 */
function crossCommunityViolations(sources: Record<string, string>): string[] {
  const problems: string[] = [];
  const found = new Set<string>();
  for (const [file, source] of Object.entries(sources)) {
    const inTenantFolder = file.startsWith(TENANT_FOLDER);
    const inCrossFolder = file.startsWith(CROSS_COMMUNITY_FOLDER);
    if (!inTenantFolder && !inCrossFolder) continue;
    if (inCrossFolder && !(file in CROSS_COMMUNITY_QUERIES)) {
      problems.push(`${file}: a cross-community module that the guard does not list`);
    }
    const allowed = CROSS_COMMUNITY_QUERIES[file] ?? [];
    for (const { name, params } of functionsOf(withoutComments(source))) {
      const takesDatabase = /:\s*(?:(?:Database|D1Database)\b|TenantScope\s*\[\s*["']db["']\s*\])/.test(params);
      const scoped = /:\s*TenantScope\b(?!\s*\[)/.test(params) || /\bcommunityId\s*:\s*string\b/.test(params);
      if (!takesDatabase || scoped) continue;
      if (inCrossFolder && allowed.includes(name)) found.add(`${file}#${name}`);
      else if (inTenantFolder) {
        problems.push(
          `${file}: ${name}() takes a database without a community scope (cross-community queries go in ${CROSS_COMMUNITY_FOLDER})`,
        );
      } else problems.push(`${file}: ${name}() takes a database without a community scope and is not a listed query`);
    }
  }
  for (const [file, names] of Object.entries(CROSS_COMMUNITY_QUERIES)) {
    if (!(file in sources)) continue;
    for (const name of names) {
      if (!found.has(`${file}#${name}`)) problems.push(`${file}: listed query ${name}() no longer exists`);
    }
  }
  return problems;
}

/** Named functions (declarations and arrow constants) with their parameter lists, nested parentheses included. */
function functionsOf(code: string): { name: string; params: string }[] {
  const functions: { name: string; params: string }[] = [];
  const starts = /\bfunction\s+(\w+)\s*(?:<[^>]*>)?\s*\(|\b(?:const|let)\s+(\w+)\s*(?::[^=]+)?=\s*(?:async\s*)?\(/g;
  for (const match of code.matchAll(starts)) {
    const name = match[1] ?? match[2] ?? "";
    let depth = 1;
    let i = (match.index ?? 0) + match[0].length;
    const from = i;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === "(") depth++;
      else if (code[i] === ")") depth--;
    }
    functions.push({ name, params: code.slice(from, i - 1) });
  }
  return functions;
}

const GUARDED = { ...TENANT_TABLES, communities: "communities" } as const;
const SYMBOLS = Object.keys(GUARDED);
const SQL_NAMES = Object.values(GUARDED);
const alternation = (names: readonly string[]) => names.join("|");

/** Finds code outside the gateways that could reach tenant rows without a community scope. */
function tenantTableViolations(sources: Record<string, string>): string[] {
  const problems: string[] = [];
  const rawSql = new RegExp(
    String.raw`\b(?:from|into|update|join|table)\s+\\?[\x60"'\[]?(${alternation(SQL_NAMES)})\b`,
    "gi",
  );
  const relationalQuery = new RegExp(String.raw`\.query\s*\.\s*(${alternation(SYMBOLS)})\b`, "g");
  for (const [file, source] of Object.entries(sources)) {
    if (isTenantGateway(file)) continue;
    const code = withoutComments(source);
    for (const [, specifiers = ""] of code.matchAll(
      /\b(?:import|export)\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["'][^"']*shared\/db\/schema(?:\.ts)?["']/g,
    )) {
      for (const specifier of specifiers.split(",")) {
        const name =
          specifier
            .trim()
            .replace(/^type\s+/, "")
            .split(/\s+as\s+/)[0] ?? "";
        if (SYMBOLS.includes(name)) problems.push(`${file}: imports ${name} from shared/db/schema`);
      }
    }
    for (const [, namespace] of code.matchAll(
      /\bimport\s+\*\s+as\s+(\w+)\s+from\s*["'][^"']*shared\/db\/schema(?:\.ts)?["']/g,
    )) {
      const member = new RegExp(String.raw`\b${namespace}\s*\.\s*(${alternation(SYMBOLS)})\b`, "g");
      for (const [, name] of code.matchAll(member)) problems.push(`${file}: uses ${namespace}.${name}`);
    }
    if (/\bexport\s+\*\s+from\s*["'][^"']*shared\/db\/schema/.test(code)) {
      problems.push(`${file}: re-exports all of shared/db/schema`);
    }
    for (const [match] of code.matchAll(rawSql)) problems.push(`${file}: raw SQL "${match}"`);
    for (const [match] of code.matchAll(relationalQuery)) problems.push(`${file}: relational query "${match}"`);
  }
  return problems;
}

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'\x60])\/\/.*$/gm, "$1");
}

function projectSources(): Record<string, string> {
  const modules = import.meta.glob<string>(
    ["../../workers/**/*.ts", "../../durable-objects/**/*.ts", "../../platform/**/*.ts"],
    {
      query: "?raw",
      import: "default",
      eager: true,
    },
  );
  return Object.fromEntries(Object.entries(modules).map(([path, source]) => [path.replace(/^(\.\.\/)+/, ""), source]));
}

describe("tenant isolation", () => {
  it("Scenario: A community never sees another community's memberships", async () => {
    const a = (await newCommunity({ name: "A" })).tenant;
    const b = (await newCommunity({ name: "B" })).tenant;
    const [alice, bob] = [await newUser(), await newUser()];
    await a.memberships.upsert(alice.id, "trader");
    await b.memberships.upsert(bob.id, "admin");

    expect((await a.memberships.list()).map((m) => m.userId)).toEqual([alice.id]);
    expect((await b.memberships.list()).map((m) => m.userId)).toEqual([bob.id]);
    expect(await a.memberships.get(bob.id)).toBeNull();
    expect(await b.memberships.get(alice.id)).toBeNull();
  });

  it("Scenario: A community cannot change another community's memberships", async () => {
    const a = (await newCommunity({ name: "A" })).tenant;
    const b = (await newCommunity({ name: "B" })).tenant;
    const bob = await newUser();
    await b.memberships.upsert(bob.id, "trader");

    expect(await a.memberships.remove(bob.id)).toBe(false);
    // Bob may join A too, but that is a new membership in A; B's row is untouched.
    await a.memberships.upsert(bob.id, "owner");
    expect((await b.memberships.get(bob.id))?.role).toBe("trader");
    expect((await a.memberships.get(bob.id))?.role).toBe("owner");
    expect(await a.memberships.remove(bob.id)).toBe(true);
    expect((await b.memberships.get(bob.id))?.role).toBe("trader");
  });

  it("Scenario: A community never sees another community's audit entries", async () => {
    const a = (await newCommunity({ name: "A" })).tenant;
    const b = (await newCommunity({ name: "B" })).tenant;
    await b.audit.append({ event: "billing.plan_changed", data: { plan: "enterprise" } });
    await a.audit.append({ event: "auth.mfa_enrolled" });

    const aEntries = await a.audit.list();
    expect(aEntries.every((entry) => entry.communityId === a.communityId)).toBe(true);
    expect(aEntries.map((entry) => entry.event)).toEqual(["community.created", "auth.mfa_enrolled"]);
    expect((await b.audit.list()).map((entry) => entry.event)).toEqual(["community.created", "billing.plan_changed"]);
    expect(await a.audit.verify()).toMatchObject({ ok: true, count: 2 });
    expect(await b.audit.verify()).toMatchObject({ ok: true, count: 2 });
  });

  it("Scenario: A community cannot change another community's orders or fills", async () => {
    const a = (await newCommunity({ name: "A" })).tenant;
    const b = (await newCommunity({ name: "B" })).tenant;
    const bob = await newUser();
    const { signal } = await b.signals.store({
      providerUserId: bob.id,
      source: "slash",
      sourceId: crypto.randomUUID(),
      sourceTimestamp: Date.now(),
      channelId: null,
      rawText: null,
      normalized: {
        action: "buy",
        assetClass: "equity",
        symbol: "AAPL",
        option: null,
        orderType: "market",
        entry: null,
        quantity: 1,
        quantityPercent: null,
        stopLoss: null,
        takeProfits: [],
        leverage: null,
        timeInForce: null,
      },
    });
    const orderId = crypto.randomUUID();
    await b.execution.insertOrders([
      {
        id: orderId,
        signalId: signal.id,
        userId: bob.id,
        accountRef: "paper",
        broker: "paper",
        clientOrderId: crypto.randomUUID().replaceAll("-", "").slice(0, 20),
        leg: "entry",
        parentOrderId: null,
        symbol: "AAPL",
        assetClass: "equity",
        intent: {
          leg: "entry",
          side: "buy",
          positionEffect: "open",
          assetClass: "equity",
          symbol: "AAPL",
          option: null,
          orderType: "market",
          quantity: 1,
          limitPrice: null,
          stopPrice: null,
          timeInForce: "day",
          nativeBracket: false,
          placeAfterFill: false,
        },
        side: "buy",
        orderType: "market",
        quantity: 1,
        limitPrice: null,
        stopPrice: null,
        cause: "signal",
      },
    ]);
    const before = await b.execution.getOrder(orderId);
    const fill = {
      orderId,
      userId: bob.id,
      executionId: "exec-1",
      quantity: 1,
      price: 100,
      quoteSource: null,
      quoteTimestamp: null,
      delayed: false,
      filledAt: Date.now(),
    };

    expect(
      await a.execution.transition(orderId, { from: ["queued"], to: "canceled", cause: "kill_switch" }),
    ).toBeNull();
    await a.execution.touch(orderId, { attempts: 5, statusReason: "touched by A" });
    expect(await a.execution.cancelQueued("kill_switch", { orderIds: [orderId] })).toEqual([]);
    expect(await a.execution.cancelQueued("kill_switch", { signalId: signal.id })).toEqual([]);
    expect(await a.execution.cancelQueued("kill_switch")).toEqual([]);
    expect(await a.execution.recordFill(fill)).toBe(false);
    await a.execution.setSignalOutcome(signal.id, "refused", "by A", null);

    expect(await b.execution.getOrder(orderId)).toEqual(before);
    expect(await b.execution.orderEvents(orderId)).toHaveLength(1);
    expect(await b.execution.fillsOf(orderId)).toEqual([]);
    expect(await b.execution.recordFill(fill)).toBe(true);
    expect((await b.execution.getSignal(signal.id))?.status).toBe("received");
  });

  it("Scenario: A community never sees or changes another community's flag overrides", async () => {
    const key = `tenancy_${crypto.randomUUID().slice(0, 8)}`;
    await featureFlagDefinitions(db).define({ key, enabledByDefault: false });
    const a = (await newCommunity({ name: "A" })).tenant;
    const b = (await newCommunity({ name: "B" })).tenant;
    await b.flags.setOverride(key, true, "u-admin");

    expect(await b.flags.isEnabled(key)).toBe(true);
    expect(await a.flags.evaluate(key)).toEqual({ enabled: false, reason: "default" });
    expect(await a.flags.overrides()).toEqual([]);
    expect(await a.flags.clearOverride(key)).toBe(false);
    expect(await b.flags.isEnabled(key)).toBe(true);
  });

  it("Scenario: Only the tenant repositories and the cross-community queries touch tenant tables", () => {
    const sources = projectSources();
    expect(Object.keys(sources)).toContain("platform/db/tenant/for-community.ts");
    expect(Object.keys(sources)).toContain("platform/db/cross-community/order-owner.ts");
    expect(Object.keys(sources)).toContain("workers/http/app.ts");
    expect(Object.keys(sources)).toContain("durable-objects/community-executor.ts");
    expect(tenantTableViolations(sources)).toEqual([]);
    expect(crossCommunityViolations(sources)).toEqual([]);
  });

  it("Scenario: Cross-community queries are listed by name and tenant repositories have none", () => {
    const sources = {
      "platform/db/tenant/leaky.ts": [
        'import { orders } from "../../../shared/db/schema";',
        "export async function everyOrder(db: Database, status: string) { return db.select().from(orders); }",
        "const byUser = async (db: TenantScope['db'], userId: string) => db.select().from(orders);",
        "export function scoped(scope: TenantScope) { return scope.db.select().from(orders); }",
        "export async function scopedByArgs(db: Database, communityId: string) { return db.select().from(orders); }",
        "export function pure(row: { communityId: string }) { return row.communityId; }",
      ].join("\n"),
      "platform/db/cross-community/order-owner.ts":
        "export async function orderOwner(\n  db: Database,\n  orderId: string,\n): Promise<{ id: string } | null> { return null; }\n" +
        "export async function positionOfferCommunity(db: Database, offerId: string) { return null; }",
      "platform/db/cross-community/guild-member.ts":
        "export async function memberOfGuild(db: Database, guildId: string) { return null; }",
      "platform/db/cross-community/stray.ts": "export function everything(db: Database) { return db; }",
    };
    expect(crossCommunityViolations(sources)).toEqual([
      "platform/db/tenant/leaky.ts: everyOrder() takes a database without a community scope (cross-community queries go in platform/db/cross-community/)",
      "platform/db/tenant/leaky.ts: byUser() takes a database without a community scope (cross-community queries go in platform/db/cross-community/)",
      "platform/db/cross-community/guild-member.ts: memberOfGuild() takes a database without a community scope and is not a listed query",
      "platform/db/cross-community/stray.ts: a cross-community module that the guard does not list",
      "platform/db/cross-community/stray.ts: everything() takes a database without a community scope and is not a listed query",
      "platform/db/cross-community/guild-member.ts: listed query guildMember() no longer exists",
    ]);
  });

  it("Scenario: The tenancy guard catches a direct tenant table access", () => {
    const bad = {
      "workers/http/routes/leaky.ts": [
        'import { featureFlags, memberships as m } from "../../../shared/db/schema";',
        'import * as schema from "../../../shared/db/schema";',
        "db.select().from(m); db.delete(schema.auditLog);",
        'await env.DB.prepare("SELECT * FROM memberships WHERE user_id = ?").bind(id).all();',
        "await env.DB.prepare(`insert into \\`audit_log\\` values (?)`).run();",
        "await db.query.communities.findMany();",
      ].join("\n"),
      "workers/http/routes/fine.ts": [
        'import { deadLetters } from "../../../shared/db/schema";',
        "// reads from memberships only through forCommunity()",
        "await forCommunity(db, id).memberships.list();",
      ].join("\n"),
      "platform/db/tenant/memberships.ts":
        'import { memberships } from "../../../shared/db/schema"; // SELECT * FROM memberships',
      "platform/db/cross-community/community-directory.ts":
        'import { communities } from "../../../shared/db/schema"; // FROM communities',
    };
    expect(tenantTableViolations(bad)).toEqual([
      "workers/http/routes/leaky.ts: imports memberships from shared/db/schema",
      "workers/http/routes/leaky.ts: uses schema.auditLog",
      'workers/http/routes/leaky.ts: raw SQL "FROM memberships"',
      'workers/http/routes/leaky.ts: raw SQL "into \\`audit_log"',
      'workers/http/routes/leaky.ts: relational query ".query.communities"',
    ]);
  });
});
