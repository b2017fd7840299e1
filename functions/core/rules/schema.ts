import { isValidCell } from "h3-js";
import * as z from "zod";
import { VEHICLE_COMMANDS } from "../model/commands.ts";
import { EVENT_TYPES } from "../model/event.ts";
import { SIGNAL_NAMES, type SignalName } from "../model/signals.ts";
import { Tag, VehicleId } from "../model/vehicle.ts";
import { checkCel } from "./cel.ts";
import { checkCron } from "./clock.ts";
import { DURATION_PATTERN } from "./duration.ts";
import { checkTemplate } from "./templates.ts";

/**
 * The rule language, as zod schemas: the single source of truth for the TypeScript
 * types (`z.infer`), for validation and for the JSON Schema editors use
 * (`dashlight rules schema`). Rule files are YAML with three optional top-level keys:
 * `zones`, `contacts` and `rules`; zones and contacts are shared by every rule file.
 */

/** Signals a threshold (`above` / `below`) applies to. */
export const NUMERIC_SIGNALS = [
  "speed_kph",
  "odometer_km",
  "soc_pct",
  "range_km",
  "charge_limit_pct",
  "fuel_pct",
  "fuel_l",
  "oil_life_pct",
  "battery_12v_v",
] as const satisfies readonly SignalName[];
/** Signals compared with `is` / `in`. */
export const STATE_SIGNALS = ["is_plugged_in", "mil_on", "is_locked", "ignition_on", "charge_state"] as const;

// Defined with the canonical model so dispatch and providers need not load the rule compiler.
export { VEHICLE_COMMANDS, type VehicleCommand } from "../model/commands.ts";

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

/** What the compiler knows when it validates references: names defined in any rule file. */
export type SchemaContext = {
  zones: ReadonlySet<string>;
  contacts: ReadonlyMap<string, { phone: boolean; email: boolean }>;
};

/** Issues carry `params.offset` when they point inside a string (CEL, templates). */
export type OffsetParams = { offset: number };

const quoteList = (values: readonly string[]) => values.join(", ");

/**
 * Union keyed by which field is present (`event:`, `signal:`, `enter:` ...), like Home
 * Assistant's `platform`. The first field of each option is its key; validation errors
 * are reported against the option whose key the input has (see yaml-issues.ts).
 */
export const keyedUnionKinds = new Map<string, readonly string[]>();
export const keyedUnion = <const T extends readonly [z.ZodObject, z.ZodObject, ...z.ZodObject[]]>(
  what: string,
  options: T,
  /** Needed when an option's shape is recursive (its getters cannot run yet). */
  explicitKinds?: readonly string[],
) => {
  const kinds = explicitKinds ?? options.map((o) => Object.keys(o.shape)[0] ?? "");
  const message = `${what} needs one of: ${quoteList(kinds)}`;
  keyedUnionKinds.set(message, kinds);
  return z.union(options, { error: message });
};

export const Duration = z
  .string({ error: "must be a duration like 10s, 5m, 2h or 1h30m" })
  .regex(new RegExp(DURATION_PATTERN), { error: "must be a duration like 10s, 5m, 2h or 1h30m" })
  .describe("A duration: 10s, 5m, 2h, 1d, 1h30m");

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: "must be lowercase letters, digits, - or _ (e.g. home, speeding-alert)" });

const E164 = /^\+[1-9]\d{1,14}$/;
const Phone = z.string().regex(E164, { error: "must be an E.164 number like +15555550100" });

