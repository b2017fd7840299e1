import type { VehicleEvent } from "../model/event.ts";
import { instantMs } from "../model/instant.ts";
import type { SignalName } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { runCel } from "./cel.ts";
import { iso, localTime, nextCronRun } from "./clock.ts";
import type { CompiledAction, CompiledRule, CompiledTrigger } from "./compiler.ts";
import { celContextOf, type EvalContext, signalValue } from "./conditions.ts";
import { formatDuration } from "./duration.ts";
import { RuleContractError } from "./errors.ts";
import type {
  Action,
  Explanation,
  Firing,
  FiringStatus,
  OpenEpisode,
  RuleState,
  TriggerState,
  TriggerTrace,
} from "./state.ts";
import { renderTemplate } from "./templates.ts";

/** Everything one event brings to one rule: the event, the vehicle's snapshot around it, the vehicle. */
export type EvaluationInput = {
  readonly event: VehicleEvent;
  /** The snapshot before the event was applied. */
  readonly snapshotBefore: VehicleSnapshot;
  /** The snapshot after applyEventToSnapshot: stale samples left it unchanged. */
  readonly snapshotAfter: VehicleSnapshot;
  readonly vehicle: Vehicle;
  /** Signals the event changed (SnapshotChange.changed); computed from the snapshots when absent. */
  readonly changed?: readonly SignalName[];
  /**
   * Whether the event is newer than every event the snapshot had (its lastEventAt moved);
   * computed from the snapshots when absent. With this and `changed` given, snapshotBefore
   * is read only for a `for` timer that elapsed before the event, so a caller may build it lazily.
   */
  readonly dataArrived?: boolean;
};

export type Evaluation = (
  | {
      /** `state` must be written, conditionally on the stored version being `state.version − 1`. */
      readonly changed: true;
      readonly state: RuleState;
    }
  | {
      readonly changed: false;
      /** The state passed in, unchanged (undefined if none was passed: nothing to store yet). */
      readonly state: RuleState | undefined;
    }
) & {
  readonly firings: readonly Firing[];
  readonly actions: readonly Action[];
  /** The evaluation's explanation when it fired, or when the rule asks to explain everything. */
  readonly explanation: Explanation | null;
  /** The event was already absorbed: firings and actions are the ones it produced then (same ids). */
  readonly duplicate: boolean;
};

export type EvaluateOptions = {
  readonly explain?: boolean;
  /** The caller already found changesNothing() false for this event: evaluate() does not check again. */
  readonly notQuiet?: boolean;
};

const RECENT_EVENTS = 16;
const RECENT_FIRINGS = 4;

type Instant = number | string | Date;
const toMs = (t: Instant): number => (typeof t === "number" ? t : typeof t === "string" ? instantMs(t) : t.getTime());

/** Shared by every evaluation that produced nothing, so the hot path allocates no arrays. */
const NONE: readonly never[] = Object.freeze([]);

/** A rule that has not seen the vehicle and still has nothing to store: one shared, frozen outcome. */
const NOTHING_YET: Evaluation = Object.freeze({
  state: undefined,
  changed: false,
  firings: NONE,
  actions: NONE,
  explanation: null,
  duplicate: false,
});

/** The outcome of an evaluation that changed nothing (the common case). */
const unchanged = (state: RuleState | undefined, explanation: Explanation | null = null): Evaluation =>
  // Most rules never see most vehicles do anything: sharing their outcome spares an allocation per event.
  state === undefined && explanation === null
    ? NOTHING_YET
    : { state, changed: false, firings: NONE, actions: NONE, explanation, duplicate: false };

/** A rule applies to a vehicle when enabled and the vehicle is in its scope. */
export const ruleAppliesTo = (rule: CompiledRule, vehicle: Pick<Vehicle, "id" | "tags">): boolean => {
  if (!rule.enabled) return false;
  const { scope } = rule;
  if (scope.kind === "all") return true;
  if (scope.kind === "vehicles") return scope.ids.has(vehicle.id);
  return vehicle.tags.some((t) => scope.tags.has(t));
};

/**
 * The state of a rule for a vehicle it has never seen: armed (inactive), version 0.
 *
 * @example initialRuleState(rule, "automatic:C_1").open // null
 */
export const initialRuleState = (rule: CompiledRule, vehicleId: string): RuleState => ({
  ruleId: rule.id,
  vehicleId,
  fingerprint: rule.fingerprint,
  version: 0,
  triggers: [...rule.initialTriggers],
  episode: 0,
  open: null,
  cooldownUntil: null,
  recentEventIds: [],
  recentFirings: [],
  dueAt: null,
});

