/**
 * The Rhythm extension's entry point: starts rhythm-lsp through vscode-languageclient (over stdio),
 * restarts it on demand or when its settings change, and offers "Run Workflow" for .flow files.
 */

import * as path from "node:path";
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { discoverServer, rhythmCliFor, type ServerCommand } from "./discovery";
import {
  PYTHON_EXTENSION_ID,
  canImportServer,
  isExecutable,
  pythonInterpreterFrom,
  watchPythonInterpreter,
  whichOnPath,
} from "./probes";
import { checkInput, runCommandLine } from "./runWorkflow";

export const LANGUAGE_ID = "rhythm-flow";

let client: LanguageClient | undefined;
let server: ServerCommand | undefined;
let output: vscode.OutputChannel;
// Serialises start/stop so a restart during a start cannot leave two servers running.
let lifecycle: Promise<void> = Promise.resolve();

function log(line: string): void {
  output.appendLine(`[${new Date().toISOString()}] ${line}`);
}

function firstFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    try {
      await running.stop();
    } catch (error) {
      log(`Stopping the server: ${String(error)}`);
    }
  }
}

async function startClient(): Promise<void> {
  const config = vscode.workspace.getConfiguration("rhythm");
  const discovery = await discoverServer({
    settingPath: (config.get<string>("server.path") ?? "").trim(),
    settingArgs: config.get<string[]>("server.args") ?? [],
    workspaceFolder: firstFolder()?.fsPath,
    pythonInterpreter: () =>
      pythonInterpreterFrom(vscode.extensions.getExtension(PYTHON_EXTENSION_ID), firstFolder(), log),
    whichOnPath: (name) => whichOnPath(name),
    isExecutable,
    canImportServer: (interpreter) => canImportServer(interpreter),
  });
  for (const attempt of discovery.tried) log(`Looked for the server: ${attempt}`);
  if (!discovery.found) {
    server = undefined;
    log(discovery.message);
    // One notification per attempt (activation, restart, settings change): nothing retries by itself.
    void vscode.window.showErrorMessage(discovery.message, "Open Settings", "Show Log").then((choice) => {
      if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "rhythm.server");
      if (choice === "Show Log") output.show(true);
    });
    return;
  }
  server = discovery.server;
  log(`Starting: ${[server.command, ...server.args].join(" ")}`);

  // No `transport` on purpose: with TransportKind.stdio the client appends `--stdio` to the command
  // line; leaving it out still talks over stdin/stdout and passes exactly the arguments above.
  const serverOptions: ServerOptions = {
    command: server.command,
    args: server.args,
    options: { cwd: firstFolder()?.fsPath },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: LANGUAGE_ID }],
    outputChannel: output,
    initializationOptions: { diagnosticsDelay: 0.2 },
    // A server that keeps dying is restarted a few times, then left stopped with one message.
    connectionOptions: { maxRestartCount: 4 },
  };
  const started = new LanguageClient("rhythm", "Rhythm Language Server", serverOptions, clientOptions);
  client = started;
  try {
    await started.start();
    log("The server is running.");
  } catch (error) {
    client = undefined;
    const message = `Rhythm: the language server (${server.command}) did not start: ${
      error instanceof Error ? error.message : String(error)
    }`;
    log(message);
    void vscode.window.showErrorMessage(message, "Show Log").then((choice) => {
      if (choice === "Show Log") output.show(true);
    });
  }
}

function restart(): Promise<void> {
  lifecycle = lifecycle.then(async () => {
    await stopClient();
    await startClient();
  });
  return lifecycle;
}

async function runWorkflow(context: vscode.ExtensionContext, target?: vscode.Uri): Promise<void> {
  const uri = target ?? vscode.window.activeTextEditor?.document.uri;
  if (uri === undefined || !uri.fsPath.endsWith(".flow")) {
    void vscode.window.showErrorMessage("Rhythm: open a .flow file to run it.");
    return;
  }
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (document?.isDirty) await document.save();

  const memoryKey = `rhythm.lastInput:${uri.toString()}`;
  const typed = await vscode.window.showInputBox({
    title: `Run ${path.basename(uri.fsPath)}`,
    prompt: "The workflow's input, as JSON (what the workflow reads as `Inputs`)",
    value: context.workspaceState.get<string>(memoryKey, "{}"),
    validateInput: (text) => {
      const checked = checkInput(text);
      return checked.ok ? undefined : checked.message;
    },
  });
  if (typed === undefined) return; // cancelled
  const checked = checkInput(typed);
  if (!checked.ok) return;
  await context.workspaceState.update(memoryKey, typed);

  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const file = folder !== undefined ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath;
  const cli = await rhythmCliFor(server, isExecutable);
  const terminal = vscode.window.createTerminal({
    name: `Rhythm: ${path.basename(uri.fsPath)}`,
    cwd: folder?.uri.fsPath ?? path.dirname(uri.fsPath),
  });
  terminal.show();
  terminal.sendText(runCommandLine(cli, file, checked.json));
}

class RunCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return [
      new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
        title: "$(play) Run Workflow",
        tooltip: "rhythm run on this file, with the input you type",
        command: "rhythm.runWorkflow",
        arguments: [document.uri],
      }),
    ];
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Rhythm Language Server");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("rhythm.restartServer", () => restart()),
    vscode.commands.registerCommand("rhythm.showServerLog", () => output.show(true)),
    vscode.commands.registerCommand("rhythm.runWorkflow", (uri?: vscode.Uri) => runWorkflow(context, uri)),
    vscode.languages.registerCodeLensProvider({ language: LANGUAGE_ID }, new RunCodeLens()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("rhythm.server")) {
        log("The rhythm.server settings changed: restarting the server.");
        void restart();
      }
    }),
  );
  await restart();
  const watcher = await watchPythonInterpreter(vscode.extensions.getExtension(PYTHON_EXTENSION_ID), () => {
    // Only when that interpreter is what we use or might use: an explicit setting is left alone.
    if ((vscode.workspace.getConfiguration("rhythm").get<string>("server.path") ?? "").trim() !== "") return;
    log("The Python extension's interpreter changed: restarting the server.");
    void restart();
  });
  if (watcher !== undefined) context.subscriptions.push(watcher);
}

export async function deactivate(): Promise<void> {
  await lifecycle;
  await stopClient();
}
