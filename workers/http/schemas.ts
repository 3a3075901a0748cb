import { z } from "@hono/zod-openapi";
import { GRANTABLE_TRADER_PLANS } from "../../shared/billing/complimentary";
import { BROKER_IDS } from "../../shared/brokers/ids";
import { ORDER_STATUSES } from "../../shared/db/schema";
import { ERROR_CODES } from "../../shared/errors";
import type { OrderRow } from "../../shared/execution/orders";

/**
 * The request and response shapes that more than one route uses, in one module (routes never import each other).
 * A shape only one route uses stays in that route's file.
 */

/** Every `error.code` (the one list in shared/errors.ts), so the OpenAPI document enumerates them. */
const ErrorCodeSchema = z.enum(ERROR_CODES).openapi("ErrorCode");

/** The error body every route shares (openspec/project.md, "The HTTP contract"). */
const ErrorBodySchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.record(z.string(), z.unknown())).optional(),
    }),
  })
  .openapi("ErrorBody");

export const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBodySchema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const CommunityIdParam = z.string().min(1).max(128).openapi({ example: "demo-community" });
export const CommunityParams = z.object({ communityId: CommunityIdParam });

/** A CSV download's headers when it stopped at its row cap (`limit`, at most 100,000) with more rows to come. */
export const CsvDownloadHeaders = z.object({
  "x-export-truncated": z.literal("true").optional().openapi({
    description: "Present when more rows match than the download holds: continue from x-next-cursor",
  }),
  "x-next-cursor": z.string().optional().openapi({
    description: "Where the next download starts (the trades' `cursor`, the audit log's `after_seq`)",
  }),
  link: z.string().optional().openapi({ description: 'The same download continuing there, `<…>; rel="next"`' }),
});

/** User ids are opaque (UUIDs, or readable ids in the demo seed). */
export const UserIdQuery = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "A user id: letters, digits, - and _")
  .openapi({ example: "demo-trader-1" });

/** A community's audit chain verification (the audit endpoint and the consistency check). */
export const AuditVerificationSchema = z
  .object({
    ok: z.boolean(),
    count: z.number().int().openapi({ description: "Rows verified before the first break (all rows when ok)" }),
    headHash: z.string().optional(),
    brokenAt: z
      .object({
        seq: z.number().int(),
        reason: z.enum(["hash_mismatch", "prev_hash_mismatch", "seq_gap", "head_mismatch"]),
      })
      .optional(),
  })
  .openapi("AuditVerification");

export const OrderEventSchema = z
  .object({
    fromStatus: z.enum(ORDER_STATUSES).nullable(),
    toStatus: z.enum(ORDER_STATUSES),
    cause: z.string().openapi({ example: "signal" }),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.number().int(),
  })
  .openapi("OrderEvent");

export const OrderSchema = z
  .object({
    id: z.string(),
    communityId: z.string(),
    signalId: z.string().nullable(),
    userId: z.string(),
    broker: z.enum(BROKER_IDS),
    accountRef: z.string().openapi({ description: 'Broker connection id, or "paper"' }),
    clientOrderId: z.string(),
    brokerOrderId: z.string().nullable(),
    leg: z.string().openapi({ example: "entry" }),
    parentOrderId: z.string().nullable(),
    symbol: z.string(),
    assetClass: z.string(),
    side: z.string(),
    orderType: z.string(),
    quantity: z.number(),
    limitPrice: z.number().nullable(),
    stopPrice: z.number().nullable(),
    status: z.enum(ORDER_STATUSES),
    statusReason: z.string().nullable(),
    filledQuantity: z.number(),
    averageFillPrice: z.number().nullable(),
    attempts: z.number().int(),
    submittedAt: z.number().int().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    intent: z.record(z.string(), z.unknown()).openapi({ description: "The full order intent, with its exits" }),
  })
  .openapi("Order");

/** An order row as the API shows it: exactly the fields of `OrderSchema`, nothing else of the row. */
export function orderView(row: OrderRow): z.infer<typeof OrderSchema> {
  return {
    id: row.id,
    communityId: row.communityId,
    signalId: row.signalId,
    userId: row.userId,
    broker: row.broker,
    accountRef: row.accountRef,
    clientOrderId: row.clientOrderId,
    brokerOrderId: row.brokerOrderId,
    leg: row.leg,
    parentOrderId: row.parentOrderId,
    symbol: row.symbol,
    assetClass: row.assetClass,
    side: row.side,
    orderType: row.orderType,
    quantity: row.quantity,
    limitPrice: row.limitPrice,
    stopPrice: row.stopPrice,
    status: row.status,
    statusReason: row.statusReason,
    filledQuantity: row.filledQuantity,
    averageFillPrice: row.averageFillPrice,
    attempts: row.attempts,
    submittedAt: row.submittedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    intent: row.intent,
  };
}

/** A Discord user id in a path (a snowflake). */
export const DiscordUserParams = z.object({
  discordUserId: z
    .string()
    .regex(/^\d{17,20}$/, "A Discord user id (a snowflake: 17 to 20 digits)")
    .openapi({ example: "100000000000000202" }),
});

/** An operator's complimentary trader plan, as the ops API and a trader's billing status show it. */
export const TraderPlanGrantSchema = z
  .object({
    userId: z.string().openapi({ description: "The internal user id" }),
    plan: z.enum(GRANTABLE_TRADER_PLANS),
    until: z.string().openapi({ description: "When the grant stops applying (ISO 8601, UTC)" }),
    reason: z.string(),
    grantedAt: z.string().openapi({ description: "When this grant was made or last replaced (ISO 8601, UTC)" }),
  })
  .openapi("TraderPlanGrant");
