import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  communityMetadata,
  fireBillingCron,
  newBillingWorld,
  POLAR_TEST_SECRETS,
  polarPayload,
  polarSubscription,
  postPolar,
  postStripe,
  standardWebhookHeaders,
  stripeEvent,
  stripeSubscription,
  tierOf,
  uid,
  useCapturedQueues,
} from "../support/billing";
import { errorOf } from "../support/http";

const DAY = 24 * 60 * 60 * 1000;

async function webhookRow(provider: string, eventId: string) {
  return env.DB.prepare("SELECT * FROM webhook_events WHERE provider = ? AND event_id = ?")
    .bind(provider, eventId)
    .first<{ event_type: string; payload: string | null; enqueued_at: number | null; processed_at: number | null }>();
}

const subscriptionEvent = (communityId: string, created = Date.now()) =>
  stripeEvent(
    "customer.subscription.updated",
    stripeSubscription({
      id: uid("sub"),
      customer: uid("cus"),
      status: "active",
      periodEnd: Date.now() + 20 * DAY,
      metadata: communityMetadata(communityId),
    }),
    { created },
  );

describe("billing webhooks", () => {
  const queues = useCapturedQueues();

  it("Scenario: A billing webhook with a bad signature is refused", async () => {
    const { communityId } = await newBillingWorld();
    const event = subscriptionEvent(communityId);

    const forged = await postStripe(event, { secret: "whsec_not_the_configured_secret_000000" });
    expect(forged.status).toBe(401);
    expect((await errorOf(forged)).code).toBe("WEBHOOK_SIGNATURE_INVALID");

    const unsigned = await postStripe(event, { signature: "" });
    expect(unsigned.status).toBe(401);
    await unsigned.body?.cancel();

    const body = JSON.stringify(polarPayload("subscription.updated", {}));
    const polarForged = await postPolar(body, {
      headers: await standardWebhookHeaders("msg_forged", body, { secret: "someone-elses-secret" }),
    });
    expect(polarForged.status).toBe(401);
    expect((await errorOf(polarForged)).code).toBe("WEBHOOK_SIGNATURE_INVALID");

    expect(await webhookRow("stripe", event.id)).toBeNull();
    expect(queues.billing).toEqual([]);
  });

  it("Scenario: A billing webhook with a stale timestamp is refused", async () => {
    const { communityId } = await newBillingWorld();
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const stale = await postStripe(subscriptionEvent(communityId), { timestamp: sixMinutesAgo });
    expect(stale.status).toBe(401);
    expect((await errorOf(stale)).code).toBe("WEBHOOK_TIMESTAMP_STALE");

    const polarStale = await postPolar(polarPayload("subscription.updated", {}), { timestamp: sixMinutesAgo });
    expect(polarStale.status).toBe(401);
    expect((await errorOf(polarStale)).code).toBe("WEBHOOK_TIMESTAMP_STALE");
    expect(queues.billing).toEqual([]);
  });

  it("Scenario: A replayed billing webhook is a no-op", async () => {
    const { communityId } = await newBillingWorld();
    const event = subscriptionEvent(communityId);

    const first = await postStripe(event);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: true, eventId: event.id, duplicate: false, queued: true });
    const replay = await postStripe(event);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ duplicate: true, queued: false });

    expect(queues.billing).toEqual([{ type: "billing.event", provider: "stripe", eventId: event.id }]);
    await queues.drain();
    expect(await tierOf(communityId)).toBe("professional");

    // Polar: the same webhook-id twice.
    const id = uid("msg");
    const payload = polarPayload("checkout.created", { id: uid("chk") });
    expect((await postPolar(payload, { id })).status).toBe(200);
    const again = await postPolar(payload, { id });
    expect(await again.json()).toMatchObject({ duplicate: true });
  });

  it("Scenario: A billing webhook with malformed JSON and a valid signature is a 400", async () => {
    const stripe = await postStripe('{"id": "evt_broken", "type": ');
    expect(stripe.status).toBe(400);
    expect((await errorOf(stripe)).code).toBe("INVALID_JSON");

    const polar = await postPolar("{not json");
    expect(polar.status).toBe(400);
    expect((await errorOf(polar)).code).toBe("INVALID_JSON");
    expect(queues.billing).toEqual([]);
  });

  it("Scenario: A billing webhook body over 512 KiB is refused", async () => {
    const { communityId } = await newBillingWorld();
    const event = subscriptionEvent(communityId) as Record<string, unknown>;
    event.padding = "x".repeat(513 * 1024);
    const res = await postStripe(event);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");

    // Just under the limit is fine: the body limit is 512 KiB under /webhooks/.
    event.padding = "x".repeat(400 * 1024);
    event.id = uid("evt");
    expect((await postStripe(event)).status).toBe(200);
  });

  it("Scenario: An unknown billing event type is stored and acknowledged", async () => {
    const event = stripeEvent("radar.early_fraud_warning.created", {
      id: uid("issfr"),
      object: "radar.early_fraud_warning",
    });
    const res = await postStripe(event);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true, duplicate: false, queued: false });
    const row = await webhookRow("stripe", event.id);
    expect(row).toMatchObject({ event_type: "radar.early_fraud_warning.created", payload: null });
    expect(row?.processed_at).toEqual(expect.any(Number));

    const id = uid("msg");
    const polar = await postPolar(polarPayload("benefit_grant.created", { id: uid("bg") }), { id });
    expect(polar.status).toBe(200);
    expect((await webhookRow("polar", id))?.event_type).toBe("benefit_grant.created");
    expect(queues.billing).toEqual([]);
  });

  it("Scenario: A billing event whose enqueue failed is sent by the cron", async () => {
    const { communityId } = await newBillingWorld();
    const event = subscriptionEvent(communityId);
    queues.spies[0]?.mockRejectedValueOnce(new Error("Queue send failed: internal error"));

    const res = await postStripe(event);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ queued: false });
    expect(await webhookRow("stripe", event.id)).toMatchObject({ enqueued_at: null, processed_at: null });

    // The provider retries meanwhile: still recorded once, and this time it reaches the queue.
    const retry = await postStripe(event);
    expect(await retry.json()).toMatchObject({ duplicate: true, queued: true });
    expect(queues.billing).toHaveLength(1);

    // A second lost enqueue is picked up by the cron's outbox drain.
    const lost = subscriptionEvent(communityId, Date.now() + 1000);
    queues.spies[0]?.mockRejectedValueOnce(new Error("Queue send failed: internal error"));
    await postStripe(lost);
    await fireBillingCron(Date.now() + 2 * 60_000);
    expect(queues.billing).toContainEqual({ type: "billing.event", provider: "stripe", eventId: lost.id });
    expect((await webhookRow("stripe", lost.id))?.enqueued_at).toEqual(expect.any(Number));
    await queues.drain();
    expect((await webhookRow("stripe", lost.id))?.processed_at).toEqual(expect.any(Number));
  });

  it("Scenario: Polar signatures use the secret's UTF-8 bytes and allow several signatures", async () => {
    const { communityId } = await newBillingWorld();
    const data = polarSubscription({
      id: uid("polar_sub"),
      customerId: uid("polar_cus"),
      status: "active",
      periodEnd: Date.now() + 20 * DAY,
      metadata: communityMetadata(communityId),
    });
    const body = JSON.stringify(polarPayload("subscription.active", data));
    const id = uid("msg");
    // An old secret's signature first, then the current one: any valid v1 entry is enough.
    const headers = await standardWebhookHeaders(id, body, { extraSignatures: ["v1,b2xkLXNlY3JldC1zaWduYXR1cmU="] });
    const res = await postPolar(body, { id, headers });
    expect(res.status).toBe(200);

    // The key is the secret's UTF-8 bytes: the base64 text Polar's SDK hands to the library is not the key.
    const wrongKey = await standardWebhookHeaders(uid("msg"), body, {
      keyBytes: new TextEncoder().encode(btoa(POLAR_TEST_SECRETS.POLAR_WEBHOOK_SECRET)),
    });
    expect((await postPolar(body, { headers: wrongKey })).status).toBe(401);

    await queues.drain();
    expect(await tierOf(communityId)).toBe("professional");
  });
});
