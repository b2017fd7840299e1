import * as z from "zod";
import { EVENT_TYPES, VehicleEvent } from "../model/event.ts";
import { SIGNAL_NAMES, type SignalName } from "../model/signals.ts";
import { emptySnapshot, type VehicleSnapshot } from "../model/snapshot.ts";
import { PROVIDERS, Tag, TimeZone, type Vehicle, VehicleId } from "../model/vehicle.ts";
import { applyEventToSnapshot } from "../snapshot/apply-event.ts";
import { iso } from "./clock.ts";
import type { CompiledRule, RuleSet } from "./compiler.ts";
import { parseDuration } from "./duration.ts";
import { evaluateEvent, rulesForVehicle } from "./engine.ts";
import type { Problem } from "./errors.ts";
import { tick } from "./evaluator.ts";
import { keyedUnion, VEHICLE_COMMANDS } from "./schema.ts";
import { type Action, FIRING_STATUSES, type Firing, type RuleState } from "./state.ts";
import { issuesToProblems, parseYamlSource, type SourceFile } from "./yaml-issues.ts";

/**
 * Rule fixtures: given events (and ticks) at fake-clock times, expect firings and
 * actions, or none. A step without `expect` expects nothing new. Run with no I/O:
 * states and snapshots go through JSON between steps, as through a store, so a
 * fixture also proves that nothing lives only in memory (a restart loses no timer).
 */

/** `10s` (after `start`), or an ISO 8601 instant. */
const TimeSpec = z.union([z.string().regex(/^(\d+(ms|s|m|h|d))+$/), z.iso.datetime()], {
  error: "must be an offset from start like 10s or 1h30m, or an ISO 8601 time",
});

const ExpectedAction = keyedUnion("an expected action", [
  z.object({ sms: z.union([z.string(), z.array(z.string())]), message: z.string().optional() }).strict(),
  z
    .object({
      email: z.union([z.string(), z.array(z.string())]),
      subject: z.string().optional(),
      message: z.string().optional(),
    })
    .strict(),
  z.object({ webhook: z.string(), message: z.string().nullable().optional() }).strict(),
  z.object({ command: z.enum(VEHICLE_COMMANDS), params: z.record(z.string(), z.unknown()).optional() }).strict(),
]);

const expectedFields = {
  episode: z.number().int().positive().optional(),
  status: z.enum(FIRING_STATUSES).optional(),
  at: TimeSpec.optional(),
  cause: z.enum(["event", "signal", "timer", "schedule", "zone", "staleness"]).optional(),
  /** Each must be part of one of the firing's reasons. */
  reasons: z.array(z.string()).optional(),
  /** The firing's actions, exactly (fields not given are not compared). */
  actions: z.array(ExpectedAction).optional(),
};
const ExpectedFiring = keyedUnion("an expected firing", [
  z.object({ fired: z.string(), ...expectedFields }).strict(),
  z.object({ resolved: z.string(), ...expectedFields }).strict(),
]);
const Expect = z.union([z.literal("none"), z.array(ExpectedFiring)], {
  error: 'expect is "none" or a list of firings',
});
const Crash = z
  .enum(["before_state_write", "after_state_write"])
  .describe(
    "before_state_write: firings and actions were stored, states and snapshot were not; after_state_write: states and snapshot were, firings and actions were lost",
  );

const EventStep = z
  .object({
    at: TimeSpec.describe("Event time (occurredAt)"),
    id: z.string().optional(),
    event: z.enum(EVENT_TYPES).optional().describe("Event type (default signals)"),
    data: z.record(z.string(), z.unknown()).optional(),
    signals: z.partialRecord(z.enum(SIGNAL_NAMES as [SignalName, ...SignalName[]]), z.unknown()).optional(),
    observed: TimeSpec.optional().describe("When the samples were observed (default: at)"),
    received: TimeSpec.optional().describe("Processing time, `now` (default: at)"),
    crash: Crash.optional(),
    expect: Expect.optional(),
    due: z.record(z.string(), TimeSpec.nullable()).optional().describe("Expected dueAt per rule after the step"),
  })
  .strict();
const RedeliverStep = z
  .object({
    redeliver: z.string().describe("Id of an earlier event to process again"),
    received: TimeSpec,
    crash: Crash.optional(),
    expect: Expect.optional(),
    due: z.record(z.string(), TimeSpec.nullable()).optional(),
  })
  .strict();
