import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import {
  buttonsUnder,
  directMessagesTo,
  discordIdentity,
  fakeDiscordApi,
  pressInDm,
  snowflake,
} from "../support/discord";
import {
  AAPL_SELL_ALL,
  communityWithFollowers,
  deliver,
  executorOf,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { seedPaperAccount } from "../support/paper-accounts";

const BADGE = "🧪 PAPER · Test community · from @provider";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

/** A confirm-mode follower who holds 20 AAPL; `exits` as given on their follow. */
async function holderInConfirmMode(exits: "auto" | "confirm" | null) {
  const community = await communityWithFollowers(1, { mode: "confirm", exits });
  const [holder = ""] = community.followerIds;
  await seedPaperAccount(community, holder, {
    cash: 96_000,
    positions: [{ symbol: "AAPL", quantity: 20, averageCost: 200, lastPrice: 200 }],
    day: null,
  });
  return { community, holder };
}

async function aaplHeld(community: TestCommunity, userId: string): Promise<number> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    const account = JSON.parse(row?.state ?? "{}") as PaperAccountState;
    return Object.values(account.positions ?? {}).find((p) => p.symbol === "AAPL")?.quantity ?? 0;
  });
}

async function dmWith(userId: string, text: string): Promise<string> {
  return vi.waitFor(
    async () => {
      const found = (await directMessagesTo(discord, userId)).find((dm) => dm.includes(text));
      if (!found) throw new Error(`no DM with ${JSON.stringify(text)} yet`);
      return found;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** The custom ids of the buttons under the DM that says `text`. */
const buttonsOf = (text: string) => buttonsUnder(discord, text);

/** The provider sells, the member cancels the exit: the offer's buttons, and who may press them. */
async function exitCanceled(community: TestCommunity, holder: string) {
  const { signalId } = await submit(community, AAPL_SELL_ALL);
  const [exit] = await community.tenant.execution.listOrders({ signalId });
  await executorOf(community.communityId).confirmOrder({
    communityId: community.communityId,
    orderId: exit?.id ?? "",
    userId: holder,
    decision: "cancel",
  });
  await dmWith(holder, "Exit not taken");
  const [close = "", keep = ""] = buttonsOf("Exit not taken").map((b) => b.slice(b.indexOf("=") + 1));
  return { signalId, exit, close, keep, who: await discordIdentity(holder) };
}

describe("exits of a copied position", () => {
  it("Scenario: Exits follow the provider without asking, even in confirm mode", async () => {
    const { community, holder } = await holderInConfirmMode(null);
    const { summary, signalId } = await submit(community, AAPL_SELL_ALL);
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1 });
    expect(summary.ordersAwaitingConfirmation ?? 0).toBe(0);
    const [exit] = await community.tenant.execution.listOrders({ signalId });
    expect(exit).toMatchObject({ side: "sell", quantity: 20, status: "queued" });
    expect(exit?.intent.awaitingConfirmation).toBe(false);
    await deliver("order-submissions", await queuedMessages(community));
    expect(await aaplHeld(community, holder)).toBe(0);
    await settle(community);
  });

  it("Scenario: An exit not taken tells the member they still hold the position", async () => {
    const { community, holder } = await holderInConfirmMode("confirm");
    const { summary, signalId } = await submit(community, AAPL_SELL_ALL);
    expect(summary.ordersAwaitingConfirmation).toBe(1);
    const [exit] = await community.tenant.execution.listOrders({ signalId });
    const answer = await executorOf(community.communityId).confirmOrder({
      communityId: community.communityId,
      orderId: exit?.id ?? "",
      userId: holder,
      decision: "cancel",
    });
    expect(answer).toEqual({
      ok: true,
      message: `${BADGE}\n🚫 Canceled: sell 20 × AAPL at market (exit). See below: you still hold the position.`,
    });
    const told = await dmWith(holder, "Exit not taken");
    expect(told).toBe(
      `${BADGE}\n⚠️ Exit not taken (you canceled it): sell 20 × AAPL at market (exit). You still hold 20 × AAPL: nothing was sent to the broker, so the position is open. [Close now] sells it at market; [Keep] leaves it as it is. The buttons work for 24 hours.`,
    );
    const buttons = buttonsOf("Exit not taken");
    expect(buttons.map((b) => b.split("=")[0])).toEqual(["Close now", "Keep"]);
    expect(buttons[0]).toMatch(new RegExp(`^Close now=held:close:${exit?.id}:[0-9a-z]+:[\\w-]{22}$`));
    expect(await aaplHeld(community, holder)).toBe(20);
    await settle(community);
  });

  it("Scenario: An exit not confirmed in time tells the member they still hold the position", async () => {
    const { community, holder } = await holderInConfirmMode("confirm");
    await submit(community, AAPL_SELL_ALL);
    const executor = executorOf(community.communityId);
    await runInDurableObject(executor, async (_instance, state) => {
      state.storage.sql.exec("update confirmations set due_at = ?", Date.now() - 1);
    });
    await runDurableObjectAlarm(executor);
    const told = await dmWith(holder, "Exit not taken");
    expect(told.split("\n")[1]).toBe(
      "⚠️ Exit not taken (not confirmed within 30 seconds): sell 20 × AAPL at market (exit). You still hold 20 × AAPL: nothing was sent to the broker, so the position is open. [Close now] sells it at market; [Keep] leaves it as it is. The buttons work for 24 hours.",
    );
    expect((await directMessagesTo(discord, holder)).some((dm) => dm.includes("Not confirmed in time"))).toBe(false);
    await settle(community);
  });

  it("Scenario: Close now closes the position once, reduce-only", async () => {
    const { community, holder } = await holderInConfirmMode("confirm");
    const { signalId, exit, close, keep, who } = await exitCanceled(community, holder);

    const stranger = await pressInDm(close, { discordId: snowflake(), username: "stranger" });
    expect(stranger.data?.content).toBe("Only the member who holds this position can close or keep it.");
    const pressed = await pressInDm(close, who);
    expect(pressed).toMatchObject({
      type: 7,
      data: { content: "📤 Closing: sell 20 × AAPL at market (exit). You get a message when it fills." },
    });
    // A double click, or Keep after Close now, changes nothing.
    expect((await pressInDm(close, who)).data?.content).toBe("Already done: this position is being closed.");
    expect((await pressInDm(keep, who)).data?.content).toBe("Already done: this position is being closed.");

    const closes = (await community.tenant.execution.listOrders({ signalId })).filter((o) => o.id !== exit?.id);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ side: "sell", quantity: 20, orderType: "market", leg: "exit" });
    await deliver("order-submissions", await queuedMessages(community));
    expect(await aaplHeld(community, holder)).toBe(0);
    await settle(community);
  });

  it("Scenario: Keep leaves the position as it is", async () => {
    const { community, holder } = await holderInConfirmMode("confirm");
    const { signalId, close, keep, who } = await exitCanceled(community, holder);
    expect((await pressInDm(keep, who)).data?.content).toBe(
      "👌 Kept: you still hold 20 × AAPL. Nothing was sent; close it any time with /trade.",
    );
    expect((await pressInDm(close, who)).data?.content).toBe("Already done: you chose to keep this position.");
    expect(await community.tenant.execution.listOrders({ signalId })).toHaveLength(1);
    expect(await aaplHeld(community, holder)).toBe(20);
    await settle(community);
  });
});

