import { database } from "../../../platform/db/client";
import { memberNoticeStore } from "../../../platform/db/member-notices";
import { executionEntitlements } from "../../../platform/execution/execution-entitlements";
import { ButtonStyle, buttonRow, signComponentId } from "../../../shared/discord/components";
import { memberMay } from "../../../shared/discord/permissions";
import { REGULAR_SESSION } from "../../../shared/market/new-york";
import {
  NOTICE_KIND_TABLE,
  NOTICE_KINDS,
  type NoticeKind,
  sendsDirectMessage,
} from "../../../shared/notifications/kinds";
import {
  type ClampedSetting,
  effectiveLimits,
  type MemberRiskSettings,
  type RiskLimits,
  validateMemberRiskSettings,
} from "../../../shared/risk/limits";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { tradingHold, unlockAccount } from "../handoff";
import type { ComponentInteraction } from "../interaction-schema";
import { ephemeral, type InteractionResponse, messageBody, modal } from "../respond";

export type RiskOptions = OptionsFor<typeof DEFINITIONS.risk>;

export const RISK_MODAL_ID = "risk:settings";

/** The settings the modal edits (a modal holds at most five inputs); the dashboard edits the rest. */
const MODAL_FIELDS = [
  { key: "maxPositionPercent", label: "Max position size (% of equity)", name: "max position", unit: "%" },
  { key: "dailyLossLimitPercent", label: "Daily loss limit (% of equity)", name: "daily loss limit", unit: "%" },
  { key: "maxOpenPositions", label: "Max open positions", name: "max open positions", unit: "" },
  { key: "defaultStopPercent", label: "Default stop-loss (%)", name: "default stop-loss", unit: "%" },
  { key: "defaultTakeProfitPercent", label: "Default take-profit (%)", name: "default take-profit", unit: "%" },
] as const satisfies readonly { key: keyof RiskLimits; label: string; name: string; unit: string }[];

/** Each input's max_length (what a member can type; the "what you typed" embed keeps at most this much). */
const MODAL_MAX_LENGTH = 12;
/** How an empty field reads in the "what you typed" embed (embed field values cannot be empty). */
const TYPED_EMPTY = "(empty)";
/** The button under a refused form that opens it again with what was typed; it lives as long as other buttons. */
export const RISK_EDIT_KIND = "risk";

/** The modal, pre-filled with the given text per field (stored settings, or what the member typed). */
function riskModal(values: Partial<Record<string, string>>): InteractionResponse {
  return modal(
    RISK_MODAL_ID,
    "Your risk limits",
    MODAL_FIELDS.map((field) => {
      const value = values[field.key];
      return {
        customId: field.key,
        label: field.label,
        // A stored value is never cut (max_length grows to fit it); typed values come back within max_length.
        value: value || undefined,
        placeholder: "empty: the community's limit",
        maxLength: MODAL_MAX_LENGTH,
      };
    }),
  );
}

/** A setting of the modal as a member reads it: "max position 50%". */
function settingWords(field: (typeof MODAL_FIELDS)[number], value: unknown): string {
  return `${field.name} ${String(value)}${field.unit}`;
}

/** A member's setting the community's limit overrides, in words: "max position 50% capped to the server's 10%". */
function clampedWords(note: ClampedSetting): string {
  const field = MODAL_FIELDS.find((f) => f.key === note.field);
  if (!field) return note.message;
  return `${settingWords(field, note.requested)} capped to the server's ${String(note.applied)}${field.unit}`;
}

async function memberSettings(ctx: CommunityContext<unknown>): Promise<MemberRiskSettings> {
  const stored = (await ctx.tenant.riskProfiles.get(ctx.member.user.id))?.settings ?? {};
  const valid = validateMemberRiskSettings(stored);
  return valid.ok ? valid.value : {};
}

