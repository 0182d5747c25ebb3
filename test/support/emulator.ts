/**
 * The emulator lifecycle the device suites share: start the emulator once, hand every test a clean
 * device and a clean provider process, and close everything at the end. Plus the small helpers for
 * the diagnosis a call fails with.
 */
import { isGrantError, type GrantError } from "../../provider/core/errors";
import type { EmulatorServer } from "../../emulators/kit";
import { closeFortimanagerSessions } from "../../provider/devices/fortimanager/session";
import { resetProcessState } from "../../provider/core/process-state";
import { closeAllAgents } from "../../provider/core/transport";

/** What every device emulator offers beside the server: a backend that can go back to its start state. */
export interface ResettableEmulator extends EmulatorServer {
  readonly backend: { reset(): void };
}

export interface EmulatorLifecycle<E> {
  /** Once, right after the start: set-up every test relies on (users added to the backend, a client agent). */
  readonly onStart?: (emu: E) => void | Promise<void>;
  /** Before each test, after the standard reset: device set-up of the suite (seeded admins, groups). */
  readonly onReset?: (emu: E) => void | Promise<void>;
  /**
   * Restore the backend's start state (`backend.reset()`) before each test. FortiGate suites that add
   * users in `onStart` pass false (a reset would drop them) and clear lockouts in `onReset`.
   * @default true
   */
  readonly resetBackend?: boolean;
  /** Time allowed for the start (and `onStart`), in ms. @default jest's testTimeout */
  readonly startTimeoutMs?: number;
}

/**
 * Registers the suite's hooks around one emulator and returns a stand-in for it, usable in tests and
 * in hooks declared after this call:
 * - beforeAll: `start()`, then `onStart`;
 * - beforeEach: log out FortiManager sessions, `resetProcessState()`, `backend.reset()` (unless
 *   `resetBackend: false`), clear the request log and the fault plan, then `onReset`;
 * - afterAll: log out FortiManager sessions, close the provider's agents, `resetProcessState()`, close
 *   the emulator.
 * Logging out FortiManager sessions is a no-op in suites of the other devices.
 * @example const emu = useEmulator(() => startOpnsenseEmulator({ users: Object.values(USERS) }));
 */
export function useEmulator<E extends ResettableEmulator>(start: () => Promise<E>, opts: EmulatorLifecycle<E> = {}): E {
  let current: E | undefined;
  const running = (): E => {
    if (!current) throw new Error("the emulator is not running: use it in a test or in a hook declared after useEmulator()");
    return current;
  };

  beforeAll(async () => {
    current = await start();
    await opts.onStart?.(current);
  }, opts.startTimeoutMs);

  beforeEach(async () => {
    const emu = running();
    await closeFortimanagerSessions();
    resetProcessState();
    if (opts.resetBackend ?? true) emu.backend.reset();
    emu.log.clear();
    emu.faults.clear();
    await opts.onReset?.(emu);
  });

  afterAll(async () => {
    await closeFortimanagerSessions();
    await closeAllAgents();
    resetProcessState();
    await current?.close();
  });

  return new Proxy({} as E, {
    get: (_, prop) => {
      const emu = running();
      const v: unknown = Reflect.get(emu, prop, emu);
      return typeof v === "function" ? v.bind(emu) : v;
    },
    set: (_, prop, value) => Reflect.set(running(), prop, value),
    has: (_, prop) => Reflect.has(running(), prop),
  });
}

/**
 * Error messages of a suite, for the rule that no message carries a secret: registers an afterAll
 * that fails when any collected message contains one of `secrets`.
 */
export function secretFreeMessages(...secrets: readonly string[]): string[] {
  const messages: string[] = [];
  afterAll(() => {
    for (const m of messages) for (const s of secrets) expect(m).not.toContain(s);
  });
  return messages;
}

/** The GrantError `p` is rejected with; any other rejection is rethrown, and a fulfilment is an error. */
export async function grantError(p: Promise<unknown>): Promise<GrantError> {
  try {
    await p;
  } catch (e) {
    if (isGrantError(e)) return e;
    throw e;
  }
  throw new Error("expected a GrantError");
}

/**
 * The diagnosis code `p` is rejected with, or `resolved` when it is fulfilled; any rejection that is
 * not a GrantError is rethrown. The message of each GrantError is appended to `messages` when given.
 */
export async function grantErrorCode(p: Promise<unknown>, opts: { resolved?: string; messages?: string[] } = {}): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!isGrantError(e)) throw e;
    opts.messages?.push(e.message);
    return e.code;
  }
  return opts.resolved ?? "none";
}
