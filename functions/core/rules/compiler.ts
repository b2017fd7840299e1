import { isMap, isScalar, isSeq } from "yaml";
import type { EventType } from "../model/event.ts";
import type { SignalName } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { CelProgram } from "./cel.ts";
import {
  type CompiledCondition,
  compileCelProgram,
  compileCondition,
  compileGroup,
  type EvalContext,
  readerOf,
  zoneOf,
} from "./conditions.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { type Problem, RuleValidationError } from "./errors.ts";
import { haversineM } from "./geo.ts";
import {
  type ActionSpec,
  type ContactSpec,
  type RuleSpec,
  ruleFileSchema,
  type TriggerSpec,
  type VehicleCommand,
  type ZoneSpec,
} from "./schema.ts";
import { freshTriggerState, type TriggerState } from "./state.ts";
import { type CompiledTemplate, compileTemplate } from "./templates.ts";
import { issuesToProblems, type ParsedYaml, parseYamlSource, type SourceFile } from "./yaml-issues.ts";
import { type CompiledZone, compileZone } from "./zones.ts";

export const DEFAULT_MAX_EVENT_DELAY_MS = 5 * 60_000;

export type CompiledTrigger =
  | { readonly kind: "event"; readonly description: string; readonly eventType: EventType; readonly where?: CelProgram }
  | {
      readonly kind: "threshold";
      readonly description: string;
      readonly signal: SignalName;
      /** The raw condition (fire side of the band). */
      readonly holds: (value: unknown) => boolean;
      /** Past the re-arm band: the episode resolves. */
      readonly clears: (value: unknown) => boolean;
      /** `holds` on the snapshot's sample (false when missing). */
      readonly holdsOn: (snapshot: VehicleSnapshot) => boolean;
      /** `clears` on the snapshot's sample (false when missing). */
      readonly clearsOn: (snapshot: VehicleSnapshot) => boolean;
      readonly op: "above" | "below" | "is";
      readonly threshold: number | boolean | string;
      readonly rearm?: number;
      readonly forMs: number;
    }
  | {
      readonly kind: "zone";
      readonly description: string;
      readonly zone: CompiledZone;
      readonly want: "inside" | "outside";
      readonly forMs: number;
      readonly holdsOn: (snapshot: VehicleSnapshot) => boolean;
      /** Known to be on the other side (false while the position is unknown). */
      readonly clearsOn: (snapshot: VehicleSnapshot) => boolean;
    }
  | {
      readonly kind: "transition";
      readonly description: string;
      readonly zone: CompiledZone;
      readonly on: "enter" | "exit";
    }
  | { readonly kind: "stale"; readonly description: string; readonly afterMs: number }
  | { readonly kind: "schedule"; readonly description: string; readonly cron: string };

export type Recipient = { readonly name: string; readonly address: string };

export type CompiledAction =
  | { readonly type: "sms"; readonly to: readonly Recipient[]; readonly message: CompiledTemplate }
  | {
      readonly type: "email";
      readonly to: readonly Recipient[];
      readonly subject: CompiledTemplate;
      readonly message: CompiledTemplate;
    }
  | { readonly type: "webhook"; readonly url: string; readonly message?: CompiledTemplate }
  | {
      readonly type: "command";
      readonly command: VehicleCommand;
      readonly params: {
        readonly percent?: number;
        readonly destination?: { lat: number; lon: number; name?: string };
      };
    };

export type CompiledScope =
  | { readonly kind: "all" }
  | { readonly kind: "vehicles"; readonly ids: ReadonlySet<string> }
  | { readonly kind: "tags"; readonly tags: ReadonlySet<string> };

