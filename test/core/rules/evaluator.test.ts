import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CompiledRule,
  evaluate,
  evaluateEvent,
  initialRuleState,
  type RuleState,
  rulesForVehicle,
  tick,
  tickVehicle,
} from "#core/rules/index.ts";
import { at, deepFreeze, empty, exampleRules, rulesFrom, signalsEvent, step, vehicle } from "./helpers.ts";

const ruleOf = (id: string): CompiledRule => {
  const rule = exampleRules().rules.find((r) => r.id === id);
  if (rule === undefined) throw new Error(`no rule ${id}`);
  return rule;
};

describe("evaluate and tick", () => {
  it("starts a for-duration on the first sample over the threshold and fires it from tick at the deadline", () => {
    const speeding = ruleOf("speeding");
    const first = step(empty(), signalsEvent(0, { speed_kph: 125 }, "e1"));
    const pending = evaluate(speeding, undefined, first.input, at(1));
    const pendingState: RuleState = {
      ruleId: "speeding",
      vehicleId: "automatic:C_test",
      fingerprint: speeding.fingerprint,
      version: 1,
      triggers: [{ kind: "level", phase: "pending", since: at(0), deadline: at(10) }],
      episode: 0,
      open: null,
      cooldownUntil: null,
      recentEventIds: ["e1"],
      recentFirings: [],
      dueAt: at(10),
    };
    expect(pending).toStrictEqual({
      state: pendingState,
      changed: true,
      firings: [],
      actions: [],
      explanation: null,
      duplicate: false,
    });

    expect(tick(speeding, pending.state, vehicle, first.snapshot, at(9))).toStrictEqual({
      state: pendingState,
      changed: false,
      firings: [],
      actions: [],
      explanation: null,
      duplicate: false,
    });

    const fired = tick(speeding, pending.state, vehicle, first.snapshot, at(70));
    const explanation = {
      ruleId: "speeding",
      vehicleId: "automatic:C_test",
      at: at(10),
      evaluatedAt: at(70),
      eventId: null,
      eventType: null,
      outcome: "fired",
      summary: "Speeding fired on speed_kph above 120 for 10s, re-arms below 110",
      triggers: [
        {
          trigger: "speed_kph above 120 for 10s, re-arms below 110",
          value: 125,
          observedAt: at(0),
          threshold: 120,
          rearm: 110,
          phase: "active",
          since: at(0),
          deadline: at(10),
          fired: true,
        },
      ],
      conditions: null,
      actioned: true,
      reasons: [],
    };
    expect(fired).toStrictEqual({
      state: {
        ...pendingState,
        version: 2,
        triggers: [{ kind: "level", phase: "active", since: at(0), deadline: at(10) }],
        episode: 1,
        open: { episode: 1, firingId: "speeding/automatic:C_test/1/fire", openedAt: at(10), actioned: true },
        dueAt: null,
      },
      changed: true,
      firings: [
        {
          id: "speeding/automatic:C_test/1/fire",
          ruleId: "speeding",
          vehicleId: "automatic:C_test",
          episode: 1,
          kind: "fired",
          at: at(10),
          evaluatedAt: at(70),
          eventId: null,
          cause: "timer",
          status: "actioned",
          actionIds: ["speeding/automatic:C_test/1/fire/0"],
          explanation,
        },
      ],
      actions: [
        {
          id: "speeding/automatic:C_test/1/fire/0",
          firingId: "speeding/automatic:C_test/1/fire",
          ruleId: "speeding",
          vehicleId: "automatic:C_test",
          episode: 1,
          phase: "fire",
          index: 0,
          at: at(10),
          type: "sms",
          to: [{ name: "Alex (owner)", address: "+15555550100" }],
          message: "Blue Leaf has been above 120 km/h for 10 s (now 125 km/h).",
        },
      ],
      explanation,
      duplicate: false,
    });
  });

  it("never mutates the rule, the state or the inputs", () => {
    const speeding = ruleOf("speeding");
    const first = step(empty(), signalsEvent(0, { speed_kph: 125 }, "e1"));
    const state = deepFreeze(evaluate(speeding, undefined, first.input, at(0)).state);
    const second = step(first.snapshot, signalsEvent(12, { speed_kph: 100 }, "e2"));
    const input = deepFreeze(second.input);
    const a = evaluate(speeding, state, input, at(12));
    const b = evaluate(speeding, state, input, at(12));
    expect(a).toStrictEqual(b);
    expect(a.firings.map((f) => `${f.kind} ${f.at}`)).toStrictEqual([`fired ${at(10)}`, `resolved ${at(12)}`]);
  });

  it("returns the same firings and actions for a redelivered event, and no state change", () => {
    const checkEngine = ruleOf("check-engine");
    const event = { ...signalsEvent(0, {}, "mil-1"), type: "mil.on" as const, data: { dtcs: [{ code: "P0300" }] } };
    const first = step(empty(), event);
    const once = evaluate(checkEngine, undefined, first.input, at(0));
    const again = evaluate(checkEngine, once.state, step(first.snapshot, event).input, at(30));
    expect(once.firings).toHaveLength(1);
    expect(again).toStrictEqual({
      state: once.state,
      changed: false,
      firings: once.firings,
      actions: once.actions,
      explanation: null,
      duplicate: true,
    });
  });

  it("leaves the state untouched (same object) for a sample older than the snapshot's", () => {
    const speeding = ruleOf("speeding");
    const first = step(empty(), signalsEvent(10, { speed_kph: 125 }));
    const state = evaluate(speeding, undefined, first.input, at(10)).state;
    const old = signalsEvent(12, { speed_kph: 50 });
    const stale = { ...old, signals: { speed_kph: { value: 50, observedAt: at(5) } } };
    const result = evaluate(speeding, state, step(first.snapshot, stale).input, at(12));
    expect(result.state).toBe(state);
    expect(result.changed).toBe(false);
  });

  it("keeps the episode count but resets trigger state when the rule changes", () => {
    const [v1] = rulesFrom(
      "rules:\n  - id: r\n    triggers: [{ signal: soc_pct, below: 20 }]\n    actions: []\n",
    ).rules;
    const [v2] = rulesFrom(
      "rules:\n  - id: r\n    triggers: [{ signal: soc_pct, below: 30 }]\n    actions: []\n",
    ).rules;
    if (v1 === undefined || v2 === undefined) throw new Error("rules missing");
    const first = step(empty(), signalsEvent(0, { soc_pct: 10 }));
    const s1 = evaluate(v1, undefined, first.input, at(0)).state;
    const next = step(first.snapshot, signalsEvent(60, { soc_pct: 25 }));
    const after = evaluate(v2, s1, next.input, at(60));
    expect(after.state?.fingerprint).toBe(v2.fingerprint);
    expect(after.state?.episode).toBe(1);
    expect(after.firings.map((f) => `${f.kind} ${f.episode}`)).toStrictEqual([]);
    expect(after.state?.open?.episode).toBe(1);
  });

  it("explains an evaluation that did not fire when asked", () => {
    const lowCharge = ruleOf("low-charge");
    const first = step(empty(), signalsEvent(0, { soc_pct: 15, is_plugged_in: true }));
    const result = evaluate(lowCharge, undefined, first.input, at(0), { explain: true });
    expect(result.firings).toStrictEqual([]);
    expect(result.explanation?.outcome).toBe("active");
    expect(result.explanation?.reasons).toStrictEqual(["conditions did not hold"]);
    expect(result.explanation?.conditions).toStrictEqual({
      condition: "all",
      result: false,
      children: [{ condition: "is_plugged_in is false", result: false, value: true }],
    });
  });

  it("starts a new vehicle's state inactive", () => {
    const speeding = ruleOf("speeding");
    expect(initialRuleState(speeding, vehicle.id)).toStrictEqual({
      ruleId: "speeding",
      vehicleId: vehicle.id,
      fingerprint: speeding.fingerprint,
      version: 0,
      triggers: [{ kind: "level", phase: "idle", since: null, deadline: null }],
      episode: 0,
      open: null,
      cooldownUntil: null,
      recentEventIds: [],
      recentFirings: [],
      dueAt: null,
    });
  });
});

