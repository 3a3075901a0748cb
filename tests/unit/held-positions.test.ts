import { describe, expect, it } from "vitest";
import { heldPositionButtons, verifyComponentId } from "../../shared/discord/components";
import { awaitsConfirmation } from "../../shared/execution/follow-mode";
import {
  closingHeldMessage,
  exitNotTakenMessage,
  type HeldPosition,
  keptHeldMessage,
} from "../../shared/notifications/order-messages";

const SECRET = "a-session-secret-of-enough-length-0123456789";
const CALL = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };

const shortSell = {
  assetClass: "equity",
  symbol: "TSLA",
  side: "buy_to_cover",
  quantity: 5,
  leg: "exit",
  orderType: "market",
  intent: {},
};

describe("when an order waits for its member", () => {
  it("asks in confirm mode for entries only, unless the follow asks for exits too", () => {
    const confirm = { mode: "confirm" as const, tradingMode: "paper" as const };
    expect(awaitsConfirmation(confirm, true)).toBe(true);
    expect(awaitsConfirmation(confirm, false)).toBe(false);
    expect(awaitsConfirmation({ ...confirm, exits: "auto" }, false)).toBe(false);
    expect(awaitsConfirmation({ ...confirm, exits: "confirm" }, false)).toBe(true);
    expect(awaitsConfirmation({ mode: "auto", exits: "confirm", tradingMode: "live" }, false)).toBe(false);
    expect(awaitsConfirmation({ mode: null, tradingMode: "live" }, true)).toBe(true);
    expect(awaitsConfirmation({ mode: null, exits: null, tradingMode: "live" }, false)).toBe(false);
  });
});

describe("a position an exit did not close", () => {
  it("names the contract held and what Close now does for a short", () => {
    const held: HeldPosition = {
      instrument: { assetClass: "option", symbol: "AAPL", option: CALL },
      direction: "short",
      quantity: 2,
    };
    const exit = { ...shortSell, assetClass: "option", symbol: "AAPL", quantity: 2, intent: { option: CALL } };
    expect(exitNotTakenMessage(exit, "you canceled it", held, 24)).toBe(
      "⚠️ Exit not taken (you canceled it): buy to cover 2 × AAPL 20 Dec 2026 $190 Call at market (exit). You still hold 2 × AAPL 20 Dec 2026 $190 Call (short): nothing was sent to the broker, so the position is open. [Close now] buys it back at market; [Keep] leaves it as it is. The buttons work for 24 hours.",
    );
    expect(keptHeldMessage(held)).toBe(
      "👌 Kept: you still hold 2 × AAPL 20 Dec 2026 $190 Call (short). Nothing was sent; close it any time with /trade.",
    );
    expect(closingHeldMessage(shortSell)).toBe(
      "📤 Closing: buy to cover 5 × TSLA at market (exit). You get a message when it fills.",
    );
  });

  it("signs Close now and Keep for the exit, valid for the offer's lifetime", async () => {
    const orderId = crypto.randomUUID();
    const [row] = (await heldPositionButtons(SECRET, orderId, 3600)) as {
      components: { custom_id: string; label: string }[];
    }[];
    const [close, keep] = row?.components ?? [];
    expect([close?.label, keep?.label]).toEqual(["Close now", "Keep"]);
    const verified = await verifyComponentId(SECRET, close?.custom_id ?? "");
    expect(verified).toMatchObject({ ok: true, kind: "held", action: "close", id: orderId });
    expect(await verifyComponentId(SECRET, keep?.custom_id ?? "", { nowMs: Date.now() + 3601_000 })).toEqual({
      ok: false,
      reason: "expired",
      kind: "held",
    });
  });
});
