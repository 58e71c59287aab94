// End-to-end test of the packaged extension in a real editor in a real browser: code-server (VS Code
// in the browser, installed from npm) with the freshly built .vsix installed, driven through Debian's
// headless Chromium with playwright-core. It opens a copy of examples/orders, opens order.flow, and
// checks keyword colouring, a rhythm-lsp diagnostic for a typed error, and task-name completion
// after `Task.run("`. It saves screenshots under the output folder.
//
// Exit codes: 0 passed, 1 failed, 77 skipped (code-server or Chromium missing; the reason is printed).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXTENSION = path.resolve(HERE, "../..");
const REPO = path.resolve(EXTENSION, "../..");
const OUTPUT = path.resolve(process.env.RHYTHM_E2E_OUTPUT ?? path.join(EXTENSION, "test-output", "e2e"));
const CODE_SERVER_VERSION = "4.100.3";
const DEADLINE = Date.now() + Number(process.env.RHYTHM_E2E_TIMEOUT_S ?? 300) * 1000;
const SKIP = 77;

const step = (text) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${text}`);

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function findCodeServer() {
  const candidates = [
    process.env.RHYTHM_CODE_SERVER,
    path.join(homedir(), ".cache", "rhythm", `code-server-${CODE_SERVER_VERSION}`, "bin", "code-server"),
    onPath("code-server"),
  ].filter(Boolean);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 60000 });
    if (probe.status === 0 && probe.stdout.includes(CODE_SERVER_VERSION)) return candidate;
  }
  return undefined;
}

function findChromium() {
  // Debian's /usr/bin/chromium is a wrapper script; the binary itself takes playwright's pipe best.
  const candidates = [process.env.RHYTHM_CHROMIUM, "/usr/lib/chromium/chromium", onPath("chromium")];
  return candidates.filter(Boolean).find((c) => existsSync(c));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, check, { timeoutMs = 60000, intervalMs = 500 } = {}) {
  const until = Math.min(Date.now() + timeoutMs, DEADLINE);
  let last;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
}

function stopGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const done = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      resolve();
    }, 5000);
    child.once("exit", () => {
      clearTimeout(done);
      resolve();
    });
    try {
      process.kill(-child.pid, "SIGTERM"); // the whole process group: code-server and its helpers
    } catch {
      clearTimeout(done);
      resolve();
    }
  });
}

async function main() {
  const codeServer = findCodeServer();
  if (!codeServer) {
    console.log(
      `SKIPPED: code-server ${CODE_SERVER_VERSION} not found (set RHYTHM_CODE_SERVER, or install it as .ci/run does).`,
    );
    return SKIP;
  }
  const chromiumPath = findChromium();
  if (!chromiumPath) {
    console.log("SKIPPED: Chromium not found (apt-get install chromium, or set RHYTHM_CHROMIUM).");
    return SKIP;
  }
  let playwright;
  try {
    playwright = await import("playwright-core");
  } catch {
    console.log("SKIPPED: playwright-core is not installed (npm install in editors/vscode).");
    return SKIP;
  }
  const version = JSON.parse(readFileSync(path.join(EXTENSION, "package.json"), "utf8")).version;
  const vsix = path.join(EXTENSION, `rhythm-flow-${version}.vsix`);
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` first`);
  const venvBin = path.join(REPO, ".venv", "bin");
  if (!existsSync(path.join(venvBin, "python"))) {
    throw new Error(`${venvBin}/python is missing: run \`uv sync --all-packages\` at the repository root`);
  }

  mkdirSync(OUTPUT, { recursive: true });
  const scratch = mkdtempSync(path.join(tmpdir(), "rhythm-e2e-"));
  const userData = path.join(scratch, "user-data");
  const extensions = path.join(scratch, "extensions");
  const workspace = path.join(scratch, "orders");
  cpSync(path.join(REPO, "examples", "orders"), workspace, {
    recursive: true,
    filter: (src) => !src.includes("__pycache__"),
  });
  mkdirSync(path.join(userData, "User"), { recursive: true });
  writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify({
      "security.workspace.trust.enabled": false,
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "update.mode": "none",
      "editor.minimap.enabled": false,
      "editor.fontSize": 15,
      // The DOM renderer, so the test can read the terminal's text.
      "terminal.integrated.gpuAcceleration": "off",
      "window.zoomLevel": 0,
      "workbench.colorTheme": "Default Dark Modern",
    }),
  );

  // The server is the repository's own: the workspace setting names the .venv's interpreter, which
  // runs `-m rhythm.lsp` (PATH would not do here: VS Code's server takes PATH from a login shell).
  mkdirSync(path.join(workspace, ".vscode"));
  writeFileSync(
    path.join(workspace, ".vscode", "settings.json"),
    JSON.stringify({ "rhythm.server.path": path.join(venvBin, "python") }),
  );
  const env = { ...process.env };
  delete env.VSCODE_IPC_HOOK_CLI;

  step(`installing ${path.basename(vsix)} into code-server`);
  const install = spawnSync(
    codeServer,
    ["--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", vsix],
    { encoding: "utf8", env, timeout: 120000 },
  );
  if (install.status !== 0) throw new Error(`--install-extension failed:\n${install.stdout}\n${install.stderr}`);

  const port = await freePort();
  const logFile = path.join(OUTPUT, "code-server.log");
  step(`starting code-server on 127.0.0.1:${port} (log: ${logFile})`);
  const { openSync } = await import("node:fs");
  const logFd = openSync(logFile, "w");
  // detached: its own process group (setsid), so stopping it stops everything it started.
  const server = spawn(
    codeServer,
    [
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--auth",
      "none",
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensions,
      workspace,
    ],
    { env, detached: true, stdio: ["ignore", logFd, logFd] },
  );

  let browser;
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor("code-server to answer", async () => (await fetch(`${base}/healthz`)).ok, { timeoutMs: 90000 });

    step(`starting Chromium (${chromiumPath})`);
    browser = await playwright.chromium.launchPersistentContext(path.join(scratch, "chromium-profile"), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 760 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(60000);
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 120000 });
    step("workbench loaded; opening order.flow");
    await waitFor("the Explorer to list the workspace", () => page.getByText("order_tasks.py").first().isVisible(), {
      timeoutMs: 90000,
    });

    await openFile(page, "order.flow");
    const editor = page.locator(".editor-instance .monaco-editor").first();
    await editor.waitFor();
    await waitFor("the language mode to be Rhythm Flow", () =>
      page.locator(".statusbar").getByText("Rhythm Flow", { exact: true }).isVisible(),
    );

    // Colouring: wait until the keyword `const` has a colour of its own (the grammar is loaded and
    // applied), then compare it with plain text and check the task name differs from its quotes.
    const colours = await waitFor("keywords to be coloured", async () => {
      const found = await page.evaluate(() => {
        const spans = [...document.querySelectorAll(".editor-instance .view-line span span")];
        // The editor renders spaces as no-break spaces.
        const textOf = (s) => (s.textContent ?? "").replace(/\u00a0/g, " ");
        const colourOf = (text) => {
          const span = spans.find((s) => textOf(s) === text || (text.endsWith("…") && textOf(s).startsWith(text.slice(0, -1))));
          return span ? getComputedStyle(span).color : undefined;
        };
        const editorBox = document.querySelector(".editor-instance .monaco-editor .view-lines");
        return {
          plain: editorBox ? getComputedStyle(editorBox).color : undefined,
          keyword: colourOf("const"),
          awaitKw: colourOf("await"),
          task: colourOf("charge-card"),
          quote: colourOf('"'),
          comment: colourOf("// Order fulfilment…"),
        };
      });
      const ready = found.keyword && found.plain && found.keyword !== found.plain && found.task && found.quote;
      return ready ? found : undefined;
    });
    step(`colours: ${JSON.stringify(colours)}`);
    check(colours.awaitKw && colours.awaitKw !== colours.plain, "`await` is coloured as a keyword");
    check(colours.comment && colours.comment !== colours.keyword, "comments and keywords differ");
    check(colours.task !== colours.quote, "the task name in Task.run(\"...\") is coloured apart from its quotes");
    await saveServerLog(page);

    // A diagnostic from rhythm-lsp for an error typed into the file.
    // Typed after the example's first complete top-level `const` statement, so the error sits amid
    // real code whatever the example says today.
    const lines = readFileSync(path.join(workspace, "flows", "order.flow"), "utf8").split("\n");
    const after = lines.findIndex((line, i) => /^const .*[\w)]$/.test(line) && /^(\S|$)/.test(lines[i + 1] ?? "") && !/^[)\]}]/.test(lines[i + 1] ?? ""));
    if (after < 0) throw new Error("order.flow has no one-line top-level const statement to type after");
    await editor.click();
    await page.keyboard.press("Control+g");
    await page.keyboard.type(String(after + 1));
    await page.keyboard.press("Enter");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("const fee = Math.flor(2.5)", { delay: 20 });
    await waitFor("a squiggle under the typed error", () => page.locator(".squiggly-error").first().isVisible(), {
      timeoutMs: 90000,
    });
    await page.keyboard.press("Control+Shift+M");
    const problem = await waitFor("rhythm-lsp's diagnostic in the Problems panel", async () => {
      const text = await page.locator(".markers-panel").innerText();
      return /'flor' is not a member of Math/.test(text) ? text : undefined;
    });
    step(`problems panel: ${problem.replace(/\s+/g, " ").slice(0, 200)}`);
    check(/RY105/.test(problem), "the diagnostic carries rhythm-lsp's code RY105");

    // Hover the error so the screenshot shows the diagnostic next to the highlighted code.
    await editor.click();
    const squiggle = await page.locator(".squiggly-error").first().boundingBox();
    if (squiggle) await page.mouse.move(squiggle.x + squiggle.width / 2, squiggle.y + squiggle.height / 2);
    await waitFor("the hover with the diagnostic", () => page.locator(".monaco-hover").getByText("is not a member of Math").first().isVisible(), {
      timeoutMs: 20000,
    }).catch(() => step("no hover shown (the screenshot goes without it)"));
    await sleep(500);
    await page.screenshot({ path: path.join(OUTPUT, "rhythm-flow.png") });
    step(`screenshot: ${path.join(OUTPUT, "rhythm-flow.png")}`);

    // Completion after `Task.run("` offers the workspace's task names (from order_tasks.py).
    await page.keyboard.press("Escape");
    await editor.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    await page.keyboard.type('const shipped = await Task.run("', { delay: 20 });
    const rows = page.locator(".suggest-widget .monaco-list-row");
    const offered = await waitFor("completion to offer task names", async () => {
      if (!(await rows.first().isVisible())) {
        await page.keyboard.press("Control+Space");
        await sleep(1500);
      }
      const labels = await rows.allInnerTexts();
      return labels.some((l) => l.includes("charge-card")) ? labels : undefined;
    });
    step(`completion offered: ${offered.map((l) => l.split("\n")[0]).join(", ")}`);
    check(offered.some((l) => l.includes("send-email")), "every @task of order_tasks.py is offered");
    await page.screenshot({ path: path.join(OUTPUT, "rhythm-flow-completion.png") });

    // The "Run Workflow" code lens above line 1 asks for the input and runs `rhythm run` in a terminal.
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+Home");
    await page.locator(".codelens-decoration").getByText("Run Workflow").first().click();
    const inputBox = page.locator(".quick-input-widget");
    await waitFor("the input box for the workflow's input", () => inputBox.getByText("Run order.flow").first().isVisible());
    await page.keyboard.press("Control+A");
    await page.keyboard.type('{"orderId": "A-1", "items": []}');
    await page.keyboard.press("Enter");
    await waitFor("the Rhythm terminal", () => page.locator(".terminal-tabs-entry, .single-terminal-tab, .tabs-container")
      .getByText("Rhythm: order.flow").first().isVisible().catch(() => false)
      .then(async (seen) => seen || (await page.locator(".panel").getByText("Rhythm: order.flow").first().isVisible())));
    const terminalText = await waitFor("the rhythm run command line in the terminal", async () => {
      const text = (await page.locator(".terminal-wrapper .xterm-rows, .terminal-wrapper .xterm-accessibility-tree").first().innerText())
        .replace(/\u00a0/g, " ");
      // Rows wrap at the terminal's width: join them to read the command line whole.
      const joined = text.replace(/\n/g, "");
      return joined.includes("run flows/order.flow --input") ? joined : undefined;
    }, { timeoutMs: 30000 });
    step(`terminal: ${terminalText.trim().slice(0, 300)}`);
    check(
      terminalText.includes(`/.venv/bin/rhythm run flows/order.flow --input '{"orderId":"A-1","items":[]}'`),
      "the Run Workflow code lens ran the .venv's `rhythm run <file> --input <json>` in a terminal",
    );
    step("PASSED");
    return 0;
  } catch (error) {
    const page = browser?.pages()[0];
    if (page) {
      await page.screenshot({ path: path.join(OUTPUT, "failure.png") }).catch(() => {});
      await saveServerLog(page).catch((e) => step(`could not read the extension's log: ${e.message}`));
    }
    throw error;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopGroup(server);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  step(`ok: ${what}`);
}