/** A state written for an older version of the rule keeps its episode count (ids stay unique) and open episode. */
const adopt = (rule: CompiledRule, state: RuleState | undefined, vehicleId: string): [RuleState, boolean] => {
  if (state === undefined) return [initialRuleState(rule, vehicleId), true];
  if (state.ruleId !== rule.id || state.vehicleId !== vehicleId) {
    throw new RuleContractError(
      `state of ${state.ruleId}/${state.vehicleId} passed to rule ${rule.id} for vehicle ${vehicleId}`,
    );
  }
  if (state.fingerprint === rule.fingerprint) return [state, false];
  return [{ ...state, fingerprint: rule.fingerprint, triggers: [...rule.initialTriggers] }, true];
};

/** Mutable working copy of a state during one evaluation. */
type Draft = {
  triggers: TriggerState[];
  episode: number;
  open: OpenEpisode | null;
  cooldownUntil: string | null;
  firings: Firing[];
  actions: Action[];
  notes: string[];
};

type Occurrence = { at: number; trigger: number; cause: Firing["cause"]; ctx: EvalContext };

/**
 * Evaluates one event for one rule and vehicle. Pure: same inputs, same outputs; `now`
 * is processing time (lateness is `now − event.occurredAt`), every other time is event time.
 *
 * @example
 * const { snapshot } = applyEventToSnapshot(before, event);
 * const r = evaluate(rule, state, { event, snapshotBefore: before, snapshotAfter: snapshot, vehicle }, now);
 * // r.changed → store r.state if version = r.state.version − 1; enqueue r.actions; store r.firings
 */
