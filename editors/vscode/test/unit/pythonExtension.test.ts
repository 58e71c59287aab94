// Asking the Python extension for its interpreter, with fakes of its API in both shapes it has had,
// and when it is missing, inactive, or fails.
import assert from "node:assert/strict";
import { test } from "node:test";
import type * as vscode from "vscode";
import { pythonInterpreterFrom, watchPythonInterpreter } from "../../src/probes";

function fakeExtension(exports: unknown, { active = true, fails = false } = {}): vscode.Extension<unknown> {
  let activated = 0;
  return {
    isActive: active,
    exports,
    activate: async () => {
      activated++;
      if (fails) throw new Error("activation failed");
      return exports;
    },
    get activations() {
      return activated;
    },
  } as unknown as vscode.Extension<unknown>;
}

const noLog = () => {};

test("no Python extension: no interpreter", async () => {
  assert.equal(await pythonInterpreterFrom(undefined, undefined, noLog), undefined);
});

test("the environments API: the active environment's executable", async () => {
  const api = {
    environments: {
      getActiveEnvironmentPath: () => ({ path: "/p/.venv" }),
      resolveEnvironment: async (env: { path: string }) => {
        assert.equal(env.path, "/p/.venv");
        return { executable: { uri: { fsPath: "/p/.venv/bin/python" } } };
      },
    },
  };
  assert.deepEqual(await pythonInterpreterFrom(fakeExtension(api), undefined, noLog), ["/p/.venv/bin/python"]);
});

test("an inactive extension is activated first", async () => {
  const api = { settings: { getExecutionDetails: () => ({ execCommand: ["/usr/bin/python3"] }) } };
  const extension = fakeExtension(api, { active: false });
  assert.deepEqual(await pythonInterpreterFrom(extension, undefined, noLog), ["/usr/bin/python3"]);
  assert.equal((extension as unknown as { activations: number }).activations, 1);
});

test("the older settings API, and an environment that does not resolve, fall back to execCommand", async () => {
  const api = {
    environments: { getActiveEnvironmentPath: () => ({ path: "x" }), resolveEnvironment: async () => undefined },
    settings: { getExecutionDetails: () => ({ execCommand: ["conda", "run", "-n", "e", "python"] }) },
  };
  assert.deepEqual(await pythonInterpreterFrom(fakeExtension(api), undefined, noLog), ["conda", "run", "-n", "e", "python"]);
});

test("no interpreter selected, or an extension that fails: no interpreter, and the failure is logged", async () => {
  const none = { settings: { getExecutionDetails: () => ({ execCommand: undefined }) } };
  assert.equal(await pythonInterpreterFrom(fakeExtension(none), undefined, noLog), undefined);
  const lines: string[] = [];
  const broken = fakeExtension({}, { active: false, fails: true });
  assert.equal(await pythonInterpreterFrom(broken, undefined, (l) => lines.push(l)), undefined);
  assert.match(lines.join("\n"), /activation failed/);
});

test("watchPythonInterpreter subscribes to interpreter changes when the API offers them", async () => {
  let listener: (() => void) | undefined;
  const api = {
    environments: {
      onDidChangeActiveEnvironmentPath: (l: () => void) => {
        listener = l;
        return { dispose: () => {} };
      },
    },
  };
  let changes = 0;
  const disposable = await watchPythonInterpreter(fakeExtension(api), () => changes++);
  assert.ok(disposable);
  listener?.();
  assert.equal(changes, 1);
  assert.equal(await watchPythonInterpreter(undefined, () => changes++), undefined);
  assert.equal(await watchPythonInterpreter(fakeExtension({}), () => changes++), undefined);
});
