import { createRoute, z } from "@hono/zod-openapi";
import { billingContext } from "../../../platform/billing/context";
import { database } from "../../../platform/db/client";
import { internalUserId } from "../../../platform/db/users";
import { BillingLinkError, BillingLinkUsedError, verifyBillingLink } from "../../../shared/billing/links";
import { BILLING_INTERVALS } from "../../../shared/billing/plans";
import { REFUND_REASONS } from "../../../shared/billing/provider";
import { NotFoundError, ServiceUnavailableError } from "../../../shared/errors";
import { requireStepUp } from "../../auth/step-up";
import { openPortal, startCheckout } from "../../billing/checkout";
import { communityPayments as paymentsOf, refundPayment } from "../../billing/refunds";
import { communityBilling, traderBilling } from "../../billing/summary";
import { COMMUNITY_ACCESS_RESPONSES, communityAction, principalOf } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App, AppContext } from "../context";
import { htmlPage } from "../html-page";
import { operatorOnly } from "../middleware/ops-auth";
import { rateLimit } from "../middleware/rate-limit";
import { CommunityParams, errorResponse, jsonResponse as json, TraderPlanGrantSchema } from "../schemas";

/**
 * The billing API. Community billing by :communityId, for operators and the
 * members the role matrix lets (billing.view, billing.manage); a trader's by
 * `user_id`, for operators only.
 * Members reach checkout and the portal through signed, short-lived links
 * (`/billing/checkout?t=…`, `/billing/portal?t=…`) that /subscription hands out.
 */

const UserQuery = z.object({
  user_id: z.string().min(1).max(128).openapi({ description: "The trader's internal id or Discord user id" }),
});
const httpUrl = z.url({ protocol: /^https?$/ });

const CheckoutBody = z
  .object({
    plan: z.string().min(1).max(40).openapi({ example: "professional" }),
    interval: z.enum(BILLING_INTERVALS).default("month"),
    successUrl: httpUrl.optional(),
    cancelUrl: httpUrl.optional(),
  })
  .strict()
  .openapi("BillingCheckoutRequest");

const PortalBody = z.object({ returnUrl: httpUrl.optional() }).strict().openapi("BillingPortalRequest");

const RefundBody = z
  .object({
    paymentId: z.string().min(3).max(255).openapi({
      description:
        "A payment from `GET .../billing/payments`: a Stripe invoice (in_), payment intent (pi_) or charge (ch_), or a Polar order id",
      example: "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
    }),
    amount: z
      .number()
      .int()
      .positive()
      .max(100_000_000)
      .optional()
      .openapi({ description: "In the smallest currency unit; omitted refunds everything still refundable" }),
    reason: z.enum(REFUND_REASONS).default("customer_request"),
    comment: z.string().trim().min(1).max(500).optional().openapi({ description: "Kept with the refund and audited" }),
  })
  .strict()
  .openapi("BillingRefundRequest");
const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "Retrying with the same key never refunds twice (Stripe dedupes by it)" }),
});
const RefundSchema = z
  .object({
    refundId: z.string(),
    provider: z.enum(["stripe", "polar"]),
    paymentId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    status: z.string(),
    full: z.boolean(),
  })
  .openapi("BillingRefund");
const PaymentListSchema = z
  .object({
    payments: z.array(
      z.object({
        id: z.string(),
        provider: z.enum(["stripe", "polar"]),
        status: z.string(),
        amount: z.number().int(),
        currency: z.string(),
        createdAt: z.number().int(),
        url: z.string().nullable(),
      }),
    ),
  })
  .openapi("BillingPayments");

const CheckoutSchema = z
  .object({
    url: z.string(),
    provider: z.enum(["stripe", "polar"]),
    plan: z.string(),
    planName: z.string(),
    interval: z.enum(BILLING_INTERVALS),
    trialDays: z.number().int().nullable(),
  })
  .openapi("BillingCheckout");
const PortalSchema = z.object({ url: z.string(), provider: z.enum(["stripe", "polar"]) }).openapi("BillingPortal");

