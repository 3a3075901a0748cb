import { DurableObject } from "cloudflare:workers";
import { NotImplementedError } from "../shared/errors";

/**
 * The single writer of one community's execution state (design.md §7).
 * The execution-engine issue fills this in; until then every execution call
 * fails loudly instead of pretending to succeed.
 */
export class CommunityExecutor extends DurableObject<Env> {
  ping(): "pong" {
    return "pong";
  }

  submitSignal(_signal: unknown, _source: unknown): never {
    throw new NotImplementedError("Signal execution (CommunityExecutor.submitSignal)");
  }
}
