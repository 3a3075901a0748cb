import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { DEMO_COMMUNITY, DEMO_USERS, seedStatements } from "../../scripts/lib/seed-data.ts";

async function seed() {
  await env.DB.batch((await seedStatements()).map((statement) => env.DB.prepare(statement)));
}

describe("demo seed", () => {
  it("Scenario: The demo seed is idempotent and its audit chain verifies", async () => {
    await seed();
    await seed();
    const tenant = forCommunity(database(env.DB), DEMO_COMMUNITY.id);
    expect((await tenant.community.get())?.guildId).toBe(DEMO_COMMUNITY.guildId);
    expect((await tenant.memberships.list()).map((m) => m.userId).sort()).toEqual(DEMO_USERS.map((u) => u.id).sort());
    expect(await tenant.audit.verify()).toMatchObject({ ok: true, count: 1 });

    // The application continues the seeded chain.
    await tenant.audit.append({ event: "community.halted", actorId: "demo-owner", data: { reason: "drill" } });
    await seed();
    expect(await tenant.audit.verify()).toMatchObject({ ok: true, count: 2 });
  });
});
