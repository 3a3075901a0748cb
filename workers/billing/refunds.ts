import type { BillingContext } from "../../platform/billing/context";
import { billingFor } from "../../platform/db/tenant/billing";
import type { SubjectRef } from "../../shared/billing/events";
import { refundText } from "../../shared/billing/notices";
import { POLAR_ID } from "../../shared/billing/polar";
import type { Invoice, RefundReason, RefundResult } from "../../shared/billing/provider";
import { STRIPE_PAYMENT_ID } from "../../shared/billing/stripe";
import type { BillingProviderName } from "../../shared/db/schema";
import { ForbiddenError, NotFoundError, ValidationError } from "../../shared/errors";
import { can } from "../../shared/rbac/matrix";
import { payerOf, sendDirectMessage } from "./notify";
import { billingProvider } from "./providers";

/**
 * Refunds of a community's payments, asked for by an operator or by one of the community's owners or admins:
 * through the refund endpoint of the provider that took the payment, audited in the community's chain, and told to
 * the payer under the same key the provider's refund webhook uses, so the payer hears of it once.
 */

/** Who asks: an operator (OPS_TOKEN, audited under `actorId`), or a member whose role in the community is checked. */
export type BillingActor = { kind: "operator"; actorId: string } | { kind: "member"; userId: string };

export interface RefundOutcome extends RefundResult {
  provider: BillingProviderName;
}

export async function refundPayment(
  ctx: BillingContext,
  input: {
    communityId: string;
    actor: BillingActor;
    paymentId: string;
    amount: number | null;
    reason: RefundReason;
    comment: string | null;
    idempotencyKey: string | null;
  },
): Promise<RefundOutcome> {
  const actorId = await authorizeRefund(ctx, input.communityId, input.actor);
  const subject: SubjectRef = { subject: "community", communityId: input.communityId, userId: null };
  const provider = providerOfPayment(input.paymentId);
  const customers = (await ctx.dir.customers.forSubject(subject)).filter((row) => row.provider === provider);
  if (customers.length === 0) {
    throw new NotFoundError(`No payment ${input.paymentId} of this community was found.`, "PAYMENT_NOT_FOUND");
  }

  const result = await billingProvider(ctx.config, provider, "api").refund({
    paymentId: input.paymentId,
    customerIds: customers.map((row) => row.providerCustomerId),
    amount: input.amount,
    reason: input.reason,
    comment: input.comment,
    metadata: { dte_community_id: input.communityId, dte_refunded_by: actorId },
    idempotencyKey: input.idempotencyKey,
  });
  const log = ctx.logger.child({ communityId: input.communityId, provider, refundId: result.refundId });
  log.info("billing.refund_issued", { paymentId: result.paymentId, amount: result.amount, full: result.full });

  // The money has moved: a failure to audit or to tell the payer is reported loudly, never as a failed refund
  // (a caller who retried would refund twice).
  try {
    await billingFor(ctx.db, input.communityId).recordRefund(actorId, {
      provider,
      paymentId: result.paymentId,
      refundId: result.refundId,
      amount: result.amount,
      currency: result.currency,
      status: result.status,
      full: result.full,
      reason: input.reason,
      comment: input.comment,
    });
  } catch (error) {
    log.error("billing.refund_unaudited", { alert: true, error, paymentId: result.paymentId, amount: result.amount });
  }
  try {
    const customer = customers.find((row) => row.providerCustomerId === result.providerCustomerId);
    const payer = await payerOf(ctx, subject, customer?.userId ?? null);
    if (payer) {
      const community = await ctx.dir.people.community(input.communityId);
      await sendDirectMessage(ctx, {
        key: `billing:${provider}:refund:${result.noticeKey}`,
        userId: payer,
        communityId: input.communityId,
        content: refundText(
          { value: result.amount, currency: result.currency },
          { subject: "community", communityName: community?.name ?? null },
        ),
      });
    }
  } catch (error) {
    log.warn("billing.refund_notice_failed", { error });
  }
  return { ...result, provider };
}

/** The community's payments at every provider that bills it, newest first (what a refund names). */
export async function communityPayments(
  ctx: BillingContext,
  communityId: string,
): Promise<(Invoice & { provider: BillingProviderName })[]> {
  const subject: SubjectRef = { subject: "community", communityId, userId: null };
  const payments: (Invoice & { provider: BillingProviderName })[] = [];
  for (const customer of await ctx.dir.customers.forSubject(subject)) {
    const invoices = await billingProvider(ctx.config, customer.provider, "api").listInvoices(
      customer.providerCustomerId,
    );
    payments.push(...invoices.map((invoice) => ({ ...invoice, provider: customer.provider })));
  }
  return payments.sort((a, b) => b.createdAt - a.createdAt);
}

/** Operators, and the members the role matrix lets manage billing; a stranger to the community does not learn it exists. */
async function authorizeRefund(ctx: BillingContext, communityId: string, actor: BillingActor): Promise<string> {
  if (actor.kind === "operator") return actor.actorId;
  const role = await billingFor(ctx.db, communityId).memberRole(actor.userId);
  if (role === null) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
  if (!can(role, "billing.manage")) {
    throw new ForbiddenError("Only the community's owner and admins can refund its payments.", "FORBIDDEN");
  }
  return actor.userId;
}

/** Stripe payments are invoices, payment intents or charges; Polar's are orders (UUIDs). */
function providerOfPayment(paymentId: string): BillingProviderName {
  if (STRIPE_PAYMENT_ID.test(paymentId)) return "stripe";
  if (POLAR_ID.test(paymentId)) return "polar";
  throw new ValidationError(
    "paymentId must be a Stripe invoice (in_…), payment intent (pi_…) or charge (ch_…), or a Polar order id.",
    { code: "PAYMENT_ID_INVALID" },
  );
}