export const evaluate = (
  rule: CompiledRule,
  state: RuleState | undefined,
  input: EvaluationInput,
  now: Instant,
  options?: EvaluateOptions,
): Evaluation => {
  const { event, snapshotAfter, vehicle } = input;
  if (event.vehicleId !== vehicle.id) throw new RuleContractError(`event ${event.id} is not for vehicle ${vehicle.id}`);
  const changed = input.changed ?? changedSignals(input.snapshotBefore, snapshotAfter);
  const dataArrived = input.dataArrived ?? snapshotAfter.lastEventAt !== input.snapshotBefore.lastEventAt;
  const wantExplanation = rule.explainAll || options?.explain === true;
  // The hot path: most events change nothing for most rules, and allocate nothing here.
  if (
    !wantExplanation &&
    options?.notQuiet !== true &&
    changesNothing(rule, state, event, snapshotAfter, changed, dataArrived)
  ) {
    return unchanged(state);
  }

  const nowMs = toMs(now);
  const [base, created] = adopt(rule, state, vehicle.id);

  if (absorbed(base, event.id)) {
    const replay = base.recentFirings.filter((f) => f.firing.eventId === event.id);
    // A redelivery changes nothing stored: even when the rule changed since (a new fingerprint), the
    // adopted state waits for the next new event, whose write then carries the version forward.
    return {
      ...(state === undefined ? { state: base, changed: true as const } : { state, changed: false as const }),
      firings: replay.map((r) => r.firing),
      actions: replay.flatMap((r) => r.actions),
      explanation: null,
      duplicate: true,
    };
  }

  // A state is worth creating only once something happens to it (or to start a schedule).
  const mustStore = created && (state !== undefined || rule.hasSchedule);

  const eventMs = instantMs(event.occurredAt);
  const ctxAfter: EvalContext = { vehicle, snapshot: snapshotAfter, event, atMs: eventMs };
  if (!mustStore && !isRelevant(rule, base, event, changed, dataArrived, eventMs)) {
    return unchanged(
      state,
      wantExplanation
        ? explain(rule, blankDraft(base), ctxAfter, nowMs, event, "ignored", ["nothing this rule watches changed"])
        : null,
    );
  }

  const draft = blankDraft(base);
  const ctxBefore = (atMs: number): EvalContext => ({
    vehicle,
    snapshot: input.snapshotBefore,
    event: undefined,
    atMs,
  });
  const occurrences: Occurrence[] = [];
  let cleared = false;

  rule.triggers.forEach((trigger, i) => {
    const ts = draft.triggers[i] as TriggerState;
    switch (trigger.kind) {
      case "threshold":
      case "zone": {
        if (ts.kind !== "level") return;
        const signal: SignalName = trigger.kind === "threshold" ? trigger.signal : "location";
        const sampleMs = changed.includes(signal) ? sampleTime(snapshotAfter, signal) : eventMs;
        let next = ts;
        // A `for` that elapsed before this sample fired at its deadline: the condition held until then.
        if (ts.phase === "pending" && ts.deadline !== null && instantMs(ts.deadline) <= sampleMs) {
          const at = instantMs(ts.deadline);
          next = { ...ts, phase: "active" };
          occurrences.push({ at, trigger: i, cause: "timer", ctx: ctxBefore(at) });
        }
        if (changed.includes(signal)) {
          const { holds, clears } = levelTests(trigger, signalValue(snapshotAfter, signal));
          if (next.phase === "idle" && holds) {
            if (trigger.forMs === 0) {
              next = { kind: "level", phase: "active", since: iso(sampleMs), deadline: null };
              occurrences.push({
                at: sampleMs,
                trigger: i,
                cause: trigger.kind === "zone" ? "zone" : "signal",
                ctx: ctxAfter,
              });
            } else {
              next = { kind: "level", phase: "pending", since: iso(sampleMs), deadline: iso(sampleMs + trigger.forMs) };
            }
          } else if (next.phase === "pending" && !holds) {
            next = { kind: "level", phase: "idle", since: null, deadline: null };
          } else if (next.phase === "active" && clears) {
            next = { kind: "level", phase: "idle", since: null, deadline: null };
            cleared = true;
          }
        }
        draft.triggers[i] = next;
        return;
      }
      case "stale": {
        if (ts.kind !== "level" || !dataArrived || snapshotAfter.lastEventAt === undefined) return;
        const deadline = iso(instantMs(snapshotAfter.lastEventAt) + trigger.afterMs);
        if (ts.phase === "active") cleared = true;
        if (ts.phase !== "idle" || ts.deadline !== deadline) {
          draft.triggers[i] = { kind: "level", phase: "idle", since: null, deadline };
        }
        return;
      }
      case "transition": {
        if (ts.kind !== "transition" || !changed.includes("location")) return;
        const loc = signalValue(snapshotAfter, "location") as { lat: number; lon: number };
        const inside = trigger.zone.contains(loc.lat, loc.lon);
        if (inside === ts.inside) return;
        draft.triggers[i] = { kind: "transition", inside };
        // The first position only establishes the side; only an observed crossing fires.
        if (ts.inside !== null && inside === (trigger.on === "enter")) {
          occurrences.push({ at: sampleTime(snapshotAfter, "location"), trigger: i, cause: "zone", ctx: ctxAfter });
        }
        return;
      }
      case "event": {
        if (event.type !== trigger.eventType) return;
        if (trigger.where !== undefined && runCel(trigger.where, celContextOf(ctxAfter)) !== true) {
          draft.notes.push(`${event.type} did not match the filter`);
          return;
        }
        occurrences.push({ at: eventMs, trigger: i, cause: "event", ctx: ctxAfter });
        return;
      }
      case "schedule": {
        if (ts.kind === "schedule" && ts.nextAt === null)
          draft.triggers[i] = scheduleNext(trigger.cron, vehicle.timeZone, nowMs);
        return;
      }
    }
  });

  occurrences.sort((a, b) => a.at - b.at);
  // Timers that elapsed before this sample come first, in the world as it was then.
  for (const o of occurrences) if (o.ctx !== ctxAfter) decide(rule, draft, o, nowMs, event);
  // Then the sample itself: resolve what cleared, then fire what holds now.
  if (cleared || (draft.open !== null && !anyLevelActive(draft))) resolve(rule, draft, eventMs, nowMs, ctxAfter, event);
  const own = occurrences.filter((o) => o.ctx === ctxAfter);
  for (const o of own) decide(rule, draft, o, nowMs, event);
  if (own.length === 0 && draft.open === null && changed.length > 0 && anyLevelActive(draft)) {
    // An active trigger whose conditions did not hold: they may hold now (e.g. the car was unplugged).
    const i = draft.triggers.findIndex((t) => t.kind === "level" && t.phase === "active");
    decide(rule, draft, { at: eventMs, trigger: i, cause: "signal", ctx: ctxAfter }, nowMs, event);
  }

  if (!mustStore && draft.firings.length === 0 && !stateMoved(base, draft)) {
    return unchanged(
      state,
      wantExplanation ? explain(rule, draft, ctxAfter, nowMs, event, outcomeOf(draft), []) : null,
    );
  }
  const next = finish(rule, base, draft, event.id);
  const explanation =
    draft.firings.length > 0
      ? (draft.firings[draft.firings.length - 1]?.explanation ?? null)
      : wantExplanation
        ? explain(rule, draft, ctxAfter, nowMs, event, outcomeOf(draft), [])
        : null;
  return { state: next, changed: true, firings: draft.firings, actions: draft.actions, explanation, duplicate: false };
};

