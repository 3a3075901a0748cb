import { NotImplementedError } from "../../shared/errors";
import { type Logger, rootLogger } from "../../shared/logging";
import { runBillingLifecycle } from "../billing/lifecycle";
import { runGatewayWatchdog } from "./gateway-watchdog";
import { runHousekeeping } from "./housekeeping";
import { runReconciliation } from "./reconcile-orders";
import { runDataKeyRotation } from "./rotate-data-keys";
import { runSkipDigests } from "./skip-digests";
import { runAuditChainVerification } from "./verify-audit-chains";

const CRONS = {
  reconcileOrders: "*/5 * * * *",
  refreshBrokerTokens: "*/15 * * * *",
  daily: "0 2 * * *",
} as const;

export interface CronJob {
  name: string;
  run(env: Env, logger: Logger, scheduledTime: number): Promise<Record<string, unknown> | undefined>;
}

const notYetImplemented = (name: string, feature: string): CronJob => ({
  name,
  run: async () => {
    throw new NotImplementedError(feature);
  },
});

/** Which jobs each Cron Trigger runs. Jobs run independently: one failure does not skip the others. */
export const JOBS_BY_CRON: Record<string, CronJob[]> = {
  [CRONS.reconcileOrders]: [
    { name: "reconcile_orders", run: runReconciliation },
    { name: "gateway_watchdog", run: runGatewayWatchdog },
  ],
  [CRONS.refreshBrokerTokens]: [
    notYetImplemented("refresh_broker_tokens", "Broker token refresh"),
    { name: "billing_lifecycle", run: runBillingLifecycle },
  ],
  [CRONS.daily]: [
    { name: "rotate_data_keys", run: runDataKeyRotation },
    { name: "housekeeping", run: runHousekeeping },
    { name: "verify_audit_chains", run: runAuditChainVerification },
    { name: "skip_digests", run: runSkipDigests },
  ],
};

export async function dispatchScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
  const logger = rootLogger.child({ cron: controller.cron });
  const jobs = JOBS_BY_CRON[controller.cron];
  if (!jobs) {
    logger.error("cron.unknown_expression", {});
    return;
  }
  const results = await Promise.allSettled(
    jobs.map(async (job) => {
      const jobLogger = logger.child({ job: job.name });
      const started = performance.now();
      try {
        const summary = await job.run(env, jobLogger, controller.scheduledTime);
        jobLogger.info("cron.job_finished", { durationMs: Math.round(performance.now() - started), ...summary });
      } catch (error) {
        jobLogger.error("cron.job_failed", { durationMs: Math.round(performance.now() - started), error });
        throw error;
      }
    }),
  );
  const failed = results.filter((result) => result.status === "rejected").length;
  if (failed > 0) logger.error("cron.finished_with_failures", { failed, total: jobs.length });
}
