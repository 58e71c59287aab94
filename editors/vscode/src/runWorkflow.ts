/**
 * The "Rhythm: Run Workflow" command line: `rhythm run <file> --input <json>`, with the input the user
 * typed checked as JSON first and every argument quoted for the terminal's shell.
 */

export type InputCheck = { ok: true; json: string } | { ok: false; message: string };

/** The typed input as compact JSON (one line, safe to send to a terminal), or why it is not JSON. */
export function checkInput(text: string): InputCheck {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, json: "{}" };
  try {
    return { ok: true, json: JSON.stringify(JSON.parse(trimmed)) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `Not valid JSON: ${reason}` };
  }
}

/** Quotes one argument for a POSIX shell, or for PowerShell (VS Code's default on Windows). */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  if (platform === "win32") return `'${arg.replace(/'/g, "''")}'`;
  return `'${arg.replace(/'/g, "'\\''")}'`;
}

export function runCommandLine(
  cli: string,
  file: string,
  inputJson: string,
  platform: NodeJS.Platform = process.platform,
): string {
  const words = [cli, "run", file, "--input", inputJson].map((w) => shellQuote(w, platform));
  // PowerShell runs a quoted program path only after the call operator.
  return platform === "win32" && words[0].startsWith("'") ? `& ${words.join(" ")}` : words.join(" ");
}