/**
 * True when evaluate() would certainly return `state` unchanged with no firing, action or
 * explanation: nothing the rule watches moved, and the event is not a redelivery whose
 * firings must be replayed. The hot path of every caller; allocates nothing.
 * (A redelivered event that fired nothing and changes nothing is simply quiet again.)
 *
 * @example changesNothing(speeding, state, event, snapshotAfter, ["soc_pct"], true) // true
 */
export const changesNothing = (
  rule: CompiledRule,
  state: RuleState | undefined,
  event: VehicleEvent,
  snapshotAfter: VehicleSnapshot,
  changed: readonly SignalName[],
  dataArrived: boolean,
): boolean =>
  state === undefined
    ? !rule.hasSchedule && isQuiet(rule, rule.initialTriggers, null, event, snapshotAfter, changed, dataArrived)
    : state.fingerprint === rule.fingerprint &&
      !firedOn(state, event.id) &&
      isQuiet(rule, state.triggers, state.open, event, snapshotAfter, changed, dataArrived);

/** Whether the state remembers firings of this event (at most RECENT_FIRINGS, usually none). */
const firedOn = (state: RuleState, eventId: string): boolean => {
  const recent = state.recentFirings;
  for (let i = 0; i < recent.length; i++)
    if ((recent[i] as RuleState["recentFirings"][number]).firing.eventId === eventId) return true;
  return false;
};

/** Whether the state already absorbed this event (a redelivery); newest ids last, so scan backwards. */
const absorbed = (state: RuleState, eventId: string): boolean => {
  const ids = state.recentEventIds;
  for (let i = ids.length - 1; i >= 0; i--) if (ids[i] === eventId) return true;
  return false;
};

const blankDraft = (base: RuleState): Draft => ({
  triggers: base.triggers.slice(),
  episode: base.episode,
  open: base.open,
  cooldownUntil: base.cooldownUntil,
  firings: [],
  actions: [],
  notes: [],
});

const stateMoved = (base: RuleState, draft: Draft): boolean =>
  draft.episode !== base.episode ||
  draft.open !== base.open ||
  draft.cooldownUntil !== base.cooldownUntil ||
  draft.triggers.some((t, i) => t !== base.triggers[i]);

/**
 * The hot path: true when this event certainly changes nothing for this rule (no trigger
 * moves, no condition can newly fire an active trigger). Allocates nothing.
 */
const isQuiet = (
  rule: CompiledRule,
  triggerStates: readonly TriggerState[],
  open: OpenEpisode | null,
  event: VehicleEvent,
  after: VehicleSnapshot,
  changed: readonly SignalName[],
  dataArrived: boolean,
): boolean => {
  const triggers = rule.triggers;
  let active = false;
  for (let i = 0; i < triggers.length; i++) {
    const trigger = triggers[i] as CompiledTrigger;
    const ts = triggerStates[i] as TriggerState;
    switch (trigger.kind) {
      case "threshold":
      case "zone": {
        if (ts.kind !== "level") return false;
        if (ts.phase === "pending") return false;
        const signal = trigger.kind === "threshold" ? trigger.signal : "location";
        if (!changed.includes(signal)) {
          if (ts.phase === "active") active = true;
          continue;
        }
        if (ts.phase === "idle") {
          if (trigger.holdsOn(after)) return false;
        } else {
          if (trigger.clearsOn(after)) return false;
          active = true;
        }
        continue;
      }
      case "event":
        if (event.type === trigger.eventType) return false;
        continue;
      case "stale":
        if (dataArrived) return false;
        continue;
      case "transition": {
        if (ts.kind !== "transition" || !changed.includes("location")) continue;
        const loc = after.signals.location?.value;
        if (loc === undefined || trigger.zone.contains(loc.lat, loc.lon) !== ts.inside) return false;
        continue;
      }
      case "schedule":
        if (ts.kind !== "schedule" || ts.nextAt === null) return false;
        continue;
    }
  }
  // An active trigger without an open episode fires as soon as its conditions hold.
  if (active && open === null && changed.length > 0) return false;
  return true;
};

