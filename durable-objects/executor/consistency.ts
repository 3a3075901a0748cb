import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { ChainVerification } from "../../shared/audit/chain";
import { openOrders, type PaperAccountState } from "../../shared/brokers/paper/engine";
import { compareExecutorWithD1, type ExecutorConsistency } from "../../shared/execution/consistency";
import { isWorking } from "../../shared/orders/state-machine";
import type { ExecutorLocalState } from "./local-state";

export type CommunityConsistency = ExecutorConsistency & { auditChain: ChainVerification };

/**
 * Read-only: the executor's kill switch and its paper accounts' open orders against D1's, plus the audit chain.
 * Nothing is progressed or repaired here (no quotes fetched, no fills applied), so the answer describes the state
 * as it is, for the operator consistency check and the restore drill.
 */
export async function checkCommunityConsistency(
  local: ExecutorLocalState,
  tenant: TenantRepository,
): Promise<CommunityConsistency> {
  const community = await tenant.community.get();
  const d1Open = (await tenant.execution.reconcilable(Date.now())).filter((order) => isWorking(order.status));
  const executorOpen = local
    .paperAccountUsers()
    .flatMap((userId) => {
      const state = local.loadPaperAccount<PaperAccountState>(userId);
      return state ? openOrders(state) : [];
    })
    .map((order) => ({ clientOrderId: order.clientOrderId }));
  const consistency = compareExecutorWithD1({
    executorHalted: local.halted,
    d1Halted: community?.halted ?? false,
    d1OpenPaperOrders: d1Open.filter((order) => order.broker === "paper"),
    executorOpenOrders: executorOpen,
    liveOpenOrders: d1Open.filter((order) => order.broker !== "paper").length,
  });
  const auditChain = await tenant.audit.verify();
  return { ...consistency, ok: consistency.ok && auditChain.ok, auditChain };
}
