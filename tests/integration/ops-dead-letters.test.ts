import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { call, errorOf, opsHeaders } from "../support/http";

async function insertDeadLetter(queue: string, body: unknown, createdAt = Date.now()) {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO dead_letters (id, queue, message_id, body, attempts, created_at) VALUES (?, ?, ?, ?, 1, ?)",
  )
    .bind(id, queue, crypto.randomUUID(), JSON.stringify(body), createdAt)
    .run();
  return id;
}

describe("operator dead-letter API", () => {
  it("Scenario: Operator endpoints require the operator token", async () => {
    const none = await call("/api/v1/ops/dead-letters");
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("UNAUTHORIZED");
    const wrong = await call("/api/v1/ops/dead-letters", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe("INVALID_TOKEN");
  });

  it("Scenario: An operator lists dead letters newest first", async () => {
    const base = Date.now() + 10_000_000;
    const older = await insertDeadLetter("notifications", { n: 1 }, base);
    const newer = await insertDeadLetter("notifications", { n: 2 }, base + 1);
    const res = await call("/api/v1/ops/dead-letters?queue=notifications&limit=2", { headers: opsHeaders() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { deadLetters: Array<{ id: string; body: unknown }>; nextBefore: number };
    expect(body.deadLetters.map((d) => d.id)).toEqual([newer, older]);
    expect(body.deadLetters[0]?.body).toEqual({ n: 2 });
    expect(body.nextBefore).toBe(base);
  });

  it("Scenario: An invalid listing query is a 400", async () => {
    const res = await call("/api/v1/ops/dead-letters?limit=0", { headers: opsHeaders() });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.details?.[0]).toMatchObject({ path: "limit" });
  });

  it("Scenario: Replaying a dead letter sends it back to its queue once", async () => {
    const id = await insertDeadLetter("order-submissions", { orderId: "o-replay" });
    const send = vi.spyOn(env.ORDER_QUEUE, "send");
    try {
      const res = await call(`/api/v1/ops/dead-letters/${id}/replay`, { method: "POST", headers: opsHeaders() });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { deadLetter: { replayCount: number; replayedAt: number } };
      expect(body.deadLetter.replayCount).toBe(1);
      expect(send).toHaveBeenCalledWith({ orderId: "o-replay" });

      const again = await call(`/api/v1/ops/dead-letters/${id}/replay`, { method: "POST", headers: opsHeaders() });
      expect(again.status).toBe(409);
      expect((await errorOf(again)).code).toBe("ALREADY_REPLAYED");
      expect(send).toHaveBeenCalledTimes(1);

      const forced = await call(`/api/v1/ops/dead-letters/${id}/replay?force=1`, {
        method: "POST",
        headers: opsHeaders(),
      });
      expect(forced.status).toBe(202);
      expect(send).toHaveBeenCalledTimes(2);
    } finally {
      send.mockRestore();
    }
  });

  it("Scenario: Replaying an unknown dead letter is a 404", async () => {
    const res = await call(`/api/v1/ops/dead-letters/${crypto.randomUUID()}/replay`, {
      method: "POST",
      headers: opsHeaders(),
    });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("DEAD_LETTER_NOT_FOUND");
  });
});