/** Cheap pre-check: can this event change anything for this rule? */
const isRelevant = (
  rule: CompiledRule,
  base: RuleState,
  event: VehicleEvent,
  changed: readonly SignalName[],
  dataArrived: boolean,
  eventMs: number,
): boolean => {
  if (rule.signals === "all") {
    if (changed.length > 0) return true;
  } else {
    for (const s of changed) if (rule.signals.has(s)) return true;
  }
  for (const t of rule.triggers) {
    if (t.kind === "event" && t.eventType === event.type) return true;
    if (t.kind === "stale" && dataArrived) return true;
  }
  for (const ts of base.triggers) {
    if (ts.kind === "level" && ts.phase === "pending" && ts.deadline !== null && instantMs(ts.deadline) <= eventMs)
      return true;
    if (ts.kind === "schedule" && ts.nextAt === null) return true;
  }
  return false;
};

/**
 * Fires what no event will: `for` deadlines that elapsed, vehicles gone silent, cron
 * schedules. Call it for states whose `dueAt` ≤ now (and for in-scope rules with no
 * state yet, to start their schedules). Pure; `now` is the tick's processing time.
 *
 * @example tick(rule, state, vehicle, snapshot, "2024-05-01T08:01:00Z").firings
 */
export const tick = (
  rule: CompiledRule,
  state: RuleState | undefined,
  vehicle: Vehicle,
  snapshot: VehicleSnapshot,
  now: Instant,
): Evaluation => {
  if (state === undefined && !rule.hasSchedule) return unchanged(state);
  const nowMs = toMs(now);
  const [base, created] = adopt(rule, state, vehicle.id);
  const draft = blankDraft(base);
  let touched = created && (state !== undefined || rule.hasSchedule);
  const occurrences: Occurrence[] = [];
  const ctxAt = (atMs: number): EvalContext => ({ vehicle, snapshot, event: undefined, atMs });
  rule.triggers.forEach((trigger, i) => {
    const ts = draft.triggers[i] as TriggerState;
    if (ts.kind === "level" && ts.deadline !== null && instantMs(ts.deadline) <= nowMs) {
      const at = instantMs(ts.deadline);
      if (trigger.kind === "stale" && ts.phase === "idle") {
        draft.triggers[i] = { kind: "level", phase: "active", since: ts.deadline, deadline: ts.deadline };
        occurrences.push({ at, trigger: i, cause: "staleness", ctx: ctxAt(at) });
        touched = true;
      } else if (ts.phase === "pending") {
        draft.triggers[i] = { ...ts, phase: "active" };
        occurrences.push({ at, trigger: i, cause: "timer", ctx: ctxAt(at) });
        touched = true;
      }
    }
    if (trigger.kind === "schedule" && ts.kind === "schedule") {
      if (ts.nextAt === null) {
        draft.triggers[i] = scheduleNext(trigger.cron, vehicle.timeZone, nowMs);
        touched = true;
      } else if (instantMs(ts.nextAt) <= nowMs) {
        const at = instantMs(ts.nextAt);
        draft.triggers[i] = scheduleNext(trigger.cron, vehicle.timeZone, nowMs);
        occurrences.push({ at, trigger: i, cause: "schedule", ctx: ctxAt(at) });
        touched = true;
      }
    }
  });
  if (!touched) return unchanged(state);
  occurrences.sort((a, b) => a.at - b.at);
  for (const o of occurrences) decide(rule, draft, o, nowMs, undefined);
  const next = finish(rule, base, draft, null);
  const explanation = draft.firings[draft.firings.length - 1]?.explanation ?? null;
  return { state: next, changed: true, firings: draft.firings, actions: draft.actions, explanation, duplicate: false };
};

const scheduleNext = (cron: string, timeZone: string, afterMs: number): TriggerState => {
  const next = nextCronRun(cron, timeZone, afterMs);
  return { kind: "schedule", nextAt: next === undefined ? null : iso(next) };
};

const levelTests = (trigger: CompiledTrigger, value: unknown): { holds: boolean; clears: boolean } => {
  if (trigger.kind === "threshold") return { holds: trigger.holds(value), clears: trigger.clears(value) };
  if (trigger.kind === "zone") {
    const loc = value as { lat: number; lon: number } | undefined;
    if (loc === undefined) return { holds: false, clears: false };
    const holds = trigger.zone.contains(loc.lat, loc.lon) === (trigger.want === "inside");
    return { holds, clears: !holds };
  }
  return { holds: false, clears: false };
};

const anyLevelActive = (draft: Draft): boolean =>
  draft.triggers.some((t) => t.kind === "level" && t.phase === "active");

const sampleTime = (snapshot: VehicleSnapshot, signal: SignalName): number =>
  instantMs((snapshot.signals[signal] as { observedAt: string }).observedAt);

