import type { DispatchDeps } from "#core/dispatch/dispatch-action.ts";
import { DeliveryInProgressError } from "#core/dispatch/errors.ts";
import type {
  CommandAuditEntry,
  DeliveryOutcome,
  EmailContent,
  Envelope,
  ExactlyOnce,
  WebhookRequest,
} from "#core/dispatch/ports.ts";
import { DEFAULT_COMMAND_POLICY } from "#core/dispatch/safety.ts";
import type { VehicleSnapshot } from "#core/model/snapshot.ts";
import type { Provider } from "#core/model/vehicle.ts";
import type { CommandParams, CommandResult, ProviderVehicleRef, VehicleCommandClient } from "#core/providers/ports.ts";
import type { VehicleCommand } from "#core/rules/schema.ts";
import type { Action } from "#core/rules/state.ts";

/** The ExactlyOnce contract in memory (the Powertools adapter is tested against dynalite). */
export class InMemoryExactlyOnce implements ExactlyOnce {
  readonly done = new Map<string, DeliveryOutcome>();
  readonly inProgress = new Set<string>();
  async run(deliveryId: string, perform: () => Promise<DeliveryOutcome>) {
    const stored = this.done.get(deliveryId);
    if (stored !== undefined) return { outcome: stored, replayed: true };
    if (this.inProgress.has(deliveryId)) throw new DeliveryInProgressError(`${deliveryId} in progress`);
    this.inProgress.add(deliveryId);
    try {
      const outcome = await perform();
      this.done.set(deliveryId, outcome);
      return { outcome, replayed: false };
    } finally {
      this.inProgress.delete(deliveryId);
    }
  }
}

/** Records every send; `failWith` makes the next sends throw. */
export class RecordingChannels {
  readonly sms: { envelope: Envelope; to: string; text: string }[] = [];
  readonly emails: { envelope: Envelope; email: EmailContent }[] = [];
  readonly webhooks: { envelope: Envelope; request: WebhookRequest }[] = [];
  failures: Error[] = [];
  private next(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
  readonly smsChannel = {
    transport: "sns" as const,
    sendSms: async (envelope: Envelope, sms: { to: string; text: string }) => {
      this.next();
      this.sms.push({ envelope, ...sms });
      return { messageId: `sms-${this.sms.length}` };
    },
  };
  readonly emailChannel = {
    transport: "ses" as const,
    sendEmail: async (envelope: Envelope, email: EmailContent) => {
      this.next();
      this.emails.push({ envelope, email });
      return { messageId: `email-${this.emails.length}` };
    },
  };
  readonly webhookChannel = {
    transport: "http" as const,
    postWebhook: async (envelope: Envelope, request: WebhookRequest) => {
      this.next();
      this.webhooks.push({ envelope, request });
      return { messageId: "http:200" };
    },
  };
}

/** A VehicleCommandClient test double: records commands, answers with a request id and read-back. */
export class FakeCommandClient implements VehicleCommandClient {
  readonly sent: { vehicle: ProviderVehicleRef; command: VehicleCommand; params: CommandParams }[] = [];
  failures: Error[] = [];
  constructor(
    readonly provider: Provider,
    readonly capabilities: ReadonlySet<VehicleCommand> = new Set(["lock", "unlock", "open_trunk", "start_charge"]),
  ) {}
  async send(vehicle: ProviderVehicleRef, command: VehicleCommand, params: CommandParams): Promise<CommandResult> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push({ vehicle, command, params });
    return { providerRequestId: `req-${this.sent.length}`, confirmed: true };
  }
}

export const snapshotOf = (vehicleId: string, signals: VehicleSnapshot["signals"]): VehicleSnapshot => ({
  vehicleId: vehicleId as VehicleSnapshot["vehicleId"],
  signals,
  sourceEventIds: {},
  version: 1,
});

