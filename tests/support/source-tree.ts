/// <reference types="vite/client" />

/**
 * The source tree as text, for the guards that scan it (one import direction, one definition of each thing):
 * every module under `workers/`, `durable-objects/`, `platform/` and `shared/` by its path from the repository
 * root, generated declaration files left out.
 */
export function projectSources(): Record<string, string> {
  const modules = import.meta.glob<string>(
    ["../../workers/**/*.ts", "../../durable-objects/**/*.ts", "../../platform/**/*.ts", "../../shared/**/*.ts"],
    { query: "?raw", import: "default", eager: true },
  );
  return Object.fromEntries(
    Object.entries(modules)
      .map(([path, source]) => [path.replace(/^(\.\.\/)+/, ""), source] as const)
      .filter(([path]) => !path.endsWith(".d.ts")),
  );
}

/** The code without its comments, so a commented-out line is never taken for code. */
export function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'\x60])\/\/.*$/gm, "$1");
}
