/**
 * An order's leg says what it does to a position: `entry` opens or adds to
 * one; every other leg (`stop`, `tp1…`, `exit`, `flatten-*`) only reduces it.
 * The kill switch stops what opens exposure and never what reduces it, so a
 * halt can not leave a member holding a position without its stop.
 */
export const ENTRY_LEG = "entry";

export function opensExposure(order: { leg: string }): boolean {
  return order.leg === ENTRY_LEG;
}

/** Signal actions that open or add to a position; `sell`, `cover` and `close` only reduce one. */
export function opensExposureAction(action: string): boolean {
  return action === "buy" || action === "short";
}
