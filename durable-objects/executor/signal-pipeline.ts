import type { z } from "zod";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { executionEntitlements } from "../../platform/execution/execution-entitlements";
import { describeOrder } from "../../shared/execution/order-label";
import {
  conflictSymbol,
  DEFAULT_MAX_SIGNAL_AGE_SECONDS,
  DOUBLE_POST_WINDOW_MS,
  directionOf,
  type GateVerdict,
  gateInstrument,
  gateSignal,
  signalFingerprint,
} from "../../shared/execution/signal-gate";
import {
  type ManualTradeInput,
  ManualTradeInputSchema,
  type SubmitSignalInput,
  SubmitSignalInputSchema,
} from "../../shared/execution/submit";
import {
  describeSkip,
  emptyCounts,
  type FanOutCounts,
  nothingExecuted,
  type SignalSummary,
} from "../../shared/execution/summary";
import type { TradePreview } from "../../shared/execution/trade-preview";
import type { Logger } from "../../shared/logging";
import { communitySuspendedMessage } from "../../shared/membership/standing";
import { opensExposureAction } from "../../shared/orders/legs";
import { planStep } from "./fan-out";
import type { FanOutJournal } from "./fan-out-journal";
import type { KillSwitch } from "./kill-switch";
import type { ExecutorLocalState } from "./local-state";
import type { OrderDispatch } from "./order-dispatch";
import type { OrderFlows } from "./order-flows";
import type { OrderOutbox, OutboxBatch, PlannedOrder } from "./outbox";
import type { PaperDesk } from "./paper-desk";
import type { SignalFanOut } from "./signal-fan-out";

export interface PipelineParts {
  env(): Env;
  flows: Pick<OrderFlows, "publishAll">;
  local: ExecutorLocalState;
  paper: PaperDesk;
  killSwitch: KillSwitch;
  journal: FanOutJournal;
  outbox: OrderOutbox;
  dispatch: OrderDispatch;
  fanOut: SignalFanOut;
  logger: Logger;
  tenant(communityId: string): TenantRepository;
}

const TRADE_HALTED = "Trading is halted in this community (kill switch); the trade is not placed.";

/**
 * The way in for every trade, a provider's signal or a member's own /trade, in the same stages:
 * 1. the door: the input against its schema (a refusal, never a throw), and the caller must name this object's
 *    community;
 * 2. the source, remembered synchronously, so a redelivery is answered and never executed twice;
 * 3. the gates: a signal's age, double posts, conflicts and same-direction adds (combined into one position; a
 *    member's own trade has none of these), and the kill switch for whatever opens exposure;
 * 4. the plan: the risk engine decides and reserves, the outbox stages (`planStep`), the dispatch stores, sends
 *    and tells. A signal does it for every follower, step by step (`SignalFanOut`); a trade for its member alone.
 */
export class SignalPipeline {
  constructor(private readonly parts: PipelineParts) {}

  async signal(raw: SubmitSignalInput): Promise<SignalSummary> {
    const door = this.door(SubmitSignalInputSchema, raw, "INVALID_SIGNAL_INPUT");
    if ("refused" in door) return door.refused;
    const { input, tenant } = door;
    const { local, journal, fanOut } = this.parts;
    const now = Date.now();

    // Synchronous from here to the first await: two submissions cannot interleave these checks.
    const seen = local.seenSource(input.sourceId);
    if (seen) {
      const unfinished = fanOut.resumable(seen.signalId);
      if (unfinished) {
        this.logger(input).warn("signal.fan_out_retried", { cursor: unfinished.cursor });
        return fanOut.run(unfinished);
      }
      return nothingExecuted(
        "duplicate",
        seen.signalId,
        "DUPLICATE_SOURCE",
        "This signal was already received; it is not executed twice.",
      );
    }
    const verdict = this.gate(input, now);
    local.rememberSource(input.sourceId, input.signalId, verdict.kind, now);
    if (verdict.kind === "pass" || verdict.kind === "combine") {
      // Journaled with the source, so a retry after any failure from here on continues this run.
      const run = journal.open(input, now, verdict.kind === "combine" ? verdict.with : null);
      if (verdict.kind === "combine") this.logger(input).info("signal.combined", { with: verdict.with });
      return fanOut.run(run);
    }
    return this.stopped(tenant, input, verdict);
  }

