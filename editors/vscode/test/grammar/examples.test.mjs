// The repository's example workflows and the grammar: every examples/**/*.flow tokenizes to its end
// with nothing left open and every character scoped. (tests/test_vscode_extension.py also checks
// each of their tokens against rhythm.core's lexer with vscode-tmgrammar-test.)
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadGrammar, tokenizeText } from "./tokenize.mjs";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

function flowFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name.startsWith(".") ? [] : flowFiles(path);
    return name.endsWith(".flow") ? [path] : [];
  });
}

const examples = flowFiles(join(REPO, "examples"));
const grammar = await loadGrammar();

test("the repository has example workflows to check", () => {
  assert.ok(examples.length > 0, `no .flow files under ${join(REPO, "examples")}`);
});

for (const example of examples) {
  const name = relative(REPO, example);
  test(`${name} tokenizes with nothing left open`, () => {
    const { lines, endStack, initial } = tokenizeText(grammar, readFileSync(example, "utf8"));
    assert.ok(endStack.equals(initial), `${name}: a string, template or comment is still open at its end`);
    const keywords = lines.flat().filter((t) => t.scopes.some((s) => s.startsWith("keyword.control")));
    const tokens = lines.flat().filter((t) => t.text.trim() !== "");
    assert.ok(tokens.every((t) => t.scopes.length > 1), `${name}: some text has no scope at all`);
    assert.ok(/\b(await|return|if|for|try)\b/.test(readFileSync(example, "utf8")) === keywords.length > 0);
  });
}
