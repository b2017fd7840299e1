import type { VehicleCommand } from "../model/commands.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";

/** Commands that could hurt someone if performed while the car moves. */
export const STATIONARY_ONLY_COMMANDS: ReadonlySet<VehicleCommand> = new Set(["unlock", "open_trunk", "open_frunk"]);

export type CommandPolicy = {
  /** Above this speed the vehicle is moving (GPS noise reports a few km/h at rest). */
  movingSpeedKph: number;
  /** A speed sample older than this is unknown speed. */
  speedFreshForMs: number;
  /** With unknown speed, ignition on (or a stale moving speed) this recent means "driving". */
  drivingRecentForMs: number;
  /** Commands per vehicle per window; the n+1th is refused. */
  maxCommandsPerWindow: number;
  windowMs: number;
};

export const DEFAULT_COMMAND_POLICY: CommandPolicy = {
  movingSpeedKph: 3,
  speedFreshForMs: 2 * 60_000,
  drivingRecentForMs: 10 * 60_000,
  maxCommandsPerWindow: 5,
  windowMs: 60 * 60_000,
};

export type SafetyVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Re-checks a command against the freshest snapshot just before it is sent.
 * unlock / open_trunk / open_frunk (and any action marked `stationary`) are
 * refused while the vehicle moves, or while its speed is unknown and recent
 * data says it is being driven. Other commands always pass.
 *
 * `checkCommandSafety("unlock", { stationary: true }, snapshotAt(42 km/h, 30 s ago), now)`
 * → `{ allowed: false, reason: "vehicle is moving: 42 km/h at 2026-05-01T08:00:00.000Z" }`
 */
export const checkCommandSafety = (
  command: VehicleCommand,
  preconditions: { stationary: boolean },
  snapshot: VehicleSnapshot,
  now: Date,
  policy: CommandPolicy = DEFAULT_COMMAND_POLICY,
): SafetyVerdict => {
  if (!STATIONARY_ONLY_COMMANDS.has(command) && !preconditions.stationary) return { allowed: true };
  const ageMs = (observedAt: string) => now.getTime() - Date.parse(observedAt);
  const speed = snapshot.signals.speed_kph;
  if (speed !== undefined && ageMs(speed.observedAt) <= policy.speedFreshForMs) {
    if (speed.value > policy.movingSpeedKph)
      return { allowed: false, reason: `vehicle is moving: ${speed.value} km/h at ${speed.observedAt}` };
    return { allowed: true };
  }
  const ignition = snapshot.signals.ignition_on;
  if (ignition?.value === true && ageMs(ignition.observedAt) <= policy.drivingRecentForMs)
    return {
      allowed: false,
      reason: `speed unknown and the vehicle is being driven: ignition on at ${ignition.observedAt}`,
    };
  if (
    speed !== undefined &&
    speed.value > policy.movingSpeedKph &&
    ageMs(speed.observedAt) <= policy.drivingRecentForMs
  )
    return {
      allowed: false,
      reason: `speed unknown and the vehicle was recently driving: ${speed.value} km/h at ${speed.observedAt}`,
    };
  return { allowed: true };
};

/**
 * The fixed rate-limit window `now` falls in, and when its counter may be
 * deleted. `rateWindowOf(new Date("2026-05-01T08:42:00Z"), 3_600_000)` →
 * `{ start: "2026-05-01T08:00:00.000Z", expiresAt: 1777629600 }` (end + one window, epoch s).
 */
export const rateWindowOf = (now: Date, windowMs: number): { start: string; expiresAt: number } => {
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  return { start: new Date(start).toISOString(), expiresAt: Math.floor((start + 2 * windowMs) / 1000) };
};

export const rateLimitReason = (policy: CommandPolicy): string =>
  `rate limit: ${policy.maxCommandsPerWindow} commands per ${policy.windowMs / 60_000} minutes already sent to this vehicle`;
