// The repository's example workflows and the grammar: every examples/**/*.flow tokenizes to its end
// with nothing left open, and a line-for-line copy with assertions (test/grammar/examples/) stays
// identical to the example it checks, so the assertions keep testing the real file.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadGrammar, tokenizeText } from "./tokenize.mjs";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const MIRRORS = fileURLToPath(new URL("./examples/", import.meta.url));
const ASSERTION = /^\s*\/\/\s*(\^|<-)/;

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

for (const mirror of readdirSync(MIRRORS).filter((n) => n.endsWith(".flow"))) {
  test(`test/grammar/examples/${mirror} is line for line the example it names`, () => {
    const [header, ...rest] = readFileSync(join(MIRRORS, mirror), "utf8").split("\n");
    const named = header.match(/"source\.rhythm-flow" "([^",]+\.flow)/);
    assert.ok(named, `${mirror}: the SYNTAX TEST header must name the example file`);
    const source = readFileSync(join(REPO, named[1]), "utf8");
    const stripped = rest.filter((line) => !ASSERTION.test(line)).join("\n");
    assert.equal(stripped, source, `${mirror} differs from ${named[1]}: copy the example again and fix the assertions`);
  });
}
