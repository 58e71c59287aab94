// Server discovery in every situation the issue names: the setting (good, bad, an interpreter), the
// Python extension present or not (and with an interpreter that lacks rhythm-lsp), PATH, and nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type DiscoveryProbes,
  discoverServer,
  isPythonInterpreter,
  resolveSettingPath,
  rhythmCliFor,
} from "../../src/discovery";

function probes(overrides: Partial<DiscoveryProbes> = {}): DiscoveryProbes & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    settingPath: "",
    settingArgs: [],
    pythonInterpreter: async () => {
      calls.push("python");
      return undefined;
    },
    whichOnPath: async (name) => {
      calls.push(`which ${name}`);
      return undefined;
    },
    isExecutable: async () => false,
    canImportServer: async () => false,
    ...overrides,
  };
}

test("the rhythm.server.path setting wins, with rhythm.server.args appended", async () => {
  const p = probes({
    settingPath: "/opt/rhythm/bin/rhythm-lsp",
    settingArgs: ["--log-level", "debug"],
    isExecutable: async (f) => f === "/opt/rhythm/bin/rhythm-lsp",
    pythonInterpreter: async () => ["/usr/bin/python3"],
    whichOnPath: async () => "/usr/bin/rhythm-lsp",
  });
  const result = await discoverServer(p);
  assert.ok(result.found);
  assert.deepEqual(result.server, {
    command: "/opt/rhythm/bin/rhythm-lsp",
    args: ["--log-level", "debug"],
    source: "setting",
  });
});

test("a setting naming a Python interpreter runs -m rhythm.lsp with it", async () => {
  const result = await discoverServer(
    probes({ settingPath: "/p/.venv/bin/python3.11", isExecutable: async () => true, settingArgs: ["--log-level", "info"] }),
  );
  assert.ok(result.found);
  assert.deepEqual(result.server.args, ["-m", "rhythm.lsp", "--log-level", "info"]);
});

test("a setting that is not an executable is reported with its value, without falling back", async () => {
  const p = probes({ settingPath: "/nowhere/rhythm-lsp", whichOnPath: async () => "/usr/bin/rhythm-lsp" });
  const result = await discoverServer(p);
  assert.equal(result.found, false);
  assert.ok(!result.found && result.message.includes('"/nowhere/rhythm-lsp"'));
  assert.deepEqual(p.calls, [], "neither the Python extension nor PATH is consulted");
});

test("the Python extension's interpreter runs -m rhythm.lsp when it can import the server", async () => {
  const seen: string[][] = [];
  const result = await discoverServer(
    probes({
      settingArgs: ["--log-level", "debug"],
      pythonInterpreter: async () => ["/p/.venv/bin/python"],
      canImportServer: async (interpreter) => {
        seen.push(interpreter);
        return true;
      },
      whichOnPath: async () => "/usr/local/bin/rhythm-lsp",
    }),
  );
  assert.ok(result.found);
  assert.deepEqual(result.server, {
    command: "/p/.venv/bin/python",
    args: ["-m", "rhythm.lsp", "--log-level", "debug"],
    source: "python-extension",
  });
  assert.deepEqual(seen, [["/p/.venv/bin/python"]]);
});

test("an interpreter given as several words (conda run ...) keeps its prefix before -m", async () => {
  const result = await discoverServer(
    probes({ pythonInterpreter: async () => ["conda", "run", "-n", "env", "python"], canImportServer: async () => true }),
  );
  assert.ok(result.found);
  assert.equal(result.server.command, "conda");
  assert.deepEqual(result.server.args, ["run", "-n", "env", "python", "-m", "rhythm.lsp"]);
});

