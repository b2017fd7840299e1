/**
 * The bodies of a notification email: the rendered message as plain text, and
 * a simple HTML version where lines starting with "- " become a list (a
 * check-engine email lists each DTC with its description that way).
 *
 * `renderEmailBodies("Codes:\n- P0301: misfire")` →
 * `{ text: "Codes:\n- P0301: misfire", html: "<!doctype html>…<p>Codes:</p>\n<ul>\n<li>P0301: misfire</li>\n</ul>…" }`
 */
export const renderEmailBodies = (message: string): { text: string; html: string } => {
  const text = message.replace(/\r\n/g, "\n").trimEnd();
  const blocks: string[] = [];
  let paragraph: string[] = [];
  let items: string[] = [];
  const flushParagraph = () => {
    if (paragraph.length > 0) blocks.push(`<p>${paragraph.map(escapeHtml).join("<br>\n")}</p>`);
    paragraph = [];
  };
  const flushList = () => {
    if (items.length > 0) blocks.push(`<ul>\n${items.map((item) => `<li>${escapeHtml(item)}</li>`).join("\n")}\n</ul>`);
    items = [];
  };
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (item) {
      flushParagraph();
      items.push(item[1] ?? "");
    } else if (line === "") {
      flushParagraph();
      flushList();
    } else {
      flushList();
      paragraph.push(line);
    }
  }
  flushParagraph();
  flushList();
  const html = [
    "<!doctype html>",
    '<html><body style="font-family: sans-serif; line-height: 1.4">',
    ...blocks,
    "</body></html>",
  ].join("\n");
  return { text, html };
};

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
