import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import { clientOrderId } from "../../shared/orders/client-order-id";
import {
  AAPL_LONG,
  communityWithFollowers,
  deliver,
  executorOf,
  fakeDiscordApi,
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
      const desk = (instance as unknown as { paper: { quotes: { anchor?(s: string, p: number): void } } }).paper;
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
    const [userId = ""] = community.followerIds;
    const id = crypto.randomUUID();
    const intent = {
      leg: "entry",
      side: "buy",
      positionEffect: "open",
      assetClass: "equity",
      symbol: "AAPL",
      option: null,
      orderType: "limit",
      quantity: 1,
      limitPrice: 1,
      stopPrice: null,
      timeInForce: "day",
      nativeBracket: false,
      placeAfterFill: false,
      exits: [],
    };
    await community.tenant.execution.insertOrders(
      [
        {
          id,
          signalId: null,
          userId,
          accountRef: "paper",
          broker: "paper",
          clientOrderId: await clientOrderId({
            communityId: community.communityId,
            signalId: id,
            followerId: userId,
            leg: "entry",
          }),
          leg: "entry",
          parentOrderId: null,
          symbol: "AAPL",
          assetClass: "equity",
          intent,
          side: "buy",
          orderType: "limit",
          quantity: 1,
          limitPrice: 1,
          stopPrice: null,
          cause: "signal",
        },
      ],
      Date.now() - 11 * 60_000,
    );

    const queue = interceptOrderQueue();
    try {
      await runReconciliationCron();
      await runReconciliationCron();
    } finally {
      queue.restore();
    }
    const mine = queue.sentFor(community);
    expect(mine.map((m) => m.orderId)).toEqual([id]);

    await deliver("order-submissions", mine);
    expect(await community.tenant.execution.getOrder(id)).toMatchObject({ status: "submitted" });
    await settle(community);
  });
});
