import { describe, expect, it } from "vitest";
import { rememberingDiscordIds } from "../../platform/notifications/notify-queue";

/** A lookup over a fixed table that counts what it was asked. */
function countingLookup(table: Record<string, string>) {
  const asked: string[] = [];
  return {
    asked,
    lookup: async (userId: string) => {
      asked.push(userId);
      return table[userId] ?? null;
    },
  };
}

describe("the executor's Discord ids", () => {
  it("Scenario: A member's Discord id is read once and kept", async () => {
    const users = countingLookup({ a: "100000000000000001", b: "100000000000000002", c: "100000000000000003" });
    const discordIdOf = rememberingDiscordIds(users.lookup, 2);

    expect(await discordIdOf("a")).toBe("100000000000000001");
    expect(await discordIdOf("a")).toBe("100000000000000001");
    expect(users.asked).toEqual(["a"]);

    // Not found: asked again next time (the user may be made meanwhile), never kept as missing.
    expect(await discordIdOf("gone")).toBeNull();
    expect(await discordIdOf("gone")).toBeNull();
    expect(users.asked).toEqual(["a", "gone", "gone"]);

    // Beyond the limit the least recently asked goes: a was asked after b, so b is dropped for c.
    await discordIdOf("b");
    await discordIdOf("a");
    await discordIdOf("c");
    users.asked.length = 0;
    expect(await discordIdOf("a")).toBe("100000000000000001");
    expect(await discordIdOf("c")).toBe("100000000000000003");
    expect(users.asked).toEqual([]);
    expect(await discordIdOf("b")).toBe("100000000000000002");
    expect(users.asked).toEqual(["b"]);
  });
});