/** A rule ready to evaluate: immutable, CEL and templates compiled, zones prepared. */
export type CompiledRule = {
  readonly id: string;
  readonly name: string;
  /** Changes whenever the rule's meaning changes; a state of another fingerprint is reset (see evaluator). */
  readonly fingerprint: string;
  /** Where the rule is defined, for messages. */
  readonly source: { readonly file: string; readonly line: number };
  readonly enabled: boolean;
  readonly scope: CompiledScope;
  readonly triggers: readonly CompiledTrigger[];
  /** All of the rule's conditions, as one group (true when there are none). */
  readonly conditions: CompiledCondition;
  /** Trigger states of a vehicle the rule has not seen yet (frozen). */
  readonly initialTriggers: readonly TriggerState[];
  /** Has a cron trigger: its state is created before any event, to start the schedule. */
  readonly hasSchedule: boolean;
  /** A level trigger holds on the snapshot and so do the conditions (no state, no timers). */
  readonly holdsNow: (ctx: EvalContext) => boolean;
  readonly actions: readonly CompiledAction[];
  readonly onResolve: readonly CompiledAction[];
  readonly cooldownMs: number;
  readonly maxEventDelayMs: number;
  readonly dryRun: boolean;
  /** Explain evaluations that did not fire too. */
  readonly explainAll: boolean;
  /** Signals whose change re-evaluates the rule; "all" when a CEL expression may read any. */
  readonly signals: ReadonlySet<SignalName> | "all";
  readonly spec: RuleSpec;
};

/** Every compiled rule with the zones and contacts they share. */
export type RuleSet = {
  readonly rules: readonly CompiledRule[];
  readonly zones: ReadonlyMap<string, CompiledZone>;
  readonly contacts: ReadonlyMap<string, ContactSpec>;
};

export type CompileResult = { ok: true; ruleSet: RuleSet } | { ok: false; problems: Problem[] };

type Located<T> = { value: T; file: string; offset: number; parsed: ParsedYaml };

/**
 * Validates and compiles rule files (rules, zones and contacts may be spread over
 * any of them). Reports every problem of every file, in file order; compiles only
 * when there are none.
 *
 * @example compileRuleSources([{ file: "rules/speeding.yaml", text }]) // { ok: true, ruleSet }
 */
export const compileRuleSources = (sources: readonly SourceFile[]): CompileResult => {
  const problems: Problem[] = [];
  const parsedFiles = sources.map(parseYamlSource);
  for (const parsed of parsedFiles) problems.push(...parsed.problems);

  // Names first, from every file, so that references across files resolve.
  const zoneNames = new Map<string, Located<unknown>>();
  const contactNames = new Map<string, Located<ContactSpec | undefined>>();
  for (const parsed of parsedFiles) {
    for (const [section, names] of [
      ["zones", zoneNames],
      ["contacts", contactNames],
    ] as const) {
      for (const { key, offset, value } of sectionEntries(parsed, section)) {
        const prior = names.get(key);
        if (prior !== undefined) {
          problems.push(at(parsed, offset, `${section.slice(0, -1)} "${key}" is already defined in ${prior.file}`));
        } else {
          names.set(key, { value: value as ContactSpec | undefined, file: parsed.file, offset, parsed });
        }
      }
    }
  }
  const contactChannels = new Map<string, { phone: boolean; email: boolean }>();
  for (const [name, { value }] of contactNames) {
    const c = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    contactChannels.set(name, { phone: typeof c.phone === "string", email: typeof c.email === "string" });
  }
  const schema = ruleFileSchema({ zones: new Set(zoneNames.keys()), contacts: contactChannels });

  const zoneSpecs = new Map<string, ZoneSpec>();
  const contacts = new Map<string, ContactSpec>();
  const ruleSpecs: Located<RuleSpec>[] = [];
  const ruleIds = new Map<string, string>();
  for (const parsed of parsedFiles) {
    if (parsed.value === undefined) continue;
    const result = schema.safeParse(parsed.value ?? {});
    if (!result.success) {
      problems.push(...issuesToProblems(parsed, result.error.issues));
      continue;
    }
    for (const [name, zone] of Object.entries(result.data.zones ?? {})) zoneSpecs.set(name, zone);
    for (const [name, contact] of Object.entries(result.data.contacts ?? {})) contacts.set(name, contact);
    (result.data.rules ?? []).forEach((rule, index) => {
      const offset = ruleIdOffset(parsed, index);
      const prior = ruleIds.get(rule.id);
      if (prior !== undefined) {
        problems.push(at(parsed, offset, `rule "${rule.id}" is already defined in ${prior}`));
        return;
      }
      ruleIds.set(rule.id, parsed.file);
      ruleSpecs.push({ value: rule, file: parsed.file, offset, parsed });
    });
  }
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems, sources) };

  const zones = new Map<string, CompiledZone>();
  for (const [name, spec] of zoneSpecs) zones.set(name, compileZone(name, spec));
  const logicCache = new Map<string, RuleLogic>();
  const rules = ruleSpecs.map(({ value, file, offset, parsed }) =>
    compileRule(value, { file, line: parsed.lineCounter.linePos(offset).line }, zones, zoneSpecs, contacts, logicCache),
  );
  return { ok: true, ruleSet: Object.freeze({ rules: Object.freeze(rules), zones, contacts }) };
};

