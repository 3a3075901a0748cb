import { executionEntitlements } from "../../../platform/execution/entitlements";
import {
  effectiveLimits,
  type MemberRiskSettings,
  type RiskLimits,
  validateMemberRiskSettings,
} from "../../../shared/risk/limits";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse, modal } from "../respond";

export type RiskOptions = OptionsFor<typeof DEFINITIONS.risk>;

export const RISK_MODAL_ID = "risk:settings";

/** The settings the modal edits (a modal holds at most five inputs); the dashboard edits the rest. */
const MODAL_FIELDS = [
  { key: "maxPositionPercent", label: "Max position size (% of equity)", kind: "number" },
  { key: "dailyLossLimitPercent", label: "Daily loss limit (% of equity)", kind: "number" },
  { key: "maxOpenPositions", label: "Max open positions", kind: "integer" },
  { key: "defaultStopPercent", label: "Default stop-loss (%)", kind: "number" },
  { key: "defaultTakeProfitPercent", label: "Default take-profit (%)", kind: "number" },
] as const satisfies readonly { key: keyof RiskLimits; label: string; kind: "number" | "integer" }[];

async function memberSettings(ctx: CommunityContext<unknown>): Promise<MemberRiskSettings> {
  const stored = (await ctx.tenant.riskProfiles.get(ctx.member.user.id))?.settings ?? {};
  const valid = validateMemberRiskSettings(stored);
  return valid.ok ? valid.value : {};
}

async function limitsText(ctx: CommunityContext<unknown>, own: MemberRiskSettings): Promise<string> {
  const community = (await executionEntitlements(ctx.env, ctx.community.id)).communityRiskDefaults;
  const { limits, clamped } = effectiveLimits(community, own);
  const pct = (value: number | null) => (value === null ? "none" : `${value}%`);
  const lines = [
    "**Your risk limits** (yours where set, else the community's):",
    `• Max position size: ${pct(limits.maxPositionPercent)} of equity${limits.maxNotionalPerPosition !== null ? `, at most ${limits.maxNotionalPerPosition}` : ""}`,
    `• Daily loss limit: ${pct(limits.dailyLossLimitPercent)} (then flatten and pause until 00:00 UTC)`,
    `• Circuit breaker: −${limits.circuitBreakerPercent}% intraday`,
    `• Open positions: ${limits.maxOpenPositions}, per symbol: ${limits.maxPositionsPerSymbol}, orders a day: ${limits.maxOrdersPerDay}`,
    `• Minimum balance: ${limits.minAccountBalance}, minimum price: ${limits.minPrice}`,
    `• Asset classes: ${limits.allowedAssetClasses.join(", ")}${limits.regularHoursOnly ? " (regular hours only)" : ""}`,
    `• Default stop: ${pct(limits.defaultStopPercent)}, default take-profit: ${pct(limits.defaultTakeProfitPercent)}`,
  ];
  for (const note of clamped) lines.push(`⚠️ ${note.message}`);
  lines.push("Change them with `/risk set`.");
  return lines.join("\n");
}

/** /risk view shows the effective limits; /risk set opens a modal prefilled with the member's own settings. */
export async function handleRisk(ctx: CommunityContext<RiskOptions>): Promise<InteractionResponse> {
  const own = await memberSettings(ctx);
  if (ctx.options.subcommand === "view") return ephemeral(await limitsText(ctx, own));
  return modal(
    RISK_MODAL_ID,
    "Your risk limits",
    MODAL_FIELDS.map((field) => {
      const value = own[field.key];
      return {
        customId: field.key,
        label: field.label,
        value: value === undefined || value === null ? undefined : String(value),
        placeholder: "empty: the community's limit",
        maxLength: 12,
      };
    }),
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
  if (!read.ok) return ephemeral(`Nothing saved:\n${read.errors.map((e) => `• ${e}`).join("\n")}`);
  const valid = validateMemberRiskSettings(read.settings);
  if (!valid.ok) return ephemeral(`Nothing saved:\n${valid.issues.map((i) => `• ${i.message}`).join("\n")}`);
  await ctx.tenant.riskProfiles.setSettings(ctx.member.user.id, valid.value);
  return ephemeral(`✅ Saved.\n${await limitsText(ctx, valid.value)}`);
}
