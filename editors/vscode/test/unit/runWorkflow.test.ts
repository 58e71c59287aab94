// The Run Workflow command line: input checked as JSON, arguments quoted for the terminal's shell.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { checkInput, runCommandLine, shellQuote } from "../../src/runWorkflow";

test("input: JSON is compacted to one line, empty means {}, anything else is refused with the reason", () => {
  assert.deepEqual(checkInput('{\n  "orderId": "A-1",\n  "items": [1, 2]\n}'), {
    ok: true,
    json: '{"orderId":"A-1","items":[1,2]}',
  });
  assert.deepEqual(checkInput("   "), { ok: true, json: "{}" });
  assert.deepEqual(checkInput("42"), { ok: true, json: "42" });
  const bad = checkInput("{orderId: 1}");
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.message.startsWith("Not valid JSON: "));
});

test("the command line is rhythm run <file> --input <json>", () => {
  assert.equal(
    runCommandLine("rhythm", "flows/order.flow", '{"orderId":"A-1"}', "linux"),
    `rhythm run flows/order.flow --input '{"orderId":"A-1"}'`,
  );
  assert.equal(
    runCommandLine("/p/.venv/bin/rhythm", "my flows/it's.flow", "{}", "linux"),
    `/p/.venv/bin/rhythm run 'my flows/it'\\''s.flow' --input '{}'`,
  );
});

test("POSIX quoting survives a real shell unchanged", () => {
  const nasty = [`{"msg":"it's $HOME \`id\` \\"q\\" ; rm -rf /"}`, "a b", "plain", "ünï"];
  for (const value of nasty) {
    const echoed = execFileSync("/bin/sh", ["-c", `printf %s ${shellQuote(value, "linux")}`], { encoding: "utf8" });
    assert.equal(echoed, value);
  }
});

test("PowerShell quoting doubles single quotes and calls a quoted program with &", () => {
  assert.equal(shellQuote("it's", "win32"), "'it''s'");
  assert.equal(
    runCommandLine("C:\\Program Files\\rhythm.exe", "a.flow", "{}", "win32"),
    "& 'C:\\Program Files\\rhythm.exe' run a.flow --input '{}'",
  );
});
