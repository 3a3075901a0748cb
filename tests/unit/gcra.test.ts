import { describe, expect, it } from "vitest";
import { gcra } from "../../shared/rate-limit";

const policy = { limit: 10, periodMs: 60_000 };

function run(times: number, now: number, tat?: number) {
  let state = tat;
  const decisions = [];
  for (let i = 0; i < times; i++) {
    const decision = gcra(policy, state, now);
    state = decision.tat;
    decisions.push(decision);
  }
  return { decisions, tat: state };
}

describe("GCRA", () => {
  it("Scenario: A burst up to the limit is allowed, then refused", () => {
    const { decisions } = run(12, 1_000_000);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.map((d) => d.remaining).slice(0, 10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(decisions[10]?.allowed).toBe(false);
    expect(decisions[10]?.retryAfterMs).toBe(6_000);
  });

  it("Scenario: Capacity refills smoothly over the period", () => {
    const { tat } = run(10, 0);
    expect(gcra(policy, tat, 5_999).allowed).toBe(false);
    expect(gcra(policy, tat, 6_000).allowed).toBe(true);
    expect(gcra(policy, tat, 60_000).remaining).toBe(9);
  });

  it("Scenario: A refused request does not consume capacity", () => {
    const { tat } = run(10, 0);
    const refused = gcra(policy, tat, 1_000);
    expect(refused.allowed).toBe(false);
    expect(refused.tat).toBe(tat);
  });
});
