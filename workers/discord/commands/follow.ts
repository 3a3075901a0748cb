import { z } from "zod";
import { loadEntitlements } from "../../../platform/billing/load-entitlements";
import { upsertUser } from "../../../platform/db/users";
import { canFollow } from "../../../shared/billing/entitlements";
import type { SizingMode } from "../../../shared/db/schema";
import { accountMark } from "../../../shared/discord/badge";
import { formatMoney, formatPercent, formatQuantity } from "../../../shared/discord/format";
import { isProvider, memberMay } from "../../../shared/discord/permissions";
import { CONFIRM_WINDOW_SECONDS } from "../../../shared/execution/follow-mode";
import { standingRefusal } from "../../../shared/membership/standing";
import { type CommunityContext, resolvedMemberFacts, resolvedOf } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type FollowOptions = OptionsFor<typeof DEFINITIONS.follow>;

/** What each sizing mode's amount means, and its allowed range (above `above`, at most `max`). */
const SIZING_RULES: Record<SizingMode, { unit: string; above: number; max: number }> = {
  fixed_quantity: { unit: "shares/contracts/units per order", above: 0, max: 1_000_000 },
  fixed_notional: { unit: "$ per order", above: 0, max: 10_000_000 },
  percent_of_equity: { unit: "% of equity per order", above: 0, max: 100 },
  risk_percent: { unit: "% of equity at risk per trade", above: 0, max: 10 },
  multiplier: { unit: "× the provider's quantity", above: 0, max: 100 },
};

const SIZING_MODES = Object.keys(SIZING_RULES) as [SizingMode, ...SizingMode[]];

/** sizing and amount come together (or neither: the default sizing), and the amount fits the mode. */
const SizingSchema = z
  .object({ sizing: z.enum(SIZING_MODES).optional(), amount: z.number().finite().optional() })
  .transform((value, ctx) => {
    if (value.sizing === undefined && value.amount === undefined) return { sizingMode: null, amount: null };
    if (value.sizing === undefined) {
      ctx.addIssue({ code: "custom", message: "`amount` needs a `sizing` mode to say what it means." });
      return z.NEVER;
    }
    const rule = SIZING_RULES[value.sizing];
    if (value.amount === undefined) {
      ctx.addIssue({ code: "custom", message: `\`sizing:${value.sizing}\` needs an \`amount\` (${rule.unit}).` });
      return z.NEVER;
    }
    if (!(value.amount > rule.above && value.amount <= rule.max)) {
      ctx.addIssue({
        code: "custom",
        message: `\`amount\` for ${value.sizing} must be above ${rule.above} and at most ${rule.max} (${rule.unit}).`,
      });
      return z.NEVER;
    }
    return { sizingMode: value.sizing, amount: value.amount };
  });

/** How big one copied trade will be, in words: "5% of your equity per trade", "$500.00 per trade". */
function tradeSize(sizingMode: SizingMode | null, amount: number | null): string {
  if (!sizingMode || amount === null) {
    return "1% of your equity at risk to the stop when the signal has one, else 2% of your equity per trade (the default sizing)";
  }
  switch (sizingMode) {
    case "fixed_quantity":
      return `${formatQuantity(amount)} shares, contracts or units per trade`;
    case "fixed_notional":
      return `${formatMoney(amount)} per trade`;
    case "percent_of_equity":
      return `${formatPercent(amount)} of your equity per trade`;
    case "risk_percent":
      return `${formatPercent(amount)} of your equity at risk to the stop per trade`;
    case "multiplier":
      return `${formatQuantity(amount)}× the provider's quantity`;
  }
}

/** What happens when the provider closes: exits follow at once unless the member asked to confirm them too. */
function exitsLine(mode: "auto" | "confirm" | null, exits: "auto" | "confirm" | null): string {
  if (mode === "auto") return "when the provider closes, your copy closes too.";
  if (exits === "confirm") {
    return "you confirm them too; one you do not take leaves you holding the position, with a button to close it.";
  }
  return "when the provider closes, your copy closes too, without asking (choose `exits:confirm` to be asked).";
}

/**
 * /follow provider:<user> sizing:<mode> amount:<number> mode:auto|confirm. Only providers can be followed, and
 * only by members in good standing: not suspended, and holding the access role when the community sells access.
 */