async function limitsText(
  ctx: CommunityContext<unknown>,
  own: MemberRiskSettings,
  options: { saved?: boolean } = {},
): Promise<string> {
  const community = (await executionEntitlements(ctx.env, ctx.community.id)).communityRiskDefaults;
  const effective = effectiveLimits(community, own);
  const { limits } = effective;
  const saved = options.saved ? savedWords(own, effective.clamped) : null;
  // Once the saved line has said which of the form's settings are capped, the list does not say it again.
  const clamped = saved
    ? effective.clamped.filter((c) => !MODAL_FIELDS.some((f) => f.key === c.field))
    : effective.clamped;
  const pct = (value: number | null) => (value === null ? "none" : `${value}%`);
  const hours = limits.regularHoursOnly
    ? `regular hours only (${REGULAR_SESSION})${community.allowExtendedHours ? "; opt into extended hours with `/risk hours session:extended`" : ""}`
    : "extended hours (you opted in)";
  const lines = [
    ...(saved ? [saved] : []),
    "**Your risk limits** (yours where set, else the community's):",
    `• Max position size: ${pct(limits.maxPositionPercent)} of equity${limits.maxNotionalPerPosition !== null ? `, at most ${limits.maxNotionalPerPosition}` : ""}`,
    `• Max total exposure: ${pct(limits.maxTotalExposurePercent)} of equity`,
    `• Daily loss limit: ${pct(limits.dailyLossLimitPercent)} (then flatten and pause until 00:00 UTC)`,
    `• Circuit breaker: −${limits.circuitBreakerPercent}% on the day (then flatten and lock until you or an admin unlock)`,
    `• Open positions: ${limits.maxOpenPositions}, per symbol: ${limits.maxPositionsPerSymbol}, orders a day: ${limits.maxOrdersPerDay}`,
    `• Minimum balance: ${limits.minAccountBalance}, minimum price: ${limits.minPrice}`,
    `• Asset classes: ${limits.allowedAssetClasses.join(", ")}`,
    `• Equities and options: ${hours}`,
    `• Default stop: ${pct(limits.defaultStopPercent)}, default take-profit: ${pct(limits.defaultTakeProfitPercent)}`,
  ];
  for (const note of clamped) lines.push(`⚠️ Your ${clampedWords(note)}.`);
  lines.push("Change them with `/risk set`.");
  return lines.join("\n");
}

/** What the form saved, in words: "Saved: max position 50% capped to the server's 10%, max open positions 2." */
function savedWords(own: MemberRiskSettings, clamped: ClampedSetting[]): string {
  const parts = MODAL_FIELDS.filter((field) => own[field.key] !== undefined && own[field.key] !== null).map((field) => {
    const note = clamped.find((c) => c.field === field.key);
    return note ? clampedWords(note) : settingWords(field, own[field.key]);
  });
  return parts.length > 0 ? `Saved: ${parts.join(", ")}.` : "Saved: you use the server's limits.";
}

/** The lock or pause the executor holds on the member's new entries, as lines for /risk view. */
async function holdText(ctx: CommunityContext<unknown>): Promise<string[]> {
  const hold = await tradingHold(ctx.env, { communityId: ctx.community.id, userId: ctx.member.user.id });
  if (!hold) return ["(Whether your account is locked or paused could not be read just now.)"];
  const lines: string[] = [];
  if (hold.locked) {
    lines.push(
      `🔒 Your account is locked: your circuit breaker tripped on ${hold.locked.day} (down ${hold.locked.lossPercent}%). Unlock it with \`/risk unlock\`.`,
    );
  }
  if (hold.paused) lines.push(`⏸️ New entries are paused until ${new Date(hold.paused.until).toISOString()}.`);
  return lines;
}

/**
 * /risk view shows the effective limits (and a lock or pause); /risk set opens a modal prefilled with the
 * member's own settings; /risk hours chooses regular or extended hours; /risk unlock lifts a circuit-breaker lock;
 * /risk notify chooses how skipped copies are told.
 */
export async function handleRisk(ctx: CommunityContext<RiskOptions>): Promise<InteractionResponse> {
  const own = await memberSettings(ctx);
  if (ctx.options.subcommand === "view") {
    const [limits, hold] = await Promise.all([limitsText(ctx, own), holdText(ctx)]);
    return ephemeral([...hold, limits].join("\n"));
  }
  if (ctx.options.subcommand === "hours") return handleHours(ctx, own, ctx.options.session);
  if (ctx.options.subcommand === "unlock") return handleUnlock(ctx, ctx.options.member);
  if (ctx.options.subcommand === "notify") return handleNotify(ctx, ctx.options);
  const stored: Record<string, string> = {};
  for (const field of MODAL_FIELDS) {
    const value = own[field.key];
    if (value !== undefined && value !== null) stored[field.key] = String(value);
  }
  return riskModal(stored);
}

