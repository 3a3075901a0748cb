/**
 * Risk limits: the product defaults, the settings validator, and how a
 * member's own settings combine with the community's (tighten only).
 */
import { z } from "zod";
import { ValidationError } from "../errors";
import type { AssetClass } from "./types";

export interface RiskLimits {
  /** Largest position, as % of equity (includes what is already held in that instrument). */
  maxPositionPercent: number;
  /** Largest position in currency, or null for no cap. */
  maxNotionalPerPosition: number | null;
  /** Total open notional (every position at its last price plus entries in flight), as % of equity. */
  maxTotalExposurePercent: number;
  maxOpenPositions: number;
  /** Positions per symbol (options count by underlying); adding to a held instrument counts as another. */
  maxPositionsPerSymbol: number;
  /** Realized plus unrealized loss since 00:00 UTC, as % of start-of-day equity (2–20). */
  dailyLossLimitPercent: number;
  maxOrdersPerDay: number;
  /** Loss since 00:00 UTC, as % of start-of-day equity, that trips the personal circuit breaker (flatten and lock). */
  circuitBreakerPercent: number;
  minAccountBalance: number;
  allowedAssetClasses: AssetClass[];
  /** Only these symbols, or null for any. */
  symbolAllowList: string[] | null;
  symbolDenyList: string[];
  /** Equities and options only: outside the regular session new entries are refused (not yet queued for the open). */
  regularHoursOnly: boolean;
  /** Community policy: whether a member may opt out of regular hours (extended hours). Not a member setting. */
  allowExtendedHours: boolean;
  /** Equities only: option premiums and crypto unit prices are not comparable to a share price. */
  minPrice: number;
  /** Default stop distance (%) for a signal without a stop, or null for none. A preference, not a limit. */
  defaultStopPercent: number | null;
  /** Default take-profit distance (%) for a signal without targets, or null for none. A preference. */
  defaultTakeProfitPercent: number | null;
}

export const ASSET_CLASSES: readonly AssetClass[] = ["equity", "option", "crypto"];

/** The product defaults (docs/architecture.md §9). A community may change them; members may only tighten. */
export const RISK_DEFAULTS: Readonly<RiskLimits> = Object.freeze<RiskLimits>({
  maxPositionPercent: 10,
  maxNotionalPerPosition: null,
  maxTotalExposurePercent: 80,
  maxOpenPositions: 3,
  maxPositionsPerSymbol: 1,
  dailyLossLimitPercent: 5,
  maxOrdersPerDay: 50,
  circuitBreakerPercent: 8,
  minAccountBalance: 100,
  allowedAssetClasses: ["equity", "option", "crypto"],
  symbolAllowList: null,
  symbolDenyList: [],
  regularHoursOnly: true,
  allowExtendedHours: true,
  minPrice: 1,
  defaultStopPercent: 2,
  defaultTakeProfitPercent: 4,
});

/** Sizing used when a follow has none: 1% risk with a signal stop, otherwise 2% of equity. */
export const DEFAULT_RISK_PERCENT = 1;
export const DEFAULT_EQUITY_PERCENT = 2;

export const DAILY_LOSS_RANGE = { min: 2, max: 20 } as const;

const symbol = z
  .string({ error: "a symbol must be text" })
  .trim()
  .toUpperCase()
  .regex(
    /^[A-Z0-9][A-Z0-9./-]{0,31}$/,
    "a symbol is 1–32 letters, digits, '.', '/' or '-' (e.g. AAPL, BRK.B, BTC/USD)",
  );

const symbolList = z.array(symbol).max(500, "at most 500 symbols").transform(unique);

const percent = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .refine((value) => value >= min && value <= max, `${name} must be between ${min}% and ${max}%`);

