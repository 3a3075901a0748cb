import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { MemberNotice } from "../../platform/notifications/notify-member";
import {
  type BrokerPosition,
  type TrailDistance,
  takesTrailingStops,
  trailingStopLevel,
} from "../../shared/brokers/adapter";
import { describeOrder, orderInstrumentKey } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import { DOUBLE_POST_WINDOW_MS } from "../../shared/execution/signal-gate";
import {
  type ManagementCounts,
  type ManagementOutcome,
  type ManagementRefusal,
  type ManageTradesInput,
  ManageTradesInputSchema,
  managementCloseUnits,
  movedStopUnits,
  stopThroughMarket,
  trailPercentOf,
  trailTooWide,
} from "../../shared/execution/trade-management";
import type { Logger } from "../../shared/logging";
import { ENTRY_LEG, opensExposureAction } from "../../shared/orders/legs";
import { isWorking, UNSETTLED_STATUSES } from "../../shared/orders/state-machine";
import { utcDay } from "../../shared/risk/daily-loss";
import { accountLabel } from "../../shared/risk/format";
import { instrumentKey, lotStep } from "../../shared/risk/instruments";
import { communityRiskDefaultsOf } from "../../shared/risk/limits";
import type { AssetClass, OrderIntent } from "../../shared/risk/types";
import { describeManagement } from "../../shared/signals/management";
import { formatDecimal } from "../../shared/signals/numbers";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { placeReplacement, withdrawExit } from "./exit-sync";
import type { HeldPositions, RefusedExit } from "./held-positions";
import type { ExecutorLocalState } from "./local-state";
import { subjectOf } from "./order-badges";
import type { OrderDispatch } from "./order-dispatch";
import { applyBrokerOrder } from "./order-flow";
import type { OrderFlows } from "./order-flows";
import type { OrderOutbox, PlannedOrder } from "./outbox";
import type { PaperDesk } from "./paper-desk";

export interface ManagementParts {
  local: ExecutorLocalState;
  paper: PaperDesk;
  outbox: OrderOutbox;
  dispatch: Pick<OrderDispatch, "deliver">;
  flows: OrderFlows;
  held: Pick<HeldPositions, "offerRefusedExit">;
  badges: { username(userId: string): Promise<string | null> };
  logger: Logger;
  notify(notice: MemberNotice): Promise<void>;
  tenant(communityId: string): TenantRepository;
}

/** One follower's trade from the managed signal: its entries and the stops working for them. */
interface FollowerTrade {
  userId: string;
  entries: OrderRow[];
  stops: OrderRow[];
}

/** What one run says to each follower it looked at. */
type Lines = Map<string, string[]>;

/** How many followers' orders are read at a time. */
const PAGE = 500;
/** How many of a provider's newest entries on a symbol are looked at for an open trade. */
const CANDIDATE_SIGNALS = 20;
/** How long a management message's outcome is kept for its replays. */
const OUTCOME_MEMORY_MS = 7 * 24 * 3600_000;

/** The input once the managed signal is known. */
type ResolvedInput = ManageTradesInput & { signalId: string };

/**
 * A provider's trade-management message acted on for every follower of the
 * signal it manages (openspec/specs/trade-management): entries not filled yet
 * canceled, the stops of filled positions moved (withdrawn and placed again at
 * the new price, never for more than is held), and closes of part or all of
 * each follower's trade sent as reduce-only market exits through the outbox,
 * with the same reservations as exit signals. The message id is the key: its
 * outcome is kept in the object's SQLite, so a replay answers it again and
 * acts on nothing, and every order it creates has an id derived from it.
 * Management only reduces exposure, so it is taken under a halt too.
 */