/** Dependencies for dispatchAction with in-memory doubles; override what a test needs. */
export const memoryDeps = (
  now: Date,
  overrides: Partial<Omit<DispatchDeps, "audit">> & { snapshot?: VehicleSnapshot } = {},
): DispatchDeps & {
  channels: RecordingChannels;
  audit: { record(entry: CommandAuditEntry): Promise<void>; entries: CommandAuditEntry[] };
  client: FakeCommandClient;
  slept: number[];
} => {
  const channels = new RecordingChannels();
  const client = new FakeCommandClient("smartcar");
  const entries: CommandAuditEntry[] = [];
  const counters = new Map<string, Set<string>>();
  const slept: number[] = [];
  const { snapshot, ...rest } = overrides;
  return {
    sms: channels.smsChannel,
    email: channels.emailChannel,
    webhook: channels.webhookChannel,
    commands: new Map([["smartcar", client]]),
    vehicles: {
      loadForCommand: async (vehicleId: string) =>
        vehicleId.startsWith("smartcar:")
          ? {
              ref: {
                vehicleId,
                provider: "smartcar" as const,
                providerVehicleId: vehicleId.slice("smartcar:".length),
                credentialsRef: vehicleId,
              },
              snapshot: snapshot ?? snapshotOf(vehicleId, {}),
            }
          : undefined,
    },
    rateLimiter: {
      acquire: async (vehicleId, actionId, window, max) => {
        const key = `${vehicleId}|${window.start}`;
        const ids = counters.get(key) ?? new Set<string>();
        counters.set(key, ids);
        if (ids.has(actionId)) return true;
        if (ids.size >= max) return false;
        ids.add(actionId);
        return true;
      },
    },
    audit: { entries, record: async (entry: CommandAuditEntry) => void entries.push(entry) },
    once: new InMemoryExactlyOnce(),
    webhookSecret: "whsec_test",
    policy: DEFAULT_COMMAND_POLICY,
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    now: () => now,
    sleep: async (ms: number) => void slept.push(ms),
    random: () => 0.5,
    ...rest,
    channels,
    client,
    slept,
  };
};

const base = {
  firingId: "low-charge/smartcar:veh_1/3/fire",
  ruleId: "low-charge",
  vehicleId: "smartcar:veh_1",
  episode: 3,
  phase: "fire" as const,
  index: 0,
  at: "2026-05-01T08:00:00.000Z",
};

/** Sample actions as the rule engine produces them. */
export const sampleActions = {
  sms: (overrides: Partial<Action> = {}): Action =>
    ({
      ...base,
      id: `${base.firingId}/0`,
      type: "sms",
      to: [
        { name: "Alex", address: "+15555550100" },
        { name: "Sam", address: "+15555550101" },
      ],
      message: "Blue Leaf is at 18% and not plugged in.",
      ...overrides,
    }) as Action,
  email: (overrides: Partial<Action> = {}): Action =>
    ({
      ...base,
      ruleId: "check-engine",
      firingId: "check-engine/smartcar:veh_1/1/fire",
      id: "check-engine/smartcar:veh_1/1/fire/0",
      episode: 1,
      type: "email",
      to: [{ name: "Alex", address: "alex@example.com" }],
      subject: "Check engine light on Blue Leaf",
      message:
        "The check engine light of Blue Leaf came on at 2026-05-01T08:00:00Z.\nTrouble codes:\n- P0301: Cylinder 1 misfire detected\n- P0420: Catalyst system efficiency below threshold\n",
      ...overrides,
    }) as Action,
  webhook: (overrides: Partial<Action> = {}): Action =>
    ({
      ...base,
      id: `${base.firingId}/1`,
      index: 1,
      type: "webhook",
      url: "https://hooks.example.com/dashlight",
      body: {
        rule: "low-charge",
        vehicle: "smartcar:veh_1",
        episode: 3,
        phase: "fire",
        at: "2026-05-01T08:00:00.000Z",
        eventId: "evt_1",
        message: "low",
      },
      ...overrides,
    }) as Action,
  command: (overrides: Partial<Action> = {}): Action =>
    ({
      ...base,
      ruleId: "left-unlocked",
      firingId: "left-unlocked/smartcar:veh_1/2/fire",
      id: "left-unlocked/smartcar:veh_1/2/fire/0",
      episode: 2,
      type: "command",
      command: "unlock",
      params: {},
      preconditions: { stationary: true },
      readBack: true,
      ...overrides,
    }) as Action,
};