  /** A member's own confirmed /trade: the risk engine sizes and checks it for that member's account only. */
  async manualTrade(raw: ManualTradeInput): Promise<SignalSummary> {
    const door = this.door(ManualTradeInputSchema, raw, "INVALID_TRADE_INPUT");
    if ("refused" in door) return door.refused;
    const { input, tenant } = door;
    const { local, dispatch } = this.parts;
    const now = Date.now();
    const seen = local.seenSource(input.sourceId);
    if (seen) return nothingExecuted("duplicate", seen.signalId, undefined, "This trade was already placed.");
    local.rememberSource(input.sourceId, input.signalId, "manual", now);
    const plan = await this.planManual(input, tenant, now, false);
    if ("refused" in plan) return this.refuse(tenant, input.signalId, plan.refused.code, plan.refused.message);
    const { entry, counts, told, batch } = plan;
    const delivered = batch ? await dispatch.deliver(batch) : null;
    if (delivered && delivered.haltedEntries > 0) {
      return this.refuse(tenant, input.signalId, "COMMUNITY_HALTED", TRADE_HALTED);
    }
    const message = entry
      ? `Order queued: ${describeOrder(entry)}${counts.ordersReduced > 0 ? " (reduced to fit your limits)" : ""}.`
      : `Not placed: ${told}`;
    const summary: SignalSummary = {
      ...counts,
      status: entry ? "accepted" : "refused",
      signalId: input.signalId,
      message,
      ...(entry ? { quantity: entry.quantity } : {}),
    };
    const skipped = Object.keys(counts.skipped)[0];
    if (!entry && skipped) summary.code = skipped.toUpperCase();
    await tenant.execution.setSignalOutcome(input.signalId, entry ? "accepted" : "refused", entry ? null : message, {
      ...summary,
    });
    return summary;
  }

  /**
   * A member's /trade before Confirm: the same checks and sizing as `manualTrade` (kill switch, standing,
   * entitlements, the risk engine for the member's account, lots), but nothing is remembered, reserved, stored or
   * sent. Answers the order that would be placed now, or the refusal in words.
   */
  async previewTrade(raw: ManualTradeInput): Promise<TradePreview> {
    const door = this.door(ManualTradeInputSchema, raw, "INVALID_TRADE_INPUT");
    if ("refused" in door) return { status: "refused", code: "INVALID_TRADE_INPUT", message: door.refused.message };
    const plan = await this.planManual(door.input, door.tenant, Date.now(), true);
    if ("refused" in plan) return { status: "refused", ...plan.refused };
    const { entry, counts, told } = plan;
    if (!entry) {
      const skipped = Object.keys(counts.skipped)[0];
      return { status: "refused", code: (skipped ?? "unknown").toUpperCase(), message: told };
    }
    const { intent } = entry;
    return {
      status: "would_place",
      quantity: entry.quantity,
      order: describeOrder(entry),
      exits: (intent.exits ?? []).map((exit) => describeOrder({ ...exit, intent: { option: exit.option } })),
      explanation: [
        ...(intent.reductions ?? []).map((r) => r.message),
        ...(intent.notes ?? []),
        ...(intent.sizingNote ? [intent.sizingNote] : []),
      ],
    };
  }

  /** The checks and the risk engine's plan for a member's own trade, for real (`preview` false) or not. */
  private async planManual(
    input: ManualTradeInput,
    tenant: TenantRepository,
    now: number,
    preview: boolean,
  ): Promise<
    | { refused: { code: string; message: string } }
    | { entry: PlannedOrder | null; counts: FanOutCounts; told: string; batch: OutboxBatch | null }
  > {
    const { paper, killSwitch } = this.parts;
    const { signal } = input;
    // A member may always reduce their own position; only trades that open exposure wait for a resume.
    if (opensExposureAction(signal.action) && (await killSwitch.isHalted(tenant))) {
      return { refused: { code: "COMMUNITY_HALTED", message: TRADE_HALTED } };
    }
    const [profile, entitlements, quote, membership] = await Promise.all([
      tenant.riskProfiles.get(input.userId),
      executionEntitlements(this.parts.env(), input.communityId),
      paper.quoteFor(signal),
      tenant.memberships.get(input.userId),
    ]);
    if (entitlements.suspension) {
      return { refused: { code: "COMMUNITY_SUSPENDED", message: communitySuspendedMessage(entitlements.suspension) } };
    }
    await entitlements.loadMembers([input.userId]);
    const counts = { ...emptyCounts(), followers: 1 };
    const { orders, skipped, batch } = planStep(this.parts, {
      communityId: input.communityId,
      signalId: input.signalId,
      signal,
      followers: [
        {
          userId: input.userId,
          sizingMode: signal.quantity ? "fixed_quantity" : null,
          amount: signal.quantity,
          mode: "auto",
          tradingMode: profile?.tradingMode ?? "paper",
          riskSettings: (profile?.settings as Record<string, unknown> | undefined) ?? {},
          standing: {
            suspendedAt: membership?.suspendedAt ?? null,
            suspendedReason: membership?.suspendedReason ?? null,
            discordRoleIds: membership?.discordRoleIds ?? null,
          },
        },
      ],
      quotePrice: quote?.last ?? null,
      entitlements,
      exitQuantityOf: { kind: "own" },
      now,
      counts,
      preview,
    });
    const entry = orders.find((o) => o.cause === "signal") ?? null;
    const told = skipped[0]?.message ?? describeSkip(Object.keys(counts.skipped)[0] ?? "unknown");
    return { entry, counts, told, batch };
  }