const SubscriptionSchema = z
  .object({
    provider: z.string(),
    providerSubscriptionId: z.string(),
    plan: z.string(),
    entitledPlan: z.string(),
    status: z.string(),
    interval: z.string().nullable(),
    currentPeriodEnd: z.number().int().nullable(),
    cancelAtPeriodEnd: z.boolean(),
    cancelAt: z.number().int().nullable(),
    endedAt: z.number().int().nullable(),
    trialEnd: z.number().int().nullable(),
    pastDueSince: z.number().int().nullable(),
    pendingPlan: z.string().nullable(),
  })
  .openapi("BillingSubscription");
const PlanOfferSchema = z.object({
  plan: z.string(),
  name: z.string(),
  prices: z.object({ month: z.number().int().optional(), year: z.number().int().optional() }),
  trialDays: z
    .number()
    .int()
    .openapi({ description: "The trial a checkout of this plan gets now (0 once subscribed)" }),
});

const CommunityBillingSchema = z
  .object({
    communityId: z.string(),
    plan: z.string(),
    planName: z.string(),
    limits: z.object({ members: z.number().int(), providers: z.number().int(), signalsPerDay: z.number().int() }),
    usage: z.object({ members: z.number().int(), providers: z.number().int(), signalsToday: z.number().int() }),
    subscriptions: z.array(SubscriptionSchema),
    checkoutProvider: z.enum(["stripe", "polar"]),
    plans: z.array(PlanOfferSchema),
    trialDays: z.number().int().openapi({ description: "The trial of the next plan up (0 once subscribed)" }),
  })
  .openapi("CommunityBilling");

const TraderBillingSchema = z
  .object({
    userId: z.string(),
    plan: z
      .string()
      .openapi({ description: "The plan that applies: the higher of the paid plan and a complimentary one" }),
    planName: z.string(),
    paidPlan: z.string().openapi({ description: "The plan the trader's subscriptions grant" }),
    complimentary: TraderPlanGrantSchema.extend({ planName: z.string() })
      .nullable()
      .openapi({ description: "The operator's complimentary plan when it is the one that applies" }),
    features: z.object({
      liveTrading: z.boolean(),
      maxLiveConnections: z.number().int().nullable(),
      analytics: z.boolean(),
      priorityExecution: z.boolean(),
    }),
    usage: z.object({ liveConnections: z.number().int() }),
    subscriptions: z.array(SubscriptionSchema),
    checkoutProvider: z.enum(["stripe", "polar"]),
    plans: z.array(PlanOfferSchema),
    trialDays: z.number().int().openapi({ description: "The trial of the next plan up (0 once subscribed)" }),
  })
  .openapi("TraderBilling");

const unauthorized = errorResponse("Missing or wrong operator token");
const checkoutErrors = {
  400: errorResponse("Unknown plan, or the plan is not sold at that interval (PLAN_NOT_AVAILABLE)"),
  401: unauthorized,
  404: errorResponse("No such community or user"),
  409: errorResponse("A subscription already runs; use the portal (SUBSCRIPTION_EXISTS)"),
  415: errorResponse("Body is not JSON"),
  502: errorResponse("The billing provider failed"),
  503: errorResponse("The billing provider is not configured"),
};

