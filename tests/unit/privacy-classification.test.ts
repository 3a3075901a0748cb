import { describe, expect, it } from "vitest";
import { D1_TABLES, EXECUTOR_TABLES, type TableJudgement } from "../../shared/privacy/personal-data";
import { projectSources, withoutComments } from "../support/source-tree";

const SCHEMA = "shared/db/schema.ts";
const EXECUTOR_FOLDER = "durable-objects/executor/";

/** The tables a D1 schema source defines (`sqliteTable("name", ...)`). */
function d1TablesIn(source: string): string[] {
  return [...withoutComments(source).matchAll(/\bsqliteTable\(\s*["'](\w+)["']/g)].map((m) => m[1] ?? "");
}

/** The tables the executor's parts create in the object's own SQLite. */
function executorTablesIn(sources: Record<string, string>): string[] {
  return Object.entries(sources)
    .filter(([path]) => path.startsWith(EXECUTOR_FOLDER))
    .flatMap(([, source]) => [...source.matchAll(/create table if not exists (\w+)/gi)].map((m) => m[1] ?? ""));
}

/** Tables found in code but not judged, and judgements of tables no longer in the code. */
function unjudged(found: readonly string[], judged: Record<string, TableJudgement>) {
  return {
    missing: found.filter((table) => !Object.hasOwn(judged, table)).sort(),
    stale: Object.keys(judged)
      .filter((table) => !found.includes(table))
      .sort(),
  };
}

describe("privacy classification", () => {
  it("Scenario: Every table is judged for privacy", () => {
    const sources = projectSources();
    expect(unjudged(d1TablesIn(sources[SCHEMA] ?? ""), D1_TABLES)).toEqual({ missing: [], stale: [] });
    expect(unjudged(executorTablesIn(sources), EXECUTOR_TABLES)).toEqual({ missing: [], stale: [] });
    for (const [table, judgement] of Object.entries({ ...D1_TABLES, ...EXECUTOR_TABLES })) {
      expect(judgement.why.length, table).toBeGreaterThan(10);
      if (!judgement.personal) expect([judgement.exported, judgement.onDelete], table).toEqual([null, "untouched"]);
    }
  });

  it("Scenario: A new table without a privacy judgement is caught", () => {
    const schema = `${SCHEMA_SAMPLE}\nexport const newThing = sqliteTable("new_thing", { id: text("id") });`;
    expect(unjudged(d1TablesIn(schema), D1_TABLES).missing).toEqual(["new_thing"]);
    const executor = {
      [`${EXECUTOR_FOLDER}new-part.ts`]: "sql.exec(`create table if not exists new_memory (k text)`)",
    };
    expect(unjudged(executorTablesIn(executor), EXECUTOR_TABLES).missing).toEqual(["new_memory"]);
  });
});

const SCHEMA_SAMPLE = 'export const users = sqliteTable("users", { id: text("id") });';
