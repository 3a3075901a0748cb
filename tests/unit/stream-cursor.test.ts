import { describe, expect, it } from "vitest";
import { StreamCursor } from "../../shared/realtime/stream-cursor";

describe("a client's stream cursor", () => {
  it("follows each stream from the welcome's heads and flags only its own gaps", () => {
    const cursor = new StreamCursor({ "orders:member": 4, "signals:community": 7 });
    expect(cursor.accept({ seq: 9, stream: "orders:member", prev: 4 })).toBe("in_order");
    expect(cursor.accept({ seq: 10, stream: "signals:community", prev: 7 })).toBe("in_order");
    // seq 11 and 12 went to others; 13 chains onto 9, so nothing of this stream was missed.
    expect(cursor.accept({ seq: 13, stream: "orders:member", prev: 9 })).toBe("in_order");
    // 15's stream says 14 came before it: this client missed 14.
    expect(cursor.accept({ seq: 15, stream: "orders:member", prev: 14 })).toBe("gap");
    expect(cursor.accept({ seq: 16, stream: "orders:member", prev: 15 })).toBe("in_order");
  });

  it("takes new heads from a subscribed frame, so a widened channel starts without a false gap", () => {
    const cursor = new StreamCursor({ "orders:member": 0 });
    expect(cursor.accept({ seq: 21, stream: "portfolio:member", prev: 20 })).toBe("gap");
    cursor.reset({ "signals:community": 30 });
    expect(cursor.accept({ seq: 31, stream: "signals:community", prev: 30 })).toBe("in_order");
    expect(cursor.accept({ seq: 32, stream: "orders:member", prev: 0 })).toBe("in_order");
  });
});