const getCommunityBilling = createRoute({
  ...communityAction("billing.view"),
  method: "get",
  path: "/api/v1/communities/{communityId}/billing",
  tags: ["billing"],
  summary: "A community's plan, limits, usage and subscriptions",
  request: { params: CommunityParams },
  responses: {
    200: json(CommunityBillingSchema, "Billing status"),
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

const communityCheckout = createRoute({
  ...communityAction("billing.manage"),
  method: "post",
  path: "/api/v1/communities/{communityId}/billing/checkout",
  tags: ["billing"],
  summary: "Start a checkout for a community plan (at BILLING_PROVIDER)",
  request: {
    params: CommunityParams,
    body: { required: true, content: { "application/json": { schema: CheckoutBody } } },
  },
  responses: {
    200: json(CheckoutSchema, "Redirect the payer to `url`"),
    ...COMMUNITY_ACCESS_RESPONSES,
    ...checkoutErrors,
  },
});

const communityPortal = createRoute({
  ...communityAction("billing.manage"),
  method: "post",
  path: "/api/v1/communities/{communityId}/billing/portal",
  tags: ["billing"],
  summary: "Open the billing portal for a community's subscription (a step-up: the plan is lowered there)",
  request: {
    params: CommunityParams,
    body: { required: false, content: { "application/json": { schema: PortalBody } } },
  },
  responses: {
    200: json(PortalSchema, "Redirect the payer to `url`"),
    ...COMMUNITY_ACCESS_RESPONSES,
    ...checkoutErrors,
    403: errorResponse(
      "The role does not grant billing.manage (FORBIDDEN), or no two-factor verification in the last 10 minutes (MFA_REQUIRED, STEP_UP_REQUIRED)",
    ),
  },
});

const communityPayments = createRoute({
  ...communityAction("billing.view"),
  method: "get",
  path: "/api/v1/communities/{communityId}/billing/payments",
  tags: ["billing"],
  summary: "A community's payments at every provider that bills it, newest first",
  request: { params: CommunityParams },
  responses: {
    200: json(PaymentListSchema, "Payments"),
    ...COMMUNITY_ACCESS_RESPONSES,
    502: errorResponse("The billing provider failed"),
    503: errorResponse("The billing provider is not configured"),
  },
});

const communityRefund = createRoute({
  ...communityAction("billing.manage"),
  method: "post",
  path: "/api/v1/communities/{communityId}/billing/refunds",
  tags: ["billing"],
  summary: "Refund all or part of a community payment through the provider that took it (audited; the payer is told)",
  request: {
    params: CommunityParams,
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: RefundBody } } },
  },
  responses: {
    201: json(RefundSchema, "The provider's refund"),
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("Invalid body or payment id (VALIDATION_FAILED, PAYMENT_ID_INVALID)"),
    404: errorResponse("No such community, or no such payment of it (PAYMENT_NOT_FOUND)"),
    409: errorResponse("Nothing left to refund (ALREADY_REFUNDED), or the invoice is not paid (PAYMENT_NOT_PAID)"),
    415: errorResponse("Body is not JSON"),
    422: errorResponse("More than the refundable amount (REFUND_TOO_LARGE)"),
    502: errorResponse("The billing provider failed"),
    503: errorResponse("The billing provider is not configured"),
  },
});

const getMyBilling = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/me/billing",
  tags: ["billing"],
  summary: "A trader's plan, features, usage and subscriptions (operators pass user_id)",
  request: { query: UserQuery },
  responses: {
    200: json(TraderBillingSchema, "Billing status"),
    401: unauthorized,
    404: errorResponse("No such user"),
  },
});

const myCheckout = createRoute({
  ...operatorOnly,
  method: "post",
  path: "/api/v1/me/billing/checkout",
  tags: ["billing"],
  summary: "Start a checkout for a trader plan",
  request: { query: UserQuery, body: { required: true, content: { "application/json": { schema: CheckoutBody } } } },
  responses: { 200: json(CheckoutSchema, "Redirect the payer to `url`"), ...checkoutErrors },
});

const myPortal = createRoute({
  ...operatorOnly,
  method: "post",
  path: "/api/v1/me/billing/portal",
  tags: ["billing"],
  summary: "Open the billing portal for a trader's subscription",
  request: { query: UserQuery, body: { required: false, content: { "application/json": { schema: PortalBody } } } },
  responses: { 200: json(PortalSchema, "Redirect the payer to `url`"), ...checkoutErrors },
});