export async function handleFollow(ctx: CommunityContext<FollowOptions>): Promise<InteractionResponse> {
  const providerDiscordId = ctx.options.provider;
  if (providerDiscordId === ctx.member.discordId) return ephemeral("You cannot follow yourself.");

  // The member's own standing first: suspended, or without the access role (their live roles, from this interaction).
  const refused = standingRefusal(
    { guildId: ctx.guildId, accessRoleId: ctx.settings.accessRoleId, accessRoleName: ctx.settings.accessRoleName },
    {
      suspendedAt: ctx.member.suspendedAt,
      suspendedReason: ctx.member.suspendedReason,
      discordRoleIds: ctx.member.discordRoles,
    },
  );
  if (refused) return ephemeral(`Not followed: ${refused.message}`);

  const sizing = SizingSchema.safeParse({ sizing: ctx.options.sizing, amount: ctx.options.amount });
  if (!sizing.success) return ephemeral(`Not followed: ${sizing.error.issues.map((i) => i.message).join(" ")}`);

  const discordUser = resolvedOf(ctx.interaction).users?.[providerDiscordId];
  const identity = await ctx.tenant.providers.memberByDiscordId(providerDiscordId);
  const providerFacts = resolvedMemberFacts(ctx.interaction, providerDiscordId, identity);
  if (discordUser?.bot || !isProvider(providerFacts, ctx.settings)) {
    return ephemeral(`<@${providerDiscordId}> is not a signal provider in this server, so there is nothing to follow.`);
  }

  const followerUserId = ctx.member.user.id;
  // A member who already follows someone is already counted against the plan's member limit.
  const alreadyFollowing = (await ctx.tenant.follows.followedBy(followerUserId)).some((f) => f.enabled);
  // Only owners and admins can pay for the community: nobody else is handed its checkout link.
  const plan = canFollow(
    await loadEntitlements(
      ctx.db,
      { communityId: ctx.community.id },
      { config: ctx.config, communityLink: memberMay(ctx.member, ctx.settings, "billing.manage") },
    ),
    await ctx.tenant.follows.followingMemberCount(),
    { alreadyFollowing },
  );
  if (!plan.allowed) return ephemeral(`Not followed: ${plan.reason}`);

  const provider =
    identity && (!discordUser || identity.username === discordUser.username)
      ? { id: identity.userId }
      : await upsertUser(ctx.db, { discordId: providerDiscordId, username: discordUser?.username ?? null });
  // Without a choice the mode follows the member's trading mode at each signal: auto on paper, confirm live.
  const mode = ctx.options.mode ?? null;
  const { existed } = await ctx.tenant.follows.upsert({
    followerUserId,
    providerUserId: provider.id,
    sizingMode: sizing.data.sizingMode,
    amount: sizing.data.amount,
    mode,
    exits: ctx.options.exits ?? null,
  });
  const how =
    mode === "auto"
      ? "orders are placed automatically, on paper and live"
      : mode === "confirm"
        ? `you confirm each order first (within ${CONFIRM_WINDOW_SECONDS} s)`
        : `orders are placed automatically on paper; when you trade live you confirm each one first (within ${CONFIRM_WINDOW_SECONDS} s), unless you choose \`mode:auto\``;
  const tradingMode = (await ctx.tenant.riskProfiles.get(followerUserId))?.tradingMode ?? "paper";
  const account =
    tradingMode === "live"
      ? `${accountMark("live")}: your live broker account, real money (switch with \`/paper mode:paper\`)`
      : `${accountMark("paper")}: your paper account, no real money (switch with \`/paper mode:live\`)`;
  return ephemeral(
    [
      `✅ You now follow <@${providerDiscordId}>; ${how}.${existed ? " (This replaces your earlier settings for them.)" : ""}`,
      `• Copies go into ${account}.`,
      `• Each trade: ${tradeSize(sizing.data.sizingMode, sizing.data.amount)}, cut to fit your limits (\`/risk view\`).`,
      `• Exits: ${exitsLine(mode, ctx.options.exits ?? null)}`,
    ].join("\n"),
  );
}
