import { buildPlanCatalog, type PlanCatalog } from "../../shared/billing/plans";
import type { AppConfig } from "../../shared/config";
import type { Logger } from "../../shared/logging";
import { type Database, database } from "../db/client";
import { type BillingDirectory, billingDirectory } from "../db/cross-community/billing-directory";

/** What every billing operation needs: bindings, config, the plan table, the directory and a clock. */
export interface BillingContext {
  env: Env;
  config: AppConfig;
  db: Database;
  dir: BillingDirectory;
  catalog: PlanCatalog;
  logger: Logger;
  now(): number;
}

const catalogs = new WeakMap<AppConfig, PlanCatalog>();

/** The plan table with BILLING_PLAN_OVERRIDES applied (built once per config). */
export function planCatalogFor(config: AppConfig): PlanCatalog {
  let catalog = catalogs.get(config);
  if (!catalog) {
    catalog = buildPlanCatalog(config.BILLING_PLAN_OVERRIDES);
    catalogs.set(config, catalog);
  }
  return catalog;
}

export function billingContext(env: Env, config: AppConfig, logger: Logger): BillingContext {
  const db = database(env.DB);
  return {
    env,
    config,
    db,
    dir: billingDirectory(db),
    catalog: planCatalogFor(config),
    logger,
    now: () => Date.now(),
  };
}
