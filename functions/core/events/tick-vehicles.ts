import { withUsableTimeZone } from "../model/vehicle.ts";
import type { RuleSet } from "../rules/compiler.ts";
import { rulesForVehicle, tickVehicle } from "../rules/engine.ts";
import type { Firing, RuleState } from "../rules/state.ts";
import { StateConflictError } from "./errors.ts";
import type { ActionQueue, DueTimerIndex, FiringStore, VehicleStore } from "./ports.ts";

const MAX_ATTEMPTS = 5;

export type TickPorts = { timers: DueTimerIndex; vehicles: VehicleStore; firings: FiringStore; actions: ActionQueue };

export type TickReport = {
  vehicles: number;
  firings: Firing[];
  failures: { vehicleId: string; error: unknown }[];
};

/**
 * Runs what no new event will trigger: `for` durations that have elapsed,
 * vehicles gone silent, schedules. Each due vehicle is handled on its own, in
 * the same write order as event processing, so one failure holds up no other
 * vehicle and the failed one is simply still due at the next tick.
 */
export const tickDueVehicles = async (ruleSet: RuleSet, ports: TickPorts, now: Date): Promise<TickReport> => {
  const vehicleIds = await ports.timers.dueVehicles(now);
  const report: TickReport = { vehicles: vehicleIds.length, firings: [], failures: [] };
  for (const vehicleId of vehicleIds) {
    try {
      report.firings.push(...(await tickOneVehicle(vehicleId, ruleSet, ports, now)));
    } catch (error) {
      report.failures.push({ vehicleId, error });
    }
  }
  return report;
};

const tickOneVehicle = async (vehicleId: string, ruleSet: RuleSet, ports: TickPorts, now: Date) => {
  for (let attempt = 1; ; attempt++) {
    try {
      const state = await ports.vehicles.loadVehicleState(vehicleId);
      const rules = state.vehicle === undefined ? [] : rulesForVehicle(ruleSet, state.vehicle);
      const evaluation =
        state.vehicle === undefined
          ? { firings: [], actions: [], states: [] }
          : tickVehicle(rules, state.ruleStates, withUsableTimeZone(state.vehicle), state.snapshot, now);
      await ports.firings.putFirings(evaluation.firings);
      await ports.actions.enqueue(evaluation.actions);
      await ports.vehicles.saveRuleStates([
        ...evaluation.states,
        ...orphanedTimers(state.ruleStates, new Set(rules.map((rule) => rule.id)), now),
      ]);
      return evaluation.firings;
    } catch (error) {
      if (!(error instanceof StateConflictError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
};

/**
 * Due timers no rule will ever clear: their rule was removed, disabled or no
 * longer covers the vehicle (or the vehicle was removed). Stopped, so the
 * vehicle is not due again every minute forever; the state itself is kept.
 */
const orphanedTimers = (
  states: ReadonlyMap<string, RuleState>,
  rulesInScope: ReadonlySet<string>,
  now: Date,
): RuleState[] =>
  [...states.values()]
    .filter(
      (state) => state.dueAt !== null && Date.parse(state.dueAt) <= now.getTime() && !rulesInScope.has(state.ruleId),
    )
    .map((state) => ({ ...state, dueAt: null, version: state.version + 1 }));
