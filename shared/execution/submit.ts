import { z } from "zod";
import { NormalizedSignalSchema } from "../signals/schema";

/** Where a signal came from: the id that makes a redelivery recognisable, and the time the source stamped it. */
export const SubmitSignalInputSchema = z.object({
  signalId: z.string().min(1),
  communityId: z.string().min(1),
  providerUserId: z.string().min(1),
  /** The normalized signal, validated again at the executor's door. */
  signal: NormalizedSignalSchema,
  source: z.enum(["slash", "message", "webhook", "api"]),
  sourceId: z.string().min(1),
  /** Milliseconds since the epoch: the Discord snowflake's time, or the webhook's timestamp. */
  sourceTimestamp: z.number().int().positive(),
  channelId: z.string().nullable().optional(),
  interaction: z.object({ applicationId: z.string(), token: z.string() }).nullable().optional(),
});
export type SubmitSignalInput = z.infer<typeof SubmitSignalInputSchema>;

/** Milliseconds since the epoch encoded in a Discord snowflake. */
export function snowflakeTime(snowflake: string): number {
  return Number((BigInt(snowflake) >> 22n) + 1420070400000n);
}

/** A member's own confirmed /trade: one order for that member's account, no fan-out. */
export const ManualTradeInputSchema = z.object({
  signalId: z.string().min(1),
  communityId: z.string().min(1),
  userId: z.string().min(1),
  signal: NormalizedSignalSchema,
  sourceId: z.string().min(1),
  sourceTimestamp: z.number().int().positive(),
  interaction: z.object({ applicationId: z.string(), token: z.string() }).nullable().optional(),
});
export type ManualTradeInput = z.infer<typeof ManualTradeInputSchema>;
