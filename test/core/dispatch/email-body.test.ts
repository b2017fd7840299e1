import { describe, expect, it } from "vitest";
import { renderEmailBodies } from "#core/dispatch/email-body.ts";

describe("email bodies", () => {
  it("lists each trouble code with its description in the HTML body", () => {
    const message =
      "The check engine light of Blue Leaf came on at 2026-05-01T08:00:00Z.\nTrouble codes:\n- P0301: Cylinder 1 misfire detected\n- P0420: Catalyst <efficiency> & more\n";
    expect(renderEmailBodies(message)).toStrictEqual({
      text: "The check engine light of Blue Leaf came on at 2026-05-01T08:00:00Z.\nTrouble codes:\n- P0301: Cylinder 1 misfire detected\n- P0420: Catalyst <efficiency> & more",
      html: [
        "<!doctype html>",
        '<html><body style="font-family: sans-serif; line-height: 1.4">',
        "<p>The check engine light of Blue Leaf came on at 2026-05-01T08:00:00Z.<br>\nTrouble codes:</p>",
        "<ul>\n<li>P0301: Cylinder 1 misfire detected</li>\n<li>P0420: Catalyst &#60;efficiency&#62; &#38; more</li>\n</ul>",
        "</body></html>",
      ].join("\n"),
    });
  });

  it("keeps paragraphs apart and escapes quotes", () => {
    expect(renderEmailBodies('Line "one"\n\nLine two').html).toBe(
      [
        "<!doctype html>",
        '<html><body style="font-family: sans-serif; line-height: 1.4">',
        "<p>Line &#34;one&#34;</p>",
        "<p>Line two</p>",
        "</body></html>",
      ].join("\n"),
    );
  });
});
