// Builds the extension: regenerates the TextMate grammar, then bundles src/extension.ts with its
// dependencies into out/extension.js (`--production` minifies, for the .vsix). With `--tests`, also
// compiles the unit tests and the modules they import to out/test/ (plain Node, no VS Code).
import * as esbuild from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");

execFileSync(process.execPath, ["syntaxes/build-grammar.mjs"], { stdio: "inherit" });

await esbuild.build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "out/extension.js",
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["vscode"],
  minify: production,
  sourcemap: !production,
  logLevel: "warning",
});

if (tests) {
  await esbuild.build({
    entryPoints: readdirSync("test/unit")
      .filter((name) => name.endsWith(".test.ts"))
      .map((name) => `test/unit/${name}`),
    bundle: true,
    outdir: "out/test",
    platform: "node",
    format: "cjs",
    target: "node20",
    // The modules under test must not need VS Code; bundling fails loudly if one imports it.
    external: [],
    logLevel: "warning",
  });
}
