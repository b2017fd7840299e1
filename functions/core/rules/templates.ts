import Mustache from "mustache";

/**
 * Message templates: Mustache (logic-less, no code), parsed once at compile time.
 * Values are not HTML-escaped: messages are SMS, email text and JSON, not HTML.
 */

/** Top-level names a template may use; inside a section, the section's item fields are visible too. */
export const TEMPLATE_ROOTS = ["vehicle", "event", "snapshot", "rule", "firing", "trigger"] as const;

type Token = [string, string, number, number, Token[]?, number?];

export type CompiledTemplate = { readonly source: string; readonly tokens: readonly unknown[] };

const writer = new Mustache.Writer();
const NO_ESCAPE = { escape: (value: unknown) => String(value) };

/** The first problem of a template (unbalanced tags, unknown top-level name), with its offset. */
export const checkTemplate = (source: string): { message: string; offset: number } | undefined => {
  let tokens: Token[];
  try {
    tokens = writer.parse(source) as Token[];
  } catch (error) {
    const message = (error as Error).message;
    const at = /at (\d+)$/.exec(message);
    return { message: `invalid template: ${message.replace(/ at \d+$/, "")}`, offset: at ? Number(at[1]) : 0 };
  }
  for (const token of tokens) {
    const [kind, name, start] = token;
    if (kind === "text" || kind === "!" || kind === ">" || kind === "=") continue;
    const root = name.split(".")[0] ?? "";
    if (name !== "." && !(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
      return {
        message: `unknown template name ${JSON.stringify(name)}; names start with ${TEMPLATE_ROOTS.join(", ")}`,
        offset: start,
      };
    }
  }
  return undefined;
};

export const compileTemplate = (source: string): CompiledTemplate =>
  Object.freeze({ source, tokens: Object.freeze(writer.parse(source) as unknown[]) });

export const renderTemplate = (template: CompiledTemplate, view: object): string =>
  writer.renderTokens(
    template.tokens as string[][],
    new Mustache.Context(view),
    undefined,
    template.source,
    NO_ESCAPE as Mustache.RenderOptions,
  );