export class TradeManagementDesk {
  /** Management messages being acted on in this object now: a second copy waits for the first's outcome. */
  private readonly running = new Map<string, Promise<ManagementOutcome>>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly parts: ManagementParts,
  ) {
    sql.exec(
      `create table if not exists management_sources (source_id text primary key, signal_id text not null,
        closes_planned integer, outcome text, at integer not null)`,
    );
    sql.exec(
      `create table if not exists management_double_posts (double_post_key text primary key, source_id text not null,
        at integer not null)`,
    );
  }

  /**
   * In this order, so a repeat is answered as one before anything is looked up: a source id already acted on
   * answers its outcome again; a double post (the same webhook body within 5 s) answers as the first did; only
   * then is the trade found (by symbol when no signal is named) and acted on.
   */
  async manage(raw: unknown): Promise<ManagementOutcome> {
    const parsed = ManageTradesInputSchema.safeParse(raw);
    if (!parsed.success) return refusal("INVALID_INPUT", parsed.error.message);
    const input = parsed.data;
    const tenant = this.parts.tenant(input.communityId);
    const known = this.record(input.sourceId);
    if (known?.outcome) return asDuplicate(known.outcome);
    const inFlight = this.running.get(input.sourceId);
    // The same alert delivered twice at once (a sender's retry, a replayed dispatch) is answered with the first
    // copy's outcome once it is known, as any later replay is.
    if (inFlight) return asDuplicate(await inFlight);
    if (input.doublePostKey) {
      const first = this.doublePostOf(input.doublePostKey, input.sourceId, Date.now());
      if (first !== null) return await this.doublePostAnswer(first);
    }
    const run = this.resolveAndRun(tenant, input).then((outcome) => {
      this.finish(input, outcome);
      return outcome;
    });
    this.running.set(input.sourceId, run);
    try {
      return await run;
    } finally {
      this.running.delete(input.sourceId);
    }
  }

  /**
   * What became of a channel message taken as management (its newest version: the message id, or
   * `<message id>:edit:<edit time>`), for an edit of it: null when it never was management. `acted` is true once
   * anything was canceled, moved or sent, or while it is still being acted on.
   */
  managementOfMessage(messageId: string): { sourceId: string; acted: boolean; message: string } | null {
    const [row] = this.sql
      .exec<{ source_id: string; outcome: string | null }>(
        `select source_id, outcome from management_sources
          where source_id = ? or (source_id >= ? and source_id < ?) order by at desc limit 1`,
        messageId,
        `${messageId}:edit:`,
        `${messageId}:edit;`,
      )
      .toArray();
    if (!row) return this.running.has(messageId) ? { sourceId: messageId, acted: true, message: "" } : null;
    const outcome = row.outcome ? (JSON.parse(row.outcome) as ManagementOutcome) : null;
    if (!outcome) return { sourceId: row.source_id, acted: true, message: "" };
    const acted = outcome.ok && outcome.canceledEntries + outcome.stopsMoved + outcome.closesQueued > 0;
    return { sourceId: row.source_id, acted, message: outcome.message };
  }

  /** Forgets double-post keys past the window and outcomes past a week (also done on every new key). */
  prune(now: number): void {
    this.sql.exec("delete from management_double_posts where at < ?", now - DOUBLE_POST_WINDOW_MS);
    this.sql.exec("delete from management_sources where at < ? and outcome is not null", now - OUTCOME_MEMORY_MS);
  }

  /**
   * The source id that posted the same body within the window, or null (and this one is remembered as the
   * first). Synchronous: two copies arriving together cannot both be first. Keys past the window are dropped
   * here, so the table holds only the last 5 s of bodies.
   */
  private doublePostOf(key: string, sourceId: string, now: number): string | null {
    this.sql.exec("delete from management_double_posts where at < ?", now - DOUBLE_POST_WINDOW_MS);
    const [row] = this.sql
      .exec<{ source_id: string }>("select source_id from management_double_posts where double_post_key = ?", key)
      .toArray();
    if (row && row.source_id !== sourceId) return row.source_id;
    this.sql.exec(
      "insert or replace into management_double_posts (double_post_key, source_id, at) values (?, ?, ?)",
      key,
      sourceId,
      now,
    );
    return null;
  }

  /**
   * A double post answers as its first copy did (a refusal stays one), once the first is done if it still runs here.
   * Only a first copy cut off by a restart has no outcome to give: the repeat is then a duplicate with no counts.
   */
  private async doublePostAnswer(firstSourceId: string): Promise<ManagementOutcome> {
    const running = this.running.get(firstSourceId);
    if (running) return asDuplicate(await running);
    const first = this.record(firstSourceId)?.outcome;
    if (first) return asDuplicate(first);
    return {
      ok: true,
      duplicate: true,
      signalId: null,
      message: "The same body was posted less than 5 s ago; it is acted on once.",
      followers: 0,
      canceledEntries: 0,
      stopsMoved: 0,
      closesQueued: 0,
      skipped: {},
    };
  }

  private async resolveAndRun(tenant: TenantRepository, input: ManageTradesInput): Promise<ManagementOutcome> {
    if (input.signalId !== null) return this.run(tenant, { ...input, signalId: input.signalId });
    const found = await this.openTradeOn(tenant, input);
    if ("code" in found) return refusal(found.code, found.message);
    return this.run(tenant, { ...input, signalId: found.signalId });
  }

  /**
   * The provider's one signal with an open trade on the symbol the management names: an entry still waiting to
   * fill, or a filled entry whose follower still holds the position on its side. None is `NO_OPEN_TRADE`;
   * several are `AMBIGUOUS_TRADE` (nothing says which, and a guess could close the wrong trade).
   */
  private async openTradeOn(
    tenant: TenantRepository,
    input: ManageTradesInput,
  ): Promise<{ signalId: string } | { code: ManagementRefusal; message: string }> {
    const symbol = input.management.symbol;
    if (symbol === null) {
      return {
        code: "NO_OPEN_TRADE",
        message:
          'This names no trade: reply to the signal\'s message with it, or name the symbol (e.g. "move SL to 185 AAPL").',
      };
    }
    const candidates = await tenant.signals.entriesOn(input.providerUserId, symbol, CANDIDATE_SIGNALS);
    const open: string[] = [];
    for (const signal of candidates) {
      const direction = signal.normalized.action === "buy" ? "long" : "short";
      const trades = await this.tradesOf(tenant, signal.id);
      const isOpen = trades.some(
        (trade) =>
          trade.entries.some(isPendingEntry) ||
          trade.entries.some(
            (entry) =>
              entry.filledQuantity > 0 &&
              heldUnits(this.parts.paper, trade.userId, orderInstrumentKey(entry), direction) > 0,
          ),
      );
      if (isOpen) open.push(signal.id);
    }
    if (open.length === 0) {
      return {
        code: "NO_OPEN_TRADE",
        message: `You have no open ${symbol.toUpperCase()} trade here (no entry waiting to fill, no position held), so there is nothing to manage.`,
      };
    }
    if (open.length > 1) {
      return {
        code: "AMBIGUOUS_TRADE",
        message: `You have ${open.length} open ${symbol.toUpperCase()} trades here and this does not say which one: nothing was done. In Discord, reply to the signal's message with it.`,
      };
    }
    return { signalId: open[0] as string };
  }

  private async run(tenant: TenantRepository, input: ResolvedInput): Promise<ManagementOutcome> {
    const { management } = input;
    const signal = await tenant.execution.getSignal(input.signalId);
    if (!signal) return refusal("UNKNOWN_SIGNAL", "That message is not a signal of this community.");
    if (signal.providerUserId !== input.providerUserId) {
      return refusal("NOT_YOUR_SIGNAL", "That signal is another provider's: only its own provider manages its trades.");
    }
    const posted = signal.normalized;
    if (!opensExposureAction(posted.action)) {
      return refusal("NOT_AN_ENTRY", "That signal is an exit, not a trade to manage.");
    }
    if (management.symbol !== null && !namesInstrument(management.symbol, posted)) {
      return refusal(
        "SYMBOL_MISMATCH",
        `This names ${management.symbol}, but the signal it manages is on ${posted.symbol}: nothing was done.`,
      );
    }
    const trades = await this.tradesOf(tenant, signal.id);
    const direction = posted.action === "buy" ? "long" : "short";
    const pending = trades.filter((trade) => trade.entries.some(isPendingEntry));
    const filled = trades.filter((trade) => trade.entries.some((entry) => entry.filledQuantity > 0));
    const trail = management.trail ?? null;
    const acts =
      (management.cancelEntries && pending.length > 0) ||
      ((management.stop !== null || trail !== null || management.closePercent !== null) && filled.length > 0);
    if (!acts) {
      return refusal(
        "NO_OPEN_TRADE",
        `No follower has ${management.cancelEntries && management.stop === null && management.closePercent === null ? "an entry waiting to fill" : "an open position"} from that signal, so nothing was done.`,
      );
    }

    // A stop moved to a price the market is already through would close at once: refused, never a surprise exit.
    let marketPrice: number | null = null;
    if (management.stop !== null && filled.length > 0) {
      const quote = await this.parts.paper.quoteFor({ ...posted, entry: null, orderType: "market" });
      marketPrice = quote?.last ?? null;
      if (marketPrice === null) {
        return refusal("NO_QUOTE", `No price for ${posted.symbol} to check the new stop against, so it was not moved.`);
      }
      if ("price" in management.stop && stopThroughMarket(direction, management.stop.price, marketPrice)) {
        return refusal(
          "STOP_THROUGH_MARKET",
          `${posted.symbol} trades at ${formatDecimal(marketPrice)}, already through the new stop ${formatDecimal(management.stop.price)}: it would close every position at once, so nothing was done. To exit, reply "close all".`,
        );
      }
    }

    if (trail !== null && filled.length > 0) {
      const quote = await this.parts.paper.quoteFor({ ...posted, entry: null, orderType: "market" });
      marketPrice = quote?.last ?? null;
      if (marketPrice === null) {
        return refusal("NO_QUOTE", `No price for ${posted.symbol} to measure the trail against, so nothing was done.`);
      }
      const limits = communityRiskDefaultsOf((await tenant.community.get())?.settings);
      if (trailTooWide(trail, marketPrice, limits.dailyLossLimitPercent)) {
        return refusal(
          "TRAIL_TOO_WIDE",
          `A trail of ${"percent" in trail ? `${formatDecimal(trail.percent)}%` : formatDecimal(trail.amount)} is ${formatDecimal(Math.round(trailPercentOf(trail, marketPrice) * 100) / 100)}% of ${posted.symbol}'s price (${formatDecimal(marketPrice)}), wider than this community's daily loss limit of ${formatDecimal(limits.dailyLossLimitPercent)}%: nothing was done.`,
        );
      }
    }

    const counts: ManagementCounts = { followers: 0, canceledEntries: 0, stopsMoved: 0, closesQueued: 0, skipped: {} };
    const lines: Lines = new Map();
    const say = (userId: string, line: string) => lines.set(userId, [...(lines.get(userId) ?? []), line]);
    const skip = (userId: string, reason: string, line: string) => {
      counts.skipped[reason] = (counts.skipped[reason] ?? 0) + 1;
      say(userId, line);
    };
    if (management.cancelEntries) await this.cancelEntries(tenant, pending, counts, say);
    if (management.stop !== null) {
      await this.moveStops(tenant, input, filled, direction, marketPrice ?? 0, counts, { say, skip });
    }
    if (trail !== null) {
      await this.trailStops(tenant, input, filled, { direction, trail, marketPrice: marketPrice ?? 0 }, counts, {
        say,
        skip,
      });
    }
    const refusedExits: RefusedExit[] = [];
    if (management.closePercent !== null) {
      const provider = await this.parts.badges.username(input.providerUserId);
      const refuse = (trade: FollowerTrade, message: string) =>
        refusedExits.push({
          signalId: input.signalId,
          userId: trade.userId,
          instrument: { assetClass: posted.assetClass, symbol: posted.symbol, option: posted.option ?? null },
          provider,
          signal: `CLOSE ${closePart(management.closePercent ?? 100).toUpperCase()} ${posted.symbol}`,
          message,
          reason: "close_rounds_to_zero",
          mode: subjectOf(trade.entries[0] as OrderRow).mode,
        });
      await this.close(input, filled, direction, counts, { say, skip, refuse });
    }
    // A close that rounds to nothing while the member holds the position: told with [Close now] and [Keep].
    const offered = new Set<string>();
    for (const refused of refusedExits) {
      if (await this.parts.held.offerRefusedExit(input.communityId, refused)) offered.add(refused.userId);
      else say(refused.userId, refused.message);
    }

    counts.followers = new Set([...lines.keys(), ...offered]).size;
    const message = `Managed ${posted.symbol} (${describeManagement(management)}): ${summaryOf(counts)}.`;
    await tenant.audit.append({
      event: "signal.managed",
      actorId: input.providerUserId,
      target: signal.id,
      data: { sourceId: input.sourceId, management, ...counts },
    });
    const mode = (trade: FollowerTrade) => accountOf(trade.entries[0]);
    await Promise.all(
      trades
        .filter((trade) => lines.has(trade.userId))
        .map((trade) =>
          this.parts.notify({
            userId: trade.userId,
            communityId: input.communityId,
            event: `manage:${input.sourceId}`,
            message: [
              `🛠️ Your provider updated the ${posted.symbol} trade (${describeManagement(management)}), on your ${mode(trade)}:`,
              ...(lines.get(trade.userId) ?? []).map((line) => `• ${line}`),
            ].join("\n"),
          }),
        ),
    );
    this.parts.logger.info("signal.managed", { communityId: input.communityId, signalId: signal.id, ...counts });
    return { ok: true, duplicate: false, signalId: signal.id, message, ...counts };
  }

  /** Entries still queued are canceled here; those working at the broker are canceled there. */
  private async cancelEntries(
    tenant: TenantRepository,
    pending: readonly FollowerTrade[],
    counts: ManagementCounts,
    say: (userId: string, line: string) => void,
  ): Promise<void> {
    const { local, flows } = this.parts;
    const entries = pending.flatMap((trade) => trade.entries.filter(isPendingEntry));
    const queued = entries.filter((entry) => entry.status === "queued").map((entry) => entry.id);
    for (const id of queued) local.takeConfirmation(id);
    const canceled = await tenant.execution.cancelQueued("canceled_by_provider", { orderIds: queued });
    local.release(canceled.map((order) => order.id));
    await flows.publishAll(tenant, canceled);
    for (const order of canceled) {
      counts.canceledEntries += 1;
      say(order.userId, `Canceled before it was sent: ${describeOrder(order)}.`);
    }
    for (const entry of entries.filter((order) => isWorking(order.status) && order.brokerOrderId)) {
      const flow = flows.for(tenant.communityId, tenant, entry.userId);
      await flow.adapter.cancelOrder(entry.brokerOrderId ?? "");
      const after = await applyBrokerOrder(flow, entry, await flow.adapter.getOrder(entry.brokerOrderId ?? ""));
      if (after.status !== "canceled") continue;
      counts.canceledEntries += 1;
      say(
        entry.userId,
        after.filledQuantity > 0
          ? `Canceled the rest of ${describeOrder(entry)}: ${after.filledQuantity} had filled and keep their exits.`
          : `Canceled: ${describeOrder(entry)}.`,
      );
    }
  }

  /** Each filled follower's working stops withdrawn and placed again at the new level, never for more than held. */
  private async moveStops(
    tenant: TenantRepository,
    input: ResolvedInput,
    filled: readonly FollowerTrade[],
    direction: "long" | "short",
    marketPrice: number,
    counts: ManagementCounts,
    tell: { say: (userId: string, line: string) => void; skip: (userId: string, reason: string, line: string) => void },
  ): Promise<void> {
    const stop = input.management.stop;
    if (stop === null) return;
    for (const trade of filled) {
      const entry = trade.entries.find((order) => order.filledQuantity > 0) as OrderRow;
      const level = "price" in stop ? stop.price : entry.averageFillPrice;
      if (level === null || !(level > 0)) continue;
      if (trade.stops.length === 0) {
        tell.skip(trade.userId, "no_working_stop", "Your position has no working stop to move.");
        continue;
      }
      if (stopThroughMarket(direction, level, marketPrice)) {
        tell.skip(
          trade.userId,
          "stop_through_market",
          `Your breakeven (${formatDecimal(level)}) is already through the market (${formatDecimal(marketPrice)}), so your stop stays where it was.`,
        );
        continue;
      }
      const flow = this.parts.flows.for(tenant.communityId, tenant, trade.userId);
      const key = orderInstrumentKey(entry);
      const held = heldUnits(this.parts.paper, trade.userId, key, direction);
      if (held <= 0) {
        tell.skip(trade.userId, "no_position", `You no longer hold ${positionWord(entry)} from it: no stop to move.`);
        continue;
      }
      for (const working of trade.stops) {
        const step = stepOf(working);
        const units = movedStopUnits(working.quantity - working.filledQuantity, held, step);
        if (working.stopPrice === level) {
          // Nothing changed, so the instruction has not acted here: an edit of it may still be re-read.
          tell.skip(
            trade.userId,
            "stop_already_there",
            `Stop for ${units} at ${formatDecimal(level)} (already there).`,
          );
          continue;
        }
        if (units <= 0) continue;
        const moved = await replaceStop(flow, working, input.sourceId, {
          reason: `stop moved to ${formatDecimal(level)} by the provider`,
          data: { stopPrice: level, sourceId: input.sourceId },
          quantity: units,
          stopPrice: level,
        });
        if (!moved) {
          tell.skip(trade.userId, "stop_not_withdrawn", STOP_NOT_WITHDRAWN);
          continue;
        }
        counts.stopsMoved += 1;
        tell.say(
          trade.userId,
          `Stop moved from ${formatDecimal(working.stopPrice ?? 0)} to ${formatDecimal(level)} for ${units}${"breakeven" in stop ? " (your entry's average fill)" : ""}.`,
        );
      }
    }
  }

  /**
   * Each filled follower's working stops replaced by a trailing stop of the same size (never more than the account
   * holds, as its broker reports it), reduce-only, on an account whose broker places trailing stops for the trade's
   * asset class; on any other account the stop stays as it was and the follower is told why (never a fixed stop in
   * its place).
   */
  private async trailStops(
    tenant: TenantRepository,
    input: ResolvedInput,
    filled: readonly FollowerTrade[],
    how: { direction: "long" | "short"; trail: TrailDistance; marketPrice: number },
    counts: ManagementCounts,
    tell: { say: (userId: string, line: string) => void; skip: (userId: string, reason: string, line: string) => void },
  ): Promise<void> {
    const { direction, trail, marketPrice } = how;
    const distance = "percent" in trail ? `${formatDecimal(trail.percent)}%` : formatDecimal(trail.amount);
    for (const trade of filled) {
      const entry = trade.entries.find((order) => order.filledQuantity > 0) as OrderRow;
      const flow = this.parts.flows.for(tenant.communityId, tenant, trade.userId);
      const capabilities = flow.adapter.capabilities;
      if (!takesTrailingStops(capabilities, entry.assetClass as AssetClass)) {
        tell.skip(
          trade.userId,
          "trailing_stops_unsupported",
          capabilities.trailingStops
            ? `Your broker account does not take trailing stops for ${ASSET_CLASS_WORDS[entry.assetClass as AssetClass]}, so your stop stays as it was.`
            : "Your broker account does not take trailing stops here, so your stop stays as it was.",
        );
        continue;
      }
      if (trade.stops.length === 0) {
        tell.skip(trade.userId, "no_working_stop", "Your position has no working stop to trail.");
        continue;
      }
      const held = heldIn(await flow.adapter.getPositions(), orderInstrumentKey(entry), direction);
      if (held <= 0) {
        // Its stop (or another exit) closed it at the broker a moment ago: nothing to trail, and it is told so.
        tell.skip(trade.userId, "no_position", `You no longer hold ${positionWord(entry)} from it: no stop to trail.`);
        continue;
      }
      const level = trailingStopLevel(direction === "long" ? "sell" : "buy", marketPrice, trail);
      for (const working of trade.stops) {
        const units = movedStopUnits(working.quantity - working.filledQuantity, held, stepOf(working));
        if (units <= 0) continue;
        const moved = await replaceStop(flow, working, input.sourceId, {
          reason: `stop replaced by a trailing stop ${distance} behind the best price by the provider`,
          data: { trail, sourceId: input.sourceId },
          quantity: units,
          stopPrice: level,
          trail,
        });
        if (!moved) {
          tell.skip(trade.userId, "stop_not_withdrawn", STOP_NOT_WITHDRAWN);
          continue;
        }
        counts.stopsMoved += 1;
        tell.say(
          trade.userId,
          `Stop at ${formatDecimal(working.stopPrice ?? 0)} replaced by a trailing stop ${distance} behind the best price for ${units} (now at ${formatDecimal(level)}).`,
        );
      }
    }
  }

  /**
   * Part or all of each follower's trade closed at market, reduce-only: planned, reserved and staged in one
   * synchronous step (ids derived from the message, so a retry plans the same orders), then delivered.
   */
  private async close(
    input: ResolvedInput,
    filled: readonly FollowerTrade[],
    direction: "long" | "short",
    counts: ManagementCounts,
    tell: {
      say: (userId: string, line: string) => void;
      skip: (userId: string, reason: string, line: string) => void;
      /** A close that rounds to nothing for a member who still holds the position. */
      refuse: (trade: FollowerTrade, message: string) => void;
    },
  ): Promise<void> {
    const percent = input.management.closePercent;
    if (percent === null) return;
    const { local, paper, outbox, dispatch } = this.parts;
    const now = Date.now();
    const members = local.membersState(
      filled.map((trade) => trade.userId),
      utcDay(now),
      now,
    );
    const planned: PlannedOrder[] = [];
    const reservations: Parameters<ExecutorLocalState["reserve"]>[0][number][] = [];
    const part = closePart(percent);
    for (const trade of filled) {
      const entries = trade.entries.filter((entry) => entry.filledQuantity > 0);
      const entry = entries[0] as OrderRow;
      const key = orderInstrumentKey(entry);
      const step = stepOf(entry);
      const held = heldUnits(paper, trade.userId, key, direction);
      const closing = members.get(trade.userId)?.reserved.closing[key] ?? 0;
      const filledUnits = entries.reduce((sum, order) => sum + order.filledQuantity, 0);
      const units = managementCloseUnits(
        { filledUnits, heldUnits: held, closingUnits: closing, lotStep: step },
        percent,
      );
      if (units <= 0) {
        if (held - closing <= 0) {
          tell.skip(
            trade.userId,
            "no_position",
            `You no longer hold ${positionWord(entry)} from it: nothing to close.`,
          );
        } else {
          counts.skipped.close_rounds_to_zero = (counts.skipped.close_rounds_to_zero ?? 0) + 1;
          tell.refuse(
            trade,
            `Closing ${part} of your ${formatDecimal(Math.min(filledUnits, held - closing))} rounds down to zero whole units, so nothing was sold.`,
          );
        }
        continue;
      }
      const order = closeOrder(input, entry, units, { key, direction, held });
      planned.push(order);
      reservations.push({
        orderId: order.id,
        userId: trade.userId,
        reservation: { notional: 0, openPositions: 0, symbol: null, closing: { instrument: key, quantity: units } },
      });
      counts.closesQueued += 1;
      tell.say(trade.userId, `Closing ${part}: ${describeOrder(order)}, reduce-only.`);
    }
    if (planned.length === 0) return;
    // Synchronous from the record check to the staging: a retry after a failure finds the batch already staged.
    if (this.record(input.sourceId)?.closesPlanned) return;
    local.reserve(reservations, now);
    const batch = outbox.stage(
      { communityId: input.communityId, signalId: input.signalId, phase: "planned", orders: planned, paused: [] },
      now,
    );
    this.sql.exec(
      `insert into management_sources (source_id, signal_id, closes_planned, at) values (?, ?, 1, ?)
        on conflict(source_id) do update set closes_planned = 1`,
      input.sourceId,
      input.signalId,
      now,
    );
    await dispatch.deliver(batch);
  }

  /** Every follower's orders of the signal, a page of followers at a time. */
  private async tradesOf(tenant: TenantRepository, signalId: string): Promise<FollowerTrade[]> {
    const trades = new Map<string, FollowerTrade>();
    let afterUserId: string | undefined;
    for (;;) {
      const rows = await tenant.execution.signalOrdersByFollower(signalId, { afterUserId, limit: PAGE });
      if (rows.length === 0) break;
      const entryIds = new Set(rows.filter(isEntry).map((order) => order.id));
      for (const order of rows) {
        const trade = trades.get(order.userId) ?? { userId: order.userId, entries: [], stops: [] };
        trades.set(order.userId, trade);
        if (isEntry(order)) trade.entries.push(order);
        else if (isWorkingStopOf(order, entryIds)) trade.stops.push(order);
      }
      afterUserId = rows[rows.length - 1]?.userId;
      if (new Set(rows.map((order) => order.userId)).size < PAGE) break;
    }
    return [...trades.values()].filter((trade) => trade.entries.length > 0);
  }

  private record(sourceId: string): { closesPlanned: boolean; outcome: ManagementOutcome | null } | null {
    const [row] = this.sql
      .exec<{ closes_planned: number | null; outcome: string | null }>(
        "select closes_planned, outcome from management_sources where source_id = ?",
        sourceId,
      )
      .toArray();
    if (!row) return null;
    return {
      closesPlanned: row.closes_planned === 1,
      outcome: row.outcome ? (JSON.parse(row.outcome) as ManagementOutcome) : null,
    };
  }

  private finish(input: ManageTradesInput, outcome: ManagementOutcome): void {
    this.sql.exec(
      `insert into management_sources (source_id, signal_id, outcome, at) values (?, ?, ?, ?)
        on conflict(source_id) do update set outcome = excluded.outcome`,
      input.sourceId,
      input.signalId ?? (outcome.ok ? outcome.signalId : null) ?? "",
      JSON.stringify(outcome),
      Date.now(),
    );
  }
}