/** Signals whose held sample differs between two snapshots (what an event actually changed). */
const changedSignals = (before: VehicleSnapshot, after: VehicleSnapshot): SignalName[] => {
  const out: SignalName[] = [];
  if (before === after) return out;
  for (const name of Object.keys(after.signals) as SignalName[]) {
    const a = after.signals[name] as { observedAt: string } | undefined;
    const b = before.signals[name] as { observedAt: string } | undefined;
    if (a === b) continue;
    if (
      b === undefined ||
      a?.observedAt !== b.observedAt ||
      after.sourceEventIds[name] !== before.sourceEventIds[name]
    ) {
      out.push(name);
    }
  }
  return out;
};

const isLevel = (trigger: CompiledTrigger | undefined) =>
  trigger !== undefined && (trigger.kind === "threshold" || trigger.kind === "zone" || trigger.kind === "stale");

/** A trigger occurred at `o.at`: fire if the rule is armed and its conditions hold. */
const decide = (rule: CompiledRule, draft: Draft, o: Occurrence, nowMs: number, event: VehicleEvent | undefined) => {
  const trigger = rule.triggers[o.trigger];
  if (draft.open !== null) {
    draft.notes.push(`episode ${draft.open.episode} is still open (since ${draft.open.openedAt})`);
    return;
  }
  const verdict = rule.conditions.test(o.ctx);
  if (verdict !== true) {
    draft.notes.push(verdict === "unknown" ? "conditions unknown (a signal is missing)" : "conditions did not hold");
    return;
  }
  const episode = draft.episode + 1;
  const firingId = `${rule.id}/${o.ctx.vehicle.id}/${episode}/fire`;
  const lateBy = nowMs - o.at;
  const reasons: string[] = [];
  let status: FiringStatus = "actioned";
  if (rule.dryRun) {
    status = "dry_run";
    reasons.push("dry run: actions are never performed");
  } else if (lateBy > rule.maxEventDelayMs) {
    status = "late";
    reasons.push(
      `late: ${formatDuration(lateBy)} after the fact, more than max_event_delay ${formatDuration(rule.maxEventDelayMs)}`,
    );
  } else if (draft.cooldownUntil !== null && o.at < instantMs(draft.cooldownUntil)) {
    status = "cooldown";
    reasons.push(`cooldown until ${draft.cooldownUntil}`);
  }
  draft.episode = episode;
  if (isLevel(trigger)) draft.open = { episode, firingId, openedAt: iso(o.at), actioned: status === "actioned" };
  if (status === "actioned" && rule.cooldownMs > 0) draft.cooldownUntil = iso(o.at + rule.cooldownMs);
  const actions =
    status === "actioned" ? planActions(rule, rule.actions, "fire", firingId, episode, o, event, reasons) : [];
  const explanation = explain(rule, draft, o.ctx, nowMs, event, "fired", reasons, {
    trigger: o.trigger,
    atMs: o.at,
    actioned: status === "actioned",
  });
  draft.firings.push({
    id: firingId,
    ruleId: rule.id,
    vehicleId: o.ctx.vehicle.id,
    episode,
    kind: "fired",
    at: iso(o.at),
    evaluatedAt: iso(nowMs),
    eventId: event?.id ?? null,
    cause: o.cause,
    status,
    actionIds: actions.map((a) => a.id),
    explanation,
  });
  draft.actions.push(...actions);
};

/** The open episode's condition cleared: close it, with on_resolve actions if it was actioned. */
const resolve = (
  rule: CompiledRule,
  draft: Draft,
  atMs: number,
  nowMs: number,
  ctx: EvalContext,
  event: VehicleEvent | undefined,
) => {
  const open = draft.open;
  if (open === null || anyLevelActive(draft)) return;
  draft.open = null;
  const firingId = `${rule.id}/${ctx.vehicle.id}/${open.episode}/resolve`;
  const reasons: string[] = [];
  let status: FiringStatus = "actioned";
  if (rule.dryRun) {
    status = "dry_run";
    reasons.push("dry run: actions are never performed");
  } else if (nowMs - atMs > rule.maxEventDelayMs) {
    status = "late";
    reasons.push(
      `late: ${formatDuration(nowMs - atMs)} after the fact, more than max_event_delay ${formatDuration(rule.maxEventDelayMs)}`,
    );
  } else if (!open.actioned) {
    status = "not_actioned_episode";
    reasons.push(`episode ${open.episode} was not actioned when it opened`);
  }
  const o: Occurrence = { at: atMs, trigger: -1, cause: event === undefined ? "timer" : "signal", ctx };
  const actions =
    status === "actioned"
      ? planActions(rule, rule.onResolve, "resolve", firingId, open.episode, o, event, reasons)
      : [];
  const explanation = explain(rule, draft, ctx, nowMs, event, "resolved", reasons, {
    trigger: -1,
    atMs,
    actioned: status === "actioned",
  });
  draft.firings.push({
    id: firingId,
    ruleId: rule.id,
    vehicleId: ctx.vehicle.id,
    episode: open.episode,
    kind: "resolved",
    at: iso(atMs),
    evaluatedAt: iso(nowMs),
    eventId: event?.id ?? null,
    cause: o.cause,
    status,
    actionIds: actions.map((a) => a.id),
    explanation,
  });
  draft.actions.push(...actions);
};

