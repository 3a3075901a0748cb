import path from "node:path";
import { buildSync } from "esbuild";

/**
 * The fake Discord as a miniflare auxiliary worker, bundled from
 * tests/support/fake-discord/ (esbuild comes with the vitest plugin), so the
 * DiscordGateway object's outbound WebSocket meets a real workerd WebSocket
 * server. Used by vitest.config.ts and bench/workerd/vitest.config.ts.
 */
export function fakeDiscordWorker(root: string) {
  const bundle = buildSync({
    entryPoints: [path.join(root, "tests/support/fake-discord/worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:workers"],
    write: false,
  });
  return {
    name: "fake-discord",
    modules: true,
    script: bundle.outputFiles[0]?.text ?? "",
    compatibilityDate: "2026-10-01",
    durableObjects: { FAKE_GATEWAY: { className: "FakeGateway", useSQLite: true } },
  };
}
