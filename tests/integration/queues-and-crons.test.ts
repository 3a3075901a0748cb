import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runBatch } from "../support/queues";

/** The test-only service_binding_extra_handlers flag adds scheduled() to the entry's binding. */
interface ScheduledFetcher {
  scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown>;
}

const deadLetterRows = (messageId: string) =>
  env.DB.prepare("SELECT queue, message_id, community_id, body, attempts FROM dead_letters WHERE message_id = ?")
    .bind(messageId)
    .all();

describe("queue dispatch", () => {
  it("Scenario: A dead-lettered message is stored for an operator", async () => {
    const body = { communityId: "c-dlq", orderId: "o-1" };
    const { result, ids } = await runBatch("order-submissions-dlq", [body]);
    expect(result.explicitAcks).toEqual(ids);
    const { results } = await deadLetterRows(ids[0] as string);
    expect(results).toEqual([
      {
        queue: "order-submissions",
        message_id: ids[0],
        community_id: "c-dlq",
        body: JSON.stringify(body),
        attempts: 1,
      },
    ]);
  });

  it("Scenario: A redelivered dead letter is stored once", async () => {
    const id = crypto.randomUUID();
    await runBatch("notifications-dlq", [{ kind: "dm" }], { ids: [id] });
    const again = await runBatch("notifications-dlq", [{ kind: "dm" }], { ids: [id] });
    expect(again.result.explicitAcks).toEqual([id]);
    expect((await deadLetterRows(id)).results).toHaveLength(1);
  });

  it("Scenario: A dead letter keeps its real attempt count and last error", async () => {
    const body = { orderId: `o-${crypto.randomUUID()}` };
    await runBatch("order-submissions", [body], { attempts: 11 });
    await runBatch("order-submissions-dlq", [body]);
    const row = await env.DB.prepare("SELECT attempts, last_error FROM dead_letters WHERE body = ?")
      .bind(JSON.stringify(body))
      .first<{ attempts: number; last_error: string }>();
    expect(row?.attempts).toBe(11);
    expect(row?.last_error).toMatch(/invalid order message/);
  });

  it("Scenario: A malformed queue message is kept, never dropped", async () => {
    const { result, ids } = await runBatch("order-submissions", [{ orderId: "o-2" }]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    expect(result.explicitAcks).toEqual([]);
  });
});

describe("cron dispatch", () => {
  const DAY = 24 * 60 * 60 * 1000;

  it("Scenario: Daily housekeeping prunes expired sessions and old webhook ids", async () => {
    const now = Date.now();
    const expired = crypto.randomUUID();
    const live = crypto.randomUUID();
    const oldEvent = crypto.randomUUID();
    const recentEvent = crypto.randomUUID();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO sessions (id, user_id, expires_at) VALUES (?, 'u', ?)").bind(expired, now - 8 * DAY),
      env.DB.prepare("INSERT INTO sessions (id, user_id, expires_at) VALUES (?, 'u', ?)").bind(live, now + DAY),
      env.DB.prepare(
        "INSERT INTO webhook_events (id, provider, event_id, event_type, received_at) VALUES (?, 'stripe', ?, 't', ?)",
      ).bind(oldEvent, oldEvent, now - 31 * DAY),
      env.DB.prepare(
        "INSERT INTO webhook_events (id, provider, event_id, event_type, received_at) VALUES (?, 'stripe', ?, 't', ?)",
      ).bind(recentEvent, recentEvent, now - DAY),
    ]);

    await (exports.default as unknown as ScheduledFetcher).scheduled({ cron: "0 2 * * *", scheduledTime: now });

    const sessions = await env.DB.prepare("SELECT id FROM sessions WHERE id IN (?, ?)").bind(expired, live).all();
    expect(sessions.results.map((r) => r.id)).toEqual([live]);
    const events = await env.DB.prepare("SELECT id FROM webhook_events WHERE id IN (?, ?)")
      .bind(oldEvent, recentEvent)
      .all();
    expect(events.results.map((r) => r.id)).toEqual([recentEvent]);
  });

  it("Scenario: Every configured cron expression has jobs", async () => {
    const { JOBS_BY_CRON } = await import("../../workers/cron");
    for (const cron of ["*/5 * * * *", "*/15 * * * *", "0 2 * * *"]) {
      expect(JOBS_BY_CRON[cron]?.length).toBeGreaterThan(0);
    }
  });
});
