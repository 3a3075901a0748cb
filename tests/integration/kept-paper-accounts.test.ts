import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ExecutorLocalState } from "../../durable-objects/executor/local-state";
import { createPaperAccount, type PaperAccountState } from "../../shared/brokers/paper/engine";
import { executorOf } from "../support/execution";

/** A fresh executor's own SQLite, through the same local state the executor uses. */
function withLocalState(run: (local: ExecutorLocalState, storage: DurableObjectStorage) => void) {
  return runInDurableObject(executorOf(`kept-${crypto.randomUUID()}`), async (_instance, state) => {
    run(new ExecutorLocalState(state.storage.sql), state.storage);
  });
}

describe("kept paper accounts", () => {
  it("Scenario: A paper account read again unchanged is not parsed again", async () => {
    await withLocalState((local) => {
      const saved = { ...createPaperAccount({ startingCash: 50_000 }, 0), cash: 42_000 };
      local.savePaperAccount("u1", saved, 1);
      const first = local.loadPaperAccount<PaperAccountState>("u1");
      expect(first).toBe(saved);
      expect(local.loadPaperAccounts<PaperAccountState>(["u1"]).get("u1")).toBe(saved);
    });
  });

  it("Scenario: A paper account written by anything but the executor's save is read afresh", async () => {
    await withLocalState((local, storage) => {
      const saved = createPaperAccount({ startingCash: 50_000 }, 0);
      local.savePaperAccount("u1", saved, 1);
      storage.sql.exec(
        "update paper_accounts set state = ? where user_id = ?",
        JSON.stringify({ ...saved, cash: 7 }),
        "u1",
      );
      expect(local.loadPaperAccount<PaperAccountState>("u1")?.cash).toBe(7);
      // A save whose transaction rolled back leaves the stored account, and that is what is read.
      expect(() =>
        storage.transactionSync(() => {
          local.savePaperAccount("u1", { ...saved, cash: 99 }, 2);
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      expect(local.loadPaperAccount<PaperAccountState>("u1")?.cash).toBe(7);
      expect(local.loadPaperAccounts<PaperAccountState>(["u1"]).get("u1")?.cash).toBe(7);
    });
  });
});