/** [Edit again] under a refused form: the modal re-opens with what the member typed, kept in the reply's embed. */
export function reopenRiskModal(interaction: ComponentInteraction): InteractionResponse {
  const fields = interaction.message?.embeds?.[0]?.fields ?? [];
  const typed: Record<string, string> = {};
  for (const field of MODAL_FIELDS) {
    const value = fields.find((f) => f.name === field.label)?.value;
    if (value !== undefined && value !== TYPED_EMPTY) typed[field.key] = value;
  }
  return riskModal(typed);
}

/** A refused form: the problems, what was typed (in an embed) and [Edit again] to fix it without retyping. */
async function refusedForm(
  ctx: CommunityContext<unknown>,
  values: Record<string, string>,
  problems: string[],
): Promise<InteractionResponse> {
  const text = `Nothing saved:\n${problems.map((p) => `• ${p}`).join("\n")}`;
  const secret = ctx.config.SESSION_SECRET;
  if (!secret) return ephemeral(text);
  const customId = await signComponentId(secret, { kind: RISK_EDIT_KIND, action: "edit", id: ctx.interaction.id });
  const typed = {
    title: "What you typed",
    fields: MODAL_FIELDS.map((field) => ({
      name: field.label,
      value: (values[field.key] ?? "").trim().slice(0, MODAL_MAX_LENGTH) || TYPED_EMPTY,
      inline: true,
    })),
  };
  return ephemeral(text, [buttonRow([{ customId, label: "Edit again", style: ButtonStyle.PRIMARY }])], [typed]);
}

/** Regular hours are the default; extended hours an opt-in the community may forbid (then it is refused). */
async function handleHours(
  ctx: CommunityContext<unknown>,
  own: MemberRiskSettings,
  session: "regular" | "extended",
): Promise<InteractionResponse> {
  const settings = { ...own, regularHoursOnly: session === "regular" };
  const community = (await executionEntitlements(ctx.env, ctx.community.id)).communityRiskDefaults;
  const refused = effectiveLimits(community, settings).clamped.find((c) => c.field === "regularHoursOnly");
  if (refused) return ephemeral(`Nothing saved: ${refused.message}`);
  await ctx.tenant.riskProfiles.setSettings(ctx.member.user.id, settings);
  return ephemeral(
    session === "regular"
      ? `✅ Saved: equity and option entries are placed during regular hours only (${REGULAR_SESSION}); outside them they are refused and you are told.`
      : "✅ Saved: you opted into extended hours, so equity and option entries are placed outside regular hours too (your broker's own session rules still apply). Crypto trades around the clock either way.",
  );
}

/** Members unlock their own account; those the role matrix lets unlock members (member.unlock) anyone's. */
async function handleUnlock(
  ctx: CommunityContext<unknown>,
  memberDiscordId: string | undefined,
): Promise<InteractionResponse> {
  const self = memberDiscordId === undefined || memberDiscordId === ctx.member.discordId;
  if (!self && !memberMay(ctx.member, ctx.settings, "member.unlock")) {
    return ephemeral(
      "Only server admins (Manage Server permission) and moderators can unlock another member's account.",
    );
  }
  const target = self ? { userId: ctx.member.user.id } : await ctx.tenant.providers.memberByDiscordId(memberDiscordId);
  if (!target) return ephemeral(`<@${memberDiscordId}> has no account in this community.`);
  return ctx.defer(
    async () => {
      const outcome = await unlockAccount(ctx.env, {
        communityId: ctx.community.id,
        userId: target.userId,
        actorId: ctx.member.user.id,
      });
      if (!outcome.ok) {
        return messageBody(
          `⚠️ The account could not be unlocked (${outcome.reason}); it stays locked. Try again, and quote request id \`${ctx.requestId}\` if it persists.`,
        );
      }
      const whose = self ? "Your account" : `<@${memberDiscordId}>'s account`;
      return messageBody(
        outcome.unlocked
          ? `🔓 ${whose} is unlocked: ${outcome.message.replace(/^Unlocked: /, "")}`
          : `${whose} is not locked.`,
      );
    },
    { ephemeral: true },
  );
}

