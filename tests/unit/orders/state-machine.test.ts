import { describe, expect, it } from "vitest";
import { ConflictError } from "../../../shared/errors";
import {
  assertTransition,
  canTransition,
  IllegalOrderTransitionError,
  isTerminal,
  ORDER_STATUSES,
  type OrderStatus,
  TERMINAL_STATUSES,
} from "../../../shared/orders";

// Rows: from. Columns, in ORDER_STATUSES order: queued, submitted, partially_filled, filled, rejected, canceled,
// expired, failed. Y: allowed.
const TABLE: Record<OrderStatus, string> = {
  queued: ". Y . . Y Y . Y",
  submitted: ". . Y Y Y Y Y .",
  partially_filled: ". . Y Y . Y Y .",
  filled: ". . . . . . . .",
  rejected: ". . . . . . . .",
  canceled: ". . . . . . . .",
  expired: ". . . . . . . .",
  failed: ". . . . . . . .",
};

describe("order state machine", () => {
  it("Scenario: Order states move only along allowed transitions", () => {
    expect(ORDER_STATUSES).toEqual([
      "queued",
      "submitted",
      "partially_filled",
      "filled",
      "rejected",
      "canceled",
      "expired",
      "failed",
    ]);
    expect([...TERMINAL_STATUSES].sort()).toEqual(["canceled", "expired", "failed", "filled", "rejected"]);
    for (const from of ORDER_STATUSES) {
      const row = TABLE[from].trim().split(/\s+/);
      ORDER_STATUSES.forEach((to, i) => {
        const allowed = row[i] === "Y";
        expect({ from, to, allowed: canTransition(from, to) }).toEqual({ from, to, allowed });
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to)).toThrow(IllegalOrderTransitionError);
      });
      expect(isTerminal(from)).toBe(row.every((cell) => cell === "."));
    }

    // An illegal move is a 409 Conflict with a stable code.
    try {
      assertTransition("filled", "canceled");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ status: 409, code: "ILLEGAL_ORDER_TRANSITION", from: "filled", to: "canceled" });
      expect((error as Error).message).toBe("An order cannot go from filled to canceled.");
    }

    // Reconciliation alone may adopt a fill that raced a cancel.
    expect(canTransition("canceled", "filled")).toBe(false);
    expect(canTransition("canceled", "filled", { adoptLateFill: true })).toBe(true);
    expect(canTransition("canceled", "partially_filled", { adoptLateFill: true })).toBe(true);
    expect(() => assertTransition("canceled", "filled", { adoptLateFill: true })).not.toThrow();
    for (const from of ["expired", "rejected", "filled"] as const) {
      expect(canTransition(from, "filled", { adoptLateFill: true })).toBe(false);
    }
    // A dead-lettered order that reached the broker after all is adopted the same way.
    expect(canTransition("failed", "submitted")).toBe(false);
    expect(canTransition("failed", "submitted", { adoptLateFill: true })).toBe(true);
    expect(canTransition("canceled", "submitted", { adoptLateFill: true })).toBe(false);
  });
});
