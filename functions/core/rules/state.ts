import type { CompiledTrigger, Recipient } from "./compiler.ts";
import type { ConditionTrace } from "./conditions.ts";
import type { VehicleCommand } from "./schema.ts";

/**
 * What the evaluator remembers per (rule, vehicle). Plain JSON: the store writes it
 * as one item, conditionally on `version`, and indexes `dueAt` for the tick handler.
 */
export type RuleState = {
  ruleId: string;
  vehicleId: string;
  /** Fingerprint of the compiled rule this state was built for; a changed rule resets trigger state. */
  fingerprint: string;
  /**
   * Optimistic-concurrency version: 0 = never stored. Every changed state comes back with
   * version + 1; store it only if the stored item still has version − 1 (or is absent for 1).
   */
  version: number;
  /** One entry per trigger of the rule, same order. */
  triggers: TriggerState[];
  /** Episodes opened so far: the number of the latest one (0 = none yet). */
  episode: number;
  /** The episode in progress (level triggers only), or null: the rule is armed. */
  open: OpenEpisode | null;
  /** Event time before which a new firing is suppressed (cooldown), ISO 8601. */
  cooldownUntil: string | null;
  /** Events this state has already absorbed (most recent last), to recognise redeliveries. */
  recentEventIds: string[];
  /** Firings (with their actions) produced by those events, returned again on redelivery. */
  recentFirings: { firing: Firing; actions: Action[] }[];
  /** Earliest instant tick() has work for this state (for-deadline, staleness, schedule), or null. */
  dueAt: string | null;
};

export type TriggerState =
  | {
      kind: "level";
      /** idle: armed; pending: condition holds, waiting for `for`; active: fired or firing. */
      phase: "idle" | "pending" | "active";
      /** When the condition started to hold (pending), ISO. */
      since: string | null;
      /** When a pending `for` elapses, or when a staleness timer expires, ISO. */
      deadline: string | null;
    }
  | { kind: "transition" /** Last observed side of the zone; null until the first position. */; inside: boolean | null }
  | { kind: "schedule" /** Next run of the cron schedule, ISO. */; nextAt: string | null }
  | { kind: "event" };

export type OpenEpisode = {
  episode: number;
  firingId: string;
  openedAt: string;
  /** Whether the opening firing performed actions (on_resolve actions only follow actioned episodes). */
  actioned: boolean;
};

/** Why a firing did or did not perform actions. */
export const FIRING_STATUSES = ["actioned", "dry_run", "late", "cooldown", "not_actioned_episode"] as const;
export type FiringStatus = (typeof FIRING_STATUSES)[number];

/** A decision the rule took for a vehicle: an episode opened (fired) or closed (resolved). */
export type Firing = {
  /** `<rule>/<vehicle>/<episode>/fire|resolve`: deterministic, so a redelivery writes the same record. */
  id: string;
  ruleId: string;
  vehicleId: string;
  episode: number;
  kind: "fired" | "resolved";
  /** Event time of the decision (the sample, the timer's deadline or the schedule's run), ISO. */
  at: string;
  /** Processing time (the `now` passed in), ISO. */
  evaluatedAt: string;
  /** The event being processed, or null for tick(). */
  eventId: string | null;
  cause: "event" | "signal" | "timer" | "schedule" | "zone" | "staleness";
  status: FiringStatus;
  actionIds: string[];
  explanation: Explanation;
};

type ActionBase = {
  /** `<firing id>/<action index>`: the dispatcher's idempotency key. */
  id: string;
  firingId: string;
  ruleId: string;
  vehicleId: string;
  episode: number;
  phase: "fire" | "resolve";
  /** Index in the rule's actions (or on_resolve) list. */
  index: number;
  at: string;
};

/** Something for the dispatcher to do, exactly once per id. */
export type Action = ActionBase &
  (
    | { type: "sms"; to: Recipient[]; message: string }
    | { type: "email"; to: Recipient[]; subject: string; message: string }
    | {
        type: "webhook";
        url: string;
        body: {
          rule: string;
          vehicle: string;
          episode: number;
          phase: "fire" | "resolve";
          at: string;
          eventId: string | null;
          message: string | null;
        };
      }
    | {
        type: "command";
        command: VehicleCommand;
        params: { percent?: number; destination?: { lat: number; lon: number; name?: string } };
        /** The dispatcher re-checks these against fresh data before acting. */
        preconditions: { stationary: boolean };
        /** Read the state back after the command where the provider allows it. */
        readBack: boolean;
      }
  );

/** Why an evaluation did what it did: values seen, thresholds, timers, conditions, reasons. */
export type Explanation = {
  ruleId: string;
  vehicleId: string;
  /** Instant evaluated (event time), ISO. */
  at: string;
  evaluatedAt: string;
  eventId: string | null;
  eventType: string | null;
  outcome: "fired" | "resolved" | "pending" | "active" | "armed" | "ignored" | "duplicate";
  /** One sentence for people. */
  summary: string;
  triggers: TriggerTrace[];
  conditions: ConditionTrace | null;
  /** True when real-time actions were produced. */
  actioned: boolean;
  /** Why not actioned, or why nothing fired: plain sentences. */
  reasons: string[];
};

export type TriggerTrace = {
  trigger: string;
  value?: unknown;
  observedAt?: string;
  threshold?: unknown;
  rearm?: number;
  phase?: string;
  since?: string;
  deadline?: string;
  nextAt?: string;
  inside?: boolean | null;
  fired?: boolean;
};

/** The state of a trigger that has seen nothing yet. */
export const freshTriggerState = (trigger: CompiledTrigger): TriggerState => {
  switch (trigger.kind) {
    case "threshold":
    case "zone":
    case "stale":
      return { kind: "level", phase: "idle", since: null, deadline: null };
    case "transition":
      return { kind: "transition", inside: null };
    case "schedule":
      return { kind: "schedule", nextAt: null };
    case "event":
      return { kind: "event" };
  }
};
