import type { ExecutorLocalState } from "./local-state";

/**
 * Which community an executor belongs to. Each object is named after its
 * community (`executorFor` in platform/objects.ts), and `ctx.id.name` says so; the id is
 * also bound in the object's storage on first use, for ids created without a
 * name. Every RPC names a community, and a call that names another one is
 * refused before it reads or writes anything: the caller's word is never
 * enough.
 */
export function assertOwnCommunity(
  id: Pick<DurableObjectId, "name">,
  local: ExecutorLocalState,
  communityId: string,
): void {
  const named = id.name;
  const bound = local.getMeta("communityId");
  if (named !== undefined && bound !== null && named !== bound) {
    throw new Error(`This executor is named ${named} but bound to community ${bound}.`);
  }
  const own = named ?? bound;
  if (own !== null && own !== communityId) {
    throw new Error(`This executor belongs to community ${own}, not ${communityId}.`);
  }
  if (bound === null) local.setMeta("communityId", communityId);
}
