import type { RuleSet } from "../rules/compiler.ts";
import { rulesForVehicle, tickVehicle } from "../rules/engine.ts";
import type { Firing } from "../rules/state.ts";
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
      if (state.vehicle === undefined) return [];
      const evaluation = tickVehicle(
        rulesForVehicle(ruleSet, state.vehicle),
        state.ruleStates,
        state.vehicle,
        state.snapshot,
        now,
      );
      await ports.firings.putFirings(evaluation.firings);
      await ports.actions.enqueue(evaluation.actions);
      await ports.vehicles.saveRuleStates(evaluation.states);
      return evaluation.firings;
    } catch (error) {
      if (!(error instanceof StateConflictError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
};