const STOP_NOT_WITHDRAWN = "Your stop could not be taken off in time, so it stays as it was.";

/**
 * A working stop taken off the market and placed again (at a new level, or as a trailing stop) for `quantity`, under
 * a leg derived from the management message so a retry reuses its ids. False when the old stop could not be taken
 * off (filled meanwhile, or still working at the broker): nothing new is placed.
 */
async function replaceStop(
  flow: Parameters<typeof withdrawExit>[0],
  working: OrderRow,
  sourceId: string,
  change: {
    reason: string;
    data: Record<string, unknown>;
    quantity: number;
    stopPrice: number;
    trail?: TrailDistance;
  },
): Promise<boolean> {
  const { reason, data, ...replacement } = change;
  const withdrawn = await withdrawExit(flow, working, { cause: "stop_moved", reason, data });
  if (withdrawn !== "withdrawn") return false;
  await placeReplacement(flow, working, { leg: `${working.leg}@${sourceId}`, cause: "stop_moved", ...replacement });
  return true;
}

/** "all", "half" or "30%": the part of a position a close names. */
function closePart(percent: number): string {
  return percent === 100 ? "all" : percent === 50 ? "half" : `${percent}%`;
}

function refusal(code: ManagementRefusal, message: string): ManagementOutcome {
  return { ok: false, code, message };
}

