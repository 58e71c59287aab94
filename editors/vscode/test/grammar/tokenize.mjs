// Loads the built TextMate grammar with the same engine VS Code uses (vscode-textmate + oniguruma),
// so tests can tokenize whole files the way the editor does.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const GRAMMAR = new URL("../../syntaxes/rhythm-flow.tmLanguage.json", import.meta.url);

export async function loadGrammar() {
  await oniguruma.loadWASM(readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => textmate.parseRawGrammar(readFileSync(GRAMMAR, "utf8"), GRAMMAR.pathname),
  });
  return registry.loadGrammar("source.rhythm-flow");
}

/** Every line's tokens as {text, scopes}, and the rule stack left after the last line. */
export function tokenizeText(grammar, text) {
  let stack = textmate.INITIAL;
  const lines = text.split(/\r\n|\r|\n/).map((line) => {
    const result = grammar.tokenizeLine(line, stack);
    stack = result.ruleStack;
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
  // The state at the start of a file, as the grammar's own root rule, to compare end states with.
  const initial = grammar.tokenizeLine("", textmate.INITIAL).ruleStack;
  return { lines, endStack: stack, initial };
}