test("an interpreter without rhythm-lsp falls through to PATH and says so", async () => {
  const result = await discoverServer(
    probes({
      pythonInterpreter: async () => ["/usr/bin/python3"],
      canImportServer: async () => false,
      whichOnPath: async (name) => (name === "rhythm-lsp" ? "/home/u/.local/bin/rhythm-lsp" : undefined),
    }),
  );
  assert.ok(result.found);
  assert.deepEqual(result.server, { command: "/home/u/.local/bin/rhythm-lsp", args: [], source: "path" });
  assert.match(result.tried.join("\n"), /\/usr\/bin\/python3 \(cannot import rhythm\.lsp\)/);
});

test("without the Python extension, rhythm-lsp on PATH is used", async () => {
  const p = probes({ whichOnPath: async () => "/usr/bin/rhythm-lsp" });
  const result = await discoverServer(p);
  assert.ok(result.found);
  assert.equal(result.server.source, "path");
  assert.deepEqual(p.calls, ["python"]);
  assert.match(result.tried[0], /not installed or no interpreter selected/);
});

test("nothing found: one message that says what to install, and what was tried", async () => {
  const result = await discoverServer(probes({ pythonInterpreter: async () => ["/usr/bin/python3"] }));
  assert.equal(result.found, false);
  assert.ok(!result.found);
  assert.match(result.message, /no \.flow language server found/);
  assert.match(result.message, /rhythm-lsp/);
  assert.match(result.message, /rhythm\.server\.path/);
  assert.equal(result.tried.length, 2);
});

test("isPythonInterpreter recognises interpreters, not the server script", () => {
  for (const yes of ["/usr/bin/python", "python3", "/p/.venv/bin/python3.11", "C:\\P\\python.exe"]) {
    assert.ok(isPythonInterpreter(yes.replace(/\\/g, "/")), yes);
  }
  for (const no of ["/usr/bin/rhythm-lsp", "/usr/bin/pythonista", "uv"]) assert.ok(!isPythonInterpreter(no), no);
});

test("Run Workflow uses the rhythm CLI beside the server's interpreter or script, else rhythm", async () => {
  const exists = new Set(["/p/.venv/bin/rhythm"]);
  const isExecutable = async (f: string) => exists.has(f);
  const venv = { command: "/p/.venv/bin/python", args: ["-m", "rhythm.lsp"], source: "python-extension" as const };
  assert.equal(await rhythmCliFor(venv, isExecutable, "linux"), "/p/.venv/bin/rhythm");
  const lonely = { command: "/opt/lsp/rhythm-lsp", args: [], source: "path" as const };
  assert.equal(await rhythmCliFor(lonely, isExecutable, "linux"), "rhythm");
  assert.equal(await rhythmCliFor(undefined, isExecutable, "linux"), "rhythm");
});

test("a relative, ~ or ${workspaceFolder} setting is read from the workspace; a bare name from PATH", async () => {
  const probes = { workspaceFolder: "/work/app", whichOnPath: async (n: string) => (n === "rhythm-lsp" ? "/usr/bin/rhythm-lsp" : undefined) };
  assert.equal(await resolveSettingPath(".venv/bin/python", probes), "/work/app/.venv/bin/python");
  assert.equal(await resolveSettingPath("${workspaceFolder}/.venv/bin/rhythm-lsp", probes), "/work/app/.venv/bin/rhythm-lsp");
  assert.equal(await resolveSettingPath("~/tools/rhythm-lsp", probes, "/home/u"), "/home/u/tools/rhythm-lsp");
  assert.equal(await resolveSettingPath("rhythm-lsp", probes), "/usr/bin/rhythm-lsp");
  assert.equal(await resolveSettingPath("/abs/rhythm-lsp", probes), "/abs/rhythm-lsp");

  const result = await discoverServer({
    ...probes,
    settingPath: ".venv/bin/python",
    settingArgs: [],
    pythonInterpreter: async () => undefined,
    isExecutable: async (f) => f === "/work/app/.venv/bin/python",
    canImportServer: async () => false,
  });
  assert.ok(result.found);
  assert.deepEqual(result.server.command, "/work/app/.venv/bin/python");
  assert.deepEqual(result.server.args, ["-m", "rhythm.lsp"]);
});
