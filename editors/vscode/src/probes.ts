/**
 * The real probes behind server discovery: file checks, PATH lookup, running the interpreter once to
 * see whether it can import the server, and asking the Python extension for its interpreter.
 */

import { execFile } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import * as path from "node:path";
import type * as vscode from "vscode";
import { SERVER_MODULE } from "./discovery";

export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, process.platform === "win32" ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function whichOnPath(
  name: string,
  envPath: string = process.env.PATH ?? "",
  platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
  const suffixes = platform === "win32" ? ["", ".exe", ".cmd", ".bat"] : [""];
  for (const dir of envPath.split(path.delimiter).filter((d) => d !== "")) {
    for (const suffix of suffixes) {
      const candidate = path.join(dir, name + suffix);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Runs `<interpreter> -c "import rhythm.lsp"`; a broken or slow interpreter counts as "no". */
export function canImportServer(interpreter: string[], timeoutMs = 15000): Promise<boolean> {
  const [command, ...prefix] = interpreter;
  return new Promise((resolve) => {
    execFile(command, [...prefix, "-c", `import ${SERVER_MODULE}`], { timeout: timeoutMs }, (error) =>
      resolve(error === null),
    );
  });
}

/** The subset of the Python extension's API used here (both its current and its older shape). */
interface PythonExtensionApi {
  environments?: {
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

export const PYTHON_EXTENSION_ID = "ms-python.python";

/** The interpreter selected in the Python extension, or undefined when there is none to ask. */
export async function pythonInterpreterFrom(
  extension: vscode.Extension<unknown> | undefined,
  resource: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string[] | undefined> {
  if (extension === undefined) return undefined;
  try {
    const api = (extension.isActive ? extension.exports : await extension.activate()) as PythonExtensionApi;
    const active = api.environments?.getActiveEnvironmentPath(resource);
    if (active !== undefined && api.environments !== undefined) {
      const resolved = await api.environments.resolveEnvironment(active);
      const executable = resolved?.executable?.uri?.fsPath;
      if (executable) return [executable];
    }
    const execCommand = api.settings?.getExecutionDetails(resource).execCommand;
    return execCommand && execCommand.length > 0 ? execCommand : undefined;
  } catch (error) {
    log(`The Python extension did not give an interpreter: ${String(error)}`);
    return undefined;
  }
}

/**
 * Calls `onChange` whenever the user selects another interpreter in the Python extension, so the
 * server can be restarted with it. Nothing happens when the extension is not installed.
 */
export async function watchPythonInterpreter(
  extension: vscode.Extension<unknown> | undefined,
  onChange: () => void,
): Promise<vscode.Disposable | undefined> {
  if (extension === undefined) return undefined;
  try {
    const api = (extension.isActive ? extension.exports : await extension.activate()) as PythonExtensionApi;
    return api.environments?.onDidChangeActiveEnvironmentPath?.(() => onChange());
  } catch {
    return undefined;
  }
}
