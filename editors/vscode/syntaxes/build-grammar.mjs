// Writes rhythm-flow.tmLanguage.json from the readable definition below. The JSON is what VS Code
// loads; this file is where the grammar is edited, because regexes are easier to read here than
// doubly escaped in JSON. `npm run build` regenerates it and the grammar tests run on the output.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const S = ".rhythm-flow";
const ID = "[A-Za-z_$][\\w$]*";
// A name that is not preceded by a property dot (so `a.if` or `x.Task` is a property, not a keyword).
const word = (alternatives) => `(?<![\\w$.])(?:${alternatives})(?![\\w$])`;

// The stdlib's global objects and their members, as rhythm.core.stdlib declares them.
const STDLIB = {
  Task: { functions: ["run"] },
  Timer: { functions: ["delay", "until"] },
  Signal: { functions: ["next", "when"] },
  Workflow: { functions: ["run"] },
  Promise: { functions: ["all", "allSettled", "any", "race"] },
  Math: {
    functions: ["abs", "ceil", "floor", "max", "min", "pow", "random", "round", "sign", "sqrt", "trunc"],
    constants: ["PI", "E"],
  },
  JSON: { functions: ["parse", "stringify"] },
  Object: { functions: ["assign", "entries", "fromEntries", "keys", "values"] },
  Array: { functions: ["isArray"] },
  Inputs: {},
  Context: { functions: ["now"], constants: ["executionId", "versionHash", "workflowName"] },
};
const GLOBAL_FUNCTIONS = ["Number", "String", "Boolean", "parseInt", "parseFloat", "isNaN"];

// `Math.floor`, `Context.now`: the object and a member it really has. Other members (`Math.flor`)
// keep the object's colour only, which is a hint before the server's diagnostic arrives.
const stdlibMembers = Object.entries(STDLIB).flatMap(([object, { functions = [], constants = [] }]) =>
  [
    [functions, "support.function.stdlib"],
    [constants, "support.constant.stdlib"],
  ]
    .filter(([names]) => names.length > 0)
    .map(([names, scope]) => ({
      match: `(${word(object)})\\s*(\\?\\.|\\.)\\s*(${names.join("|")})(?![\\w$])`,
      captures: {
        1: { name: `support.class.stdlib${S}` },
        2: { name: `punctuation.accessor${S}` },
        3: { name: `${scope}${S}` },
      },
    })),
);

// `Task.run("name"` and `Workflow.run("name"`: the string's content is the name of a task (a Python
// @task) or of a workflow (a .flow file), scoped as a function name so themes colour it. The rule
// opens at `Task.run(` only when a string literal follows, and closes right after that string.
const namedCall = (object, scope) => ({
  begin: `(${word(object)})\\s*(\\?\\.|\\.)\\s*(run)\\s*(\\()\\s*(?=["'])`,
  end: `(?<=["'])|$`,
  beginCaptures: {
    1: { name: `support.class.stdlib${S}` },
    2: { name: `punctuation.accessor${S}` },
    3: { name: `support.function.stdlib${S}` },
    4: { name: `meta.brace.round${S}` },
  },
  patterns: ["\"", "'"].map((quote) => ({
    name: `string.quoted.${quote === "\"" ? "double" : "single"}${S}`,
    contentName: `${scope}${S}`,
    begin: quote,
    end: `${quote}|(?=$)`,
    beginCaptures: { 0: { name: `punctuation.definition.string.begin${S}` } },
    endCaptures: { 0: { name: `punctuation.definition.string.end${S}` } },
    patterns: [{ include: "#string-escapes" }],
  })),
});

