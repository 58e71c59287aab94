// The real probes on this machine: PATH lookup, executable checks, and importing rhythm.lsp with an
// interpreter that has it (the repository's .venv, when there) and one that does not.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { canImportServer, isExecutable, whichOnPath } from "../../src/probes";

const dir = mkdtempSync(path.join(tmpdir(), "rhythm-probes-"));
const script = path.join(dir, "rhythm-lsp");
writeFileSync(script, "#!/bin/sh\nexit 0\n");
chmodSync(script, 0o755);
const notExecutable = path.join(dir, "notes.txt");
writeFileSync(notExecutable, "hello");
after(() => rmSync(dir, { recursive: true, force: true }));

test("isExecutable: an executable file yes; a plain file, a folder or nothing no", async () => {
  assert.equal(await isExecutable(script), true);
  assert.equal(await isExecutable(notExecutable), false);
  assert.equal(await isExecutable(dir), false);
  assert.equal(await isExecutable(path.join(dir, "missing")), false);
});

test("whichOnPath finds an executable in the PATH's folders, in order", async () => {
  assert.equal(await whichOnPath("rhythm-lsp", ["/nonexistent", dir].join(path.delimiter), "linux"), script);
  assert.equal(await whichOnPath("notes.txt", dir, "linux"), undefined);
  assert.equal(await whichOnPath("rhythm-lsp", "", "linux"), undefined);
});

test("canImportServer: false for an interpreter without rhythm.lsp or a missing interpreter", async () => {
  assert.equal(await canImportServer(["/usr/bin/python3", "-I", "-S"]), false);
  assert.equal(await canImportServer([path.join(dir, "no-python")]), false);
});

const venvPython = path.resolve(__dirname, "../../../../.venv/bin/python");
test("canImportServer: true for the repository's environment", { skip: !existsSync(venvPython) && `no ${venvPython}` }, async () => {
  assert.equal(await canImportServer([venvPython]), true);
});