/** Signed links are followed from a browser without credentials: limited per client address instead. */
const linkLimit = rateLimit({ name: "billing-links", keyBy: "ip", limit: 60, periodMs: 60_000 });
const TokenQuery = z.object({
  t: z.string().min(20).max(2048).openapi({ description: "A signed billing link token" }),
});
const redirect = { 303: { description: "To the provider's hosted page" } };

const linkCheckout = createRoute({
  middleware: [linkLimit],
  method: "get",
  path: "/billing/checkout",
  tags: ["billing"],
  summary: "Follow a signed checkout link from /subscription (303 to the provider's checkout)",
  request: { query: TokenQuery },
  responses: {
    ...redirect,
    400: errorResponse("Missing token"),
    401: errorResponse("Invalid or expired link"),
    409: errorResponse("A subscription already runs"),
  },
});

const linkPortal = createRoute({
  middleware: [linkLimit],
  method: "get",
  path: "/billing/portal",
  tags: ["billing"],
  summary: "Follow a signed, single-use portal link from /subscription (303 to the provider's portal)",
  request: { query: TokenQuery },
  responses: {
    ...redirect,
    401: errorResponse("Invalid or expired link"),
    404: errorResponse("No billing account"),
    410: errorResponse("The link was already used (BILLING_LINK_USED)"),
  },
});

const returnPage = createRoute({
  method: "get",
  path: "/billing/return",
  tags: ["billing"],
  summary: "Where the provider sends the payer back after checkout or the portal",
  request: { query: z.object({ status: z.enum(["success", "canceled", "done"]).default("done") }) },
  responses: { 200: { description: "A short HTML page", content: { "text/html": { schema: z.string() } } } },
});