const grammar = {
  name: "Rhythm .flow",
  scopeName: "source.rhythm-flow",
  fileTypes: ["flow"],
  patterns: [{ include: "#code" }],
  repository: {
    code: {
      patterns: [
        { include: "#comments" },
        { include: "#named-calls" },
        { include: "#strings" },
        { include: "#template" },
        { include: "#regex" },
        { include: "#numbers" },
        { include: "#declarations" },
        { include: "#keywords" },
        { include: "#constants" },
        { include: "#stdlib" },
        { include: "#operators" },
        { include: "#properties" },
        { include: "#calls" },
        { include: "#identifiers" },
        { include: "#punctuation" },
      ],
    },
    comments: {
      patterns: [
        {
          name: `comment.block${S}`,
          begin: "/\\*",
          end: "\\*/",
          beginCaptures: { 0: { name: `punctuation.definition.comment.begin${S}` } },
          endCaptures: { 0: { name: `punctuation.definition.comment.end${S}` } },
        },
        {
          name: `comment.line.double-slash${S}`,
          match: "(//).*$",
          captures: { 1: { name: `punctuation.definition.comment${S}` } },
        },
        // `#!` on the first line, as JavaScript allows.
        { name: `comment.line.shebang${S}`, match: "\\A#!.*$" },
      ],
    },
    "named-calls": {
      patterns: [
        namedCall("Task", "entity.name.function.task"),
        namedCall("Workflow", "entity.name.function.workflow"),
      ],
    },
    "string-escapes": {
      patterns: [
        {
          name: `constant.character.escape${S}`,
          match: "\\\\(?:x\\h{2}|u\\h{4}|u\\{\\h+\\}|[0-7]|\\r?\\n|.)",
        },
      ],
    },
    strings: {
      patterns: [
        {
          name: `string.quoted.double${S}`,
          begin: "\"",
          end: "\"|(?=$)",
          beginCaptures: { 0: { name: `punctuation.definition.string.begin${S}` } },
          endCaptures: { 0: { name: `punctuation.definition.string.end${S}` } },
          patterns: [{ include: "#string-escapes" }],
        },
        {
          name: `string.quoted.single${S}`,
          begin: "'",
          end: "'|(?=$)",
          beginCaptures: { 0: { name: `punctuation.definition.string.begin${S}` } },
          endCaptures: { 0: { name: `punctuation.definition.string.end${S}` } },
          patterns: [{ include: "#string-escapes" }],
        },
      ],
    },
    template: {
      name: `string.template${S}`,
      begin: "`",
      end: "`",
      beginCaptures: { 0: { name: `punctuation.definition.string.template.begin${S}` } },
      endCaptures: { 0: { name: `punctuation.definition.string.template.end${S}` } },
      patterns: [{ include: "#string-escapes" }, { include: "#template-substitution" }],
    },
    // `/pattern/flags` where an expression starts (after `(`, `=`, `,`, an operator, `return`, ...), as
    // rhythm.core's lexer decides; after a name, a number or a closing bracket `/` divides.
    regex: {
      match:
        "(?:^|(?<=[=(:,\\[?+\\-*%!&|{};~^<>])|(?<=\\breturn|\\btypeof|\\bcase|\\bvoid|\\bthrow|\\bdelete|\\bin|\\bawait|\\belse|\\bdo))" +
        "\\s*(/)(?![/*])((?:[^/\\\\\\[\\n]|\\\\.|\\[(?:[^\\]\\\\\\n]|\\\\.)*\\])+)(/)([A-Za-z]*)",
      captures: {
        1: { name: `string.regexp${S} punctuation.definition.string.begin${S}` },
        2: { name: `string.regexp${S}` },
        3: { name: `string.regexp${S} punctuation.definition.string.end${S}` },
        4: { name: `string.regexp${S} keyword.other.regexp-flags${S}` },
      },
    },
    "template-substitution": {
      name: `meta.template.expression${S}`,
      contentName: `meta.embedded.line${S}`,
      begin: "\\$\\{",
      end: "\\}",
      beginCaptures: { 0: { name: `punctuation.definition.template-expression.begin${S}` } },
      endCaptures: { 0: { name: `punctuation.definition.template-expression.end${S}` } },
      patterns: [{ include: "#braced" }, { include: "#code" }],
    },
    // Keeps `{ ... }` inside `${ ... }` balanced, so an object literal does not end the substitution.
    braced: {
      begin: "\\{",
      end: "\\}",
      beginCaptures: { 0: { name: `meta.brace.curly${S}` } },
      endCaptures: { 0: { name: `meta.brace.curly${S}` } },
      patterns: [{ include: "#braced" }, { include: "#code" }],
    },
    numbers: {
      patterns: [
        { name: `constant.numeric.hex${S}`, match: "(?<![\\w$.])0[xX][\\h_]+(?![\\w$])" },
        { name: `constant.numeric.octal${S}`, match: "(?<![\\w$.])0[oO][0-7_]+(?![\\w$])" },
        { name: `constant.numeric.binary${S}`, match: "(?<![\\w$.])0[bB][01_]+(?![\\w$])" },
        {
          name: `constant.numeric.decimal${S}`,
          match: "(?<![\\w$])(?:\\d[\\d_]*(?:\\.[\\d_]*)?|\\.\\d[\\d_]*)(?:[eE][+-]?[\\d_]+)?(?![\\w$])",
        },
      ],
    },
    declarations: {
      patterns: [
        {
          // `const name = (a, b) => ...` and `const name = x => ...`: a function's name.
          match: `${word("(const|let)")}\\s+(${ID})(?=\\s*=\\s*(?:\\([^()]*\\)|${ID})\\s*=>)`,
          captures: {
            1: { name: `storage.type${S}` },
            2: { name: `entity.name.function${S}` },
          },
        },
        {
          match: `${word("(const)")}\\s+(${ID})`,
          captures: {
            1: { name: `storage.type${S}` },
            2: { name: `variable.other.constant${S}` },
          },
        },
        {
          match: `${word("(let)")}\\s+(${ID})`,
          captures: {
            1: { name: `storage.type${S}` },
            2: { name: `variable.other.readwrite.declaration${S}` },
          },
        },
        { name: `storage.type${S}`, match: word("const|let") },
      ],
    },
    keywords: {
      patterns: [
        { name: `keyword.control.await${S}`, match: word("await") },
        { name: `keyword.control.conditional${S}`, match: word("if|else") },
        { name: `keyword.control.loop${S}`, match: word("for|while|do|break|continue") },
        { name: `keyword.control.flow${S}`, match: word("return|throw") },
        { name: `keyword.control.trycatch${S}`, match: word("try|catch|finally") },
        { name: `keyword.operator.expression.typeof${S}`, match: word("typeof") },
        { name: `keyword.operator.expression.in${S}`, match: word("in") },
        // `of` is a keyword only in `for (... of ...)`; elsewhere it is an ordinary name.
        { name: `keyword.operator.expression.of${S}`, match: `(?<=[\\w$\\]}]\\s)${word("of")}(?=\\s)` },
      ],
    },
    constants: {
      patterns: [
        { name: `constant.language.boolean${S}`, match: word("true|false") },
        { name: `constant.language.null${S}`, match: word("null") },
        { name: `constant.language.undefined${S}`, match: word("undefined") },
        { name: `constant.language.nan${S}`, match: word("NaN") },
        { name: `constant.language.infinity${S}`, match: word("Infinity") },
      ],
    },
    stdlib: {
      patterns: [
        ...stdlibMembers,
        { name: `support.class.stdlib${S}`, match: word(Object.keys(STDLIB).join("|")) },
        {
          match: `${word(`(${GLOBAL_FUNCTIONS.join("|")})`)}(?=\\s*\\()`,
          captures: { 1: { name: `support.function.stdlib${S}` } },
        },
      ],
    },
    operators: {
      patterns: [
        { name: `storage.type.function.arrow${S}`, match: "=>" },
        { name: `keyword.operator.spread${S}`, match: "\\.\\.\\." },
        { name: `punctuation.accessor.optional${S}`, match: "\\?\\.(?!\\d)" },
        { name: `keyword.operator.comparison${S}`, match: "===|!==|==|!=" },
        { name: `keyword.operator.assignment.compound${S}`, match: "\\*\\*=|\\?\\?=|\\|\\|=|&&=|[-+*/%]=" },
        { name: `keyword.operator.relational${S}`, match: "<=|>=|<|>" },
        { name: `keyword.operator.logical${S}`, match: "&&|\\|\\||\\?\\?|!" },
        { name: `keyword.operator.increment${S}`, match: "\\+\\+" },
        { name: `keyword.operator.decrement${S}`, match: "--" },
        { name: `keyword.operator.assignment${S}`, match: "=" },
        { name: `keyword.operator.arithmetic${S}`, match: "\\*\\*|[-+*/%]" },
        { name: `keyword.operator.ternary${S}`, match: "\\?|:" },
      ],
    },
    properties: {
      patterns: [
        {
          match: `(\\?\\.|\\.)\\s*(${ID})(?=\\s*(?:\\?\\.)?\\()`,
          captures: {
            1: { name: `punctuation.accessor${S}` },
            2: { name: `entity.name.function.member${S}` },
          },
        },
        {
          match: `(\\?\\.|\\.)\\s*(${ID})`,
          captures: {
            1: { name: `punctuation.accessor${S}` },
            2: { name: `variable.other.property${S}` },
          },
        },
      ],
    },
    calls: {
      match: `(?<![\\w$.])(${ID})(?=\\s*(?:\\?\\.)?\\()`,
      captures: { 1: { name: `entity.name.function.call${S}` } },
    },
    identifiers: { name: `variable.other.readwrite${S}`, match: `(?<![\\w$])${ID}` },
    punctuation: {
      patterns: [
        { name: `punctuation.terminator.statement${S}`, match: ";" },
        { name: `punctuation.separator.comma${S}`, match: "," },
        { name: `meta.brace.round${S}`, match: "[()]" },
        { name: `meta.brace.square${S}`, match: "[\\[\\]]" },
        { name: `meta.brace.curly${S}`, match: "[{}]" },
      ],
    },
  },
};

const out = fileURLToPath(new URL("./rhythm-flow.tmLanguage.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(grammar, null, 2)}\n`);