/** compileRuleSources that throws RuleValidationError listing every problem. */
export const compileRuleSourcesOrThrow = (sources: readonly SourceFile[]): RuleSet => {
  const result = compileRuleSources(sources);
  if (!result.ok) throw new RuleValidationError(result.problems);
  return result.ruleSet;
};

const sortProblems = (problems: Problem[], sources: readonly SourceFile[]): Problem[] => {
  const order = new Map(sources.map((s, i) => [s.file, i]));
  return problems.sort(
    (a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line || a.column - b.column,
  );
};

const at = (parsed: ParsedYaml, offset: number, message: string): Problem => {
  const { line, col } = parsed.lineCounter.linePos(offset);
  return { file: parsed.file, line, column: col, message };
};

const sectionEntries = (parsed: ParsedYaml, section: string) => {
  const root = parsed.doc.contents;
  if (!isMap(root)) return [];
  const node = root.get(section, true);
  if (!isMap(node)) return [];
  const value = (parsed.value as Record<string, Record<string, unknown>> | undefined)?.[section];
  return node.items.flatMap((pair) =>
    isScalar(pair.key)
      ? [{ key: String(pair.key.value), offset: pair.key.range?.[0] ?? 0, value: value?.[String(pair.key.value)] }]
      : [],
  );
};

const ruleIdOffset = (parsed: ParsedYaml, index: number): number => {
  const root = parsed.doc.contents;
  const rules = isMap(root) ? root.get("rules", true) : undefined;
  const rule = isSeq(rules) ? rules.items[index] : undefined;
  if (isMap(rule)) {
    const idPair = rule.items.find((p) => isScalar(p.key) && p.key.value === "id");
    const node = (idPair?.value ?? rule) as { range?: [number, number, number] };
    return node.range?.[0] ?? 0;
  }
  return 0;
};

const durationMs = (text: string | undefined, fallback: number): number =>
  text === undefined ? fallback : (parseDuration(text) ?? fallback);

type RuleLogic = Pick<
  CompiledRule,
  "triggers" | "conditions" | "initialTriggers" | "hasSchedule" | "holdsNow" | "signals"
>;

const compileLogic = (spec: RuleSpec, zones: ReadonlyMap<string, CompiledZone>): RuleLogic => {
  const triggers = spec.triggers.map((t) => compileTrigger(t, zones));
  const conditions = compileGroup(
    "all",
    (spec.conditions ?? []).map((c) => compileCondition(c, zones)),
  );
  const signals = new Set<SignalName>();
  let allSignals = conditions.signals === "all";
  if (conditions.signals !== "all") for (const s of conditions.signals) signals.add(s);
  for (const t of triggers) {
    if (t.kind === "threshold") signals.add(t.signal);
    if (t.kind === "zone" || t.kind === "transition") signals.add("location");
    if (t.kind === "event" && t.where !== undefined) allSignals = true;
  }
  return {
    triggers: Object.freeze(triggers),
    conditions,
    initialTriggers: Object.freeze(triggers.map(freshTriggerState)),
    hasSchedule: triggers.some((t) => t.kind === "schedule"),
    holdsNow: compileHoldsNow(triggers, conditions, spec.conditions === undefined || spec.conditions.length === 0),
    signals: allSignals ? "all" : signals,
  };
};

const compileRule = (
  spec: RuleSpec,
  source: { file: string; line: number },
  zones: ReadonlyMap<string, CompiledZone>,
  zoneSpecs: ReadonlyMap<string, ZoneSpec>,
  contacts: ReadonlyMap<string, ContactSpec>,
  logicCache: Map<string, RuleLogic>,
): CompiledRule => {
  // Rules that watch the same thing share one compiled logic (triggers, conditions,
  // closures): less memory, and hot call sites that stay monomorphic across a fleet.
  const logicKey = JSON.stringify([spec.triggers, spec.conditions ?? []]);
  let logic = logicCache.get(logicKey);
  if (logic === undefined) {
    logic = compileLogic(spec, zones);
    logicCache.set(logicKey, logic);
  }
  const { triggers, conditions, initialTriggers, hasSchedule, holdsNow, signals } = logic;
  const refs = referencedNames(spec);
  const usedZones = [...refs.zones].sort().map((name) => [name, zoneSpecs.get(name)]);
  const usedContacts = [...refs.contacts].sort().map((name) => [name, contacts.get(name)]);
  const rule: CompiledRule = {
    id: spec.id,
    name: spec.name ?? spec.id,
    fingerprint: fingerprint(JSON.stringify([spec, usedZones, usedContacts])),
    source,
    enabled: spec.enabled ?? true,
    scope: compileScope(spec),
    triggers,
    conditions,
    initialTriggers,
    hasSchedule,
    holdsNow,
    actions: Object.freeze(spec.actions.map((a) => compileAction(a, contacts))),
    onResolve: Object.freeze((spec.on_resolve ?? []).map((a) => compileAction(a, contacts))),
    cooldownMs: durationMs(spec.cooldown, 0),
    maxEventDelayMs: durationMs(spec.max_event_delay, DEFAULT_MAX_EVENT_DELAY_MS),
    dryRun: spec.dry_run ?? false,
    explainAll: spec.explain === "all",
    signals,
    spec: deepFreeze(spec),
  };
  return Object.freeze(rule);
};

const compileHoldsNow = (
  triggers: readonly CompiledTrigger[],
  conditions: CompiledCondition,
  unconditional: boolean,
): ((ctx: EvalContext) => boolean) => {
  const levels = triggers.flatMap((t) => (t.kind === "threshold" || t.kind === "zone" ? [levelHoldsNow(t)] : []));
  const test = conditions.test;
  const only = levels.length === 1 ? levels[0] : undefined;
  if (levels.length === 0) return () => false;
  if (only !== undefined) return unconditional ? only : (ctx) => only(ctx) && test(ctx) === true;
  return (ctx) => levels.some((h) => h(ctx)) && test(ctx) === true;
};

/** One closure per level trigger, specialised by shape: the hot path of stateless evaluation. */
const levelHoldsNow = (
  trigger: Extract<CompiledTrigger, { kind: "threshold" | "zone" }>,
): ((ctx: EvalContext) => boolean) => {
  if (trigger.kind === "zone") {
    const { circle } = trigger.zone;
    const wantInside = trigger.want === "inside";
    if (circle !== undefined) {
      const { lat, lon, radius_m } = circle;
      return (ctx) => {
        const loc = ctx.snapshot.signals.location?.value;
        return loc !== undefined && haversineM(lat, lon, loc.lat, loc.lon) <= radius_m === wantInside;
      };
    }
    const { contains } = trigger.zone;
    return (ctx) => {
      const loc = ctx.snapshot.signals.location?.value;
      return loc !== undefined && contains(loc.lat, loc.lon) === wantInside;
    };
  }
  const x = trigger.threshold;
  const read = readerOf(trigger.signal);
  if (trigger.op === "above")
    return (ctx) => {
      const v = read(ctx.snapshot);
      return typeof v === "number" && v > (x as number);
    };
  if (trigger.op === "below")
    return (ctx) => {
      const v = read(ctx.snapshot);
      return typeof v === "number" && v < (x as number);
    };
  return (ctx) => read(ctx.snapshot) === x;
};

/** Zones and contacts a rule refers to: its fingerprint covers their definitions too. */
const referencedNames = (spec: RuleSpec): { zones: Set<string>; contacts: Set<string> } => {
  const zones = new Set<string>();
  const contacts = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === "enter" || key === "exit" || key === "inside" || key === "outside") && typeof value === "string") {
        zones.add(value);
      } else if (key === "sms" || key === "email") {
        for (const ref of Array.isArray(value) ? value : [value]) if (typeof ref === "string") contacts.add(ref);
      } else {
        visit(value);
      }
    }
  };
  visit([spec.triggers, spec.conditions, spec.actions, spec.on_resolve]);
  return { zones, contacts };
};