const STATIONARY_COMMANDS = new Set(["unlock", "open_trunk", "open_frunk"]);
const READ_BACK_COMMANDS = new Set(["lock", "unlock", "set_charge_limit", "start_charge", "stop_charge"]);

const planActions = (
  rule: CompiledRule,
  specs: readonly CompiledAction[],
  phase: "fire" | "resolve",
  firingId: string,
  episode: number,
  o: Occurrence,
  event: VehicleEvent | undefined,
  reasons: string[],
): Action[] => {
  if (specs.length === 0) return [];
  const { vehicle, snapshot } = o.ctx;
  const at = iso(o.at);
  const view = templateView(rule, o, episode, phase, event);
  const out: Action[] = [];
  specs.forEach((spec, index) => {
    const base = {
      id: `${firingId}/${index}`,
      firingId,
      ruleId: rule.id,
      vehicleId: vehicle.id,
      episode,
      phase,
      index,
      at,
    };
    switch (spec.type) {
      case "sms":
        out.push({ ...base, type: "sms", to: [...spec.to], message: renderTemplate(spec.message, view) });
        return;
      case "email":
        out.push({
          ...base,
          type: "email",
          to: [...spec.to],
          subject: renderTemplate(spec.subject, view),
          message: renderTemplate(spec.message, view),
        });
        return;
      case "webhook":
        out.push({
          ...base,
          type: "webhook",
          url: spec.url,
          body: {
            rule: rule.id,
            vehicle: vehicle.id,
            episode,
            phase,
            at,
            eventId: event?.id ?? null,
            message: spec.message === undefined ? null : renderTemplate(spec.message, view),
          },
        });
        return;
      case "command": {
        const stationary = STATIONARY_COMMANDS.has(spec.command);
        const speed = signalValue(snapshot, "speed_kph");
        if (stationary && typeof speed === "number" && speed > 0) {
          reasons.push(`${spec.command} skipped: never while moving (speed_kph ${speed})`);
          return;
        }
        out.push({
          ...base,
          type: "command",
          command: spec.command,
          params: { ...spec.params },
          preconditions: { stationary },
          readBack: READ_BACK_COMMANDS.has(spec.command),
        });
        return;
      }
    }
  });
  return out;
};

const templateView = (
  rule: CompiledRule,
  o: Occurrence,
  episode: number,
  phase: "fire" | "resolve",
  event: VehicleEvent | undefined,
) => {
  const { vehicle, snapshot } = o.ctx;
  const values: Record<string, unknown> = {};
  for (const [name, sample] of Object.entries(snapshot.signals)) values[name] = (sample as { value: unknown }).value;
  const trigger = rule.triggers[o.trigger];
  return {
    vehicle: { id: vehicle.id, name: vehicle.displayName, tags: vehicle.tags, time_zone: vehicle.timeZone },
    event:
      event === undefined ? {} : { id: event.id, type: event.type, occurred_at: event.occurredAt, data: event.data },
    snapshot: values,
    rule: { id: rule.id, name: rule.name },
    firing: { episode, phase, at: iso(o.at), local_time: localTime(o.at, vehicle.timeZone).hhmm },
    trigger: { description: trigger?.description ?? "" },
  };
};

