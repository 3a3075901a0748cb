import { AWAITING_CONFIRMATION, type SignalRow } from "../../../platform/db/tenant/signals";
import { editOriginal } from "../../../platform/notifications/notify-queue";
import { ButtonStyle, buttonRow, type ComponentRef, signComponentId } from "../../../shared/discord/components";
import { formatQuantity, quantityOf } from "../../../shared/discord/format";
import { snowflakeTime } from "../../../shared/execution/submit";
import type { TradePreview } from "../../../shared/execution/trade-preview";
import { opensExposureAction } from "../../../shared/orders/legs";
import { describeSignal, readingErrors, readSignalOptions } from "../../../shared/signals/reading";
import { afterTheAnswer, type CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { previewTrade, submitManualTrade } from "../handoff";
import { deferredUpdate, ephemeral, type InteractionResponse, messageBody, updateMessage } from "../respond";

export type TradeOptions = OptionsFor<typeof DEFINITIONS.trade>;

/**
 * /trade: a manual order for the member's own account. The reply is deferred (ephemeral) while the executor
 * previews it (the same checks and sizing as at Confirm, nothing reserved): the order it would place is shown with
 * Confirm and Cancel buttons, or the refusal in words with no button. The buttons' custom_ids are signed,
 * short-lived references to the pending trade, stored as a signal awaiting
 * confirmation. Only the member who created it can press them, once.
 */
export async function handleTrade(ctx: CommunityContext<TradeOptions>): Promise<InteractionResponse> {
  const secret = ctx.config.SESSION_SECRET;
  if (!secret) return ephemeral(`Manual trades are not configured (SESSION_SECRET). (request id \`${ctx.requestId}\`)`);
  const sourceTimestamp = snowflakeTime(ctx.interaction.id);
  const reading = readSignalOptions(
    {
      action: ctx.options.action,
      symbol: ctx.options.symbol,
      quantity: ctx.options.quantity,
      entry: ctx.options.price === undefined ? undefined : String(ctx.options.price),
      stop: ctx.options.stop,
    },
    sourceTimestamp,
  );
  if (!reading.ok) {
    ctx.logger.info("trade.unreadable", { codes: reading.errors.map((e) => e.code) });
    return ephemeral(
      ["⚠️ Not placed: this trade has a problem, so nothing was placed.", ...readingErrors(reading)].join("\n"),
    );
  }

  // Checked before asking: a halted community takes no new exposure (the executor checks again at Confirm).
  if (opensExposureAction(reading.signal.action) && ctx.community.halted) {
    return ephemeral(
      `🛑 Not placed: trading is halted in this server${ctx.community.haltedReason ? ` (${ctx.community.haltedReason})` : ""}. Buying and shorting wait for an admin's \`/killswitch action:resume\`; you can still sell or cover what you hold.`,
    );
  }
  const { signal: pending, created } = await ctx.tenant.signals.store({
    providerUserId: ctx.member.user.id,
    source: "slash",
    sourceId: ctx.interaction.id,
    sourceTimestamp,
    channelId: ctx.channelId,
    rawText: reading.text,
    normalized: reading.signal,
    statusReason: AWAITING_CONFIRMATION,
  });
  if (!created && pending.statusReason !== AWAITING_CONFIRMATION) {
    return ephemeral("This trade was already confirmed or canceled.");
  }
  const summary = describeSignal(reading.signal);
  return ctx.defer(
    async () => {
      const preview = await previewTrade(ctx.env, manualTrade(ctx, pending));
      await ctx.tenant.signals.settlePreview(pending.id, preview);
      if (preview.status === "refused") {
        ctx.logger.info("trade.preview_refused", { signalId: pending.id, code: preview.code });
        return messageBody(`⚠️ Not placed: ${summary}: ${preview.message}`, { ephemeral: true });
      }
      const ref = (action: string): ComponentRef => ({ kind: "trade", action, id: pending.id });
      const [confirmId, cancelId] = await Promise.all([
        signComponentId(secret, ref("confirm")),
        signComponentId(secret, ref("cancel")),
      ]);
      return {
        ...messageBody(previewText(summary, preview), { ephemeral: true }),
        components: [
          buttonRow([
            { customId: confirmId, label: "Confirm", style: ButtonStyle.SUCCESS },
            { customId: cancelId, label: "Cancel", style: ButtonStyle.SECONDARY },
          ]),
        ],
      };
    },
    { ephemeral: true },
  );
}

/** The preview in words: the order as the risk engine would place it now, its exits and the engine's sentences. */
function previewText(summary: string, preview: Extract<TradePreview, { status: "would_place" }>): string {
  return [
    "Place this order on your account?",
    `**${summary}**`,
    `Would place: ${preview.order}.`,
    ...(preview.exits.length > 0 ? [`With: ${preview.exits.join("; ")}.`] : []),
    ...preview.explanation,
    "The buttons expire in 5 minutes.",
  ].join("\n");
}

/** A verified Confirm or Cancel press. */
export async function handleTradeButton(ctx: CommunityContext, ref: ComponentRef): Promise<InteractionResponse> {
  const pending = await ctx.tenant.signals.get(ref.id);
  if (!pending || pending.providerUserId !== ctx.member.user.id) {
    return ephemeral("Only the member who created this trade can confirm or cancel it.");
  }
  if (ref.action !== "confirm" && ref.action !== "cancel")
    return ephemeral("This button is not valid, so nothing was done.");
  if (
    !(await ctx.tenant.signals.settlePendingTrade(
      pending.id,
      ctx.member.user.id,
      ref.action === "confirm" ? "confirmed" : "canceled",
    ))
  ) {
    return ephemeral("This trade was already confirmed or canceled.");
  }
  const summary = describeSignal(pending.normalized);
  if (ref.action === "cancel") return updateMessage(`Canceled: ${summary}. Nothing was placed.`);

  ctx.waitUntil(
    (async () => {
      await afterTheAnswer();
      const outcome = await submitManualTrade(ctx.env, {
        ...manualTrade(ctx, pending),
        interaction: { applicationId: ctx.target.applicationId, token: ctx.target.token },
      });
      let text: string;
      const previewed = previewedQuantity(pending.summary);
      const placed = outcome.ok ? outcome.summary.quantity : undefined;
      if (outcome.ok && placed !== undefined && previewed !== null && placed !== previewed) {
        text = `⚠️ Placed ${quantityOf(pending.normalized, placed)}, not the ${formatQuantity(previewed)} previewed: ${summary}: ${outcome.summary.message}`;
      } else if (outcome.ok) {
        text = `${outcome.summary.status === "accepted" ? "✅" : "⚠️"} ${summary}: ${outcome.summary.message}`;
      } else {
        ctx.logger.error("trade.handoff_failed", { signalId: pending.id, reason: outcome.reason });
        await ctx.tenant.signals.markFailed(pending.id, `handoff: ${outcome.reason}`);
        text = `⚠️ Not placed: ${summary}: ${outcome.reason}. Quote request id \`${ctx.requestId}\`.`;
      }
      await editOriginal(
        ctx.env,
        ctx.target,
        { ...messageBody(text), components: [] },
        { communityId: ctx.community.id },
      );
    })().catch((error) => ctx.logger.error("trade.followup_failed", { error: String(error) })),
  );
  return deferredUpdate();
}

/** The member's pending trade as the executor takes it, to preview and to place alike. */
function manualTrade(
  ctx: CommunityContext<unknown>,
  pending: Pick<SignalRow, "id" | "normalized" | "sourceId" | "sourceTimestamp">,
) {
  return {
    signalId: pending.id,
    communityId: ctx.community.id,
    userId: ctx.member.user.id,
    signal: pending.normalized,
    sourceId: pending.sourceId,
    sourceTimestamp: pending.sourceTimestamp,
  };
}

/** The quantity the member saw before pressing Confirm, kept with the pending trade. */
function previewedQuantity(summary: Record<string, unknown> | null): number | null {
  const preview = summary?.preview as { quantity?: unknown } | undefined;
  return typeof preview?.quantity === "number" ? preview.quantity : null;
}