const SignalNameSchema = z.enum(SIGNAL_NAMES as [SignalName, ...SignalName[]], {
  error: (issue) => `unknown signal ${JSON.stringify(issue.input)}; known signals: ${quoteList(SIGNAL_NAMES)}`,
});
const EventTypeSchema = z.enum(EVENT_TYPES, {
  error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; known types: ${quoteList(EVENT_TYPES)}`,
});

const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day HH:MM, e.g. 22:00" });

const latitude = z.number().min(-90).max(90);
const longitude = z.number().min(-180).max(180);

// ---------- zones and contacts ----------

const Position = z.tuple([longitude, latitude]).rest(z.number());
export const Zone = keyedUnion("a zone", [
  z
    .object({
      circle: z
        .object({ lat: latitude, lon: longitude, radius_m: z.number().positive() })
        .strict()
        .describe("Centre and radius in metres"),
    })
    .strict(),
  z
    .object({
      polygon: z
        .object({
          type: z.literal("Polygon"),
          coordinates: z.array(z.array(Position).min(4, { error: "a ring needs at least 4 positions" })).min(1),
        })
        .strict()
        .describe("A GeoJSON Polygon: [lon, lat] positions, first ring outer, others holes"),
    })
    .strict(),
  z
    .object({
      h3: z
        .array(z.string().refine((cell) => isValidCell(cell), { error: "not a valid H3 cell index" }))
        .min(1)
        .describe("H3 cell indexes (DIMO geofence format)"),
    })
    .strict(),
]);
export type ZoneSpec = z.infer<typeof Zone>;

export const ContactSpec = z
  .object({ name: z.string().min(1).optional(), phone: Phone.optional(), email: z.email().optional() })
  .strict();
export type ContactSpec = z.infer<typeof ContactSpec>;

// ---------- references checked against the context ----------

const makeRefs = (ctx: SchemaContext | undefined) => {
  const zoneRef = z
    .string()
    .refine((name) => ctx === undefined || ctx.zones.has(name), {
      error: (issue) => `unknown zone ${JSON.stringify(issue.input)}${known(ctx?.zones)}`,
    })
    .describe("Name of a zone defined under `zones:`");
  const recipient = (channel: "phone" | "email") =>
    z.string().superRefine((value, rc) => {
      if (channel === "phone" && value.startsWith("+")) {
        if (!E164.test(value)) rc.addIssue({ code: "custom", message: "must be an E.164 number like +15555550100" });
        return;
      }
      if (channel === "email" && value.includes("@")) {
        if (!z.email().safeParse(value).success) rc.addIssue({ code: "custom", message: "invalid email address" });
        return;
      }
      if (ctx === undefined) return;
      const contact = ctx.contacts.get(value);
      if (contact === undefined) {
        rc.addIssue({ code: "custom", message: `unknown contact ${JSON.stringify(value)}${known(ctx.contacts)}` });
      } else if (!contact[channel]) {
        rc.addIssue({ code: "custom", message: `contact ${JSON.stringify(value)} has no ${channel}` });
      }
    });
  const recipients = (channel: "phone" | "email") => z.union([recipient(channel), z.array(recipient(channel)).min(1)]);
  return { zoneRef, recipients };
};

const known = (names: ReadonlySet<string> | ReadonlyMap<string, unknown> | undefined) =>
  names === undefined || names.size === 0 ? "" : `; known: ${quoteList([...names.keys()].sort())}`;

const Cel = z
  .string()
  .superRefine((source, rc) => {
    const checked = checkCel(source);
    if (!checked.ok) rc.addIssue({ code: "custom", message: checked.message, params: { offset: checked.offset } });
  })
  .describe("A CEL expression yielding a bool");

const Template = z
  .string()
  .superRefine((source, rc) => {
    const problem = checkTemplate(source);
    if (problem !== undefined)
      rc.addIssue({ code: "custom", message: problem.message, params: { offset: problem.offset } });
  })
  .describe("A Mustache template over vehicle, event, snapshot, rule and firing");

const Cron = z
  .string()
  .superRefine((source, rc) => {
    const problem = checkCron(source);
    if (problem !== undefined) rc.addIssue({ code: "custom", message: problem });
  })
  .describe("A cron schedule (minute hour day month weekday) in the vehicle's time zone");

// ---------- the rule ----------

const isNumeric = (s: string) => (NUMERIC_SIGNALS as readonly string[]).includes(s);
const isState = (s: string) => (STATE_SIGNALS as readonly string[]).includes(s);

type SignalPredicate = { signal: string; above?: number; below?: number; is?: unknown; in?: unknown[] };
const checkSignalPredicate = (p: SignalPredicate, rc: z.RefinementCtx, isTrigger: boolean) => {
  const numericOps = p.above !== undefined || p.below !== undefined;
  const stateOps = p.is !== undefined || p.in !== undefined;
  if (!numericOps && !stateOps) {
    rc.addIssue({ code: "custom", message: "needs above, below, is or in", path: [] });
    return;
  }
  if (numericOps && !isNumeric(p.signal)) {
    rc.addIssue({
      code: "custom",
      message: `${p.signal} is not numeric; use is/in, or a threshold on ${quoteList(NUMERIC_SIGNALS)}`,
      path: ["signal"],
    });
  }
  if (stateOps && !isState(p.signal)) {
    rc.addIssue({
      code: "custom",
      message: `${p.signal} cannot be compared with is/in; use it on ${quoteList(STATE_SIGNALS)}`,
      path: ["signal"],
    });
  }
  if (isTrigger && p.above !== undefined && p.below !== undefined) {
    rc.addIssue({ code: "custom", message: "a signal trigger takes above or below, not both", path: ["below"] });
  }
};

const SignalTrigger = z
  .object({
    signal: SignalNameSchema,
    above: z.number().optional().describe("Fires when the value rises above this"),
    below: z.number().optional().describe("Fires when the value falls below this"),
    is: z.union([z.boolean(), z.string()]).optional().describe("Fires when the value becomes this"),
    rearm_below: z.number().optional().describe("With above: the value must fall below this to re-arm (hysteresis)"),
    rearm_above: z.number().optional().describe("With below: the value must rise above this to re-arm (hysteresis)"),
    for: Duration.optional().describe("The condition must hold this long (event time) before the rule fires"),
  })
  .strict()
  .superRefine((t, rc) => {
    checkSignalPredicate(t, rc, true);
    if (t.rearm_below !== undefined) {
      if (t.above === undefined)
        rc.addIssue({ code: "custom", message: "rearm_below goes with above", path: ["rearm_below"] });
      else if (t.rearm_below > t.above)
        rc.addIssue({
          code: "custom",
          message: `rearm_below must be at most above (${t.above})`,
          path: ["rearm_below"],
        });
    }
    if (t.rearm_above !== undefined) {
      if (t.below === undefined)
        rc.addIssue({ code: "custom", message: "rearm_above goes with below", path: ["rearm_above"] });
      else if (t.rearm_above < t.below)
        rc.addIssue({
          code: "custom",
          message: `rearm_above must be at least below (${t.below})`,
          path: ["rearm_above"],
        });
    }
  });

const makeRuleSchema = (ctx: SchemaContext | undefined) => {
  const { zoneRef, recipients } = makeRefs(ctx);

  const Trigger = keyedUnion("a trigger", [
    z
      .object({
        event: EventTypeSchema.describe("Canonical event type"),
        where: Cel.optional().describe("CEL filter over `event` (and signals), e.g. event.data.g_force > 0.5"),
      })
      .strict(),
    SignalTrigger,
    z.object({ enter: zoneRef.describe("Fires when the vehicle is seen entering this zone") }).strict(),
    z.object({ exit: zoneRef.describe("Fires when the vehicle is seen leaving this zone") }).strict(),
    z.object({ inside: zoneRef, for: Duration.optional() }).strict(),
    z.object({ outside: zoneRef, for: Duration.optional() }).strict(),
    z.object({ no_data_for: Duration.describe("Fires when the vehicle has sent nothing for this long") }).strict(),
    z.object({ schedule: Cron }).strict(),
  ]);

  const SignalCondition = z
    .object({
      signal: SignalNameSchema,
      above: z.number().optional(),
      below: z.number().optional(),
      is: z.union([z.boolean(), z.string()]).optional(),
      in: z.array(z.string()).min(1).optional(),
    })
    .strict()
    .superRefine((c, rc) => checkSignalPredicate(c, rc, false));

  const TimeWindow = z
    .object({
      after: TimeOfDay.optional().describe("From this local time (inclusive)"),
      before: TimeOfDay.optional().describe("Until this local time (exclusive); may wrap past midnight"),
      weekdays: z
        .array(z.enum(WEEKDAYS))
        .min(1)
        .optional()
        .describe("Local weekdays; with a window past midnight, the day it starts"),
    })
    .strict()
    .refine((w) => w.after !== undefined || w.before !== undefined || w.weekdays !== undefined, {
      error: "needs after, before or weekdays",
    });

  type ConditionIn =
    | z.input<typeof SignalCondition>
    | { inside: string }
    | { outside: string }
    | { time: z.input<typeof TimeWindow> }
    | { expression: string }
    | { all: ConditionIn[] }
    | { any: ConditionIn[] }
    | { not: ConditionIn };
  type ConditionOut =
    | z.output<typeof SignalCondition>
    | { inside: string }
    | { outside: string }
    | { time: z.output<typeof TimeWindow> }
    | { expression: string }
    | { all: ConditionOut[] }
    | { any: ConditionOut[] }
    | { not: ConditionOut };
  const Condition: z.ZodType<ConditionOut, ConditionIn> = keyedUnion(
    "a condition",
    [
      SignalCondition,
      z.object({ inside: zoneRef }).strict(),
      z.object({ outside: zoneRef }).strict(),
      z.object({ time: TimeWindow }).strict(),
      z.object({ expression: Cel }).strict(),
      z
        .object({
          get all() {
            return z.array(Condition).min(1);
          },
        })
        .strict(),
      z
        .object({
          get any() {
            return z.array(Condition).min(1);
          },
        })
        .strict(),
      z
        .object({
          get not() {
            return Condition;
          },
        })
        .strict(),
    ],
    ["signal", "inside", "outside", "time", "expression", "all", "any", "not"],
  ) as unknown as z.ZodType<ConditionOut, ConditionIn>;

  const Action = keyedUnion("an action", [
    z
      .object({
        sms: recipients("phone").describe("Contact name(s) or E.164 number(s)"),
        message: Template,
      })
      .strict(),
    z
      .object({
        email: recipients("email").describe("Contact name(s) or email address(es)"),
        subject: Template,
        message: Template,
      })
      .strict(),
    z
      .object({
        webhook: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
        message: Template.optional(),
      })
      .strict(),
    z
      .object({
        command: z.enum(VEHICLE_COMMANDS, {
          error: (issue) => `unknown command ${JSON.stringify(issue.input)}; known: ${quoteList(VEHICLE_COMMANDS)}`,
        }),
        percent: z.number().int().min(50).max(100).optional().describe("set_charge_limit: the new limit"),
        destination: z
          .object({ lat: latitude, lon: longitude, name: z.string().optional() })
          .strict()
          .optional()
          .describe("set_destination: where to navigate"),
      })
      .strict()
      .superRefine((a, rc) => {
        if ((a.command === "set_charge_limit") !== (a.percent !== undefined)) {
          rc.addIssue({
            code: "custom",
            message: "percent goes with set_charge_limit, and only with it",
            path: ["percent"],
          });
        }
        if ((a.command === "set_destination") !== (a.destination !== undefined)) {
          rc.addIssue({
            code: "custom",
            message: "destination goes with set_destination, and only with it",
            path: ["destination"],
          });
        }
      }),
  ]);

  const Scope = z.union(
    [
      z.literal("all"),
      z.object({ vehicles: z.array(VehicleId).min(1) }).strict(),
      // The tags vehicles can carry (the CLI and invites take them so): any other could never match.
      z.object({ tags: z.array(Tag).min(1) }).strict(),
    ],
    { error: "scope must be all, {vehicles: [ids]} or {tags: [tags]}" },
  );

  const Rule = z
    .object({
      id: Name.describe("Unique rule id, used in firing and action ids"),
      name: z.string().min(1).optional(),
      description: z.string().optional(),
      enabled: z.boolean().optional().describe("false keeps the rule out of every vehicle's scope"),
      scope: Scope.optional().describe("Which vehicles the rule applies to (default all)"),
      triggers: z.array(Trigger).min(1).describe("Any of these starts the rule"),
      conditions: z.array(Condition).optional().describe("All of these must hold when a trigger fires"),
      actions: z.array(Action).describe("What to do when the rule fires"),
      on_resolve: z.array(Action).optional().describe("What to do when the condition clears (episode resolved)"),
      cooldown: Duration.optional().describe("No new firing within this time after an actioned one (event time)"),
      max_event_delay: Duration.optional().describe(
        "Events older than this are late: recorded, never actioned (default 5m)",
      ),
      dry_run: z.boolean().optional().describe("Record firings but never perform actions"),
      explain: z.enum(["firings", "all"]).optional().describe("all: also explain evaluations that did not fire"),
    })
    .strict()
    .superRefine((r, rc) => {
      const levels = r.triggers.filter(isLevelTriggerSpec).length;
      if (r.on_resolve !== undefined && levels === 0) {
        rc.addIssue({
          code: "custom",
          message: "on_resolve needs a trigger that can clear: signal, inside, outside or no_data_for",
          path: ["on_resolve"],
        });
      }
    });

  return { Trigger, Condition, Action, Rule, Scope };
};

const isLevelTriggerSpec = (t: object): boolean =>
  "signal" in t || "inside" in t || "outside" in t || "no_data_for" in t;

/** The schema of one rules YAML file, validating references against `ctx` when given. */
export const ruleFileSchema = (ctx?: SchemaContext) => {
  const { Rule } = makeRuleSchema(ctx);
  return z
    .object({
      zones: z.record(Name, Zone).optional().describe("Named zones, reusable by every rule file"),
      contacts: z.record(Name, ContactSpec).optional().describe("Named contacts, reusable by every rule file"),
      rules: z.array(Rule).optional(),
    })
    .strict();
};

const unchecked = makeRuleSchema(undefined);
/** Types of the validated YAML (before compilation). */
export type RuleSpec = z.output<typeof unchecked.Rule>;
export type TriggerSpec = z.output<typeof unchecked.Trigger>;
export type ConditionSpec = z.output<typeof unchecked.Condition>;
export type ActionSpec = z.output<typeof unchecked.Action>;
export type ScopeSpec = z.output<typeof unchecked.Scope>;
export type RuleFileSpec = z.output<ReturnType<typeof ruleFileSchema>>;

/** The JSON Schema of rule files, generated from the zod schema (no hand-written copy). */
export const ruleFileJsonSchema = (): Record<string, unknown> => {
  const schema = z.toJSONSchema(ruleFileSchema(), { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  // The only recursive schema (conditions) gets a generated $defs name; give it a readable one.
  const named = JSON.parse(JSON.stringify(schema).replaceAll("__schema0", "Condition")) as Record<string, unknown>;
  return { ...named, title: "Dashlight rule file", $id: "https://dashlight.example.com/schemas/rules.json" };
};