  /** The input against its schema, then the identity check (which throws: the caller named another community). */
  private door<T extends { signalId: string; communityId: string }>(
    schema: z.ZodType<T>,
    raw: unknown,
    code: string,
  ): { refused: SignalSummary } | { input: T; tenant: TenantRepository } {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const signalId = String((raw as { signalId?: unknown } | null)?.signalId ?? "");
      return { refused: nothingExecuted("refused", signalId, code, parsed.error.message) };
    }
    return { input: parsed.data, tenant: this.parts.tenant(parsed.data.communityId) };
  }

  /** The signal's age, double posts and conflicts; remembered for the next signal's checks unless it expired. */
  private gate(input: SubmitSignalInput, now: number): GateVerdict {
    const { local } = this.parts;
    const { signal } = input;
    const maxAgeSeconds = Number(local.getMeta("maxSignalAgeSeconds") ?? DEFAULT_MAX_SIGNAL_AGE_SECONDS);
    const fingerprint = signalFingerprint(signal);
    const verdict = gateSignal({
      signal,
      fingerprint,
      sourceTimestamp: input.sourceTimestamp,
      now,
      maxAgeSeconds,
      recentFromProvider: local.recentFrom(input.providerUserId, now - DOUBLE_POST_WINDOW_MS),
    });
    if (verdict.kind !== "expired") {
      local.rememberRecent({
        signalId: input.signalId,
        provider: input.providerUserId,
        symbol: conflictSymbol(signal),
        instrument: gateInstrument(signal),
        direction: directionOf(signal),
        fingerprint,
        at: now,
      });
    }
    return verdict;
  }

  /** A signal the gates stopped: its outcome recorded (a conflict refuses both signals and cancels the other's queue). */
  private async stopped(
    tenant: TenantRepository,
    input: SubmitSignalInput,
    verdict: Exclude<GateVerdict, { kind: "pass" | "combine" }>,
  ): Promise<SignalSummary> {
    const { execution } = tenant;
    switch (verdict.kind) {
      case "expired":
        await execution.setSignalOutcome(input.signalId, "expired", verdict.reason, null);
        this.logger(input).warn("signal.expired", { reason: verdict.reason });
        return nothingExecuted("expired", input.signalId, "SIGNAL_EXPIRED", verdict.reason);
      case "duplicate":
        await execution.setSignalOutcome(input.signalId, "duplicate", verdict.reason, { of: verdict.of });
        return nothingExecuted("duplicate", input.signalId, "DOUBLE_POST", verdict.reason);
      case "conflict": {
        const canceled = await execution.cancelQueued("conflicting_signal", { signalId: verdict.with });
        await Promise.all([
          execution.setSignalOutcome(input.signalId, "refused", verdict.reason, null),
          execution.setSignalOutcome(verdict.with, "refused", verdict.reason, { canceledOrders: canceled.length }),
        ]);
        this.parts.local.release(canceled.map((order) => order.id));
        await this.parts.flows.publishAll(tenant, canceled);
        this.logger(input).warn("signal.conflict_refused", { with: verdict.with, canceledOrders: canceled.length });
        return nothingExecuted("refused", input.signalId, "CONFLICTING_SIGNALS", verdict.reason);
      }
    }
  }

  private async refuse(tenant: TenantRepository, signalId: string, code: string, reason: string) {
    await tenant.execution.setSignalOutcome(signalId, "refused", reason, null);
    return nothingExecuted("refused", signalId, code, reason);
  }

  private logger(input: { communityId: string; signalId: string }): Logger {
    return this.parts.logger.child({ communityId: input.communityId, signalId: input.signalId });
  }
}