const count = (name: string, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be at least 1`)
    .max(max, `${name} must be at most ${max}`);

const amount = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .finite()
    .min(0, `${name} cannot be negative`);

const fields = {
  maxPositionPercent: percent("Max position size", 0.01, 100),
  maxNotionalPerPosition: z
    .number({ error: "Max notional per position must be a number, or null for no cap" })
    .finite()
    .positive("Max notional per position must be positive, or null for no cap")
    .nullable(),
  maxTotalExposurePercent: percent("Max total exposure", 1, 100),
  maxOpenPositions: count("Max open positions", 100),
  maxPositionsPerSymbol: count("Max positions per symbol", 20),
  dailyLossLimitPercent: percent("Daily loss limit", DAILY_LOSS_RANGE.min, DAILY_LOSS_RANGE.max),
  maxOrdersPerDay: count("Max orders per day", 1000),
  circuitBreakerPercent: percent("Circuit breaker", 1, 50),
  minAccountBalance: amount("Minimum account balance"),
  allowedAssetClasses: z
    .array(
      z.enum(ASSET_CLASSES as [AssetClass, ...AssetClass[]], { error: "asset classes are equity, option, crypto" }),
    )
    .min(1, "Choose at least one asset class")
    .transform(unique),
  symbolAllowList: symbolList.nullable(),
  symbolDenyList: symbolList,
  regularHoursOnly: z.boolean({ error: "Regular hours only must be true or false" }),
  minPrice: amount("Minimum price"),
  defaultStopPercent: percent("Default stop", 0.01, 50).nullable(),
  defaultTakeProfitPercent: percent("Default take-profit", 0.01, 1000).nullable(),
};

/** A member's own settings (from /risk or the dashboard): any subset of the fields. Unknown keys are refused. */
export const memberRiskSettingsSchema = z.strictObject(fields).partial();
export type MemberRiskSettings = z.infer<typeof memberRiskSettingsSchema>;

/** A community's defaults as stored: missing fields take the product default. */
export const communityRiskSettingsSchema = z.strictObject({
  maxPositionPercent: fields.maxPositionPercent.default(RISK_DEFAULTS.maxPositionPercent),
  maxNotionalPerPosition: fields.maxNotionalPerPosition.default(RISK_DEFAULTS.maxNotionalPerPosition),
  maxTotalExposurePercent: fields.maxTotalExposurePercent.default(RISK_DEFAULTS.maxTotalExposurePercent),
  maxOpenPositions: fields.maxOpenPositions.default(RISK_DEFAULTS.maxOpenPositions),
  maxPositionsPerSymbol: fields.maxPositionsPerSymbol.default(RISK_DEFAULTS.maxPositionsPerSymbol),
  dailyLossLimitPercent: fields.dailyLossLimitPercent.default(RISK_DEFAULTS.dailyLossLimitPercent),
  maxOrdersPerDay: fields.maxOrdersPerDay.default(RISK_DEFAULTS.maxOrdersPerDay),
  circuitBreakerPercent: fields.circuitBreakerPercent.default(RISK_DEFAULTS.circuitBreakerPercent),
  minAccountBalance: fields.minAccountBalance.default(RISK_DEFAULTS.minAccountBalance),
  allowedAssetClasses: fields.allowedAssetClasses.default(() => [...RISK_DEFAULTS.allowedAssetClasses]),
  symbolAllowList: fields.symbolAllowList.default(null),
  symbolDenyList: fields.symbolDenyList.default(() => []),
  regularHoursOnly: fields.regularHoursOnly.default(RISK_DEFAULTS.regularHoursOnly),
  allowExtendedHours: z
    .boolean({ error: "Allow extended hours must be true or false" })
    .default(RISK_DEFAULTS.allowExtendedHours),
  minPrice: fields.minPrice.default(RISK_DEFAULTS.minPrice),
  defaultStopPercent: fields.defaultStopPercent.default(RISK_DEFAULTS.defaultStopPercent),
  defaultTakeProfitPercent: fields.defaultTakeProfitPercent.default(RISK_DEFAULTS.defaultTakeProfitPercent),
});

export interface SettingsIssue {
  path: string;
  code: string;
  message: string;
}

export type SettingsResult<T> = { ok: true; value: T } | { ok: false; issues: SettingsIssue[] };

export function validateMemberRiskSettings(input: unknown): SettingsResult<MemberRiskSettings> {
  return toResult(memberRiskSettingsSchema.safeParse(input));
}

export function validateCommunityRiskSettings(input: unknown): SettingsResult<RiskLimits> {
  return toResult(communityRiskSettingsSchema.safeParse(input)) as SettingsResult<RiskLimits>;
}

/** A community's risk limits from its settings: its `riskDefaults` over the product's (the product's if invalid). */
export function communityRiskDefaultsOf(settings: Record<string, unknown> | null | undefined): RiskLimits {
  const defaults = validateCommunityRiskSettings({ ...RISK_DEFAULTS, ...(settings?.riskDefaults as object) });
  return defaults.ok ? defaults.value : { ...RISK_DEFAULTS };
}

/** For routes: throws a 400 ValidationError whose details name each field. */
export function parseMemberRiskSettings(input: unknown): MemberRiskSettings {
  const result = validateMemberRiskSettings(input);
  if (!result.ok) {
    throw new ValidationError(`Invalid risk settings: ${result.issues.map((i) => i.message).join("; ")}.`, {
      details: result.issues.map((issue) => ({ ...issue })),
    });
  }
  return result.value;
}

function toResult<T>(parsed: z.ZodSafeParseResult<T>): SettingsResult<T> {
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path.join("."),
      code: issue.code,
      message: issue.code === "unrecognized_keys" ? `Unknown setting: ${issue.keys.join(", ")}` : issue.message,
    })),
  };
}

export interface ClampedSetting {
  field: keyof RiskLimits;
  requested: unknown;
  applied: unknown;
  message: string;
}

export interface EffectiveLimits {
  limits: RiskLimits;
  /** Member settings that tried to loosen a community limit; the community's value applies. */
  clamped: ClampedSetting[];
}

type Direction = "at_most" | "at_least";

const CEILINGS: Record<string, Direction> = {
  maxPositionPercent: "at_most",
  maxTotalExposurePercent: "at_most",
  maxOpenPositions: "at_most",
  maxPositionsPerSymbol: "at_most",
  dailyLossLimitPercent: "at_most",
  maxOrdersPerDay: "at_most",
  circuitBreakerPercent: "at_most",
  minAccountBalance: "at_least",
  minPrice: "at_least",
};

/**
 * The limits that apply to a member: the community's, tightened by the
 * member's own settings. An attempt to loosen keeps the community value and is
 * reported. Default exits are preferences: the member's choice always applies.
 */
export function effectiveLimits(community: RiskLimits, member: MemberRiskSettings | null | undefined): EffectiveLimits {
  const limits: RiskLimits = {
    ...community,
    allowedAssetClasses: [...community.allowedAssetClasses],
    symbolAllowList: community.symbolAllowList ? [...community.symbolAllowList] : null,
    symbolDenyList: [...community.symbolDenyList],
  };
  const clamped: ClampedSetting[] = [];
  if (!member) return { limits, clamped };

  const clamp = (field: keyof RiskLimits, requested: unknown, applied: unknown, why: string) => {
    clamped.push({ field, requested, applied, message: `${field}: ${why}` });
  };

  for (const [field, direction] of Object.entries(CEILINGS) as [keyof MemberRiskSettings, Direction][]) {
    const requested = member[field] as number | undefined;
    if (requested === undefined) continue;
    const communityValue = community[field] as number;
    const tighter = direction === "at_most" ? requested <= communityValue : requested >= communityValue;
    if (tighter) (limits[field] as number) = requested;
    else
      clamp(
        field,
        requested,
        communityValue,
        `${requested} is looser than the community's ${communityValue}; ${communityValue} applies.`,
      );
  }

  if (member.maxNotionalPerPosition !== undefined) {
    const requested = member.maxNotionalPerPosition;
    const cap = community.maxNotionalPerPosition;
    if (requested !== null && (cap === null || requested <= cap)) limits.maxNotionalPerPosition = requested;
    else if (cap !== null)
      clamp("maxNotionalPerPosition", requested, cap, `the community caps a position at ${cap}; ${cap} applies.`);
  }

  if (member.allowedAssetClasses !== undefined) {
    const kept = member.allowedAssetClasses.filter((assetClass) => community.allowedAssetClasses.includes(assetClass));
    const refused = member.allowedAssetClasses.filter((assetClass) => !kept.includes(assetClass));
    if (kept.length > 0) limits.allowedAssetClasses = kept;
    if (refused.length > 0 || kept.length === 0)
      clamp(
        "allowedAssetClasses",
        member.allowedAssetClasses,
        limits.allowedAssetClasses,
        `the community does not allow ${refused.join(", ")}.`,
      );
  }

  if (member.symbolAllowList !== undefined) {
    const requested = member.symbolAllowList;
    const communityList = community.symbolAllowList;
    if (requested === null) {
      if (communityList !== null)
        clamp("symbolAllowList", null, communityList, "the community limits trading to its allow list.");
    } else if (communityList === null) {
      limits.symbolAllowList = requested;
    } else {
      const kept = requested.filter((s) => communityList.includes(s));
      const refused = requested.filter((s) => !communityList.includes(s));
      limits.symbolAllowList = kept.length > 0 ? kept : communityList;
      if (refused.length > 0)
        clamp(
          "symbolAllowList",
          requested,
          limits.symbolAllowList,
          `not on the community's list: ${refused.join(", ")}.`,
        );
    }
  }

  if (member.symbolDenyList !== undefined) {
    limits.symbolDenyList = unique([...community.symbolDenyList, ...member.symbolDenyList]);
  }

  // Regular hours are the default, and extended hours an opt-in the community may take away.
  if (member.regularHoursOnly !== undefined) {
    if (member.regularHoursOnly || !community.regularHoursOnly || community.allowExtendedHours)
      limits.regularHoursOnly = member.regularHoursOnly;
    else clamp("regularHoursOnly", false, true, "the community trades during regular hours only.");
  }

  if (member.defaultStopPercent !== undefined) limits.defaultStopPercent = member.defaultStopPercent;
  if (member.defaultTakeProfitPercent !== undefined) limits.defaultTakeProfitPercent = member.defaultTakeProfitPercent;

  return { limits, clamped };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