async function runCommand(page, title) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await waitFor(`the command "${title}"`, () => page.locator(".quick-input-list .monaco-list-row").first().isVisible());
  await page.keyboard.press("Enter");
}

/** The extension's output channel ("Rhythm Language Server"), saved beside the screenshots. */
async function saveServerLog(page) {
  await runCommand(page, "Rhythm: Show Language Server Log");
  const text = await waitFor("the output channel", async () => {
    const t = await page.locator(".output-view, .panel .monaco-editor .view-lines").first().innerText();
    return t.trim() ? t : undefined;
  }, { timeoutMs: 15000 });
  writeFileSync(path.join(OUTPUT, "rhythm-output.txt"), text.replace(/\u00a0/g, " "));
  step(`extension log:\n${text.replace(/\u00a0/g, " ")}`);
}

async function openFile(page, name) {
  await page.locator(".monaco-workbench").click({ position: { x: 640, y: 400 } }).catch(() => {});
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(name);
  await waitFor(`${name} in Quick Open`, () => page.locator(".quick-input-list .monaco-list-row").first().isVisible());
  await page.keyboard.press("Enter");
  await waitFor(`the ${name} tab`, () => page.locator(".tab").getByText(name).first().isVisible());
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`FAILED: ${error.stack ?? error}`);
    console.error(`(code-server log and screenshots in ${OUTPUT})`);
    process.exit(1);
  },
);
