import { QUEUES } from "./index";

/** The producer binding that feeds each consumer queue, for replaying dead letters. */
export function producerFor(env: Env, queue: string): Queue | null {
  switch (queue) {
    case QUEUES.orderSubmissions:
      return env.ORDER_QUEUE;
    case QUEUES.notifications:
      return env.NOTIFY_QUEUE;
    case QUEUES.billingEvents:
      return env.BILLING_QUEUE;
    default:
      return null;
  }
}
