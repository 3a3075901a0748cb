import { describe, expect, it } from "vitest";
import { afterSignal, namesExitQuantity, type ProviderPosition, positionClosedBy } from "../../../shared/risk";
import { signal } from "./fixtures";

const NVDA = "NVDA";
const nvda = (overrides: Parameters<typeof signal>[0]) => signal({ symbol: "NVDA", ...overrides });

describe("a provider's position from their signals", () => {
  it("adds entries with quantities, takes exits from it, and forgets its size after an entry without one", () => {
    let held: ProviderPosition[] = [];
    held = afterSignal(held, nvda({ action: "buy", quantity: 40 }));
    held = afterSignal(held, nvda({ action: "buy", quantity: 20 }));
    expect(held).toEqual([{ instrument: NVDA, direction: "long", quantity: 60 }]);
    held = afterSignal(held, nvda({ action: "close", quantity: 15 }));
    held = afterSignal(held, nvda({ action: "sell", quantityPercent: 50 }));
    expect(held).toEqual([{ instrument: NVDA, direction: "long", quantity: 22.5 }]);
    // A cover acts on a short only; the long is untouched.
    expect(afterSignal(held, nvda({ action: "cover", quantity: 5 }))).toEqual(held);

    held = afterSignal(held, nvda({ action: "buy", quantity: null }));
    expect(held).toEqual([{ instrument: NVDA, direction: "long", quantity: null }]);
    expect(positionClosedBy(held, nvda({ action: "sell", quantity: 10 }))?.quantity).toBeNull();
    held = afterSignal(held, nvda({ action: "close" }));
    expect(held).toEqual([]);
    held = afterSignal(held, nvda({ action: "short", quantity: 10 }));
    expect(positionClosedBy(held, nvda({ action: "cover", quantity: 5 }))).toMatchObject({ quantity: 10 });
  });

  it("knows which exits name a quantity", () => {
    expect(namesExitQuantity(nvda({ action: "close", quantity: 10 }))).toBe(true);
    expect(namesExitQuantity(nvda({ action: "close", quantityPercent: 50 }))).toBe(false);
    expect(namesExitQuantity(nvda({ action: "buy", quantity: 10 }))).toBe(false);
    expect(namesExitQuantity(nvda({ action: "sell", quantity: null }))).toBe(false);
  });
});