describe("evaluateEvent and tickVehicle", () => {
  it("return only the states to write, and the firings of every rule of the vehicle", () => {
    const rules = rulesForVehicle(exampleRules(), vehicle);
    expect(rules.map((r) => r.id)).toStrictEqual(["speeding", "low-charge", "check-engine", "geofence-exit"]);
    const first = step(empty(), signalsEvent(0, { speed_kph: 130, soc_pct: 80 }, "x1"));
    const out = evaluateEvent(rules, new Map(), first.input, at(0));
    expect(out.states.map((s) => `${s.ruleId} v${s.version} due ${s.dueAt}`)).toStrictEqual([
      `speeding v1 due ${at(10)}`,
    ]);
    expect(out.firings).toStrictEqual([]);
    const states = new Map(out.states.map((s) => [s.ruleId, s]));
    const ticked = tickVehicle(rules, states, vehicle, first.snapshot, at(60));
    expect(ticked.firings.map((f) => f.id)).toStrictEqual(["speeding/automatic:C_test/1/fire"]);
    expect(ticked.actions.map((a) => a.id)).toStrictEqual(["speeding/automatic:C_test/1/fire/0"]);
    expect(ticked.states.map((s) => `${s.ruleId} v${s.version} due ${s.dueAt}`)).toStrictEqual([
      "speeding v2 due null",
    ]);
  });
});

describe("hysteresis (property)", () => {
  const [rule] = rulesFrom(
    "rules:\n  - id: band\n    triggers: [{ signal: soc_pct, below: 20, rearm_above: 25 }]\n    actions: []\n",
  ).rules;

  it("fires exactly on entries below 20 from an armed state and resolves only above 25", () => {
    if (rule === undefined) throw new Error("rule missing");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }), (values) => {
        let snapshot = empty();
        let state: RuleState | undefined;
        const got: string[] = [];
        values.forEach((v, i) => {
          const s = step(snapshot, signalsEvent(i, { soc_pct: v }, `p${i}`));
          const r = evaluate(rule, state, s.input, at(i));
          if (r.changed) state = r.state;
          snapshot = s.snapshot;
          for (const f of r.firings) got.push(`${f.kind}@${i}`);
        });
        // Reference model: armed → fires below 20; active → resolves above 25.
        const want: string[] = [];
        let active = false;
        values.forEach((v, i) => {
          if (!active && v < 20) {
            active = true;
            want.push(`fired@${i}`);
          } else if (active && v > 25) {
            active = false;
            want.push(`resolved@${i}`);
          }
        });
        expect(got).toStrictEqual(want);
      }),
    );
  });
});