const compileScope = (spec: RuleSpec): CompiledScope => {
  const scope = spec.scope ?? "all";
  if (scope === "all") return { kind: "all" };
  if ("vehicles" in scope) return { kind: "vehicles", ids: new Set(scope.vehicles) };
  return { kind: "tags", tags: new Set(scope.tags) };
};

const compileTrigger = (spec: TriggerSpec, zones: ReadonlyMap<string, CompiledZone>): CompiledTrigger => {
  if ("event" in spec) {
    const where = spec.where === undefined ? undefined : compileCelProgram(spec.where);
    return {
      kind: "event",
      description: `event ${spec.event}${spec.where === undefined ? "" : ` where ${spec.where}`}`,
      eventType: spec.event,
      ...(where === undefined ? {} : { where }),
    };
  }
  if ("signal" in spec) {
    const read = readerOf(spec.signal);
    const forMs = durationMs(spec.for, 0);
    const forText = forMs > 0 ? ` for ${formatDuration(forMs)}` : "";
    if (spec.above !== undefined) {
      const x = spec.above;
      const rearm = spec.rearm_below ?? x;
      const clears =
        spec.rearm_below === undefined
          ? (v: unknown) => typeof v === "number" && v <= x
          : (v: unknown) => typeof v === "number" && v < rearm;
      return {
        kind: "threshold",
        description: `${spec.signal} above ${x}${forText}${spec.rearm_below === undefined ? "" : `, re-arms below ${rearm}`}`,
        signal: spec.signal,
        holds: (v) => typeof v === "number" && v > x,
        holdsOn: (snapshot) => {
          const v = read(snapshot);
          return typeof v === "number" && v > x;
        },
        clears,
        clearsOn: (snapshot) => clears(read(snapshot)),
        op: "above",
        threshold: x,
        ...(spec.rearm_below === undefined ? {} : { rearm }),
        forMs,
      };
    }
    if (spec.below !== undefined) {
      const x = spec.below;
      const rearm = spec.rearm_above ?? x;
      const clears =
        spec.rearm_above === undefined
          ? (v: unknown) => typeof v === "number" && v >= x
          : (v: unknown) => typeof v === "number" && v > rearm;
      return {
        kind: "threshold",
        description: `${spec.signal} below ${x}${forText}${spec.rearm_above === undefined ? "" : `, re-arms above ${rearm}`}`,
        signal: spec.signal,
        holds: (v) => typeof v === "number" && v < x,
        holdsOn: (snapshot) => {
          const v = read(snapshot);
          return typeof v === "number" && v < x;
        },
        clears,
        clearsOn: (snapshot) => clears(read(snapshot)),
        op: "below",
        threshold: x,
        ...(spec.rearm_above === undefined ? {} : { rearm }),
        forMs,
      };
    }
    const x = spec.is as boolean | string;
    return {
      kind: "threshold",
      description: `${spec.signal} is ${String(x)}${forText}`,
      signal: spec.signal,
      holds: (v) => v === x,
      holdsOn: (snapshot) => read(snapshot) === x,
      clears: (v) => v !== undefined && v !== x,
      clearsOn: (snapshot) => {
        const v = read(snapshot);
        return v !== undefined && v !== x;
      },
      op: "is",
      threshold: x,
      forMs,
    };
  }
  if ("enter" in spec)
    return { kind: "transition", description: `enters ${spec.enter}`, zone: zoneOf(zones, spec.enter), on: "enter" };
  if ("exit" in spec)
    return { kind: "transition", description: `exits ${spec.exit}`, zone: zoneOf(zones, spec.exit), on: "exit" };
  if ("inside" in spec || "outside" in spec) {
    const want = "inside" in spec ? "inside" : "outside";
    const name = "inside" in spec ? spec.inside : spec.outside;
    const forMs = durationMs(spec.for, 0);
    const zone = zoneOf(zones, name);
    const wantInside = want === "inside";
    return {
      kind: "zone",
      description: `${want} ${name}${forMs > 0 ? ` for ${formatDuration(forMs)}` : ""}`,
      zone,
      want,
      forMs,
      holdsOn: (snapshot) => {
        const loc = snapshot.signals.location?.value;
        return loc !== undefined && zone.contains(loc.lat, loc.lon) === wantInside;
      },
      clearsOn: (snapshot) => {
        const loc = snapshot.signals.location?.value;
        return loc !== undefined && zone.contains(loc.lat, loc.lon) !== wantInside;
      },
    };
  }
  if ("no_data_for" in spec) {
    const afterMs = durationMs(spec.no_data_for, 0);
    return { kind: "stale", description: `no data for ${formatDuration(afterMs)}`, afterMs };
  }
  return { kind: "schedule", description: `schedule ${spec.schedule}`, cron: spec.schedule };
};

