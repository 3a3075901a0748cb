import { rotateDataKeys } from "../../platform/crypto/key-rotation";
import { database } from "../../platform/db/client";
import { configFor } from "../../shared/config";
import type { Logger } from "../../shared/logging";

/** Daily: the credential vault's data key rotation (90 days), re-sealing and re-wrapping (`platform/crypto/key-rotation.ts`). */
export async function runDataKeyRotation(env: Env, logger: Logger, scheduledTime: number) {
  const loaded = configFor(env);
  if (!loaded.ok) throw new Error(`The configuration is invalid: ${loaded.problems.map((p) => p.variable).join(", ")}`);
  const summary = await rotateDataKeys(database(env.DB), loaded.config, logger, scheduledTime);
  return { ...summary };
}
