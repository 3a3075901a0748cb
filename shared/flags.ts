/**
 * Feature flag evaluation. Precedence: a per-community override, then the
 * percentage rollout, then the flag's global default. An unknown flag is off.
 */

export interface FlagDefinition {
  key: string;
  enabledByDefault: boolean;
  /** 0–100, or null for no rollout. While set, it alone decides (the default is not consulted). */
  rolloutPercent: number | null;
}

export interface FlagOverride {
  enabled: boolean;
}

type FlagReason = "override" | "rollout" | "default" | "unknown_flag";

export interface FlagEvaluation {
  enabled: boolean;
  reason: FlagReason;
}

export function evaluateFlag(input: {
  flag: FlagDefinition | null | undefined;
  override: FlagOverride | null | undefined;
  communityId: string;
}): FlagEvaluation {
  const { flag, override, communityId } = input;
  if (!flag) return { enabled: false, reason: "unknown_flag" };
  if (override) return { enabled: override.enabled, reason: "override" };
  if (flag.rolloutPercent !== null) {
    return { enabled: rolloutBucket(flag.key, communityId) < flag.rolloutPercent, reason: "rollout" };
  }
  return { enabled: flag.enabledByDefault, reason: "default" };
}

/** 0–99, the same for a flag and community in every isolate, process and runtime. */
export function rolloutBucket(flagKey: string, communityId: string): number {
  return fnv1a32(`${flagKey}:${communityId}`) % 100;
}

const encoder = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 bytes; synchronous so flag checks stay cheap. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