export function registerBilling(app: App): void {
  app.openapi(getCommunityBilling, async (c) => {
    const { communityId } = c.req.valid("param");
    await communityFromRoute(c, communityId);
    return c.json(await communityBilling(contextOf(c), communityId), 200);
  });

  app.openapi(communityCheckout, async (c) => {
    const { communityId } = c.req.valid("param");
    await communityFromRoute(c, communityId);
    const body = c.req.valid("json");
    const result = await startCheckout(contextOf(c), {
      subject: { subject: "community", communityId, userId: null },
      plan: body.plan,
      interval: body.interval,
      returnUrls: returnUrlsOf(c, body),
    });
    return c.json(result, 200);
  });

  app.openapi(communityPortal, async (c) => {
    const { communityId } = c.req.valid("param");
    // The portal is where the community's plan is lowered or canceled: a step-up before its link is issued.
    await requireStepUp(c, await communityFromRoute(c, communityId), "billing.portal");
    const body = c.req.valid("json");
    const result = await openPortal(contextOf(c), {
      subject: { subject: "community", communityId, userId: null },
      returnUrl: body.returnUrl,
    });
    return c.json(result, 200);
  });

  app.openapi(communityPayments, async (c) => {
    const { communityId } = c.req.valid("param");
    await communityFromRoute(c, communityId);
    return c.json({ payments: await paymentsOf(contextOf(c), communityId) }, 200);
  });

  app.openapi(communityRefund, async (c) => {
    const { communityId } = c.req.valid("param");
    await communityFromRoute(c, communityId);
    const body = c.req.valid("json");
    const refund = await refundPayment(contextOf(c), {
      communityId,
      actor: billingActorOf(c),
      paymentId: body.paymentId,
      amount: body.amount ?? null,
      reason: body.reason,
      comment: body.comment ?? null,
      idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
    });
    const { refundId, provider, paymentId, amount, currency, status, full } = refund;
    return c.json({ refundId, provider, paymentId, amount, currency, status, full }, 201);
  });

  app.openapi(getMyBilling, async (c) => {
    const userId = await internalUserId(database(c.env.DB), c.req.valid("query").user_id);
    c.set("userId", userId);
    const ctx = contextOf(c);
    await assertUser(ctx, userId);
    return c.json(await traderBilling(ctx, userId), 200);
  });

  app.openapi(myCheckout, async (c) => {
    const userId = await internalUserId(database(c.env.DB), c.req.valid("query").user_id);
    c.set("userId", userId);
    const body = c.req.valid("json");
    const result = await startCheckout(contextOf(c), {
      subject: { subject: "trader", communityId: null, userId },
      plan: body.plan,
      interval: body.interval,
      returnUrls: returnUrlsOf(c, body),
    });
    return c.json(result, 200);
  });

  app.openapi(myPortal, async (c) => {
    const userId = await internalUserId(database(c.env.DB), c.req.valid("query").user_id);
    c.set("userId", userId);
    const body = c.req.valid("json");
    const result = await openPortal(contextOf(c), {
      subject: { subject: "trader", communityId: null, userId },
      returnUrl: body.returnUrl,
    });
    return c.json(result, 200);
  });

  // Followed in a browser: a refusal is a readable page (errors.ts), any other client gets the JSON error.
  app.openapi(linkCheckout, async (c) => {
    const claims = await verifyBillingLink(sessionSecretOf(c), c.req.valid("query").t);
    if (claims.action !== "checkout") throw new BillingLinkError(false);
    const result = await startCheckout(contextOf(c), {
      subject: { subject: claims.subject, communityId: claims.communityId, userId: claims.userId },
      plan: claims.plan,
      interval: claims.interval,
    });
    return c.redirect(result.url, 303);
  });

  app.openapi(linkPortal, async (c) => {
    const claims = await verifyBillingLink(sessionSecretOf(c), c.req.valid("query").t);
    if (claims.action !== "portal") throw new BillingLinkError(false);
    const ctx = contextOf(c);
    // Claimed before the portal opens: two concurrent uses cannot both get a portal session.
    if (!(await ctx.dir.linkClaims.claim(claims.jti, claims.action, claims.exp * 1000, ctx.now()))) {
      throw new BillingLinkUsedError();
    }
    const result = await openPortal(ctx, {
      subject: { subject: claims.subject, communityId: claims.communityId, userId: claims.userId },
    });
    return c.redirect(result.url, 303);
  });

  app.openapi(returnPage, (c) => {
    const pages = {
      success: [
        "Thank you!",
        "Your payment is being confirmed. You can close this tab and return to Discord; /subscription shows the new plan in a moment.",
      ],
      canceled: ["Checkout canceled", "Nothing was charged. You can close this tab and return to Discord."],
      done: ["All set", "You can close this tab and return to Discord."],
    } as const;
    const [title, text] = pages[c.req.valid("query").status];
    return c.html(htmlPage(title, text), 200);
  });
}

/** The refund's actor: an operator, or a signed-in member (whose role refundPayment checks again). */
function billingActorOf(c: AppContext) {
  const principal = principalOf(c);
  return principal.kind === "operator"
    ? ({ kind: "operator", actorId: `ops:${principal.fingerprint}` } as const)
    : ({ kind: "member", userId: principal.userId } as const);
}

function contextOf(c: AppContext) {
  return billingContext(c.env, c.get("config"), c.get("logger"));
}

function sessionSecretOf(c: AppContext): string {
  const secret = c.get("config").SESSION_SECRET;
  if (!secret) throw new ServiceUnavailableError("Billing links need SESSION_SECRET.", "FEATURE_NOT_CONFIGURED");
  return secret;
}

function returnUrlsOf(c: AppContext, body: { successUrl?: string; cancelUrl?: string }) {
  if (!body.successUrl && !body.cancelUrl) return undefined;
  const base = c.get("config").PUBLIC_BASE_URL?.replace(/\/+$/, "") ?? "";
  return {
    successUrl: body.successUrl ?? `${base}/billing/return?status=success`,
    cancelUrl: body.cancelUrl ?? `${base}/billing/return?status=canceled`,
  };
}

async function assertUser(ctx: ReturnType<typeof contextOf>, userId: string) {
  if (!(await ctx.dir.people.userExists(userId))) {
    throw new NotFoundError(`User ${userId} does not exist.`, "USER_NOT_FOUND");
  }
}
