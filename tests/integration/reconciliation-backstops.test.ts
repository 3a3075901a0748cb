import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import { fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  deliver,
  executorOf,
  queuedMessages,
  settle,
  submit,
} from "../support/execution";
import { interceptOrderQueue } from "../support/order-queue";

interface ScheduledFetcher {
  scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown>;
}
const runReconciliationCron = () =>
  (exports.default as unknown as ScheduledFetcher).scheduled({ cron: "*/5 * * * *", scheduledTime: Date.now() });

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

describe("reconciliation backstops", () => {
  it("Scenario: Reconciliation visits a community whose only pending order is dead-lettered", async () => {
    const community = await communityWithFollowers(1);
    // A limit buy at 190 with the market at 400 rests at the paper broker; its exits wait for a fill.
    const { signalId } = await submit(community, AAPL_LONG);
    await runInDurableObject(executorOf(community.communityId), async (instance: CommunityExecutor) => {
      const desk = (instance as unknown as { parts: { paper: { quotes: { anchor?(s: string, p: number): void } } } })
        .parts.paper;
      desk.quotes.anchor?.("AAPL", 400);
    });
    await deliver("order-submissions", await queuedMessages(community));
    const orders = await community.tenant.execution.listOrders({ signalId });
    expect(orders).toMatchObject([{ leg: "entry", status: "submitted" }]);
    const [order] = orders;
    // The DLQ gave up on it after an unknown outcome: failed, without the broker's id.
    await env.DB.prepare("update orders set status = 'failed', broker_order_id = null where id = ?")
      .bind(order?.id ?? "")
      .run();

    await runReconciliationCron();
    const adopted = await community.tenant.execution.getOrder(order?.id ?? "");
    expect(adopted).toMatchObject({ status: "submitted", brokerOrderId: order?.brokerOrderId });
    const events = await community.tenant.execution.orderEvents(order?.id ?? "");
    expect(events.at(-1)).toMatchObject({ fromStatus: "failed", toStatus: "submitted", cause: "late_fill_adopted" });
    await settle(community);
  });

  it("Scenario: Reconciliation sends another message for a queued order left without one", async () => {
    const community = await communityWithFollowers(1);
    const queue = interceptOrderQueue();
    try {
      // The order's message is recorded here and never consumed: as good as lost.
      const { signalId } = await submit(community, {
        ...AAPL_LONG,
        entry: { price: 1 },
        stopLoss: null,
        takeProfits: [],
      });
      const [order] = await community.tenant.execution.listOrders({ signalId });
      expect(queue.sentFor(community).map((m) => m.orderId)).toEqual([order?.id]);
      await env.DB.prepare("update orders set updated_at = ? where id = ?")
        .bind(Date.now() - 11 * 60_000, order?.id ?? "")
        .run();

      await runReconciliationCron();
      await runReconciliationCron();
      const messages = queue.sentFor(community);
      expect(messages.map((m) => m.orderId)).toEqual([order?.id, order?.id]);

      await deliver("order-submissions", messages.slice(1));
      const reached = await community.tenant.execution.getOrder(order?.id ?? "");
      expect(reached?.brokerOrderId).toEqual(expect.any(String));
      expect(reached?.status).not.toBe("queued");
    } finally {
      queue.restore();
    }
    await settle(community);
  });
});
