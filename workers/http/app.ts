import { OpenAPIHono } from "@hono/zod-openapi";
import { secureHeaders } from "hono/secure-headers";
import { ValidationError } from "../../shared/errors";
import type { App, AppEnv } from "./context";
import { handleError, notFoundOrMethodNotAllowed } from "./errors";
import { bodyLimit } from "./middleware/body-limit";
import { configGate } from "./middleware/config-gate";
import { csrfOrigin } from "./middleware/csrf";
import { requireJsonBody } from "./middleware/json-body";
import { requestContext } from "./middleware/request-context";
import { responsePolicy } from "./middleware/response-policy";
import { registerAppPages } from "./routes/app-pages";
import { registerAuth } from "./routes/auth";
import { registerBilling } from "./routes/billing";
import { registerBillingWebhooks } from "./routes/billing-webhooks";
import { registerCommunities } from "./routes/communities";
import { registerCommunityAudit } from "./routes/community-audit";
import { registerCommunityBrokers } from "./routes/community-brokers";
import { registerCommunityKillSwitch } from "./routes/community-killswitch";
import { registerCommunityMembers } from "./routes/community-members";
import { registerCommunityOrders } from "./routes/community-orders";
import { registerCommunitySignals } from "./routes/community-signals";
import { registerCommunityTrades } from "./routes/community-trades";
import { registerFeatureFlags } from "./routes/feature-flags";
import { registerHealth } from "./routes/health";
import { registerInboxPage } from "./routes/inbox-page";
import { INTERACTION_BODY_LIMIT_BYTES, registerInteractions } from "./routes/interactions";
import { registerMeMfa } from "./routes/me-mfa";
import { registerMyNotificationPreferences } from "./routes/my-notification-preferences";
import { registerMyNotifications } from "./routes/my-notifications";
import { registerOpenApi } from "./routes/openapi";
import { registerOpsConsistency } from "./routes/ops-consistency";
import { registerOpsDeadLetters } from "./routes/ops-dead-letters";
import { registerOpsGateway } from "./routes/ops-gateway";
import { registerOpsMetrics } from "./routes/ops-metrics";
import { registerOpsNotices } from "./routes/ops-notices";
import { registerOpsTraderPlans } from "./routes/ops-trader-plans";
import { registerReady } from "./routes/ready";
import { registerRealtime } from "./routes/realtime";
import { registerSignalWebhookIntake, SIGNAL_WEBHOOK_BODY_LIMIT_BYTES } from "./routes/signal-webhook-intake";
import { registerSignalWebhooks } from "./routes/signal-webhooks";
import { registerSignalsParse } from "./routes/signals-parse";
import { registerSuspensions } from "./routes/suspensions";

/**
 * Billing events (an invoice with many lines) can exceed the 64 KiB default, and so can a message command's
 * interaction: it carries the whole target message (up to 4,000 characters of content, ten embeds of 6,000, the
 * message it replies to, attachments and components), each string escaped in JSON. A signal never needs 16 KiB.
 */
const BODY_LIMIT_OVERRIDES = [
  { pathPrefix: "/webhooks/", maxBytes: 512 * 1024 },
  { pathPrefix: "/webhooks/signals/", maxBytes: SIGNAL_WEBHOOK_BODY_LIMIT_BYTES },
  { pathPrefix: "/interactions", maxBytes: INTERACTION_BODY_LIMIT_BYTES },
];

/**
 * Builds the Hono app: cross-cutting middleware first, then one register call per route module. Who may call a route
 * (the operator token, a rate limit) is declared with the route itself (`createRoute({ middleware })`), so the order
 * of these calls does not matter.
 */
export function createApp(): App {
  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ValidationError("The request does not match the expected shape.", {
          details: result.error.issues.map((issue) => ({
            path: issue.path.join("."),
            code: issue.code,
            message: issue.message,
          })),
        });
      }
    },
  });

  app.use("*", requestContext);
  // same-origin, not hono's no-referrer: under no-referrer a browser sends `Origin: null` with a form's POST, which
  // the Origin check must refuse, so no form of this site (sign-in link, sign-out) could be sent.
  app.use("*", secureHeaders({ referrerPolicy: "same-origin" }));
  app.use("*", responsePolicy);
  app.use("*", configGate(["/ready"]));
  app.use("*", bodyLimit(BODY_LIMIT_OVERRIDES));
  app.use("*", csrfOrigin);
  app.use("/api/*", requireJsonBody);

  registerHealth(app);
  registerReady(app);
  registerInteractions(app);
  registerOpenApi(app);
  registerCommunityAudit(app);
  registerBillingWebhooks(app);
  registerSignalWebhookIntake(app);
  registerBilling(app);
  registerAuth(app);
  registerAppPages(app);
  registerMeMfa(app);
  registerInboxPage(app);
  registerMyNotifications(app);
  registerMyNotificationPreferences(app);
  registerCommunities(app);
  registerCommunityBrokers(app);
  registerCommunityOrders(app);
  registerCommunityMembers(app);
  registerCommunityKillSwitch(app);
  registerCommunitySignals(app);
  registerCommunityTrades(app);
  registerRealtime(app);
  registerSignalWebhooks(app);
  registerSuspensions(app);
  registerSignalsParse(app);
  registerOpsDeadLetters(app);
  registerOpsMetrics(app);
  registerOpsNotices(app);
  registerOpsGateway(app);
  registerOpsConsistency(app);
  registerOpsTraderPlans(app);
  registerFeatureFlags(app);

  app.notFound(notFoundOrMethodNotAllowed(app));
  app.onError(handleError);
  return app;
}
