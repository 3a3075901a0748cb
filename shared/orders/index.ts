/**
 * shared/orders — pure order logic for the executor, the order-submissions consumer and reconciliation.
 *
 * - `clientOrderId({communityId, signalId, followerId, leg})` (async, WebCrypto SHA-256): the id sent to the
 *   broker; deterministic, 20 × [0-9a-z]. Compute it once when the order row is written; after an unknown
 *   outcome (a timeout), look the order up by it instead of sending again.
 * - `ORDER_STATUSES` (the one list), `TERMINAL_STATUSES`, `UNSETTLED_STATUSES`, `WORKING_STATUSES`,
 *   `canTransition(from, to)`, `assertTransition(from, to)` (throws a 409
 *   `ILLEGAL_ORDER_TRANSITION`). Reconciliation alone passes `{ adoptLateFill: true }` to record a fill that
 *   raced a cancel (canceled → partially_filled | filled).
 * - `backoffDelayMs(attempt, { baseMs, capMs, retryAfterMs, random })`: full-jitter exponential delay, never
 *   below Retry-After (`parseRetryAfterMs` reads the header); `toDelaySeconds` for `message.retry()`.
 * - `MARKET_REMAINDER_TIMEOUT_MS` and `isMarketRemainderExpired(order, now)`: cancel what a market order has
 *   not filled after 5 minutes.
 * - `nextFollowUpAt(submittedAt, now)`: when to poll an open order next (1, 2, 5, 10, 30 s, then each minute
 *   to 15 min); null means the reconciliation cron owns it from now on.
 */
export { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffDelayMs, parseRetryAfterMs, toDelaySeconds } from "./backoff";
export { CLIENT_ORDER_ID_LENGTH, type ClientOrderIdParts, clientOrderId, isClientOrderId } from "./client-order-id";
export { ENTRY_LEG, opensExposure, opensExposureAction } from "./legs";
export {
  assertTransition,
  canTransition,
  IllegalOrderTransitionError,
  isOrderStatus,
  isTerminal,
  isUnsettled,
  isWorking,
  LATE_FILL_TRANSITIONS,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  type OrderStatus,
  TERMINAL_STATUSES,
  type TransitionOptions,
  UNSETTLED_STATUSES,
  WORKING_STATUSES,
} from "./state-machine";
export { FOLLOW_UP_OFFSETS_MS, isMarketRemainderExpired, MARKET_REMAINDER_TIMEOUT_MS, nextFollowUpAt } from "./timing";