describe("exits the risk engine refused", () => {
  const TRIM_HALF = { ...AAPL_SELL_ALL, action: "close", quantityPercent: 50 } as const;

  /** A follower (auto mode, `notices` as given) who holds 1 AAPL: half of it rounds to no share. */
  async function smallHolder(notices: "each" | "digest" = "each") {
    const community = await communityWithFollowers(1);
    const [holder = ""] = community.followerIds;
    await seedPaperAccount(community, holder, {
      cash: 99_800,
      positions: [{ symbol: "AAPL", quantity: 1, averageCost: 200, lastPrice: 200 }],
      day: null,
    });
    if (notices === "digest") await community.tenant.riskProfiles.setSkipNotices(holder, "digest");
    return { community, holder };
  }

  const REFUSED_TRIM = `${BADGE}\n⚠️ Exit not copied — @provider · CLOSE AAPL. 50% of your 1 shares rounds down to zero. You still hold 1 × AAPL: nothing was sent to the broker, so the position is open. [Close now] sells it at market; [Keep] leaves it as it is. The buttons work for 24 hours.`;

  it("Scenario: A refused exit tells the member they still hold the position", async () => {
    const { community, holder } = await smallHolder();
    const { summary, signalId } = await submit(community, TRIM_HALF);
    expect(summary).toMatchObject({ ordersQueued: 0, skipped: { quantity_rounds_to_zero: 1 } });
    expect(await dmWith(holder, "Exit not copied")).toBe(REFUSED_TRIM);
    expect((await directMessagesTo(discord, holder)).some((dm) => dm.includes("⏭️ Not copied"))).toBe(false);
    const buttons = buttonsOf("Exit not copied");
    expect(buttons.map((b) => b.split("=")[0])).toEqual(["Close now", "Keep"]);
    expect(buttons[0]).toMatch(new RegExp(`^Close now=held:close:${signalId}-[0-9a-z]{11}:[0-9a-z]+:[\\w-]{22}$`));
    // One message for this signal and member (its DM key is the signal and the member).
    await settle(community);
    expect((await directMessagesTo(discord, holder)).filter((dm) => dm.includes("Exit not copied"))).toHaveLength(1);
  });

  it("Scenario: A refused exit is told at once to a member on the daily digest", async () => {
    const { community, holder } = await smallHolder("digest");
    await submit(community, TRIM_HALF);
    expect(await dmWith(holder, "Exit not copied")).toBe(REFUSED_TRIM);
    await settle(community);
  });

  it("Scenario: Close now on a refused exit closes the position once, reduce-only", async () => {
    const { community, holder } = await smallHolder();
    const { signalId } = await submit(community, TRIM_HALF);
    await dmWith(holder, "Exit not copied");
    const [close = "", keep = ""] = buttonsOf("Exit not copied").map((b) => b.slice(b.indexOf("=") + 1));
    const who = await discordIdentity(holder);

    const stranger = await pressInDm(close, { discordId: snowflake(), username: "stranger" });
    expect(stranger.data?.content).toBe("Only the member who holds this position can close or keep it.");
    expect(await pressInDm(close, who)).toMatchObject({
      type: 7,
      data: { content: "📤 Closing: sell 1 × AAPL at market (exit). You get a message when it fills." },
    });
    expect((await pressInDm(close, who)).data?.content).toBe("Already done: this position is being closed.");
    expect((await pressInDm(keep, who)).data?.content).toBe("Already done: this position is being closed.");

    const closes = await community.tenant.execution.listOrders({ signalId });
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ side: "sell", quantity: 1, orderType: "market", leg: "exit" });
    await deliver("order-submissions", await queuedMessages(community));
    expect(await aaplHeld(community, holder)).toBe(0);
    await settle(community);
  });

  it("Scenario: Keep on a refused exit leaves the position as it is", async () => {
    const { community, holder } = await smallHolder();
    const { signalId } = await submit(community, TRIM_HALF);
    await dmWith(holder, "Exit not copied");
    const [close = "", keep = ""] = buttonsOf("Exit not copied").map((b) => b.slice(b.indexOf("=") + 1));
    const who = await discordIdentity(holder);
    expect((await pressInDm(keep, who)).data?.content).toBe(
      "👌 Kept: you still hold 1 × AAPL. Nothing was sent; close it any time with /trade.",
    );
    expect((await pressInDm(close, who)).data?.content).toBe("Already done: you chose to keep this position.");
    expect(await community.tenant.execution.listOrders({ signalId })).toEqual([]);
    expect(await aaplHeld(community, holder)).toBe(1);
    await settle(community);
  });
});