const TickStep = z
  .object({
    tick: TimeSpec.describe("Processing time of the tick"),
    expect: Expect.optional(),
    due: z.record(z.string(), TimeSpec.nullable()).optional(),
  })
  .strict();
const Step = keyedUnion("a step", [EventStep, RedeliverStep, TickStep]);

export const Fixture = z
  .object({
    name: z.string().min(1),
    rules: z.array(z.string()).min(1).optional().describe("Rules under test (default: all in scope)"),
    vehicle: z
      .object({
        id: VehicleId.optional(),
        name: z.string().optional(),
        tags: z.array(Tag).optional(),
        time_zone: TimeZone.optional(),
      })
      .strict()
      .optional(),
    start: z.iso.datetime(),
    steps: z.array(Step).min(1),
    totals: z.object({ firings: z.number().int(), actions: z.number().int() }).strict().optional(),
  })
  .strict();
export type FixtureSpec = z.infer<typeof Fixture>;
export const FixtureFile = z.object({ fixtures: z.array(Fixture).min(1) }).strict();

export type LoadedFixture = { readonly file: string; readonly fixture: FixtureSpec };

/** Parses fixture files; problems are located like rule problems. */
export const parseFixtureSources = (
  sources: readonly SourceFile[],
): { fixtures: LoadedFixture[]; problems: Problem[] } => {
  const fixtures: LoadedFixture[] = [];
  const problems: Problem[] = [];
  for (const source of sources) {
    const parsed = parseYamlSource(source);
    problems.push(...parsed.problems);
    if (parsed.value === undefined) continue;
    const result = FixtureFile.safeParse(parsed.value);
    if (!result.success) problems.push(...issuesToProblems(parsed, result.error.issues));
    else for (const fixture of result.data.fixtures) fixtures.push({ file: source.file, fixture });
  }
  return { fixtures, problems };
};

export type FixtureResult = {
  readonly file: string;
  readonly name: string;
  readonly passed: boolean;
  /** Readable failures, each with a diff (`-` expected, `+` actual). */
  readonly failures: readonly string[];
};

const timeOf = (start: number, spec: string): number => {
  const offset = parseDuration(spec);
  return offset === undefined ? Date.parse(spec) : start + offset;
};

