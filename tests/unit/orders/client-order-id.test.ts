import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLIENT_ORDER_ID_LENGTH, clientOrderId, isClientOrderId } from "../../../shared/orders";

const parts = { communityId: "c-1", signalId: "s-1", followerId: "u-1", leg: "entry" };

describe("client order ids", () => {
  it("Scenario: Client order ids are deterministic 20-character alphanumerics", async () => {
    const id = await clientOrderId(parts);
    expect(id).toHaveLength(CLIENT_ORDER_ID_LENGTH);
    expect(id).toMatch(/^[0-9a-z]{20}$/);
    expect(isClientOrderId(id)).toBe(true);
    expect(await clientOrderId({ ...parts })).toBe(id);

    const variants = await Promise.all([
      clientOrderId({ ...parts, communityId: "c-2" }),
      clientOrderId({ ...parts, signalId: "s-2" }),
      clientOrderId({ ...parts, followerId: "u-2" }),
      clientOrderId({ ...parts, leg: "stop" }),
      clientOrderId({ ...parts, leg: "tp1" }),
      // Moving characters between parts changes the id too.
      clientOrderId({ ...parts, communityId: "c-1s", signalId: "-1" }),
    ]);
    expect(new Set([id, ...variants]).size).toBe(variants.length + 1);
  });

  it("every input gives a well-formed id, and distinct inputs distinct ids", async () => {
    const partsArb = fc.record({
      communityId: fc.string({ maxLength: 40 }),
      signalId: fc.string({ maxLength: 40 }),
      followerId: fc.string({ maxLength: 40 }),
      leg: fc.constantFrom("entry", "stop", "exit", "tp1", "tp2", "tp3"),
    });
    await fc.assert(
      fc.asyncProperty(partsArb, partsArb, async (a, b) => {
        const [idA, idB] = await Promise.all([clientOrderId(a), clientOrderId(b)]);
        expect(idA).toMatch(/^[0-9a-z]{20}$/);
        const same =
          a.communityId === b.communityId &&
          a.signalId === b.signalId &&
          a.followerId === b.followerId &&
          a.leg === b.leg;
        expect(idA === idB).toBe(same);
      }),
      { numRuns: 300 },
    );
  });
});