const recipients = (refs: string | string[], channel: "phone" | "email", contacts: ReadonlyMap<string, ContactSpec>) =>
  Object.freeze(
    (Array.isArray(refs) ? refs : [refs]).map((ref): Recipient => {
      const contact = contacts.get(ref);
      if (contact === undefined) return { name: ref, address: ref };
      return { name: contact.name ?? ref, address: contact[channel] ?? "" };
    }),
  );

const compileAction = (spec: ActionSpec, contacts: ReadonlyMap<string, ContactSpec>): CompiledAction => {
  if ("sms" in spec)
    return { type: "sms", to: recipients(spec.sms, "phone", contacts), message: compileTemplate(spec.message) };
  if ("email" in spec)
    return {
      type: "email",
      to: recipients(spec.email, "email", contacts),
      subject: compileTemplate(spec.subject),
      message: compileTemplate(spec.message),
    };
  if ("webhook" in spec)
    return {
      type: "webhook",
      url: spec.webhook,
      ...(spec.message === undefined ? {} : { message: compileTemplate(spec.message) }),
    };
  return {
    type: "command",
    command: spec.command,
    params: {
      ...(spec.percent === undefined ? {} : { percent: spec.percent }),
      ...(spec.destination === undefined ? {} : { destination: spec.destination }),
    },
  };
};

/** cyrb53: a fast, stable 53-bit string hash (not cryptographic). */
const fingerprint = (text: string): string => {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
};

const deepFreeze = <T>(value: T): T => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};