/** Reads the submitted fields: empty clears the member's own value, anything else must be a number. */
export function settingsFromModal(
  values: Record<string, string>,
  previous: MemberRiskSettings,
): { ok: true; settings: Record<string, unknown> } | { ok: false; errors: string[] } {
  const settings: Record<string, unknown> = { ...previous };
  const errors: string[] = [];
  for (const field of MODAL_FIELDS) {
    const raw = values[field.key];
    if (raw === undefined) continue;
    const text = raw.trim().replace(/%$/, "").trim();
    if (text === "") {
      delete settings[field.key];
      continue;
    }
    const value = Number(text.replaceAll(",", ""));
    if (!Number.isFinite(value) || !/^-?[\d,]*\.?\d+$/.test(text)) {
      errors.push(`${field.label}: "${raw.trim()}" is not a number.`);
      continue;
    }
    settings[field.key] = value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings };
}

/** The modal's submit: validated by the risk engine's own validator before anything is written. */
export async function handleRiskModalSubmit(
  ctx: CommunityContext<unknown>,
  values: Record<string, string>,
): Promise<InteractionResponse> {
  const previous = await memberSettings(ctx);
  const read = settingsFromModal(values, previous);
  if (!read.ok) return refusedForm(ctx, values, read.errors);
  const valid = validateMemberRiskSettings(read.settings);
  if (!valid.ok)
    return refusedForm(
      ctx,
      values,
      valid.issues.map((i) => i.message),
    );
  await ctx.tenant.riskProfiles.setSettings(ctx.member.user.id, valid.value);
  return ephemeral(await limitsText(ctx, valid.value, { saved: true }));
}

/**
 * `skips:` each skipped copy by DM (the default), or one digest a day for busy members; `kind:` with `dm:on|off`
 * whether notices of that kind come by DM (each stays in the dashboard inbox; security and membership notices always
 * come by DM, so they are not offered). Without options: the current choices.
 */
async function handleNotify(
  ctx: CommunityContext<unknown>,
  options: { skips?: "each" | "digest"; kind?: NoticeKind; dm?: "on" | "off" },
): Promise<InteractionResponse> {
  if ((options.kind === undefined) !== (options.dm === undefined)) {
    return ephemeral("Nothing saved: name both kind: and dm: (for example /risk notify kind:billing dm:off).");
  }
  const store = memberNoticeStore(database(ctx.env.DB));
  const userId = ctx.member.user.id;
  const said: string[] = [];
  if (options.skips) {
    await ctx.tenant.riskProfiles.setSkipNotices(userId, options.skips);
    said.push(
      options.skips === "digest"
        ? "✅ Saved: signals you follow that are not copied are collected into one direct message a day, sent each morning at 02:00 UTC."
        : "✅ Saved: each signal you follow that is not copied is told to you by direct message, with the reason and what you can do.",
    );
  }
  if (options.kind && options.dm) {
    await store.setPreferences(userId, [{ kind: options.kind, dm: options.dm === "on" }]);
    const what = NOTICE_KIND_TABLE[options.kind].description;
    said.push(
      options.dm === "on"
        ? `✅ Saved: ${options.kind} notices (${what}) come by direct message, and stay in your dashboard inbox.`
        : `✅ Saved: ${options.kind} notices (${what}) no longer come by direct message; read them in your dashboard inbox (/dashboard).`,
    );
  }
  if (said.length > 0) return ephemeral(said.join("\n"));
  const stored = await store.preferences(userId);
  const lines = NOTICE_KINDS.filter((kind) => kind !== "other").map((kind) => {
    const info = NOTICE_KIND_TABLE[kind];
    const dm = sendsDirectMessage(kind, stored.get(kind));
    return `• ${kind}: DM ${dm ? "on" : "off"}${info.mutable ? "" : " (always)"} — ${info.description}`;
  });
  return ephemeral(
    [
      "Every notice is kept in your dashboard inbox (/dashboard). By direct message:",
      ...lines,
      "Change one with /risk notify kind:<kind> dm:on|off.",
    ].join("\n"),
  );
}