/** An outcome answered again: the same counts, marked a duplicate (a refusal stays the same refusal). */
function asDuplicate(outcome: ManagementOutcome): ManagementOutcome {
  return outcome.ok ? { ...outcome, duplicate: true } : outcome;
}

function isEntry(order: OrderRow): boolean {
  return order.leg === ENTRY_LEG && order.parentOrderId === null;
}

/** An entry that may still fill: queued here, or working at the broker. */
function isPendingEntry(order: OrderRow): boolean {
  return order.status === "queued" || isWorking(order.status);
}

function isWorkingStopOf(order: OrderRow, entryIds: ReadonlySet<string>): boolean {
  return (
    order.leg === "stop" &&
    order.parentOrderId !== null &&
    entryIds.has(order.parentOrderId) &&
    UNSETTLED_STATUSES.includes(order.status)
  );
}

/** The management names the signal's instrument: its symbol, or an option's underlying. */
function namesInstrument(symbol: string, signal: NormalizedSignal): boolean {
  const upper = symbol.toUpperCase();
  return upper === signal.symbol.toUpperCase() || upper === signal.option?.underlying;
}

function stepOf(order: OrderRow): number {
  return order.intent.lotStep ?? lotStep(order.assetClass as AssetClass, { fractional: false });
}

/** The follower's paper position in the instrument on the trade's side (0 when flat or on the other side). */
function heldUnits(paper: PaperDesk, userId: string, key: string, direction: "long" | "short"): number {
  return heldIn(paper.positions(userId), key, direction);
}

