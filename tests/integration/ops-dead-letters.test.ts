import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../workers/app";
import { call, errorOf, opsHeaders } from "../support/http";

/** Delivers bodies to a dead-letter queue's consumer as the Queues runtime would. */
async function deadLetter(queue: string, bodies: unknown[]) {
  const ids = bodies.map(() => crypto.randomUUID());
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: ids[i] as string, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await getQueueResult(batch, ctx);
  return ids;
}

const storedRow = (messageId: string) =>
  env.DB.prepare("SELECT id, body FROM dead_letters WHERE message_id = ?")
    .bind(messageId)
    .first<{ id: string; body: string }>();

/** The test-only service_binding_extra_handlers flag adds scheduled() to the entry's binding. */
interface ScheduledFetcher {
  scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown>;
}

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

  it("Scenario: A dead-lettered notification is stored without its interaction token", async () => {
    const token = `aW50ZXJhY3Rpb246${crypto.randomUUID().replaceAll("-", "")}`;
    const linkToken = `eyJhbGciOiJIUzI1NiJ9.${crypto.randomUUID().replaceAll("-", "")}.c2lnbmF0dXJl`;
    const edit = {
      kind: "interaction.edit",
      key: `interaction:${crypto.randomUUID()}:edit:result`,
      communityId: "c-redact",
      applicationId: "100000000000000001",
      token,
      message: {
        content: `Upgrade here: https://trade.example.com/billing/checkout?t=${linkToken} or https://discord.com/api/v10/webhooks/100000000000000001/${token}/messages/@original`,
      },
    };
    const [messageId] = await deadLetter("notifications-dlq", [edit]);
    const row = await storedRow(messageId as string);
    expect(row?.body).toBeDefined();
    expect(row?.body).not.toContain(token);
    expect(row?.body).not.toContain(linkToken);
    expect(JSON.parse(row?.body ?? "{}")).toMatchObject({
      kind: "interaction.edit",
      key: edit.key,
      token: "[redacted]",
      message: {
        content:
          "Upgrade here: https://trade.example.com/billing/checkout?t=[redacted] or https://discord.com/api/v10/webhooks/100000000000000001/[redacted]/messages/@original",
      },
    });

    const listed = await call("/api/v1/ops/dead-letters?queue=notifications&limit=200", { headers: opsHeaders() });
    const text = await listed.text();
    expect(text).toContain(row?.id);
    expect(text).not.toContain(token);
    expect(text).not.toContain(linkToken);
  });

  it("Scenario: A notification whose interaction token was redacted is not replayed", async () => {
    const [editId, dmId] = await deadLetter("notifications-dlq", [
      {
        kind: "interaction.followup",
        key: `interaction:${crypto.randomUUID()}:followup:x`,
        communityId: null,
        applicationId: "100000000000000001",
        token: "an-interaction-token-that-is-long-enough",
        message: { content: "late" },
      },
      {
        kind: "dm",
        key: `dm:${crypto.randomUUID()}`,
        communityId: null,
        discordUserId: "200000000000000002",
        message: { content: "hi" },
      },
    ]);
    // Recorded, not delivered: the DM would otherwise go to Discord after the test.
    const send = vi
      .spyOn(env.NOTIFY_QUEUE, "send")
      .mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } });
    try {
      const edit = await storedRow(editId as string);
      const refused = await call(`/api/v1/ops/dead-letters/${edit?.id}/replay?force=1`, {
        method: "POST",
        headers: opsHeaders(),
      });
      expect(refused.status).toBe(409);
      const error = await errorOf(refused);
      expect(error.code).toBe("NOT_REPLAYABLE");
      expect(error.message).toMatch(/interaction token.*15 minutes/);
      expect(send).not.toHaveBeenCalled();

      const dm = await storedRow(dmId as string);
      const replayed = await call(`/api/v1/ops/dead-letters/${dm?.id}/replay`, {
        method: "POST",
        headers: opsHeaders(),
      });
      expect(replayed.status).toBe(202);
      await replayed.json();
      expect(send).toHaveBeenCalledTimes(1);
      expect(send.mock.calls[0]?.[0]).toMatchObject({ kind: "dm", discordUserId: "200000000000000002" });
    } finally {
      send.mockRestore();
    }
  });

  it("Scenario: Unreplayed dead letters expire after 30 days", async () => {
    const DAY = 24 * 60 * 60 * 1000;
    const now = Date.now();
    const expired = await insertDeadLetter("notifications", { kind: "dm" }, now - 31 * DAY);
    const kept = await insertDeadLetter("notifications", { kind: "dm" }, now - 29 * DAY);
    await (exports.default as unknown as ScheduledFetcher).scheduled({ cron: "0 2 * * *", scheduledTime: now });
    const left = await env.DB.prepare("SELECT id FROM dead_letters WHERE id IN (?, ?)").bind(expired, kept).all();
    expect(left.results.map((r) => r.id)).toEqual([kept]);
  });

  it("Scenario: Dead letters stored before redaction lose their interaction token", async () => {
    const token = `old-interaction-token-${crypto.randomUUID()}`;
    const old = await insertDeadLetter("notifications", {
      kind: "interaction.edit",
      key: "interaction:1:edit:result",
      communityId: null,
      applicationId: "100000000000000001",
      token,
      message: { content: "late" },
    });
    const order = await insertDeadLetter("order-submissions", { communityId: "c", orderId: "o", clientOrderId: "x" });
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.includes("redact_dead_letter_tokens"));
    expect(migration).toBeDefined();
    for (const query of migration?.queries ?? []) await env.DB.prepare(query).run();
    const rows = await env.DB.prepare("SELECT id, body FROM dead_letters WHERE id IN (?, ?) ORDER BY queue")
      .bind(old, order)
      .all<{ id: string; body: string }>();
    expect(rows.results.map((r) => [r.id, JSON.parse(r.body)])).toEqual([
      [old, expect.objectContaining({ kind: "interaction.edit", token: "[redacted]", message: { content: "late" } })],
      [order, { communityId: "c", orderId: "o", clientOrderId: "x" }],
    ]);
  });
});
