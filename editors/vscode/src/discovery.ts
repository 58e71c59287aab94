/**
 * How the extension finds the rhythm-lsp server, as plain logic over injected probes so it is tested
 * without VS Code. The order: the `rhythm.server.path` setting; the interpreter selected in the Python
 * extension, running `-m rhythm.lsp`; `rhythm-lsp` on PATH. When nothing works the result says what
 * was tried and what to install, for one notification.
 */

import * as path from "node:path";

/** A command line that starts the server on stdio. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** Where it came from, for the log and the "Run Workflow" command's choice of `rhythm` CLI. */
  source: "setting" | "python-extension" | "path";
}

export type Discovery =
  | { found: true; server: ServerCommand; tried: string[] }
  | { found: false; message: string; tried: string[] };

/** What discovery may look at; the extension passes real implementations, tests pass fakes. */
export interface DiscoveryProbes {
  /** `rhythm.server.path`, trimmed; empty when unset. */
  settingPath: string;
  /** The first workspace folder, against which a relative `rhythm.server.path` is read. */
  workspaceFolder?: string;
  /** `rhythm.server.args`, appended to whichever command is found. */
  settingArgs: string[];
  /**
   * The interpreter command the Python extension has selected (e.g. ["/p/.venv/bin/python"]), or
   * undefined when the extension is not installed or has no interpreter selected.
   */
  pythonInterpreter(): Promise<string[] | undefined>;
  /** The full path of an executable found on PATH, or undefined. */
  whichOnPath(name: string): Promise<string | undefined>;
  /** Whether a file exists and may be executed. */
  isExecutable(file: string): Promise<boolean>;
  /** Whether `python -c "import rhythm.lsp"` succeeds with this interpreter command. */
  canImportServer(interpreter: string[]): Promise<boolean>;
}

export const SERVER_MODULE = "rhythm.lsp";
export const SERVER_SCRIPT = "rhythm-lsp";

export const INSTALL_HINT =
  "Install the rhythm-lsp package in your project's environment (for example `uv add rhythm-lsp` or " +
  "`pip install rhythm-lsp`) and select that environment's interpreter in the Python extension, " +
  "put `rhythm-lsp` on PATH, or set `rhythm.server.path`.";

/** A setting that names a Python interpreter rather than the server script: `python`, `python3.11`. */
export function isPythonInterpreter(file: string): boolean {
  return /^python(\d+(\.\d+)?)?(\.exe)?$/i.test(path.basename(file));
}

/**
 * The file a `rhythm.server.path` value names: `${workspaceFolder}` and `~/` expanded, a relative path
 * (`.venv/bin/python`) read from the workspace folder, and a bare name (`rhythm-lsp`) looked up on PATH.
 */
export async function resolveSettingPath(
  value: string,
  probes: Pick<DiscoveryProbes, "workspaceFolder" | "whichOnPath">,
  home: string = process.env.HOME ?? "",
): Promise<string> {
  let file = value.replace(/\$\{workspaceFolder\}/g, probes.workspaceFolder ?? ".");
  if (file.startsWith("~/") && home !== "") file = path.join(home, file.slice(2));
  if (path.isAbsolute(file)) return file;
  if (!/[\\/]/.test(file)) return (await probes.whichOnPath(file)) ?? file;
  return probes.workspaceFolder !== undefined ? path.resolve(probes.workspaceFolder, file) : file;
}

export async function discoverServer(probes: DiscoveryProbes): Promise<Discovery> {
  const tried: string[] = [];
  const extra = probes.settingArgs;

  // An explicit setting is the user's decision: when it is wrong, say so instead of quietly running
  // some other server than the one they chose.
  if (probes.settingPath !== "") {
    const configured = await resolveSettingPath(probes.settingPath, probes);
    if (!(await probes.isExecutable(configured))) {
      tried.push(`rhythm.server.path: ${configured} (not an executable file)`);
      return {
        found: false,
        tried,
        message: `rhythm.server.path is set to "${configured}", which is not an executable file. Fix or clear the setting.`,
      };
    }
    tried.push(`rhythm.server.path: ${configured}`);
    const args = isPythonInterpreter(configured) ? ["-m", SERVER_MODULE, ...extra] : [...extra];
    return { found: true, tried, server: { command: configured, args, source: "setting" } };
  }

  const interpreter = await probes.pythonInterpreter();
  if (interpreter === undefined || interpreter.length === 0) {
    tried.push("Python extension: not installed or no interpreter selected");
  } else if (await probes.canImportServer(interpreter)) {
    tried.push(`Python extension interpreter: ${interpreter.join(" ")}`);
    const [command, ...prefix] = interpreter;
    return {
      found: true,
      tried,
      server: { command, args: [...prefix, "-m", SERVER_MODULE, ...extra], source: "python-extension" },
    };
  } else {
    tried.push(`Python extension interpreter: ${interpreter.join(" ")} (cannot import ${SERVER_MODULE})`);
  }

  const script = await probes.whichOnPath(SERVER_SCRIPT);
  if (script !== undefined) {
    tried.push(`PATH: ${script}`);
    return { found: true, tried, server: { command: script, args: [...extra], source: "path" } };
  }
  tried.push(`PATH: no ${SERVER_SCRIPT}`);

  return {
    found: false,
    tried,
    message: `Rhythm: no .flow language server found. ${INSTALL_HINT}`,
  };
}

/**
 * The `rhythm` CLI from the same environment as the server (the script beside the interpreter or
 * beside rhythm-lsp), so "Run Workflow" uses the project's Rhythm; plain `rhythm` otherwise.
 */
export async function rhythmCliFor(
  server: ServerCommand | undefined,
  isExecutable: (file: string) => Promise<boolean>,
  platform: NodeJS.Platform = process.platform,
): Promise<string> {
  const name = platform === "win32" ? "rhythm.exe" : "rhythm";
  if (server !== undefined && path.isAbsolute(server.command)) {
    const beside = path.join(path.dirname(server.command), name);
    if (await isExecutable(beside)) return beside;
  }
  return "rhythm";
}
