import { database } from "../../../platform/db/client";
import { orderOwner, positionOfferCommunity } from "../../../platform/db/cross-community/order-owner";
import { upsertUser } from "../../../platform/db/users";
import { executorFor } from "../../../platform/objects";
import type { ComponentRef } from "../../../shared/discord/components";
import { ephemeral, type InteractionResponse, updateMessage } from "../respond";

/**
 * Confirm and Cancel on a confirm-mode order (sent by DM, so there is no guild):
 * the signed custom_id names the order, and only the member who owns it may
 * answer. The executor decides (it refuses after the deadline or a halt).
 */
export async function handleOrderButton(
  env: Env,
  presser: { id: string; username: string },
  ref: ComponentRef,
): Promise<InteractionResponse> {
  if (ref.action !== "confirm" && ref.action !== "cancel")
    return ephemeral("This button is not valid, so nothing was done.");
  const db = database(env.DB);
  const owner = await orderOwner(db, ref.id);
  const user = await upsertUser(db, { discordId: presser.id, username: presser.username });
  if (!owner || owner.userId !== user.id)
    return ephemeral("Only the member this order is for can confirm or cancel it.");
  const executor = executorFor(env, owner.communityId);
  const answer = await executor.confirmOrder({
    communityId: owner.communityId,
    orderId: ref.id,
    userId: user.id,
    decision: ref.action,
  });
  return answer.ok ? updateMessage(answer.message) : ephemeral(answer.message);
}

/**
 * [Close now] and [Keep] under a position an exit the member did not take left open (a DM, no guild): the signed
 * custom_id names the exit order (or, for an exit the risk engine refused, the position: see positionOfferCommunity),
 * only its member may answer, and the executor answers each offer once.
 */
export async function handleHeldButton(
  env: Env,
  presser: { id: string; username: string },
  ref: ComponentRef,
): Promise<InteractionResponse> {
  if (ref.action !== "close" && ref.action !== "keep")
    return ephemeral("This button is not valid, so nothing was done.");
  const db = database(env.DB);
  const [owner, offerCommunity, user] = await Promise.all([
    orderOwner(db, ref.id),
    positionOfferCommunity(db, ref.id),
    upsertUser(db, { discordId: presser.id, username: presser.username }),
  ]);
  // An order names its member here; an offer over a position is checked by the executor, which holds it.
  const communityId = owner ? (owner.userId === user.id ? owner.communityId : null) : offerCommunity;
  if (!communityId) return ephemeral("Only the member who holds this position can close or keep it.");
  const answer = await executorFor(env, communityId).answerHeldPosition({
    communityId,
    orderId: ref.id,
    userId: user.id,
    decision: ref.action,
  });
  return answer.ok ? updateMessage(answer.message) : ephemeral(answer.message);
}
