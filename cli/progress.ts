/** Where progress goes: a terminal (stderr) redraws one line; anything else gets nothing. */
export type ProgressOutput = { write(text: string): unknown; isTTY?: boolean };

const WIDTH = 30;
const REDRAW_EVERY_MS = 100;

/**
 * A one-line progress bar on stderr, `[#########.........]  45%  4,500/10,000 events`.
 * No progress library is installed (cli-progress would do), so this is the small part of
 * one we need: drawn only on a terminal and only for long runs, so pipes, CI logs and
 * tests see nothing; redrawn at most every 100 ms; erased when done.
 *
 * @example const bar = progressBar(process.stderr, total, "events"); bar.tick(); bar.done();
 */
export const progressBar = (out: ProgressOutput, total: number, unit: string, minTotal = 2000) => {
  const visible = out.isTTY === true && total >= minTotal;
  let count = 0;
  let drawnAt = 0;
  const draw = () => {
    const filled = Math.round((count / total) * WIDTH);
    const percent = String(Math.floor((count / total) * 100)).padStart(3);
    out.write(
      `\r[${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${percent}%  ${count.toLocaleString("en-US")}/${total.toLocaleString("en-US")} ${unit}`,
    );
  };
  return {
    tick() {
      count++;
      if (!visible) return;
      const now = Date.now();
      if (now - drawnAt >= REDRAW_EVERY_MS || count === total) {
        drawnAt = now;
        draw();
      }
    },
    done() {
      if (visible) out.write("\r\u001b[2K");
    },
  };
};
