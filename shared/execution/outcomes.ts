/** What the executor answers for one order from ORDER_QUEUE: done (ack), or try again after a delay. */
export type OrderSubmissionOutcome =
  | { outcome: "done"; status?: string; note?: string }
  | { outcome: "retry"; delaySeconds: number; reason: string };

/** What one reconciliation pass of a community's executor found and did (the 5-minute cron). */
export interface ReconcileReport {
  checked: number;
  updated: number;
  stale: number;
  adopted: number;
  errors: number;
  /** Queued orders sent another message because theirs may have been lost. */
  resent: number;
  unknownPositions: { userId: string; symbol: string; brokerQuantity: number; recordedQuantity: number }[];
}