const finish = (rule: CompiledRule, base: RuleState, draft: Draft, eventId: string | null): RuleState => {
  let dueMs = Number.POSITIVE_INFINITY;
  for (const ts of draft.triggers) {
    if (ts.kind === "level" && ts.deadline !== null && ts.phase !== "active")
      dueMs = Math.min(dueMs, instantMs(ts.deadline));
    if (ts.kind === "schedule" && ts.nextAt !== null) dueMs = Math.min(dueMs, instantMs(ts.nextAt));
  }
  let recentEventIds = base.recentEventIds;
  let recentFirings = base.recentFirings;
  if (eventId !== null) {
    recentEventIds = [...base.recentEventIds.slice(-(RECENT_EVENTS - 1)), eventId];
    if (draft.firings.length > 0) {
      const byFiring = draft.firings.map((firing) => ({
        firing,
        actions: draft.actions.filter((a) => a.firingId === firing.id),
      }));
      recentFirings = [...base.recentFirings, ...byFiring].slice(-RECENT_FIRINGS);
    }
    recentFirings = recentFirings.filter((r) => r.firing.eventId !== null && recentEventIds.includes(r.firing.eventId));
  }
  return {
    ruleId: rule.id,
    vehicleId: base.vehicleId,
    fingerprint: rule.fingerprint,
    version: base.version + 1,
    triggers: draft.triggers,
    episode: draft.episode,
    open: draft.open,
    cooldownUntil: draft.cooldownUntil,
    recentEventIds,
    recentFirings,
    dueAt: Number.isFinite(dueMs) ? iso(dueMs) : null,
  };
};

const outcomeOf = (draft: Draft): Explanation["outcome"] => {
  if (draft.triggers.some((t) => t.kind === "level" && t.phase === "pending")) return "pending";
  if (draft.open !== null || anyLevelActive(draft)) return "active";
  return "armed";
};

const traceTriggers = (rule: CompiledRule, draft: Draft, ctx: EvalContext, firedIndex: number): TriggerTrace[] =>
  rule.triggers.map((trigger, i) => {
    const ts = draft.triggers[i] as TriggerState;
    const trace: TriggerTrace = { trigger: trigger.description };
    if (trigger.kind === "threshold") {
      const sample = ctx.snapshot.signals[trigger.signal] as { value: unknown; observedAt: string } | undefined;
      trace.value = sample?.value ?? null;
      if (sample !== undefined) trace.observedAt = sample.observedAt;
      trace.threshold = trigger.threshold;
      if (trigger.rearm !== undefined) trace.rearm = trigger.rearm;
    }
    if (trigger.kind === "zone" || trigger.kind === "transition") {
      const loc = signalValue(ctx.snapshot, "location") as { lat: number; lon: number } | undefined;
      trace.inside = loc === undefined ? null : trigger.zone.contains(loc.lat, loc.lon);
    }
    if (ts.kind === "level") {
      trace.phase = ts.phase;
      if (ts.since !== null) trace.since = ts.since;
      if (ts.deadline !== null) trace.deadline = ts.deadline;
    }
    if (ts.kind === "schedule" && ts.nextAt !== null) trace.nextAt = ts.nextAt;
    if (i === firedIndex) trace.fired = true;
    return trace;
  });

const explain = (
  rule: CompiledRule,
  draft: Draft,
  ctx: EvalContext,
  nowMs: number,
  event: VehicleEvent | undefined,
  outcome: Explanation["outcome"],
  reasons: string[],
  decision?: { trigger: number; atMs: number; actioned: boolean },
): Explanation => {
  const triggers = traceTriggers(rule, draft, ctx, decision?.trigger ?? -1);
  const conditions = rule.spec.conditions === undefined ? null : rule.conditions.trace(ctx);
  const actioned = decision?.actioned ?? false;
  const allReasons = decision === undefined ? [...reasons, ...draft.notes] : reasons;
  const fired = decision === undefined ? undefined : rule.triggers[decision.trigger]?.description;
  const because = allReasons.length > 0 ? `: ${allReasons.join("; ")}` : "";
  const summary =
    outcome === "fired"
      ? `${rule.name} fired on ${fired ?? "trigger"}${actioned ? "" : ` but was not actioned${because}`}`
      : outcome === "resolved"
        ? `${rule.name} resolved${actioned ? "" : `, not actioned${because}`}`
        : `${rule.name} ${outcome}${because}`;
  return {
    ruleId: rule.id,
    vehicleId: ctx.vehicle.id,
    at: iso(decision?.atMs ?? ctx.atMs),
    evaluatedAt: iso(nowMs),
    eventId: event?.id ?? null,
    eventType: event?.type ?? null,
    outcome,
    summary,
    triggers,
    conditions,
    actioned,
    reasons: allReasons,
  };
};

/**
 * Whether a rule's condition holds right now on a snapshot, ignoring state, timers,
 * `for`, cooldown and events: a level trigger (threshold or zone) holds and so do the
 * conditions. What a stateless engine computes; used by benchmarks and `explain` tools.
 *
 * @example holdsNow(lowCharge, { vehicle, snapshot, event: undefined, atMs: Date.now() }) // true
 */
export const holdsNow = (rule: CompiledRule, ctx: EvalContext): boolean => rule.holdsNow(ctx);