/** Runs one fixture against compiled rules with a fake clock; pure. */
export const runFixture = (ruleSet: RuleSet, loaded: LoadedFixture): FixtureResult => {
  const { fixture, file } = loaded;
  const failures: string[] = [];
  const start = Date.parse(fixture.start);
  const idParts = (fixture.vehicle?.id ?? "automatic:C_fixture").split(":");
  const vehicle: Vehicle = {
    id: fixture.vehicle?.id ?? "automatic:C_fixture",
    provider: (PROVIDERS as readonly string[]).includes(idParts[0] ?? "")
      ? (idParts[0] as Vehicle["provider"])
      : "automatic",
    providerVehicleId: idParts.slice(1).join(":"),
    displayName: fixture.vehicle?.name ?? "Test Car",
    tags: fixture.vehicle?.tags ?? [],
    timeZone: fixture.vehicle?.time_zone ?? "UTC",
    contacts: [],
    createdAt: fixture.start,
  };
  let rules: readonly CompiledRule[] = rulesForVehicle(ruleSet, vehicle);
  if (fixture.rules !== undefined) {
    const missing = fixture.rules.filter((id) => !ruleSet.rules.some((r) => r.id === id));
    if (missing.length > 0)
      return { file, name: fixture.name, passed: false, failures: [`unknown rule(s): ${missing.join(", ")}`] };
    rules = rules.filter((r) => fixture.rules?.includes(r.id));
  }

  // The fake store: JSON in, JSON out, with conditional writes on version.
  const stored = new Map<string, string>();
  let snapshotJson = JSON.stringify(emptySnapshot(vehicle.id));
  const ledgerFirings = new Map<string, Firing>();
  const ledgerActions = new Map<string, Action>();
  const events = new Map<string, VehicleEvent>();
  const loadStates = () => {
    const states = new Map<string, RuleState>();
    for (const [id, json] of stored) states.set(id, JSON.parse(json) as RuleState);
    return states;
  };
  const writeStates = (states: readonly RuleState[], step: string) => {
    for (const s of states) {
      const prior = stored.get(s.ruleId);
      const priorVersion = prior === undefined ? 0 : (JSON.parse(prior) as RuleState).version;
      if (priorVersion !== s.version - 1) {
        failures.push(
          `${step}: conditional write of ${s.ruleId} rejected (stored version ${priorVersion}, new ${s.version})`,
        );
        continue;
      }
      stored.set(s.ruleId, JSON.stringify(s));
    }
  };
  const record = (firings: readonly Firing[], actions: readonly Action[]): Firing[] => {
    const fresh: Firing[] = [];
    for (const f of firings) {
      if (ledgerFirings.has(f.id)) continue;
      ledgerFirings.set(f.id, f);
      fresh.push(f);
    }
    for (const a of actions) if (!ledgerActions.has(a.id)) ledgerActions.set(a.id, a);
    return fresh;
  };

  fixture.steps.forEach((step, index) => {
    const label = `step ${index + 1} (${"tick" in step ? `tick ${step.tick}` : "redeliver" in step ? `redeliver ${step.redeliver}` : `at ${step.at}`})`;
    let fresh: Firing[] = [];
    let freshActions: Action[] = [];
    const snapshot = JSON.parse(snapshotJson) as VehicleSnapshot;
    if ("tick" in step) {
      const now = timeOf(start, step.tick);
      const states = loadStates();
      const firings: Firing[] = [];
      const actions: Action[] = [];
      const changed: RuleState[] = [];
      for (const rule of rules) {
        const state = states.get(rule.id);
        // Only what the due-timer index would return: dueAt ≤ now, or no state yet.
        if (state !== undefined && (state.dueAt === null || Date.parse(state.dueAt) > now)) continue;
        const out = tick(rule, state, vehicle, snapshot, now);
        firings.push(...out.firings);
        actions.push(...out.actions);
        if (out.changed) changed.push(out.state);
      }
      const before = new Set(ledgerActions.keys());
      fresh = record(firings, actions);
      freshActions = [...ledgerActions.values()].filter((a) => !before.has(a.id));
      writeStates(changed, label);
    } else {
      let event: VehicleEvent;
      let now: number;
      let crash: string | undefined;
      if ("redeliver" in step) {
        const prior = events.get(step.redeliver);
        if (prior === undefined) {
          failures.push(`${label}: no earlier event with id ${step.redeliver}`);
          return;
        }
        event = prior;
        now = timeOf(start, step.received);
        crash = step.crash;
      } else {
        const at = timeOf(start, step.at);
        const observedAt = iso(step.observed === undefined ? at : timeOf(start, step.observed));
        const candidate = {
          id: step.id ?? `e${index + 1}`,
          vehicleId: vehicle.id,
          type: step.event ?? "signals",
          occurredAt: iso(at),
          receivedAt: iso(step.received === undefined ? at : timeOf(start, step.received)),
          source: { provider: vehicle.provider },
          data: step.data ?? {},
          signals: Object.fromEntries(
            Object.entries(step.signals ?? {}).map(([name, value]) => [name, { value, observedAt }]),
          ),
        };
        const parsed = VehicleEvent.safeParse(candidate);
        if (!parsed.success) {
          failures.push(
            `${label}: invalid event: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
          );
          return;
        }
        event = parsed.data as VehicleEvent;
        events.set(event.id, event);
        now = step.received === undefined ? at : timeOf(start, step.received);
        crash = step.crash;
      }
      const change = applyEventToSnapshot(snapshot, event);
      const out = evaluateEvent(
        rules,
        loadStates(),
        {
          event: event as never,
          snapshotBefore: snapshot,
          snapshotAfter: change.snapshot,
          vehicle,
          changed: change.changed,
        },
        now,
      );
      if (crash !== "after_state_write") {
        const before = new Set(ledgerActions.keys());
        fresh = record(out.firings, out.actions);
        freshActions = [...ledgerActions.values()].filter((a) => !before.has(a.id));
      }
      if (crash !== "before_state_write") {
        writeStates(out.states, label);
        snapshotJson = JSON.stringify(change.snapshot);
      }
    }
    const expected = step.expect === undefined || step.expect === "none" ? [] : step.expect;
    const diff = compareFirings(expected, fresh, freshActions, start);
    if (diff !== undefined) failures.push(`${label}: firings differ\n${diff}`);
    if (step.due !== undefined) {
      const states = loadStates();
      for (const [ruleId, spec] of Object.entries(step.due)) {
        const want = spec === null ? null : iso(timeOf(start, spec));
        const got = states.get(ruleId)?.dueAt ?? null;
        if (want !== got) failures.push(`${label}: dueAt of ${ruleId}\n  - ${want}\n  + ${got}`);
      }
    }
  });
  if (fixture.totals !== undefined) {
    const got = { firings: ledgerFirings.size, actions: ledgerActions.size };
    if (got.firings !== fixture.totals.firings || got.actions !== fixture.totals.actions) {
      failures.push(`totals differ\n  - ${JSON.stringify(fixture.totals)}\n  + ${JSON.stringify(got)}`);
    }
  }
  return { file, name: fixture.name, passed: failures.length === 0, failures };
};

type Expected = z.infer<typeof ExpectedFiring>;

/** The actual firing in the expected firing's terms: only the fields the fixture gives. */
const project = (actual: Firing, actions: readonly Action[], expected: Expected | undefined) => {
  const out: Record<string, unknown> = { [actual.kind === "fired" ? "fired" : "resolved"]: actual.ruleId };
  const wants = (k: keyof Expected) => expected === undefined || k in expected;
  if (wants("episode")) out.episode = actual.episode;
  if (wants("status")) out.status = actual.status;
  if (wants("at")) out.at = actual.at;
  if (wants("cause")) out.cause = actual.cause;
  if (expected?.reasons !== undefined) {
    out.reasons = expected.reasons.every((r) => actual.explanation.reasons.some((a) => a.includes(r)))
      ? expected.reasons
      : actual.explanation.reasons;
  }
  if (wants("actions")) {
    const mine = actions.filter((a) => a.firingId === actual.id);
    out.actions = mine.map((a, i) => projectAction(a, expected?.actions?.[i]));
  }
  return out;
};

const projectAction = (a: Action, expected: Record<string, unknown> | undefined): Record<string, unknown> => {
  const full: Record<string, unknown> =
    a.type === "sms"
      ? { sms: a.to.map((r) => r.address), message: a.message }
      : a.type === "email"
        ? { email: a.to.map((r) => r.address), subject: a.subject, message: a.message }
        : a.type === "webhook"
          ? { webhook: a.url, message: a.body.message }
          : { command: a.command, params: a.params };
  if (expected === undefined) return full;
  return Object.fromEntries(Object.entries(full).filter(([k]) => k in expected));
};

const normalizeExpected = (e: Expected, start: number): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...e };
  if (e.at !== undefined) out.at = iso(timeOf(start, e.at));
  if (e.actions !== undefined) {
    out.actions = e.actions.map((a) => {
      const copy: Record<string, unknown> = { ...a };
      if ("sms" in a && typeof a.sms === "string") copy.sms = [a.sms];
      if ("email" in a && typeof a.email === "string") copy.email = [a.email];
      return copy;
    });
  }
  return out;
};

/** Undefined when equal; else a line diff of expected (-) and actual (+) firings. */
const compareFirings = (
  expected: readonly Expected[],
  actual: readonly Firing[],
  actions: readonly Action[],
  start: number,
): string | undefined => {
  const want = expected.map((e) => normalizeExpected(e, start));
  const got = actual.map((f, i) => project(f, actions, expected[i]));
  const a = stableJson(want);
  const b = stableJson(got);
  return a === b ? undefined : lineDiff(a, b);
};

const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (v !== null && typeof v === "object" && !Array.isArray(v) ? sortKeys(v) : v), 2);
const sortKeys = (o: object) => Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));

/** A minimal LCS line diff: `  ` same, `- ` expected only, `+ ` actual only. */
export const lineDiff = (expected: string, actual: string): string => {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max(lcs[i + 1]?.[j] ?? 0, lcs[i]?.[j + 1] ?? 0);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`    ${a[i]}`);
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      out.push(`  - ${a[i]}`);
      i++;
    } else {
      out.push(`  + ${b[j]}`);
      j++;
    }
  }
  return out.join("\n");
};