/** The units of `positions` in the instrument on the trade's side (0 when flat or on the other side). */
function heldIn(positions: readonly BrokerPosition[], key: string, direction: "long" | "short"): number {
  const position = positions.find((held) => {
    const symbol = held.option ? held.option.underlying : held.symbol;
    return instrumentKey({ assetClass: held.assetClass, symbol, option: held.option }) === key;
  });
  return position && position.direction === direction ? position.quantity : 0;
}

/** An asset class in a member's words. */
const ASSET_CLASS_WORDS: Record<AssetClass, string> = { equity: "stocks", option: "options", crypto: "crypto" };

/** A reduce-only market exit of `units` of the trade, keyed by the entry and the message (a retry reuses it). */
function closeOrder(
  input: ResolvedInput,
  entry: OrderRow,
  units: number,
  position: { key: string; direction: "long" | "short"; held: number },
): PlannedOrder {
  const side = position.direction === "long" ? "sell" : "buy_to_cover";
  const leg = "exit";
  const intent: OrderIntent = {
    leg,
    side,
    positionEffect: "close",
    assetClass: entry.intent.assetClass,
    symbol: entry.intent.symbol,
    option: entry.intent.option ?? null,
    orderType: "market",
    quantity: units,
    limitPrice: null,
    stopPrice: null,
    timeInForce: entry.assetClass === "crypto" ? "gtc" : "day",
    nativeBracket: false,
    placeAfterFill: false,
    lotStep: stepOf(entry),
  };
  return {
    id: `${entry.id}:close@${input.sourceId}`,
    signalId: input.signalId,
    userId: entry.userId,
    accountRef: entry.accountRef,
    broker: entry.broker,
    leg: `exit@${input.sourceId}`.slice(0, 40),
    parentOrderId: null,
    symbol: intent.symbol,
    assetClass: entry.assetClass,
    intent: {
      ...intent,
      exits: [],
      closes: {
        instrument: position.key,
        direction: position.direction,
        positionQuantity: position.held,
        remainingQuantity: Math.max(0, Number((position.held - units).toFixed(10))),
      },
    },
    side,
    orderType: "market",
    quantity: units,
    limitPrice: null,
    stopPrice: null,
    cause: "managed_by_provider",
  };
}

function accountOf(order: OrderRow | undefined): string {
  if (!order) return "account";
  return accountLabel({ mode: order.broker === "paper" ? "paper" : "live", broker: order.broker });
}

function positionWord(entry: OrderRow): string {
  return entry.assetClass === "option" ? "contracts" : entry.assetClass === "crypto" ? "units" : "shares";
}

function summaryOf(counts: ManagementCounts): string {
  const parts = [
    counts.canceledEntries > 0
      ? `${counts.canceledEntries} entr${counts.canceledEntries === 1 ? "y" : "ies"} canceled`
      : null,
    counts.stopsMoved > 0 ? `${counts.stopsMoved} stop${counts.stopsMoved === 1 ? "" : "s"} moved` : null,
    counts.closesQueued > 0 ? `${counts.closesQueued} close${counts.closesQueued === 1 ? "" : "s"} sent` : null,
  ].filter((part): part is string => part !== null);
  const skipped = Object.values(counts.skipped).reduce((sum, n) => sum + n, 0);
  if (skipped > 0) parts.push(`${skipped} follower${skipped === 1 ? "" : "s"} left as they were`);
  return `${parts.length > 0 ? parts.join(", ") : "nothing to change"} (${counts.followers} follower${counts.followers === 1 ? "" : "s"} told)`;
}
